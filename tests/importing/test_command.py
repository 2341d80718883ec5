"""`inventory import-template` and `inventory import FILE [--skip-invalid]` from the command line."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from inventory.application import InventoryApplication
from inventory.cli import main
from tests.importing.workbooks import CATALOG, opening_rows, workbook


@pytest.fixture
def url(database_url: str, monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.setenv("INVENTORY_ENV", "development")
    monkeypatch.setenv("INVENTORY_DATABASE_URL", database_url)
    return database_url


def test_the_template_written_by_the_command_imports_and_a_second_import_says_nothing_new(
    url: str, tmp_path: Path
) -> None:
    runner = CliRunner()
    template = tmp_path / "start.xlsx"
    written = runner.invoke(main, ["import-template", "-o", str(template)])
    assert written.exit_code == 0, written.output
    first = runner.invoke(main, ["import", str(template), "--actor", "admin@example.org"])
    assert first.exit_code == 0, first.output
    assert "Imported from start.xlsx: 2 sites, 2 items, 2 funding sources, 2 lots." in first.output
    again = runner.invoke(main, ["import", str(template)])
    assert again.exit_code == 0, again.output
    assert "Nothing new: everything in start.xlsx was already recorded." in again.output


def test_bad_rows_stop_the_import_unless_told_to_skip_them(url: str, tmp_path: Path) -> None:
    rows = opening_rows(4)
    rows[2][4] = -3
    path = workbook(tmp_path / "stock.xlsx", {**CATALOG, "Opening stock": rows})
    runner = CliRunner()
    refused = runner.invoke(main, ["import", str(path)])
    assert refused.exit_code == 1
    assert "Opening stock row 4, column quantity: quantity must be 1 or more (got -3)" in refused.output
    assert "Nothing was imported: 1 row(s) of 12 need fixing" in refused.output
    skipped = runner.invoke(main, ["import", str(path), "--skip-invalid"])
    assert skipped.exit_code == 0, skipped.output
    assert "3 lots" in skipped.output and "1 bad row(s) were left out" in skipped.output
    app = InventoryApplication(url)
    try:
        assert app.stock("WH", "NALOX-4MG")["on_hand"] == rows[0][4]
    finally:
        app.close()
