"""Checking each row of an import before anything is written: what it would record, or what to fix."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any, TypeVar

from inventory.application import rules as check
from inventory.domain.errors import InvalidInput
from inventory.domain.text import clean_code, clean_lot, clean_text
from inventory.domain.values import (
    Category,
    Restriction,
    SiteKind,
    parse_enum,
)
from inventory.importing.dates import DateRefused, read_date
from inventory.importing.reading import Problem, Row, as_text

T = TypeVar("T")
YES = {"yes", "y", "true", "1", "x"}
NO = {"no", "n", "false", "0", ""}


class BadCell(ValueError):
    """A cell to fix: its column and what to do."""

    def __init__(self, column: str, message: str) -> None:
        super().__init__(message)
        self.column = column
        self.message = message


@dataclass(frozen=True)
class SiteRow:
    code: str
    name: str
    kind: str


@dataclass(frozen=True)
class ItemRow:
    sku: str
    name: str
    category: str
    unit: str
    tracks_expiry: bool
    pack_size: int


@dataclass
class FundingRow:
    code: str
    name: str
    federal: bool
    rules: list[Restriction] = field(default_factory=list)


@dataclass(frozen=True)
class OpeningRow:
    site: str
    sku: str
    lot: str
    expires_on: date | None
    quantity: int
    funding_source: str
    unit_cost: Decimal | None


def cell(row: Row, column: str, read: Callable[[Any], T]) -> T:
    """Read one cell with `read`; a refusal names the column."""
    try:
        return read(row.cells.get(column))
    except InvalidInput as error:
        raise BadCell(column, _plain(error.message, column)) from None
    except (DateRefused, BadCell) as error:
        raise BadCell(column, str(error)) from None


def _plain(message: str, column: str) -> str:
    """The domain's messages name API fields; a sheet's reader sees its own column names."""
    for name in ("code", "sku", "name", "kind", "category", "unit", "quantity", "unit_cost", "lot"):
        if message.startswith(f"{name} "):
            return f"{column} {message[len(name) + 1 :]}"
    return message


def text(column: str, max_length: int = 80) -> Callable[[Any], str]:
    return lambda value: clean_text(as_text(value), column, max_length=max_length)


def code(column: str) -> Callable[[Any], str]:
    return lambda value: clean_code(as_text(value), column)


def choice(kind: type[Any], column: str) -> Callable[[Any], str]:
    return lambda value: parse_enum(kind, as_text(value).lower(), column)


def yes_no(column: str) -> Callable[[Any], bool]:
    def read(value: Any) -> bool:
        if isinstance(value, bool):
            return value
        word = as_text(value).lower()
        if word in YES:
            return True
        if word in NO:
            return False
        raise BadCell(column, f"{column} must be yes or no (got {as_text(value)!r}).")

    return read


def whole_number(column: str, *, default: int | None = None) -> Callable[[Any], int]:
    def read(value: Any) -> int:
        if value is None and default is not None:
            return default
        if value is None:
            raise BadCell(column, f"{column} is required: enter a whole number, 1 or more.")
        number: Any = value
        if isinstance(value, float) and value.is_integer():
            number = int(value)
        elif isinstance(value, str):
            try:
                number = int(value.replace(",", ""))
            except ValueError:
                raise BadCell(column, f"{column} must be a whole number, 1 or more (got {value!r}).") from None
        if isinstance(number, int) and not isinstance(number, bool) and number < 1:
            raise BadCell(
                column, f"{column} must be 1 or more (got {number}): enter the units on hand, or delete the row."
            )
        return check.QUANTITY.check(number, column)

    return read


def a_date(column: str, *, required: bool) -> Callable[[Any], date | None]:
    def read(value: Any) -> date | None:
        if value is None:
            if required:
                raise BadCell(column, f"{column} is required: enter a date like 2026-03-01.")
            return None
        return read_date(value)

    return read


def money(column: str) -> Callable[[Any], Decimal | None]:
    return lambda value: check.money(as_text(value) or None, column)


def lot_code(value: Any) -> str:
    return clean_lot(as_text(value), "lot") or ""


def site_row(row: Row) -> SiteRow:
    return SiteRow(
        code=cell(row, "code", code("code")),
        name=cell(row, "name", text("name")),
        kind=cell(row, "kind", choice(SiteKind, "kind")),
    )


def item_row(row: Row) -> ItemRow:
    return ItemRow(
        sku=cell(row, "sku", code("sku")),
        name=cell(row, "name", text("name")),
        category=cell(row, "category", choice(Category, "category")),
        unit=cell(row, "unit", text("unit", 30)),
        tracks_expiry=cell(row, "tracks_expiry", yes_no("tracks_expiry")),
        pack_size=cell(row, "pack_size", whole_number("pack_size", default=1)),
    )


def funding_row(row: Row) -> tuple[FundingRow, Restriction | None]:
    """The source a row names, and the rule it adds (None on a row without a category)."""
    source = FundingRow(
        code=cell(row, "code", code("code")),
        name=cell(row, "name", text("name")),
        federal=cell(row, "federal", yes_no("federal")),
    )
    if row.cells.get("may_not_pay_for") is None:
        if row.cells.get("from") is not None or row.cells.get("until") is not None:
            raise BadCell("may_not_pay_for", "Enter the category this rule forbids, or clear its dates.")
        return source, None
    category = cell(row, "may_not_pay_for", choice(Category, "may_not_pay_for"))
    starts_on = cell(row, "from", a_date("from", required=True))
    ends_on = cell(row, "until", a_date("until", required=False))
    assert starts_on is not None
    if ends_on is not None and ends_on < starts_on:
        raise BadCell("until", f"until ({ends_on}) must not be before from ({starts_on}).")
    return source, Restriction(category, starts_on, ends_on)


def opening_row(row: Row) -> OpeningRow:
    return OpeningRow(
        site=cell(row, "site", code("site")),
        sku=cell(row, "sku", code("sku")),
        lot=cell(row, "lot", lot_code),
        expires_on=cell(row, "expires_on", a_date("expires_on", required=False)),
        quantity=cell(row, "quantity", whole_number("quantity")),
        funding_source=cell(row, "funding_source", code("funding_source")),
        unit_cost=cell(row, "unit_cost", money("unit_cost")),
    )


def problems_of(row: Row, read: Callable[[Row], Any]) -> tuple[Any, list[Problem]]:
    """The row read, or None and every cell to fix (a formula without a value first)."""
    if row.unreadable:
        return None, [Problem(row.sheet, row.number, column, message, typed(row)) for column, message in row.unreadable]
    try:
        return read(row), []
    except BadCell as error:
        return None, [Problem(row.sheet, row.number, error.column, error.message, typed(row))]


def typed(row: Row) -> tuple[str, ...]:
    """The row's cells as text, to show beside what to fix."""
    return tuple(as_text(value) for value in row.cells.values())
