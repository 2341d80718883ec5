"""Reading an import file row by row, streamed: .xlsx in openpyxl's read-only mode, or .csv.

Rows are numbered as the spreadsheet shows them (the header is row 1). Blank rows are skipped,
trailing ones included. A merged cell's value counts for every cell the merge covers. A formula
is read by its value as last saved; a formula with no saved value (a file written by a program
that does not compute) is reported on its row, not guessed.
"""

from __future__ import annotations

import csv
import hashlib
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any
from xml.etree.ElementTree import iterparse

from openpyxl import load_workbook
from openpyxl.utils.cell import range_boundaries

from inventory.importing.sheets import SHEETS, Sheet

MAIN_NS = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"


@dataclass
class Row:
    """One row of one sheet: its cells by column name, and what could not be read."""

    sheet: str
    number: int
    cells: dict[str, Any]
    unreadable: list[tuple[str, str]] = field(default_factory=list)


@dataclass(frozen=True)
class Problem:
    """Something to fix in the file, where to find it, and what to do."""

    sheet: str
    row: int
    column: str
    message: str
    cells: tuple[str, ...] = ()  # the row as typed, shown beside the message


class UnreadableFile(ValueError):
    """The file is not an .xlsx or .csv this import can read."""


def file_digest(path: Path) -> str:
    """The file's SHA-256: the same content is recognised whatever the file is called."""
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _header_key(value: Any) -> str:
    return "_".join(str(value or "").strip().lower().split())


def _blank(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


class ImportFile:
    """An .xlsx or .csv file, opened afresh for each pass so memory does not grow with its size."""

    def __init__(self, path: Path, name: str | None = None) -> None:
        self.path = path
        self.name = name or path.name
        suffix = Path(self.name).suffix.lower()
        if suffix not in (".xlsx", ".csv"):
            raise UnreadableFile(f"{self.name} is not an .xlsx or .csv file: save it as one and import it again.")
        self.is_csv = suffix == ".csv"

    def sheets(self) -> list[Sheet]:
        """The known sheets the file holds, in the order they must be imported."""
        if self.is_csv:
            return [self._csv_sheet()]
        try:
            workbook = load_workbook(self.path, read_only=True)
        except (zipfile.BadZipFile, KeyError, OSError, ValueError) as error:
            raise UnreadableFile(f"{self.name} cannot be read as an .xlsx workbook ({error}).") from None
        try:
            titles = {_header_key(title) for title in workbook.sheetnames}
        finally:
            workbook.close()
        return [sheet for sheet in SHEETS if _header_key(sheet.name) in titles]

    def estimated_rows(self) -> int:
        """About how many rows the file holds (for a progress bar): the sheets' stated sizes, or its lines."""
        if self.is_csv:
            with self.path.open("rb") as handle:
                return sum(1 for _line in handle)
        workbook = load_workbook(self.path, read_only=True)
        try:
            return sum(workbook[title].max_row or 0 for title in workbook.sheetnames)
        finally:
            workbook.close()

    def rows(self, sheet: Sheet) -> Iterator[Row]:
        """The sheet's non-blank rows after its header, with a problem row 1 for a missing column."""
        raw = self._csv_rows() if self.is_csv else self._xlsx_rows(sheet)
        header: dict[int, str] | None = None
        for number, values, formulas in raw:
            if header is None:
                if all(_blank(value) for value in values):
                    continue
                header = {index: _header_key(value) for index, value in enumerate(values) if not _blank(value)}
                missing = [c.name for c in sheet.columns if c.required and c.name not in header.values()]
                if missing:
                    yield Row(
                        sheet.name,
                        number,
                        {},
                        [(name, f"The column {name!r} is missing from the header row: add it.") for name in missing],
                    )
                    return
                continue
            cells: dict[str, Any] = {}
            unreadable = []
            for index, name in header.items():
                value = values[index] if index < len(values) else None
                if isinstance(value, str):
                    value = value.strip()
                if _blank(value) and index < len(formulas) and formulas[index]:
                    unreadable.append(
                        (
                            name,
                            "This formula has no saved value: open the file in Excel or LibreOffice, save it, "
                            "and import it again (or type the value).",
                        )
                    )
                cells[name] = None if _blank(value) else value
            if unreadable or any(value is not None for value in cells.values()):
                yield Row(sheet.name, number, cells, unreadable)

    def _csv_sheet(self) -> Sheet:
        for _number, values, _formulas in self._csv_rows():
            keys = {_header_key(value) for value in values if not _blank(value)}
            if not keys:
                continue
            best = max(SHEETS, key=lambda s: len(keys & set(s.names)) - len(set(s.names) - keys) / 100)
            if keys & {c.name for c in best.columns if c.required}:
                return best
            break
        names = "; ".join(", ".join(s.names) for s in SHEETS)
        raise UnreadableFile(f"{self.name}: the first row must be the header of one sheet of the template ({names}).")

    def _csv_rows(self) -> Iterator[tuple[int, list[Any], list[bool]]]:
        with self.path.open(newline="", encoding="utf-8-sig") as handle:
            try:
                for number, values in enumerate(csv.reader(handle), start=1):
                    yield number, list(values), []
            except UnicodeDecodeError:
                raise UnreadableFile(
                    f'{self.name} is not saved as UTF-8 text: save it again as "CSV UTF-8" and import it again.'
                ) from None

    def _xlsx_rows(self, sheet: Sheet) -> Iterator[tuple[int, list[Any], list[bool]]]:
        values_book = load_workbook(self.path, read_only=True, data_only=True)
        formulas_book = None
        try:
            title = next(t for t in values_book.sheetnames if _header_key(t) == _header_key(sheet.name))
            values_sheet = values_book[title]
            merges, has_formulas = _scan(values_book, values_sheet)
            formula_rows: Iterator[tuple[Any, ...]] = iter(())
            if has_formulas:  # a second, parallel read tells a formula without a saved value from a blank
                formulas_book = load_workbook(self.path, read_only=True, data_only=False)
                formula_rows = formulas_book[title].iter_rows(values_only=True)
            for number, values in enumerate(values_sheet.iter_rows(values_only=True), start=1):
                formulas = next(formula_rows, ())
                row = list(values)
                for area in merges:
                    first_row, last_row, first_col, last_col = area
                    if not first_row <= number <= last_row:
                        continue
                    if number == first_row:
                        merges[area] = row[first_col - 1] if len(row) >= first_col else None
                    row.extend([None] * (last_col - len(row)))
                    for col in range(first_col - 1, last_col):
                        if _blank(row[col]):
                            row[col] = merges[area]
                is_formula = [isinstance(v, str) and v.startswith("=") for v in formulas]
                yield number, row, is_formula
        finally:
            values_book.close()
            if formulas_book is not None:
                formulas_book.close()


def _scan(workbook: Any, worksheet: Any) -> tuple[dict[tuple[int, int, int, int], Any], bool]:
    """The sheet's merged ranges (read-only mode does not read them), and whether it holds any formula,
    found by streaming its XML."""
    path = getattr(worksheet, "_worksheet_path", None)
    archive = getattr(workbook, "_archive", None)
    if not path or archive is None:
        return {}, True
    found: dict[tuple[int, int, int, int], Any] = {}
    has_formulas = False
    with archive.open(path.lstrip("/")) as handle:
        for _event, element in iterparse(handle):
            if element.tag == f"{MAIN_NS}mergeCell":
                first_col, first_row, last_col, last_row = range_boundaries(element.get("ref", ""))
                found[(first_row, last_row, first_col, last_col)] = None
            elif element.tag == f"{MAIN_NS}f":
                has_formulas = True
            element.clear()
    return found, has_formulas


def as_text(value: Any) -> str:
    """A cell as text: whole numbers without '.0', dates as year-month-day."""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, datetime):
        return value.date().isoformat() if value.time() == datetime.min.time() else value.isoformat()
    if isinstance(value, date):
        return value.isoformat()
    return "" if value is None else str(value).strip()
