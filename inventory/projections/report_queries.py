"""Read queries for the grant exports: movement totals, balances, receipts, the ledger, encounters.

Each reads the read models (stock card, distribution, stock on hand, catalog, seal) and nothing
else. They take anything with `fetchall`, so an export can read them all inside one transaction,
from one consistent position of the read models.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from datetime import date
from decimal import Decimal
from typing import Any, Protocol


class Reader(Protocol):
    """A read store or one of its transactions."""

    def fetchall(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]: ...


def _funding(funding_source: str | None, column: str = "funding_source") -> tuple[str, list[Any]]:
    return (f" AND {column} = ?", [funding_source]) if funding_source else ("", [])


def movement_totals(
    reader: Reader, start: date, end: date, funding_source: str | None = None
) -> list[tuple[str, str, str, str, str | None, int]]:
    """Signed quantity moved per month, site, item, kind and reason between two business dates."""
    where, params = _funding(funding_source)
    rows = reader.fetchall(
        f"""SELECT SUBSTR(business_date, 1, 7), site, sku, kind, reason, SUM(quantity) FROM stock_movements
            WHERE business_date BETWEEN ? AND ?{where}
            GROUP BY SUBSTR(business_date, 1, 7), site, sku, kind, reason""",
        [start.isoformat(), end.isoformat(), *params],
    )
    return [(str(m), str(s), str(k), str(kind), reason, int(q)) for m, s, k, kind, reason, q in rows]


def balances_before(reader: Reader, day: date, funding_source: str | None = None) -> dict[tuple[str, str], int]:
    """Units on hand per site and item at the start of `day` (the end of the day before)."""
    where, params = _funding(funding_source)
    rows = reader.fetchall(
        f"SELECT site, sku, SUM(net) FROM stock_daily WHERE business_date < ?{where} GROUP BY site, sku",
        [day.isoformat(), *params],
    )
    return {(str(site), str(sku)): int(net) for site, sku, net in rows}


def net_by_month(
    reader: Reader, start: date, end: date, funding_source: str | None = None
) -> dict[tuple[str, str, str], int]:
    """Net change per month, site and item from the daily balances (not the movements)."""
    where, params = _funding(funding_source)
    rows = reader.fetchall(
        f"""SELECT SUBSTR(business_date, 1, 7), site, sku, SUM(net) FROM stock_daily
            WHERE business_date BETWEEN ? AND ?{where} GROUP BY SUBSTR(business_date, 1, 7), site, sku""",
        [start.isoformat(), end.isoformat(), *params],
    )
    return {(str(m), str(s), str(k)): int(n) for m, s, k, n in rows}


MOVEMENT_COLUMNS = (
    "position",
    "business_date",
    "occurred_at",
    "recorded_at",
    "site",
    "sku",
    "lot",
    "funding_source",
    "expires_on",
    "kind",
    "reason",
    "quantity",
    "reference",
    "other_site",
    "actor",
    "unit_cost",
)


CHUNK = 5_000  # movements per query when streaming


def _movement_filter(funding_source: str | None, kind: str | None) -> tuple[str, list[Any]]:
    where, params = _funding(funding_source)
    if kind:
        where += " AND kind = ?"
        params.append(kind)
    return where, params


def movements(
    reader: Reader, start: date, end: date, funding_source: str | None = None, kind: str | None = None
) -> list[dict[str, Any]]:
    """Every movement between two business dates, in business order (date, time, position)."""
    where, params = _movement_filter(funding_source, kind)
    rows = reader.fetchall(
        f"""SELECT {", ".join(MOVEMENT_COLUMNS)} FROM stock_movements
            WHERE business_date BETWEEN ? AND ?{where} ORDER BY business_date, occurred_at, position, seq""",
        [start.isoformat(), end.isoformat(), *params],
    )
    return [dict(zip(MOVEMENT_COLUMNS, row, strict=True)) for row in rows]


def movement_days(
    reader: Reader, start: date, end: date, funding_source: str | None = None, kind: str | None = None
) -> list[tuple[str, int]]:
    """How many movements each business date between two dates holds, in date order (dates with none left out)."""
    where, params = _movement_filter(funding_source, kind)
    rows = reader.fetchall(
        f"""SELECT business_date, COUNT(*) FROM stock_movements WHERE business_date BETWEEN ? AND ?{where}
            GROUP BY business_date ORDER BY business_date""",
        [start.isoformat(), end.isoformat(), *params],
    )
    return [(str(day), int(count)) for day, count in rows]


def iter_movements(
    reader: Reader,
    start: date,
    end: date,
    funding_source: str | None = None,
    kind: str | None = None,
    *,
    chunk: int = CHUNK,
    days: Sequence[tuple[str, int]] | None = None,
) -> Iterator[dict[str, Any]]:
    """The rows of `movements()`, in the same order, read about `chunk` at a time: memory stays flat.

    Whole business dates are read together (a run of dates holding at most `chunk` movements, on
    the index by date); a date holding more is read in pages keyed on (occurred_at, position, seq),
    which with the date orders and identifies every movement. Read from one transaction (an export's
    snapshot) so that every chunk comes from the same position of the read model. `days`: the
    counts of `movement_days()`, when already read.
    """
    where, params = _movement_filter(funding_source, kind)
    columns = ", ".join(MOVEMENT_COLUMNS)
    order = "ORDER BY business_date, occurred_at, position, seq"
    if days is None:
        days = movement_days(reader, start, end, funding_source, kind)
    run: list[str] = []  # consecutive dates read together
    held = 0
    for day, count in [*days, ("", 0)]:  # ("", 0): the end, to read the last run
        if run and (held + count > chunk or not day):
            rows = reader.fetchall(
                f"SELECT {columns} FROM stock_movements WHERE business_date BETWEEN ? AND ?{where} {order}",
                [run[0], run[-1], *params],
            )
            yield from (dict(zip(MOVEMENT_COLUMNS, row, strict=True)) for row in rows)
            run, held = [], 0
        if not day:
            break
        if count <= chunk:
            run.append(day)
            held += count
            continue
        # A date busier than a chunk: pages of it, each after the last movement of the page before.
        after: list[Any] = []
        while True:
            page = reader.fetchall(
                f"""SELECT {columns}, seq FROM stock_movements WHERE business_date = ?{where}
                    {"AND (occurred_at, position, seq) > (?, ?, ?)" if after else ""} {order} LIMIT ?""",
                [day, *params, *after, chunk],
            )
            yield from (dict(zip(MOVEMENT_COLUMNS, row[:-1], strict=True)) for row in page)
            if len(page) < chunk:
                break
            last = dict(zip((*MOVEMENT_COLUMNS, "seq"), page[-1], strict=True))
            after = [last["occurred_at"], last["position"], last["seq"]]


class Movements:
    """The movements between two business dates as a sized iterable that streams (`iter_movements`).

    `len()` counts them (one query, kept); each iteration reads them again, in chunks. Both read
    the reader they were given, so use them while its transaction (the export's snapshot) is open.
    """

    def __init__(
        self,
        reader: Reader,
        start: date,
        end: date,
        funding_source: str | None = None,
        kind: str | None = None,
        *,
        chunk: int = CHUNK,
    ) -> None:
        self.reader, self.start, self.end = reader, start, end
        self.funding_source, self.kind, self.chunk = funding_source, kind, chunk
        self._days: list[tuple[str, int]] | None = None

    def days(self) -> list[tuple[str, int]]:
        if self._days is None:
            self._days = movement_days(self.reader, self.start, self.end, self.funding_source, self.kind)
        return self._days

    def __len__(self) -> int:
        return sum(count for _day, count in self.days())

    def __iter__(self) -> Iterator[dict[str, Any]]:
        return iter_movements(
            self.reader,
            self.start,
            self.end,
            self.funding_source,
            self.kind,
            chunk=self.chunk,
            days=self.days(),
        )


def order_costs(reader: Reader) -> dict[tuple[str, str], Decimal]:
    """Unit cost per purchase order number and SKU, as the order's lines state it."""
    costs: dict[tuple[str, str], Decimal] = {}
    for number, lines in reader.fetchall("SELECT number, lines FROM purchase_orders"):
        for line in json.loads(lines):
            if line.get("unit_cost") is not None:
                costs[(str(number), str(line["sku"]))] = Decimal(str(line["unit_cost"]))
    return costs


def lot_costs(reader: Reader) -> dict[tuple[str, str], Decimal]:
    """The unit cost each lot was received at (its first receipt that states one), by SKU and lot."""
    rows = reader.fetchall(
        """SELECT sku, lot, unit_cost FROM stock_movements WHERE kind = 'received' AND unit_cost IS NOT NULL
           ORDER BY position DESC"""
    )
    return {(str(sku), str(lot)): Decimal(str(cost)) for sku, lot, cost in rows}


def received_lots(reader: Reader) -> dict[tuple[str, str], str]:
    """The reference (purchase order number or delivery note) of the first receipt of each lot, by SKU and lot."""
    rows = reader.fetchall(
        """SELECT sku, lot, reference FROM stock_movements WHERE kind = 'received' AND reference IS NOT NULL
           ORDER BY position DESC"""
    )
    return {(str(sku), str(lot)): str(reference) for sku, lot, reference in rows}


def lots_on_hand(reader: Reader) -> list[dict[str, Any]]:
    """Every lot on hand now with its item's name, category and unit."""
    rows = reader.fetchall(
        """SELECT s.site, s.sku, i.name, i.category, i.unit, s.lot, s.expires_on, s.funding_source, s.quantity
           FROM stock_on_hand s LEFT JOIN items i ON i.sku = s.sku
           WHERE s.quantity <> 0 ORDER BY s.site, s.sku, s.expires_on, s.lot"""
    )
    keys = ("site", "sku", "name", "category", "unit", "lot", "expires_on", "funding_source", "quantity")
    return [dict(zip(keys, row, strict=True)) for row in rows]


ENCOUNTER_COLUMNS = (
    "position",
    "business_date",
    "occurred_at",
    "site",
    "participant_code",
    "reversals_reported",
    "syringes_collected",
    "refill_reason",
    "actor",
    "lines",
    "recipient",
    "for_others",
    "channel",
)


def encounters(reader: Reader, start: date, end: date) -> list[dict[str, Any]]:
    """Every encounter between two business dates, with its lines (SKU, quantity, lots) decoded."""
    rows = reader.fetchall(
        f"""SELECT {", ".join(ENCOUNTER_COLUMNS)} FROM encounters WHERE business_date BETWEEN ? AND ? AND voided IS NULL
            ORDER BY business_date, occurred_at, position""",
        (start.isoformat(), end.isoformat()),
    )
    found = []
    for row in rows:
        entry = dict(zip(ENCOUNTER_COLUMNS, row, strict=True))
        entry["lines"] = json.loads(entry["lines"])
        found.append(entry)
    return found


def encounter_totals(reader: Reader, start: date, end: date) -> list[tuple[str, str, int, int, int, int, int]]:
    """Per month and site: visits (encounters and shift tallies' visits), reversals reported, syringes
    handed out and collected, and how many of the visits were counted on shift tallies."""
    rows = reader.fetchall(
        """SELECT SUBSTR(business_date, 1, 7), site, SUM(encounters), SUM(reversals_reported),
                  SUM(syringes_distributed), SUM(syringes_collected), SUM(tally_visits)
           FROM daily_encounters WHERE business_date BETWEEN ? AND ?
           GROUP BY SUBSTR(business_date, 1, 7), site ORDER BY 1, 2""",
        (start.isoformat(), end.isoformat()),
    )
    return [(str(m), str(s), int(e), int(r), int(d), int(c), int(t)) for m, s, e, r, d, c, t in rows]


def seal_link_at(reader: Reader, position: int) -> tuple[int, str] | None:
    """The seal's link at the last sealed position at or before `position` (None when nothing is sealed)."""
    rows = reader.fetchall(
        "SELECT position, digest FROM seal_chain WHERE position <= ? ORDER BY position DESC LIMIT 1", (position,)
    )
    return (int(rows[0][0]), str(rows[0][1])) if rows else None


def read_position(reader: Reader, names: Sequence[str]) -> int:
    """How far the named read models have got: the lowest of their positions."""
    marks = ", ".join("?" for _ in names)
    rows = reader.fetchall(f"SELECT MIN(position) FROM projection_tracking WHERE name IN ({marks})", list(names))
    return int(rows[0][0] or 0) if rows else 0


def items(reader: Reader) -> dict[str, dict[str, Any]]:
    """Every item's name, category, unit and doses per unit (None: not counted in doses), by SKU."""
    rows = reader.fetchall("SELECT sku, name, category, unit, doses_per_unit FROM items ORDER BY sku")
    return {
        str(sku): {"name": name, "category": category, "unit": unit, "doses_per_unit": doses}
        for sku, name, category, unit, doses in rows
    }


def funding_names(reader: Reader) -> dict[str, str]:
    """Every funding source's name, by code."""
    return {str(code): str(name) for code, name in reader.fetchall("SELECT code, name FROM funding_sources")}


def order_numbers(reader: Reader) -> set[str]:
    """The number of every purchase order (a receipt's reference may name one)."""
    return {str(number) for (number,) in reader.fetchall("SELECT number FROM purchase_orders")}


def corrections(reader: Reader, start: date, end: date) -> dict[str, int]:
    """How many corrections a period holds, by what they did, for the reports' Provenance."""
    period = (start.isoformat(), end.isoformat())
    visits = reader.fetchall(
        "SELECT COUNT(*) FROM encounters WHERE business_date BETWEEN ? AND ? AND voided IS NOT NULL", period
    )
    tallies = reader.fetchall(
        "SELECT COUNT(*) FROM shift_tallies WHERE business_date BETWEEN ? AND ? AND voided IS NOT NULL", period
    )
    entries = reader.fetchall(
        """SELECT SUM(CASE WHEN reason LIKE ? THEN 1 ELSE 0 END), SUM(CASE WHEN reason LIKE ? THEN 1 ELSE 0 END),
                  SUM(CASE WHEN reason = ? THEN 1 ELSE 0 END)
             FROM (SELECT DISTINCT position, reason FROM stock_movements
                    WHERE business_date BETWEEN ? AND ? AND (reason LIKE ? OR reason LIKE ? OR reason = ?))
                  AS changes""",
        ("void:%", "corrected:%", "count_restated", *period, "void:%", "corrected:%", "count_restated"),
    )
    voided, corrected, restated = (int(value or 0) for value in entries[0])
    return {
        "Visits voided": int(visits[0][0]),
        "Shift tallies voided": int(tallies[0][0]),
        "Stock entries voided (a voided visit's too)": voided,
        "Receipts, adjustments and counts corrected": corrected,
        "Counts restated by entries dated before them": restated,
    }


def kit_parts_out(reader: Reader, start: date, end: date, funding_source: str | None = None) -> list[dict[str, Any]]:
    """The parts inside the kits handed out between two business dates, by kit, part and the part's funder
    (a report for one funder: only the parts it paid for)."""
    where, params = _funding(funding_source)
    rows = reader.fetchall(
        f"""SELECT kit_sku, sku, funding_source, SUM(quantity) FROM daily_kit_parts
            WHERE business_date BETWEEN ? AND ?{where} GROUP BY kit_sku, sku, funding_source
            HAVING SUM(quantity) <> 0 ORDER BY kit_sku, sku, funding_source""",
        [start.isoformat(), end.isoformat(), *params],
    )
    return [{"kit_sku": kit, "sku": sku, "funding_source": fund, "quantity": int(q)} for kit, sku, fund, q in rows]
