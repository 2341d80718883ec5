"""The exports page in Chromium, at phone width and on a desktop: it fits, passes axe, prepares and downloads."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from openpyxl import load_workbook
from playwright.sync_api import expect

from tests.browser.conftest import Screen
from tests.browser.test_accessibility import check_page

pytestmark = pytest.mark.browser
GRANTS = "grants@demo.example.org"


def test_a_grant_manager_downloads_the_grant_report_at_any_width(screen: Screen, tmp_path: Path) -> None:
    screen.sign_in(GRANTS)
    page = screen.go("/")
    page.get_by_text("Menu").click()
    page.get_by_role("link", name="Exports").click()
    page.wait_for_url(screen.base + "/exports")
    assert check_page(screen, "exports", "/exports", "Exports") == {}
    # Nothing sticks out sideways on a 360 px phone.
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    # The report is prepared in the background; its page follows the progress, then offers the file.
    page.get_by_role("button", name="Prepare grant report (.xlsx)").click()
    page.wait_for_url(re.compile(r".*/exports/jobs/[0-9a-f]{32}$"))
    job_path = page.url.removeprefix(screen.base)
    expect(page.get_by_role("heading", level=1)).to_have_text("Grant report")
    link = page.get_by_role("button", name=re.compile(r"^Download grant-report-ALL-.*\.xlsx$"))
    expect(link).to_be_visible(timeout=60_000)  # htmx swapped the finished state in
    assert check_page(screen, "export-ready", job_path, "Grant report") == {}
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    with page.expect_download() as download:
        link.click()
    saved = tmp_path / download.value.suggested_filename
    download.value.save_as(saved)
    assert saved.name.startswith("grant-report-ALL-")
    book = load_workbook(saved)
    assert book.sheetnames == ["Summary", "By site", "By month", "Receipts", "Ledger", "Provenance"]
