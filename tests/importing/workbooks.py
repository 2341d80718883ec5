"""Import files for the tests: a template-shaped workbook (or .csv) filled with given rows."""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Any

from openpyxl import Workbook

from inventory.importing.sheets import SHEETS

Rows = dict[str, list[list[Any]]]


def workbook(path: Path, rows: Rows, *, write_only: bool = False) -> Path:
    """An .xlsx with the template's four sheets and headers, and `rows` under each sheet's name."""
    book = Workbook(write_only=write_only)
    if not write_only:
        first = book.active
        assert first is not None
        book.remove(first)
    for sheet in SHEETS:
        ws = book.create_sheet(sheet.name)
        ws.append(list(sheet.names))
        for row in rows.get(sheet.name, []):
            ws.append(row)
    book.save(path)
    return path


def csv_file(path: Path, header: list[str], rows: list[list[Any]]) -> Path:
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(header)
        writer.writerows(rows)
    return path


CATALOG: Rows = {
    "Sites": [["WH", "Central warehouse", "warehouse"], ["VAN-1", "Outreach van", "mobile"]],
    "Items": [
        ["NALOX-4MG", "Naloxone 4 mg nasal", "naloxone", "kit", "yes", 1],
        ["SYR-1ML", "Syringe 1 mL", "syringe", "syringe", "no", 100],
        ["STRIP-FEN", "Fentanyl test strip", "test_strip", "strip", "yes", None],
    ],
    "Funding sources": [
        ["SOR", "State Opioid Response", "yes", "syringe", "2018-01-01", None],
        ["SOR", "State Opioid Response", "yes", "safer_smoking", "2020-01-01", None],
        ["STATE", "State harm reduction fund", "no", None, None, None],
    ],
}


def opening_rows(count: int) -> list[list[Any]]:
    """`count` good opening stock rows, each a distinct lot."""
    rows: list[list[Any]] = []
    for n in range(count):
        site = ("WH", "VAN-1")[n % 2]
        if n % 3 == 0:
            rows.append([site, "NALOX-4MG", f"N{n:05d}", "2027-06-30", 10 + n % 7, "SOR", "37.50"])
        elif n % 3 == 1:
            rows.append([site, "SYR-1ML", f"S{n:05d}", None, 100 + n % 11, "STATE", None])
        else:
            rows.append([site, "STRIP-FEN", f"T{n:05d}", "1 Mar 2028", 25, "STATE", None])
    return rows


def with_saved_values(path: Path, values: dict[str, str]) -> Path:
    """Give formulas the values a spreadsheet program saves with them (openpyxl saves none).

    `values` maps a formula's text (without '=') to its value, as Excel would have computed it.
    """
    import zipfile

    with zipfile.ZipFile(path) as source:
        parts = {name: source.read(name) for name in source.namelist()}
    for name, data in parts.items():
        if name.startswith("xl/worksheets/sheet"):
            text = data.decode()
            for formula, value in values.items():
                text = text.replace(f"<f>{formula}</f><v />", f"<f>{formula}</f><v>{value}</v>")
            parts[name] = text.encode()
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as target:
        for name, data in parts.items():
            target.writestr(name, data)
    return path
