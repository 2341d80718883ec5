"""What a vending machine dispensed, imported from the machine's own CSV export.

Each row is one sale: its transaction id (the machine's own), when it was dispensed, the program's SKU
and how many (1 if the export has no quantity column). Every row is checked and recorded on its own,
so a bad row never stops the others; it is listed with its line (the header is line 1), its column
and what to fix. A sale is recorded once, by the machine's transaction id: importing the same export
again, or an export that overlaps an earlier one, records only the sales not recorded yet. Only the
figures of a row are stored (transaction id, item, quantity, time), never other text from the file.

The file is read as a stream, row by row, up to `MAX_ROWS` rows.
"""

from __future__ import annotations

import codecs
import csv
import io
import re
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, datetime, tzinfo
from itertools import chain
from pathlib import Path
from typing import IO, TYPE_CHECKING

from inventory.application.vending import DISPENSE_QUANTITY, shown, transaction_code
from inventory.domain.errors import InsufficientStock, InvalidInput, InventoryError, ItemRetired, UnknownItem
from inventory.domain.text import clean_code

if TYPE_CHECKING:
    from inventory.application import InventoryApplication

MAX_ROWS = 100_000
MAX_LISTED = 1_000  # problems listed one by one; past this they are only counted
REQUIRED = ("transaction_id", "dispensed_at", "sku")
# A header cell, lower-cased without spaces or underscores, and the column it names. The SKU may be
# in a column called product or item; a column called sku comes first when there are several.
HEADERS = {
    "transactionid": ("transaction_id", 0),
    "dispensedat": ("dispensed_at", 0),
    "sku": ("sku", 0),
    "product": ("sku", 1),
    "item": ("sku", 2),
    "quantity": ("quantity", 0),
}
# The fields the application names in a refusal, and the column of the export they come from.
COLUMNS = {
    "transaction": "transaction_id",
    "occurred_at": "dispensed_at",
    "dispensed_at": "dispensed_at",
    "sku": "sku",
    "lines": "sku",
    "quantity": "quantity",
    "lot": "quantity",
}
CHECK_EXPORT = "Check the machine's export."
Source = Path | str | bytes


@dataclass(frozen=True)
class Problem:
    """Something to fix: its line in the file (None for the file as a whole), its column and what to do."""

    line: int | None
    column: str
    message: str

    def __str__(self) -> str:
        where = f"Line {self.line:,}" if self.line is not None else "The file"
        return f"{where}, {self.column}: {self.message}" if self.column else f"{where}: {self.message}"


@dataclass
class VendingImport:
    """What an import of a machine's export found and recorded."""

    site: str
    rows: int = 0  # sales read (blank lines not counted)
    recorded: int = 0  # new sales recorded now
    already: int = 0  # sales recorded before, by an earlier import, with the same figures
    repeated: int = 0  # rows that repeat a sale earlier in the same file: counted once
    problems: list[Problem] = field(default_factory=list)
    unlisted: int = 0  # problems past MAX_LISTED, counted only
    refused: bool = False  # the file as a whole could not be imported: nothing was recorded

    @property
    def to_fix(self) -> int:
        """How many lines (or the file) need fixing."""
        return len(self.problems) + self.unlisted

    def add(self, problem: Problem) -> None:
        if len(self.problems) < MAX_LISTED:
            self.problems.append(problem)
        else:
            self.unlisted += 1

    def refuse(self, problem: Problem) -> VendingImport:
        self.add(problem)
        self.refused = True
        return self

    def summary(self) -> str:
        """One sentence a coordinator reads after the import."""
        if self.refused:
            return f"Nothing was imported for {self.site}: {self.problems[0]}"
        parts = [f"{_count(self.recorded, 'new sale')} recorded", f"{self.already:,} already imported"]
        if self.repeated:
            parts.append(f"{_count(self.repeated, 'row')} repeating a sale earlier in the file, counted once")
        if self.to_fix:
            parts.append(f"{_count(self.to_fix, 'line')} to fix")
        return f"Read {_count(self.rows, 'sale')} for {self.site}: " + ", ".join(parts) + "."


@dataclass(frozen=True)
class Sale:
    """One row's figures, checked: all that is recorded of it."""

    transaction: str
    sku: str
    quantity: int
    dispensed_at: datetime

    def figures(self) -> tuple[str, int, datetime]:
        return self.sku, self.quantity, self.dispensed_at


class RowRefused(ValueError):
    """A cell that cannot be read: its column and what to fix."""

    def __init__(self, column: str, message: str) -> None:
        super().__init__(message)
        self.column = column
        self.message = message


def import_dispenses(
    app: InventoryApplication, site: str, text_or_path: Source, actor: str, zone: tzinfo
) -> VendingImport:
    """Import a machine's CSV export (a file's path, or its text or bytes) as the machine's sales at `site`.

    Times without a UTC offset are in the program's time zone `zone`."""
    result = VendingImport(site=str(site or "").strip().upper())
    try:
        result.site = app.vending_machine(site)["code"]
    except InventoryError as error:
        return result.refuse(Problem(None, "", error.message))
    importer = _Importer(app, result, actor, zone)
    try:
        with _opened(text_or_path) as handle:
            importer.read(_records(handle))
    except UnicodeDecodeError:
        result.add(
            Problem(
                importer.line + 1,
                "",
                'This line is not UTF-8 text, and nothing from it on was read. Save the export again as "CSV UTF-8" '
                "and import it again: the sales already recorded are not recorded twice.",
            )
        )
        result.refused = importer.header is None
    return result


class _Importer:
    """Reads the rows after the header and records each on its own."""

    def __init__(self, app: InventoryApplication, result: VendingImport, actor: str, zone: tzinfo) -> None:
        self.app, self.result, self.actor, self.zone = app, result, actor, zone
        self.line = 0
        self.header: dict[str, int] | None = None
        self.seen: dict[str, tuple[Sale, int]] = {}  # transaction id: its sale and first line in this file

    def read(self, records: Iterable[tuple[int, list[str]]]) -> None:
        try:
            for number, values in records:
                self.line = number
                if not any(value.strip() for value in values):
                    continue
                if self.header is None:
                    if not self._read_header(values):
                        return
                    continue
                if self.result.rows == MAX_ROWS:
                    self.result.add(Problem(number, "", _too_many()))
                    return
                self.result.rows += 1
                self._one_row(number, values)
        except csv.Error as error:
            self.result.add(Problem(self.line + 1, "", _unreadable(error)))
        if self.header is None:  # no header row read: nothing was imported
            if not self.result.problems:
                self.result.add(Problem(1, "", "The file is empty: upload the machine's export, with its header row."))
            self.result.refused = True

    def _read_header(self, values: list[str]) -> bool:
        """The columns named in the header row; a problem for the file when a required one is missing."""
        found: dict[str, tuple[int, int]] = {}
        for index, value in enumerate(values):
            name, rank = HEADERS.get(re.sub(r"[\s_]+", "", value).lower(), ("", 0))
            if name and (name not in found or rank < found[name][1]):
                found[name] = (index, rank)
        missing = [name for name in REQUIRED if name not in found]
        if missing:
            self.result.refuse(Problem(self.line, ", ".join(missing), _missing(missing)))
            return False
        self.header = {name: index for name, (index, _rank) in found.items()}
        return True

    def _one_row(self, number: int, values: list[str]) -> None:
        assert self.header is not None
        cells = {name: values[index].strip() if index < len(values) else "" for name, index in self.header.items()}
        try:
            sale = read_sale(cells, self.zone)
        except RowRefused as refused:
            self.result.add(Problem(number, refused.column, refused.message))
            return
        earlier = self.seen.get(sale.transaction)
        if earlier is not None:
            self._repeat(number, sale, *earlier)
            return
        self.seen[sale.transaction] = (sale, number)
        self._record(number, sale)

    def _repeat(self, number: int, sale: Sale, first: Sale, first_line: int) -> None:
        """A transaction seen earlier in this file: the same sale counted once, other figures a problem."""
        if sale.figures() == first.figures():
            self.result.repeated += 1
            return
        self.result.add(
            Problem(
                number,
                "transaction_id",
                f"Transaction {sale.transaction} is also on line {first_line:,} with other figures "
                f"({first.quantity:,} of {first.sku}); a machine sends each sale once, so this line was not "
                f"imported. {CHECK_EXPORT}",
            )
        )

    def _record(self, number: int, sale: Sale) -> None:
        try:
            _view, new = self.app.record_dispense(
                site=self.result.site,
                transaction=sale.transaction,
                sku=sale.sku,
                quantity=sale.quantity,
                dispensed_at=sale.dispensed_at,
                actor=self.actor,
            )
        except InventoryError as error:
            self.result.add(Problem(number, _column(error.field), _refusal(error)))
            return
        if new:
            self.result.recorded += 1
        else:
            self.result.already += 1


def read_sale(cells: dict[str, str], zone: tzinfo) -> Sale:
    """One row's figures, or RowRefused naming the first cell to fix."""
    return Sale(
        transaction=_transaction(cells.get("transaction_id", "")),
        dispensed_at=read_moment(cells.get("dispensed_at", ""), zone),
        sku=_sku(cells.get("sku", "")),
        quantity=_quantity(cells.get("quantity", "")),
    )


def read_moment(text: str, zone: tzinfo) -> datetime:
    """An ISO 8601 date and time (2026-11-30 14:05, 2026-11-30T14:05:00-08:00); without an offset, in `zone`.

    A time the clocks skip or repeat when they change is read with the offset before the change, the same each
    time, so the same export always names the same moments."""
    if not text:
        raise RowRefused("dispensed_at", f"When it was dispensed is empty. {CHECK_EXPORT}")
    try:
        date.fromisoformat(text)
    except ValueError:
        pass
    else:
        raise RowRefused("dispensed_at", f"{shown(text)} has no time of day, like 2026-11-30 14:05. {CHECK_EXPORT}")
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise RowRefused(
            "dispensed_at", f"{shown(text)} is not a date and time like 2026-11-30 14:05. {CHECK_EXPORT}"
        ) from None
    return moment.replace(tzinfo=zone) if moment.utcoffset() is None else moment


def _transaction(text: str) -> str:
    if not text:
        raise RowRefused("transaction_id", f"The transaction id is empty: every sale has one. {CHECK_EXPORT}")
    try:
        return transaction_code(text)
    except InvalidInput:
        raise RowRefused(
            "transaction_id",
            f"{shown(text)} is not a transaction id like T-1001: 1 to 64 letters, digits, '-', '_', '.' or ':'. "
            f"{CHECK_EXPORT}",
        ) from None


def _sku(text: str) -> str:
    if not text:
        raise RowRefused("sku", f"The SKU is empty: say which item was dispensed, by the program's SKU. {CHECK_EXPORT}")
    try:
        return clean_code(text, "sku")
    except InvalidInput:
        raise RowRefused(
            "sku",
            f"{shown(text)} is not a SKU: the program's SKUs use letters, digits, '-', '_' and '.' only, "
            "like NALOX-4MG. Set the machine's product codes to the program's SKUs.",
        ) from None


def _quantity(text: str) -> int:
    if not text:
        return 1
    most = DISPENSE_QUANTITY.most
    if re.fullmatch(r"\d{1,7}", text) and DISPENSE_QUANTITY.least <= int(text) <= most:
        return int(text)
    raise RowRefused("quantity", f"{shown(text)} is not a whole number from 1 to {most:,}. {CHECK_EXPORT}")


def _column(name: str | None) -> str:
    """The column of the export a refusal's field is about ("" for the row as a whole)."""
    last = (name or "").split(".")[-1].split("[")[0]
    return COLUMNS.get(last, "")


def _refusal(error: InventoryError) -> str:
    """The application's refusal, with what a coordinator can do about it."""
    if isinstance(error, InsufficientStock):
        return (
            f"{error.message} Record the transfer that stocked the machine, then import the file again "
            "(the sales already recorded are not recorded twice)."
        )
    if isinstance(error, UnknownItem | ItemRetired):
        return f"{error.message} Use the program's SKU for the item, as listed under Items."
    return error.message


def _missing(names: list[str]) -> str:
    listed = " and ".join(names)
    return (
        f"The header row has no {listed} column{'s' if len(names) > 1 else ''}. The export needs transaction_id, "
        "dispensed_at and sku (or product), and may have quantity: export it again with those columns, or rename "
        "them in the first line."
    )


def _unreadable(error: csv.Error) -> str:
    why = "a cell is far too long" if "field limit" in str(error) else "it is not laid out as CSV"
    return (
        f"This line cannot be read ({why}), and nothing from it on was read. Export the sales from the machine "
        "again and import the new file: the sales already recorded are not recorded twice."
    )


def _too_many() -> str:
    return (
        f"The file has more than {MAX_ROWS:,} sales: the first {MAX_ROWS:,} were read and the rest were not. "
        "Split the export into smaller files (by date) and import the rest."
    )


def _count(number: int, noun: str) -> str:
    return f"{number:,} {noun}{'' if number == 1 else 's'}"


@contextmanager
def _opened(source: Source) -> Iterator[Iterator[str]]:
    """The export's lines as text (UTF-8, a byte order mark allowed), from a path, text or bytes.

    Bytes are decoded line by line, so a line that is not UTF-8 stops the reading there, not before."""
    if isinstance(source, Path):
        with source.open("rb") as handle:
            yield _decoded(handle)
    elif isinstance(source, bytes):
        yield _decoded(io.BytesIO(source))
    else:
        yield iter(io.StringIO(source.removeprefix("\ufeff"), newline=""))


def _decoded(handle: IO[bytes]) -> Iterator[str]:
    for number, line in enumerate(handle):
        yield (line.removeprefix(codecs.BOM_UTF8) if number == 0 else line).decode("utf-8")


def _records(lines: Iterator[str]) -> Iterator[tuple[int, list[str]]]:
    """The file's rows, numbered from 1, split on the delimiter its header uses (a comma or a semicolon)."""
    start: list[str] = []
    for line in lines:
        start.append(line)
        if line.strip():
            break
    header = start[-1] if start else ""
    delimiter = ";" if header.count(";") > header.count(",") else ","
    yield from enumerate(csv.reader(chain(start, lines), delimiter=delimiter), start=1)
