"""Cells that people can use: typed, formatted, and user text that can never run as a formula."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Alignment, Border, Font, PatternFill, Side
from openpyxl.worksheet._write_only import WriteOnlyWorksheet

# A spreadsheet reads text starting with these as a formula (full-width forms included: some
# locales' input methods type them, and some spreadsheets accept them as the ASCII sign).
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r", "\n", "\uff1d", "\uff0b", "\uff0d", "\uff20")
# XML 1.0 cannot hold these: control characters (openpyxl refuses them), lone surrogates and the
# noncharacters U+FFFE and U+FFFF (openpyxl writes them, and the workbook cannot be opened). New text
# is refused at the door (inventory.domain.text), but a log written before may hold them.
_ILLEGAL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")

INTEGER = "#,##0"
MONEY = "#,##0.00"
PERCENT = "0.0%"
DAY = "yyyy-mm-dd"
MOMENT = "yyyy-mm-dd hh:mm"

HEADER_FONT = Font(bold=True, color="FFFFFF")
HEADER_FILL = PatternFill("solid", fgColor="1F4E78")
TOTAL_FONT = Font(bold=True)
TOTAL_BORDER = Border(top=Side(style="thin"), bottom=Side(style="double"))
TITLE_FONT = Font(bold=True, size=14)
WRAP = Alignment(wrap_text=True, vertical="top")


def is_risky(text: str) -> bool:
    """True when a spreadsheet could take this text for a formula."""
    return text.startswith(FORMULA_STARTS)


def csv_text(value: Any) -> str:
    """A CSV field that a spreadsheet opening the file shows as text, never runs as a formula (OWASP's
    advice: a leading apostrophe)."""
    content = "" if value is None else str(value)
    return f"'{content}" if isinstance(value, str) and is_risky(content) else content


def text(sheet: WriteOnlyWorksheet, value: Any) -> WriteOnlyCell:
    """A cell holding `value` as text, always: never a formula, whatever it starts with.

    The cell is typed as a string (openpyxl would otherwise write "=…" as a live formula) and,
    when it looks like a formula, marked with Excel's quote prefix, so that editing the cell later
    keeps it text too.
    """
    content = "" if value is None else _ILLEGAL.sub("\ufffd", str(value))
    cell = WriteOnlyCell(sheet, value=content)
    cell.data_type = "s"
    if is_risky(content):
        cell.quotePrefix = True
    return cell


@dataclass(frozen=True)
class Formula:
    """A formula the export itself writes (totals, checks); never built from user text."""

    expression: str


def typed(sheet: WriteOnlyWorksheet, value: Any, number_format: str | None = None) -> WriteOnlyCell:
    """A number, date or formula cell with its format; any string goes through `text`."""
    if isinstance(value, str) or value is None:
        return text(sheet, value)
    if isinstance(value, Formula):
        cell = WriteOnlyCell(sheet, value=value.expression)
        cell.data_type = "f"
    elif isinstance(value, bool):
        cell = WriteOnlyCell(sheet, value="yes" if value else "no")
        cell.data_type = "s"
    elif isinstance(value, int | float | Decimal | date | datetime):
        cell = WriteOnlyCell(sheet, value=value)
    else:
        raise TypeError(f"cannot write {type(value).__name__} to a workbook")
    if number_format:
        cell.number_format = number_format
    elif isinstance(value, datetime):
        cell.number_format = MOMENT
    elif isinstance(value, date):
        cell.number_format = DAY
    return cell


def header(sheet: WriteOnlyWorksheet, value: str) -> WriteOnlyCell:
    cell = text(sheet, value)
    cell.font = HEADER_FONT
    cell.fill = HEADER_FILL
    cell.alignment = Alignment(wrap_text=True, vertical="center")
    return cell


def total(cell: WriteOnlyCell) -> WriteOnlyCell:
    cell.font = TOTAL_FONT
    cell.border = TOTAL_BORDER
    return cell


def title(sheet: WriteOnlyWorksheet, value: str) -> WriteOnlyCell:
    cell = text(sheet, value)
    cell.font = TITLE_FONT
    return cell
