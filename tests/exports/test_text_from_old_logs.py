"""A log written before the text rule may hold text no workbook or spreadsheet should take: the exports
still open, and a CSV never hands a spreadsheet a formula (issue 16, defects 6 and 12)."""

from __future__ import annotations

import csv
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from openpyxl import load_workbook

from inventory.application import InventoryApplication
from tests.conftest import ADMIN, saved_as_before, seed_catalog
from tests.exports.test_edges import run_cli

NOON = datetime(2026, 11, 18, 12, 0, tzinfo=UTC)
pytestmark = pytest.mark.clock(NOON)
ODD_LOTS = ("N-1\ufffe", "N-2\uffff", "=1+2", "@SUM(A1)", "+7-3")


@pytest.fixture
def old_log(sqlite_url: str) -> str:
    """Receipts of lots an earlier release took as typed, and a visit that used them."""
    app = InventoryApplication(sqlite_url)
    try:
        seed_catalog(app)
        app.receive_stock(site="WH", sku="NALOX-4MG", lot="N-0", quantity=5, expires_on=date(2030, 1, 31),
                          funding_source="STATE", actor=ADMIN)  # fmt: skip
        ledger = app.ledger_aggregate("WH", "NALOX-4MG")
        assert ledger is not None
        for lot in ODD_LOTS:
            ledger.receive(lot=lot, quantity=3, expires_on=date(2030, 1, 31), funding_source="STATE", unit_cost=None,
                           purchase_order=None, reference=None, actor=ADMIN, occurred_at=NOON)  # fmt: skip
        saved_as_before(app, ledger)
    finally:
        app.close()
    return sqlite_url


@pytest.mark.parametrize(
    "export",
    [
        ["grant-report", "--from", "2026-11-01", "--to", "2026-11-30"],
        ["stock-report", "--on", "2026-11-18"],
    ],
)
def test_a_workbook_holding_noncharacters_from_an_old_log_opens_and_shows_them_replaced(
    old_log: str, tmp_path: Path, export: list[str]
) -> None:
    path = tmp_path / "report.xlsx"
    result = run_cli(["export", *export, "-o", str(path)], old_log, tmp_path)
    assert result.exit_code == 0, result.output

    workbook = load_workbook(path, read_only=True)  # an invalid XML part would raise here
    cells = {str(cell) for sheet in workbook.worksheets for row in sheet.iter_rows(values_only=True) for cell in row}
    workbook.close()
    assert {"N-1\ufffd", "N-2\ufffd"} <= cells
    assert not any("\ufffe" in cell or "\uffff" in cell for cell in cells)


def test_the_audit_replay_csv_shows_formula_like_lots_as_text(old_log: str, tmp_path: Path) -> None:
    path = tmp_path / "stock.csv"
    result = run_cli(["audit", "replay", "--until", "2026-11-18", "-o", str(path)], old_log, tmp_path)
    assert result.exit_code == 0, result.output

    with path.open(newline="") as handle:
        lots = {row["lot"] for row in csv.DictReader(handle)}
    assert {"'=1+2", "'@SUM(A1)", "'+7-3", "N-0"} <= lots
    assert not any(lot.startswith(("=", "+", "-", "@")) for lot in lots)
