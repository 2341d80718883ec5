"""The distribution log: every encounter in a period, one row each, a column per item.

Nothing about a participant is written beyond the optional anonymous code, and not even that when
the program's setting (INVENTORY_EXPORT_PARTICIPANT_CODES=no) leaves it out.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from typing import IO, Any
from zoneinfo import ZoneInfo

from openpyxl import Workbook

from exports.cells import INTEGER
from exports.provenance import Provenance, write_provenance
from exports.sheets import Column, SheetWriter
from exports.snapshot import Snapshot
from inventory.projections import report_queries as rq


@dataclass(frozen=True)
class Visits:
    rows: list[dict[str, Any]]
    skus: list[str]


def gather_visits(snapshot: Snapshot, start: date, end: date) -> Visits:
    rows = rq.encounters(snapshot.reader, start, end)
    skus = sorted({line["sku"] for row in rows for line in row["lines"]})
    return Visits(rows, skus)


def write_distribution_log(
    visits: Visits,
    provenance: Provenance,
    target: str | IO[bytes],
    *,
    participant_codes: bool,
    progress: Callable[[int], None] | None = None,
) -> None:
    """Write the workbook (progress: rows written)."""
    zone = ZoneInfo(provenance.zone)
    columns = [
        Column("Log position", 9),
        Column("Business date", 11),
        Column("Time", 16),
        Column("Site", 11),
        *([Column("Participant code", 12)] if participant_codes else []),
        Column("Overdose reversals reported", 11, INTEGER, summed=True),
        Column("Syringes collected", 11, INTEGER, summed=True),
        Column("Naloxone refill reason", 16),
        *(Column(sku, 11, INTEGER, summed=True) for sku in visits.skus),
        Column("Recorded by", 26),
    ]
    workbook = Workbook(write_only=True)
    sheet = SheetWriter(workbook, "Distribution log", [c.width for c in columns], freeze="E2")
    rows = []
    for visit in visits.rows:
        given = dict.fromkeys(visits.skus, 0)
        for line in visit["lines"]:
            given[line["sku"]] += int(line["quantity"])
        rows.append(
            [
                visit["position"],
                date.fromisoformat(visit["business_date"]),
                datetime.fromisoformat(visit["occurred_at"]).astimezone(zone).replace(tzinfo=None, microsecond=0),
                visit["site"],
                *([visit["participant_code"]] if participant_codes else []),
                visit["reversals_reported"],
                visit["syringes_collected"],
                (visit["refill_reason"] or "").replace("_", " "),
                *(given[sku] for sku in visits.skus),
                visit["actor"],
            ]
        )
    sheet.table(columns, rows, autofilter=True, progress=progress)
    write_provenance(workbook, provenance)
    workbook.save(target)
