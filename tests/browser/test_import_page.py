"""In a real browser at phone size: upload the import template with one bad row and see the error by that row."""

from __future__ import annotations

import uuid
from io import BytesIO
from pathlib import Path

import pytest
from openpyxl import load_workbook
from playwright.sync_api import expect

from inventory.importing import build_template
from tests.browser.conftest import ADMIN, Screen


def template_with_one_bad_row(folder: Path) -> Path:
    """The downloadable template with this run's own codes, and one opening stock quantity of -5."""
    tag = uuid.uuid4().hex[:6].upper()
    book = load_workbook(BytesIO(build_template()))
    for ws in book:
        for row in ws.iter_rows(min_row=2):
            for cell in row:
                if isinstance(cell.value, str) and cell.value in ("WH", "VAN-1", "NAL-4MG", "SYR-1CC", "SOR", "CITY"):
                    cell.value = f"{cell.value}-{tag}"
    book["Opening stock"]["E3"] = -5
    path = folder / f"start-{tag}.xlsx"
    book.save(path)
    return path


@pytest.mark.parametrize("screen", ["phone"], indirect=True)
def test_an_upload_with_a_bad_row_shows_the_error_next_to_that_row_on_a_phone(screen: Screen, tmp_path: Path) -> None:
    screen.sign_in(ADMIN)
    page = screen.go("/admin")
    page.get_by_role("link", name="Import").click()
    expect(page.get_by_role("heading", name="Import from a spreadsheet")).to_be_visible()
    with page.expect_download() as download:
        page.get_by_role("link", name="Download the template").click()
    assert download.value.suggested_filename == "inventory-import.xlsx"

    page.get_by_label("Workbook (.xlsx) or one sheet as .csv").set_input_files(str(template_with_one_bad_row(tmp_path)))
    page.get_by_role("button", name="Check and import").click()
    expect(page.get_by_role("status")).to_contain_text("Nothing was imported: 1 row(s) of 8 need fixing")
    bad = page.locator('.import-problems li[data-sheet="Opening stock"][data-row="3"]')
    expect(bad).to_contain_text("Opening stock, row 3, column quantity")
    expect(bad).to_contain_text("quantity must be 1 or more (got -5)")
    expect(bad).to_contain_text("SYR-1CC-")
    box = bad.bounding_box()
    assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= 360, box
    screen.shot("bad-row")
    assert screen.axe() == []

    page.get_by_label("Import the good rows anyway, and list the bad ones").check()
    page.get_by_label("Workbook (.xlsx) or one sheet as .csv").set_input_files(str(template_with_one_bad_row(tmp_path)))
    page.get_by_role("button", name="Check and import").click()
    expect(page.get_by_role("status")).to_contain_text("2 sites, 2 items, 2 funding sources, 1 lots")
    # The refused upload answers 422, which the browser logs; nothing else may fail.
    assert [e for e in screen.console_errors if "status of 422" not in e] == []
