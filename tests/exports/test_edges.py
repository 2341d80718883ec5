"""The exports from each edge: `inventory export …`, GET /api/v1/exports/grant-report.xlsx, the exports page."""

from __future__ import annotations

import io
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from flask import Flask
from openpyxl import load_workbook

from inventory.application import InventoryApplication
from inventory.cli import main
from tests.conftest import ADMIN, seed_catalog
from tests.exports.workbooks import flows, sheets, table
from tests.web.conftest import STAFF, Caller, error
from tests.web.pages.conftest import Person

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
# These tests run at noon of a fixed day (tests/clock.py): "today" never turns into tomorrow mid-test.
NOON = datetime(2026, 11, 18, 12, 0, tzinfo=UTC)
TODAY = NOON.date()
pytestmark = pytest.mark.clock(NOON)
EXPIRY = TODAY + timedelta(days=365)


def record_some(app: InventoryApplication) -> None:
    """Two receipts, a visit with a participant code, an adjustment: today, in UTC."""
    app.receive_stock(
        site="WH", sku="NALOX-4MG", lot="N-100", quantity=30, expires_on=EXPIRY, funding_source="SOR", actor=ADMIN
    )
    app.receive_stock(
        site="WH", sku="SYR-1ML", lot="S-100", quantity=500, expires_on=None, funding_source="STATE", actor=ADMIN
    )
    app.record_encounter(
        key="visit-0001",
        site="WH",
        lines=[{"sku": "NALOX-4MG", "quantity": 2}],
        participant_code="QX7T2M",
        reversals_reported=1,
        actor=ADMIN,
    )
    app.adjust_stock(site="WH", sku="NALOX-4MG", lot="N-100", quantity=-1, reason="damaged", actor=ADMIN)


# ----- the CLI ------------------------------------------------------------------------------------


def run_cli(args: list[str], url: str, instance: Path, **env: str) -> Any:
    settings = {
        "INVENTORY_DATABASE_URL": url,
        "INVENTORY_INSTANCE_PATH": str(instance),
        "INVENTORY_SEAL_KEY": "k",
        "INVENTORY_ENV": "development",
        **env,
    }
    return CliRunner().invoke(main, args, env=settings, catch_exceptions=False)


@pytest.fixture
def recorded(sqlite_url: str) -> str:
    app = InventoryApplication(sqlite_url)
    try:
        seed_catalog(app)
        record_some(app)
    finally:
        app.close()
    return sqlite_url


def test_the_cli_writes_a_grant_report_that_reconciles_and_can_recreate_it(recorded: str, tmp_path: Path) -> None:
    period = ["--from", (TODAY - timedelta(days=7)).isoformat(), "--to", TODAY.isoformat()]
    result = run_cli(
        ["export", "grant-report", "--funding-source", "sor", *period, "-o", str(tmp_path / "a.xlsx")],
        recorded,
        tmp_path,
    )
    assert result.exit_code == 0, result.output
    assert "Grant report written to" in result.output
    summary = table(sheets(tmp_path / "a.xlsx")["Summary"], "Category").records()
    assert [
        (r["SKU"], r["Received"], r["Distributed"], r["Adjusted: damaged"], r["Closing balance"]) for r in summary
    ] == [("NALOX-4MG", 30, 2, -1, 27)]
    assert all(flows(r) == r["Closing balance"] for r in summary)
    position = str(
        next(r[1] for r in sheets(tmp_path / "a.xlsx")["Provenance"] if r[0] == "Figures as known at log position")
    )

    again = run_cli(
        [
            "export",
            "grant-report",
            "--funding-source",
            "SOR",
            *period,
            "--known-at",
            position,
            "-o",
            str(tmp_path / "b.xlsx"),
        ],
        recorded,
        tmp_path,
    )
    assert again.exit_code == 0, again.output
    assert f"Replaying the log to position {position}" in again.output
    assert table(sheets(tmp_path / "b.xlsx")["Summary"], "Category").records() == summary


def test_the_cli_says_what_to_fix(recorded: str, tmp_path: Path) -> None:
    unknown = run_cli(
        [
            "export",
            "grant-report",
            "--funding-source",
            "NOPE",
            "--from",
            "2026-01-01",
            "--to",
            "2026-03-31",
            "-o",
            str(tmp_path / "x.xlsx"),
        ],
        recorded,
        tmp_path,
    )
    assert unknown.exit_code == 2
    assert "There is no funding source NOPE; choose one of: SOR, STATE." in unknown.output
    backwards = run_cli(
        ["export", "grant-report", "--from", "2026-03-31", "--to", "2026-01-01", "-o", str(tmp_path / "x.xlsx")],
        recorded,
        tmp_path,
    )
    assert backwards.exit_code == 2
    assert "swap the dates" in backwards.output
    before_anything = run_cli(
        ["export", "stock-report", "--known-at", "2000-01-01", "-o", str(tmp_path / "x.xlsx")], recorded, tmp_path
    )
    assert before_anything.exit_code == 2
    assert "Nothing had been recorded by the end of 2000-01-01." in before_anything.output
    assert not (tmp_path / "x.xlsx").exists()


def test_the_distribution_log_leaves_out_participant_codes_when_the_setting_says_so(
    recorded: str, tmp_path: Path
) -> None:
    period = ["--from", TODAY.isoformat(), "--to", TODAY.isoformat()]
    with_codes = run_cli(["export", "distribution-log", *period, "-o", str(tmp_path / "with.xlsx")], recorded, tmp_path)
    without = run_cli(
        ["export", "distribution-log", *period, "-o", str(tmp_path / "without.xlsx")],
        recorded,
        tmp_path,
        INVENTORY_EXPORT_PARTICIPANT_CODES="no",
    )
    assert with_codes.exit_code == 0 and without.exit_code == 0, (with_codes.output, without.output)
    shown = table(sheets(tmp_path / "with.xlsx")["Distribution log"], "Log position").records()
    assert [(r["Participant code"], r["NALOX-4MG"], r["Overdose reversals reported"]) for r in shown] == [
        ("QX7T2M", 2, 1)
    ]
    hidden = sheets(tmp_path / "without.xlsx")
    assert "Participant code" not in hidden["Distribution log"][0]
    assert "QX7T2M" not in str(hidden)


def test_the_stock_report_values_lots_and_counts_days_to_expiry(recorded: str, tmp_path: Path) -> None:
    result = run_cli(
        ["export", "stock-report", "--on", TODAY.isoformat(), "-o", str(tmp_path / "s.xlsx")], recorded, tmp_path
    )
    assert result.exit_code == 0, result.output
    lots = table(sheets(tmp_path / "s.xlsx")["Stock and expiry"], "Site").records()
    assert [(r["SKU"], r["Lot"], r["Quantity"], r["Days to expiry"]) for r in lots] == [
        ("NALOX-4MG", "N-100", 27, 365),
        ("SYR-1ML", "S-100", 500, None),
    ]


# ----- the API ------------------------------------------------------------------------------------


def test_the_api_gives_a_grant_manager_the_workbook(flask_app: Flask, staff: dict[str, Caller]) -> None:
    record_some(flask_app.extensions["inventory"].app)
    query = {"funding_source": "SOR", "from": TODAY.isoformat(), "to": TODAY.isoformat()}
    response = staff["grant_manager"].get("/api/v1/exports/grant-report.xlsx", **query)
    assert response.status_code == 200, response.get_data(as_text=True)
    assert response.mimetype == XLSX
    assert f"grant-report-SOR-{TODAY}-to-{TODAY}.xlsx" in response.headers["Content-Disposition"]
    book = load_workbook(io.BytesIO(response.get_data()))
    assert book.sheetnames == ["Summary", "By site", "By month", "Receipts", "Ledger", "Provenance"]
    provenance = {row[0]: row[1] for row in book["Provenance"].iter_rows(values_only=True) if row[0]}
    assert provenance["Generated by"] == STAFF["grant_manager"]

    for role in ("coordinator", "purchasing"):
        error(staff[role].get("/api/v1/exports/grant-report.xlsx", **query), 403)
    wrong = error(
        staff["auditor"].get(
            "/api/v1/exports/grant-report.xlsx", funding_source="NOPE", **{"from": "2026-01-01", "to": "2026-03-31"}
        ),
        422,
    )
    assert "funding_source" in wrong["fields"]
    error(staff["admin"].get("/api/v1/exports/grant-report.xlsx", **{"from": "2026-03-31", "to": "2026-01-01"}), 422)
    error(staff["admin"].get("/api/v1/exports/grant-report.xlsx", **{"from": "2026-01-01"}), 422)


def test_the_openapi_document_describes_the_export(flask_app: Flask, staff: dict[str, Caller]) -> None:
    document = staff["admin"].get("/api/v1/openapi.json").get_json()
    operation = document["paths"]["/api/v1/exports/grant-report.xlsx"]["get"]
    assert XLSX in operation["responses"]["200"]["content"]
    assert {p["name"] for p in operation["parameters"]} >= {"funding_source", "from", "to", "known_at"}


# ----- the page -----------------------------------------------------------------------------------


def test_the_exports_page_is_in_the_menu_of_those_who_may_export(people: dict[str, Person]) -> None:
    for role in ("admin", "grant_manager", "auditor"):
        assert 'href="/exports"' in people[role].get("/").get_data(as_text=True), role
        assert people[role].get("/exports").status_code == 200
    for role in ("coordinator", "purchasing"):
        assert 'href="/exports"' not in people[role].get("/").get_data(as_text=True), role
        assert people[role].get("/exports").status_code == 403


def prepared(person: Person, path: str, data: dict[str, str]) -> str:
    """Ask for an export on the page and follow its progress until it has finished: the job page."""
    asked = person.post(path, data, token_from="/exports")
    assert asked.status_code == 303, asked.get_data(as_text=True)[:800]
    job_page = asked.headers["Location"]
    deadline = time.monotonic() + 120
    while "hx-trigger" in (fragment := person.get(job_page + "/progress").get_data(as_text=True)):
        assert time.monotonic() < deadline, fragment
        time.sleep(0.05)
    return job_page


def fetched(person: Person, path: str) -> Any:
    """A response read whole and closed (a file sent from disk stays open until it is)."""
    response = person.get(path)
    response.get_data()
    response.close()
    return response


def test_the_exports_page_prepares_a_grant_report_or_says_what_to_fix(
    flask_app: Flask, people: dict[str, Person]
) -> None:
    record_some(flask_app.extensions["inventory"].app)
    manager = people["grant_manager"]
    page = manager.get("/exports").get_data(as_text=True)
    assert 'name="grant-start"' in page and "SOR · State Opioid Response</option>" in page
    assert "Your latest exports" not in page

    day = TODAY.isoformat()
    job_page = prepared(
        manager, "/exports/grant-report", {"grant-funding_source": "SOR", "grant-start": day, "grant-end": day}
    )
    name = f"grant-report-SOR-{day}-to-{day}.xlsx"
    shown = manager.get(job_page).get_data(as_text=True)
    assert "Ready: <strong>" + name in shown
    download = fetched(manager, job_page + "/download")
    assert download.status_code == 200 and download.mimetype == XLSX
    assert f"filename={name}" in download.headers["Content-Disposition"]
    summary = load_workbook(io.BytesIO(download.get_data()))["Summary"]
    assert any(row[1] == "NALOX-4MG" for row in summary.iter_rows(values_only=True))
    # The page lists it, and it can be downloaded again.
    page = manager.get("/exports").get_data(as_text=True)
    assert "Your latest exports" in page and f'href="{job_page}">{name}</a>' in page and "ready" in page
    assert fetched(manager, job_page + "/download").get_data() == download.get_data()

    # Someone else who may export does not see it.
    for path in (job_page, job_page + "/progress", job_page + "/download"):
        assert fetched(people["admin"], path).status_code == 404

    # What to fix is said next to the form, and nothing is queued.
    backwards = manager.post(
        "/exports/grant-report", {"grant-start": "2026-03-31", "grant-end": "2026-01-01"}, token_from="/exports"
    )
    assert backwards.status_code == 422
    assert "swap the dates" in backwards.get_data(as_text=True)
    too_far = manager.post(
        "/exports/distribution-log",
        {"log-start": "2026-01-01", "log-end": "2026-01-31", "log-known_at": "999999"},
        token_from="/exports",
    )
    assert too_far.status_code == 422
    assert "Choose a log position from 1 to" in too_far.get_data(as_text=True)
    unknown = manager.post(
        "/exports/stock-report", {"stock-on": day, "stock-funding_source": "NOPE"}, token_from="/exports"
    )
    assert unknown.status_code == 422 and "There is no funding source NOPE" in unknown.get_data(as_text=True)
    assert manager.get("/exports").get_data(as_text=True).count('<li><a href="/exports/jobs/') == 1

    stock = prepared(manager, "/exports/stock-report", {"stock-on": day})
    stock_file = fetched(manager, stock + "/download")
    assert stock_file.status_code == 200 and stock_file.mimetype == XLSX
    assert "Stock and expiry" in load_workbook(io.BytesIO(stock_file.get_data())).sheetnames

    log = prepared(manager, "/exports/distribution-log", {"log-start": day, "log-end": day, "log-known_at": "3"})
    log_book = load_workbook(io.BytesIO(fetched(manager, log + "/download").get_data()))
    assert log_book.sheetnames == ["Distribution log", "Issued to partners", "Mail orders", "Provenance"]
