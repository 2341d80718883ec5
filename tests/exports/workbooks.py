"""Reading a written workbook back, and working out the same figures from the events themselves."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from openpyxl import load_workbook

from inventory.application import InventoryApplication
from inventory.domain import StockLedger

FLOW_HEADINGS = (
    "Received",
    "Transferred in",
    "Transferred out",
    "Distributed",
    "Issued to partners",
    "Mailed (less parcels returned)",
)
SIGNS = {
    "Received": 1,
    "Transferred in": 1,
    "Transferred out": -1,
    "Distributed": -1,
    "Issued to partners": -1,
    "Mailed (less parcels returned)": -1,
}
# Flows shown with their own sign (+ in, - out).
SIGNED = ("Adjusted: ", "Count variance", "Written off: ", "Put into kits", "Kits assembled")


def sheets(path: Path | str) -> dict[str, list[list[Any]]]:
    """Every sheet's rows of values (formulas as their text: openpyxl computes nothing)."""
    book = load_workbook(path)
    return {sheet.title: [list(row) for row in sheet.iter_rows(values_only=True)] for sheet in book.worksheets}


@dataclass
class Table:
    header: list[str]
    rows: list[list[Any]]

    def records(self) -> list[dict[str, Any]]:
        return [dict(zip(self.header, row, strict=False)) for row in self.rows]


def table(rows: list[list[Any]], first_heading: str, *, after: int = 0) -> Table:
    """The table whose header row starts with `first_heading`: its rows up to a blank or Total row."""
    start = next(i for i, row in enumerate(rows) if i >= after and row and row[0] == first_heading)
    header = [str(cell) if cell is not None else "" for cell in rows[start]]
    body = []
    for row in rows[start + 1 :]:
        if not row or row[0] in (None, "", "Total"):
            break
        body.append(row)
    return Table(header, body)


def flows(record: dict[str, Any]) -> int:
    """Opening plus every flow with its sign: what the closing balance must be."""
    total = int(record["Opening balance"])
    for heading, value in record.items():
        if heading in SIGNS:
            total += SIGNS[heading] * int(value)
        elif heading.startswith(SIGNED):
            total += int(value)
    return total


@dataclass(frozen=True)
class Moved:
    site: str
    sku: str
    funding_source: str | None
    day: date
    kind: str
    reason: str | None
    quantity: int  # signed


def moved_from_events(app: InventoryApplication, zone: ZoneInfo, until: int | None = None) -> list[Moved]:
    """Every lot movement, worked out from the ledger events in the log (not from any read model)."""
    found: list[Moved] = []
    for notification in app.recorder.select_notifications(start=1, limit=10**9, stop=until):
        event: Any = app.mapper.to_domain_event(notification)
        if not isinstance(event, StockLedger.Movement):
            continue
        day = event.occurred_at.astimezone(zone).date()
        found.extend(Moved(event.site, event.sku, funding, day, *rest) for funding, *rest in _lots_moved(event))
    return found


def _lots_moved(event: Any) -> list[tuple[str | None, str, str | None, int]]:
    """(funding source, kind, reason, signed quantity) for each lot a ledger event moves."""
    if isinstance(event, StockLedger.Received):
        return [(event.funding_source, "received", None, event.quantity)]
    if isinstance(event, StockLedger.Distributed):
        return [(p["funding_source"], "distributed", None, -p["quantity"]) for p in event.picks]
    if isinstance(event, StockLedger.IssuedToPartner):
        return [(p["funding_source"], "to_partner", None, -p["quantity"]) for p in event.picks]
    if isinstance(event, StockLedger.Mailed):
        return [(p["funding_source"], "mailed", None, -p["quantity"]) for p in event.picks]
    if isinstance(event, StockLedger.MailReturned):
        return [(r["funding_source"], "mailed", None, r["quantity"]) for r in event.lots]
    if isinstance(event, StockLedger.Dispatched):
        return [(p["funding_source"], "transfer_out", None, -p["quantity"]) for p in event.picks]
    if isinstance(event, StockLedger.Arrived | StockLedger.Returned):
        return [(r["funding_source"], "transfer_in", None, r["quantity"]) for r in event.lots]
    if isinstance(event, StockLedger.Adjusted):
        return [(event.funding_source, "adjusted", event.reason, event.quantity)]
    if isinstance(event, StockLedger.Counted):
        return [(event.funding_source, "adjusted", "count_variance", event.variance)]
    if isinstance(event, StockLedger.WrittenOff):
        return [(event.funding_source, "written_off", event.disposition, -event.quantity)]
    if isinstance(event, StockLedger.UsedInKits):
        return [(p["funding_source"], "into_kits", None, -p["quantity"]) for p in event.picks]
    if isinstance(event, StockLedger.BackFromKits):
        return [(r["funding_source"], "into_kits", None, r["quantity"]) for r in event.lots]
    if isinstance(event, StockLedger.KitsAssembled):
        return [(None, "assembled", None, r["quantity"]) for r in event.lots]
    if isinstance(event, StockLedger.KitsTakenApart):
        return [(p.get("funding_source"), "assembled", None, -p["quantity"]) for p in event.picks]
    return []


def expected_summary(
    moved: list[Moved], funding_source: str | None, start: date, end: date
) -> dict[str, dict[str, int]]:
    """Per SKU: opening, received, transferred in and out, distributed, each adjustment reason, closing."""
    figures: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for move in moved:
        if funding_source and move.funding_source != funding_source:
            continue
        row = figures[move.sku]
        if move.day < start:
            row["opening"] += move.quantity
        if move.day <= end:
            row["closing"] += move.quantity
        if not start <= move.day <= end:
            continue
        if move.kind in ("adjusted", "written_off"):
            row[f"{move.kind}:{move.reason}"] += move.quantity
        elif move.kind in ("transfer_out", "distributed", "to_partner", "mailed"):
            row[move.kind] -= move.quantity
        else:
            row[move.kind] += move.quantity
    return {sku: dict(row) for sku, row in figures.items()}
