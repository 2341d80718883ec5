"""The downloadable import template: one sheet each for sites, items, funding sources and opening stock."""

from __future__ import annotations

from io import BytesIO
from typing import IO, Any

from openpyxl import Workbook
from openpyxl.comments import Comment
from openpyxl.styles import Font, PatternFill
from openpyxl.worksheet.datavalidation import DataValidation
from openpyxl.worksheet.worksheet import Worksheet

from inventory.domain.values import Category, SiteKind
from inventory.importing.sheets import FUNDING, ITEMS, OPENING, SHEETS, SITES, Sheet

LAST_ROW = 5000  # how far down the drop-downs reach
HEADER = Font(bold=True)
HEADER_FILL = PatternFill("solid", fgColor="DDEBF7")
EXAMPLES: dict[str, list[tuple[Any, ...]]] = {
    SITES.name: [("WH", "Main warehouse", "warehouse"), ("VAN-1", "Outreach van", "mobile")],
    ITEMS.name: [
        ("NAL-4MG", "Naloxone nasal spray 4 mg", "naloxone", "kit", "yes", 2),
        ("SYR-1CC", "Syringe 1 cc", "syringe", "each", "no", 100),
    ],
    FUNDING.name: [
        ("SOR", "State opioid response", "yes", "syringe", "2026-01-01", None),
        ("CITY", "City health fund", "no", None, None, None),
    ],
    OPENING.name: [
        ("WH", "NAL-4MG", "L2027A", "2027-06-30", 48, "SOR", "37.50"),
        ("WH", "SYR-1CC", "S-0915", None, 2000, "CITY", None),
    ],
}


def build_template(target: IO[bytes] | None = None, *, examples: bool = True) -> bytes:
    """The template workbook's bytes (also written to `target` when given)."""
    workbook = Workbook()
    first = workbook.active
    assert first is not None
    workbook.remove(first)
    for sheet in SHEETS:
        _sheet(workbook.create_sheet(sheet.name), sheet, examples)
    _drop_downs(workbook)
    buffer = BytesIO()
    workbook.save(buffer)
    data = buffer.getvalue()
    if target is not None:
        target.write(data)
    return data


def _sheet(worksheet: Worksheet, sheet: Sheet, examples: bool) -> None:
    for index, column in enumerate(sheet.columns, start=1):
        header = worksheet.cell(row=1, column=index, value=column.name)
        header.font, header.fill = HEADER, HEADER_FILL
        optional = "" if column.required else " (may be empty)"
        header.comment = Comment(f"{column.note}{optional}", "inventory")
        worksheet.column_dimensions[header.column_letter].width = max(14, len(column.name) + 4)
    worksheet.freeze_panes = "A2"
    if examples:
        for row in EXAMPLES[sheet.name]:
            worksheet.append(list(row))


def _drop_downs(workbook: Workbook) -> None:
    categories = ",".join(c.value for c in Category)
    kinds = ",".join(k.value for k in SiteKind)
    lists: dict[str, dict[str, str]] = {
        SITES.name: {"kind": f'"{kinds}"'},
        ITEMS.name: {"category": f'"{categories}"', "tracks_expiry": '"yes,no"'},
        FUNDING.name: {"may_not_pay_for": f'"{categories}"', "federal": '"yes,no"'},
        OPENING.name: {
            "site": f"'{SITES.name}'!$A$2:$A${LAST_ROW}",
            "sku": f"'{ITEMS.name}'!$A$2:$A${LAST_ROW}",
            "funding_source": f"'{FUNDING.name}'!$A$2:$A${LAST_ROW}",
        },
    }
    for sheet in SHEETS:
        worksheet = workbook[sheet.name]
        for name, formula in lists[sheet.name].items():
            letter = worksheet.cell(row=1, column=sheet.names.index(name) + 1).column_letter
            # Codes not in the list are allowed (sites registered earlier): the import checks them.
            strict = not formula.startswith("'")
            check = DataValidation(type="list", formula1=formula, allow_blank=True, showErrorMessage=strict)
            check.error = f"Choose one of the listed values for {name}."
            check.prompt = next(c.note for c in sheet.columns if c.name == name)
            check.showInputMessage = True
            check.add(f"{letter}2:{letter}{LAST_ROW}")
            worksheet.add_data_validation(check)
