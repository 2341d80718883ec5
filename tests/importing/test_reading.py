"""What spreadsheets hold besides plain values: formulas, merged cells, blank rows, .csv, 50,000 rows."""

from __future__ import annotations

from pathlib import Path

import pytest
from openpyxl import Workbook, load_workbook
from openpyxl.styles import Font

from inventory.application import InventoryApplication
from inventory.importing import build_template, import_file
from inventory.importing.reading import ImportFile, UnreadableFile
from inventory.importing.sheets import OPENING, SHEETS
from tests.conftest import ADMIN
from tests.importing.workbooks import CATALOG, csv_file, opening_rows, with_saved_values, workbook


def head(app: InventoryApplication) -> int:
    return int(app.recorder.max_notification_id() or 0)


def test_the_template_imports_as_it_is_and_offers_drop_downs(sqlite_app: InventoryApplication, tmp_path: Path) -> None:
    path = tmp_path / "template.xlsx"
    path.write_bytes(build_template())
    book = load_workbook(path)
    assert book.sheetnames == [sheet.name for sheet in SHEETS]
    lists = {(ws.title, str(v.sqref)): v.formula1 for ws in book for v in ws.data_validations.dataValidation}
    assert lists[("Items", "C2:C5000")].startswith('"naloxone,syringe')
    assert lists[("Opening stock", "A2:A5000")] == "'Sites'!$A$2:$A$5000"
    assert lists[("Opening stock", "F2:F5000")] == "'Funding sources'!$A$2:$A$5000"
    assert "lot number printed on the box" in book["Opening stock"]["C1"].comment.text
    report = import_file(sqlite_app, path, actor=ADMIN)
    assert report.problems == [] and report.recorded["lots"] == 2


def test_a_formula_is_read_by_its_saved_value_and_one_without_a_value_is_reported(
    sqlite_app: InventoryApplication, tmp_path: Path
) -> None:
    rows = [
        ["WH", "SYR-1ML", "F1", None, "=20*5", "STATE", None],
        ["WH", "SYR-1ML", "F2", None, "=SUM(1,2)", "STATE", None],
    ]
    path = with_saved_values(workbook(tmp_path / "f.xlsx", {**CATALOG, "Opening stock": rows}), {"20*5": "100"})
    report = import_file(sqlite_app, path, actor=ADMIN)
    assert [(p.row, p.column) for p in report.problems] == [(3, "quantity")]
    assert "formula has no saved value" in report.problems[0].message
    report = import_file(sqlite_app, path, actor=ADMIN, skip_invalid=True)
    assert sqlite_app.stock("WH", "SYR-1ML")["on_hand"] == 100


def test_a_merged_cell_counts_for_every_row_it_covers_and_blank_rows_are_skipped(
    sqlite_app: InventoryApplication, tmp_path: Path
) -> None:
    book = Workbook()
    first = book.active
    assert first is not None
    book.remove(first)
    for sheet in SHEETS:
        ws = book.create_sheet(sheet.name)
        ws.append(list(sheet.names))
        for row in CATALOG.get(sheet.name, []):
            ws.append(row)
    ws = book[OPENING.name]
    ws.append(["VAN-1", "SYR-1ML", "M1", None, 10, "STATE", None])
    ws.append([None, None, "M2", None, 20, None, None])
    ws.append([None, None, "M3", None, 30, None, None])
    ws.merge_cells("A2:A4")
    ws.merge_cells("B2:B4")
    ws.merge_cells("F2:F4")
    ws.append([])
    ws.append(["WH", "SYR-1ML", "M4", None, 5, "STATE", None])  # after a blank row: still read, as row 6
    for row in range(7, 400):  # formatted but empty: what a spreadsheet leaves at the end
        ws.cell(row=row, column=1).font = Font(bold=True)
    book.save(tmp_path / "merged.xlsx")
    report = import_file(sqlite_app, tmp_path / "merged.xlsx", actor=ADMIN)
    assert report.problems == []
    assert report.rows == 8 + 4
    assert sqlite_app.stock("VAN-1", "SYR-1ML")["on_hand"] == 60
    assert sqlite_app.stock("WH", "SYR-1ML")["on_hand"] == 5


def test_csv_files_hold_one_sheet_each_told_by_their_header(sqlite_app: InventoryApplication, tmp_path: Path) -> None:
    for sheet in SHEETS[:3]:
        path = csv_file(tmp_path / f"{sheet.name}.csv", list(sheet.names), CATALOG[sheet.name])
        assert import_file(sqlite_app, path, actor=ADMIN).problems == []
    rows = [
        ["WH", "NALOX-4MG", "C1", "1 Mar 2028", "12", "SOR", ""],
        ["WH", "NALOX-4MG", "C2", "03/04/2028", "1", "SOR", ""],
    ]
    report = import_file(sqlite_app, csv_file(tmp_path / "stock.csv", list(OPENING.names), rows), actor=ADMIN)
    assert [(p.sheet, p.row, p.column) for p in report.problems] == [("Opening stock", 3, "expires_on")]
    assert "enter it as year-month-day, like 2028-03-04" in report.problems[0].message


def test_files_that_are_not_workbooks_are_refused_with_what_to_do(tmp_path: Path) -> None:
    (tmp_path / "stock.ods").write_bytes(b"x")
    with pytest.raises(UnreadableFile, match=r"not an \.xlsx or \.csv file"):
        ImportFile(tmp_path / "stock.ods")
    (tmp_path / "latin.csv").write_bytes("code,name,kind\nWH,Entrep\u00f4t,warehouse\n".encode("cp1252"))
    with pytest.raises(UnreadableFile, match='save it again as "CSV UTF-8"'):
        ImportFile(tmp_path / "latin.csv").sheets()
    (tmp_path / "broken.xlsx").write_bytes(b"not a zip")
    with pytest.raises(UnreadableFile, match=r"cannot be read as an \.xlsx workbook"):
        ImportFile(tmp_path / "broken.xlsx").sheets()


def test_a_missing_column_is_reported_on_the_header_row(sqlite_app: InventoryApplication, tmp_path: Path) -> None:
    path = csv_file(tmp_path / "stock.csv", ["site", "sku", "lot", "quantity"], [["WH", "X", "L", "1"]])
    report = import_file(sqlite_app, path, actor=ADMIN)
    assert [(p.row, p.column) for p in report.problems] == [(1, "funding_source")]


def test_a_50000_row_workbook_is_checked_streaming_with_the_right_row_numbers(
    sqlite_app: InventoryApplication, tmp_path: Path
) -> None:
    rows = opening_rows(50_000)
    rows[49_990][3] = "03/01/2028"
    path = workbook(tmp_path / "big.xlsx", {**CATALOG, "Opening stock": rows}, write_only=True)
    seen: list[int] = []
    report = import_file(sqlite_app, path, actor=ADMIN, progress=seen.append)
    assert report.rows == 50_008
    assert len(seen) == 50_008
    assert [(p.sheet, p.row, p.column) for p in report.problems] == [("Opening stock", 49_992, "expires_on")]
    assert head(sqlite_app) == 0


def test_cells_holding_characters_that_cannot_be_stored_are_reported_by_row_column_and_place(
    sqlite_app: InventoryApplication, tmp_path: Path
) -> None:
    """The import follows the text rule of every other door: nothing of a bad file is recorded."""
    rows = [
        ["WH", "Central\x00 warehouse", "warehouse"],
        ["VAN-1", "Van\x1b[2J one", "mobile"],
        ["EAST", "East", "fixed"],
    ]
    report = import_file(sqlite_app, csv_file(tmp_path / "sites.csv", ["code", "name", "kind"], rows), actor=ADMIN)
    assert [(p.row, p.column) for p in report.problems] == [(2, "name"), (3, "name")]
    assert "character 8 is U+0000" in report.problems[0].message
    assert "character 4 is U+001B" in report.problems[1].message
    assert head(sqlite_app) == 0
    lots = [["WH", "NALOX-4MG", "=1+2", "2028-03-01", "12", "SOR", ""]]
    for sheet in SHEETS[:3]:
        import_file(sqlite_app, csv_file(tmp_path / f"{sheet.name}.csv", list(sheet.names), CATALOG[sheet.name]),
                    actor=ADMIN)  # fmt: skip
    report = import_file(sqlite_app, csv_file(tmp_path / "stock.csv", list(OPENING.names), lots), actor=ADMIN)
    assert [(p.row, p.column) for p in report.problems] == [(2, "lot")]
