"""A worksheet written top to bottom: a title block, tables with styled headers, totals as formulas."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from openpyxl import Workbook
from openpyxl.utils import get_column_letter

from exports.cells import Formula, header, text, title, total, typed


@dataclass(frozen=True)
class Column:
    heading: str
    width: float = 12
    number_format: str | None = None
    summed: bool = False  # the totals row sums this column
    # Or the totals row holds this formula; {row} is the totals row's number.
    total_expression: str | None = None


@dataclass(frozen=True)
class Placed:
    """Where a table landed: its header row and its first and last data rows (1-based)."""

    header_row: int
    first: int
    last: int
    columns: int


def column_range(placed: Placed, index: int, absolute: bool = False) -> str:
    """The data cells of the table's column `index` (0-based), like E7:E40 (or $E$7:$E$40)."""
    letter = get_column_letter(index + 1)
    if absolute:
        return f"${letter}${placed.first}:${letter}${max(placed.last, placed.first)}"
    return f"{letter}{placed.first}:{letter}{max(placed.last, placed.first)}"


class SheetWriter:
    """One write-only worksheet. Widths and frozen panes are fixed before the first row."""

    def __init__(self, workbook: Workbook, name: str, widths: Sequence[float], freeze: str | None = None) -> None:
        self.sheet = workbook.create_sheet(name)
        for index, width in enumerate(widths):
            self.sheet.column_dimensions[get_column_letter(index + 1)].width = width
        if freeze:
            self.sheet.freeze_panes = freeze
        # Printed for an audit file: landscape, as wide as the page, the header on every page.
        self.sheet.page_setup.orientation = "landscape"
        self.sheet.page_setup.fitToWidth = 1
        self.sheet.page_setup.fitToHeight = 0
        self.sheet.sheet_properties.pageSetUpPr.fitToPage = True
        self.row = 0

    def append(self, values: Sequence[Any], formats: Sequence[str | None] = ()) -> int:
        """Write one row (strings always as text); returns its row number."""
        cells = [
            value if hasattr(value, "data_type") else typed(self.sheet, value, formats[i] if i < len(formats) else None)
            for i, value in enumerate(values)
        ]
        self.sheet.append(cells)
        self.row += 1
        return self.row

    def blank(self, count: int = 1) -> None:
        for _ in range(count):
            self.sheet.append([])
            self.row += 1

    def heading(self, value: str) -> None:
        self.sheet.append([title(self.sheet, value)])
        self.row += 1

    def facts(self, pairs: Iterable[tuple[str, Any]]) -> None:
        """Label and value lines, as in a title block."""
        for label, value in pairs:
            self.append([label, value])

    def table(
        self,
        columns: Sequence[Column],
        rows: Iterable[Sequence[Any]],
        *,
        totals: str | None = "Total",
        autofilter: bool = False,
        progress: Callable[[int], None] | None = None,
    ) -> Placed:
        """A header row, the data rows and (unless `totals` is None) a row of SUM formulas."""
        self.sheet.append([header(self.sheet, column.heading) for column in columns])
        self.row += 1
        header_row = self.row
        if not self.sheet.print_title_rows:
            self.sheet.print_title_rows = f"{header_row}:{header_row}"
        formats = [column.number_format for column in columns]
        count = 0
        for row in rows:
            self.append(row, formats)
            count += 1
            if progress and count % 500 == 0:
                progress(500)
        if progress and count % 500:
            progress(count % 500)
        placed = Placed(header_row, header_row + 1, header_row + count, len(columns))
        if autofilter:
            last = get_column_letter(len(columns))
            self.sheet.auto_filter.ref = f"A{header_row}:{last}{max(placed.last, header_row)}"
        if totals is not None:
            cells = []
            for index, column in enumerate(columns):
                if index == 0:
                    cell = text(self.sheet, totals)
                elif column.total_expression:
                    expression = column.total_expression.format(row=self.row + 1)
                    cell = typed(self.sheet, Formula(expression), column.number_format)
                elif column.summed:
                    expression = f"=SUM({column_range(placed, index)})" if count else "=0"
                    cell = typed(self.sheet, Formula(expression), column.number_format)
                else:
                    cell = text(self.sheet, "")
                cells.append(total(cell))
            self.sheet.append(cells)
            self.row += 1
        return placed
