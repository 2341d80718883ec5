"""The distribution log: every encounter in a period, one row each, a column per item, with who it was for
and how it left; and, on sheets of their own, the period's issues to partner organisations and mail orders.

Nothing about a participant is written beyond the optional anonymous code, and not even that when
the program's setting (INVENTORY_EXPORT_PARTICIPANT_CODES=no) leaves it out. A mail order's tracking
reference is not written either: the carrier can tell who it went to.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import IO, Any
from zoneinfo import ZoneInfo

from openpyxl import Workbook

from exports.cells import INTEGER
from exports.provenance import Provenance, write_provenance
from exports.sheets import Column, SheetWriter
from exports.snapshot import Snapshot
from inventory.domain.reach import channel_label, refill_label
from inventory.projections import reach_queries
from inventory.projections import report_queries as rq


@dataclass(frozen=True)
class Visits:
    rows: list[dict[str, Any]]
    skus: list[str]
    partner_issues: list[dict[str, Any]] = field(default_factory=list)
    mail_orders: list[dict[str, Any]] = field(default_factory=list)
    recipient_labels: dict[str, str] = field(default_factory=dict)

    def __len__(self) -> int:
        return len(self.rows) + len(self.partner_issues) + len(self.mail_orders)


def gather_visits(snapshot: Snapshot, start: date, end: date) -> Visits:
    reader = snapshot.reader
    rows = rq.encounters(reader, start, end)
    issues = list(reversed(reach_queries.partner_issues(reader, None, start, end)))
    parcels = [row for row in reversed(reach_queries.mail_orders(reader, None, start, end)) if not row["voided"]]
    skus = sorted({line["sku"] for row in (*rows, *issues, *parcels) for line in row["lines"]})
    labels = reach_queries.recipient_types(reader, active_only=False)
    return Visits(rows, skus, issues, parcels, labels)


def _given(lines: list[dict[str, Any]], skus: list[str]) -> list[int]:
    given = dict.fromkeys(skus, 0)
    for line in lines:
        given[line["sku"]] += int(line["quantity"])
    return [given[sku] for sku in skus]


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
        Column("Recipient type", 18),
        Column("Collecting for others: people", 11, INTEGER, summed=True),
        Column("Channel", 14),
        *(Column(sku, 11, INTEGER, summed=True) for sku in visits.skus),
        Column("Recorded by", 26),
    ]
    workbook = Workbook(write_only=True)
    sheet = SheetWriter(workbook, "Distribution log", [c.width for c in columns], freeze="E2")
    rows = [
        [
            visit["position"],
            date.fromisoformat(visit["business_date"]),
            _local(visit["occurred_at"], zone),
            visit["site"],
            *([visit["participant_code"]] if participant_codes else []),
            visit["reversals_reported"],
            visit["syringes_collected"],
            refill_label(visit["refill_reason"]) if visit["refill_reason"] else "",
            reach_queries.recipient_label(visits.recipient_labels, visit["recipient"]),
            visit["for_others"],
            channel_label(visit["channel"]),
            *_given(visit["lines"], visits.skus),
            visit["actor"],
        ]
        for visit in visits.rows
    ]
    sheet.table(columns, rows, autofilter=True, progress=progress)
    _partner_issues(workbook, visits, zone, progress)
    _mail_orders(workbook, visits, zone, progress)
    write_provenance(workbook, provenance)
    workbook.save(target)


def _local(moment: str, zone: ZoneInfo) -> datetime:
    return datetime.fromisoformat(moment).astimezone(zone).replace(tzinfo=None, microsecond=0)


def _partner_issues(workbook: Workbook, visits: Visits, zone: ZoneInfo, progress: Callable[[int], None] | None) -> None:
    columns = [
        Column("Business date", 11),
        Column("Time", 16),
        Column("From site", 11),
        Column("Partner", 14),
        *(Column(sku, 11, INTEGER, summed=True) for sku in visits.skus),
        Column("Recorded by", 26),
    ]
    sheet = SheetWriter(workbook, "Issued to partners", [c.width for c in columns], freeze="E2")
    rows = [
        [
            date.fromisoformat(issue["business_date"]),
            _local(issue["occurred_at"], zone),
            issue["site"],
            issue["partner"],
            *_given(issue["lines"], visits.skus),
            issue["actor"],
        ]
        for issue in visits.partner_issues
    ]
    sheet.table(columns, rows, autofilter=True, progress=progress)


def _mail_orders(workbook: Workbook, visits: Visits, zone: ZoneInfo, progress: Callable[[int], None] | None) -> None:
    columns = [
        Column("Business date", 11),
        Column("Time", 16),
        Column("From site", 11),
        Column("Carrier", 14),
        Column("Recipient type", 18),
        Column("Collecting for others: people", 11, INTEGER, summed=True),
        Column("Came back on", 11),
        *(Column(sku, 11, INTEGER, summed=True) for sku in visits.skus),
        Column("Recorded by", 26),
    ]
    sheet = SheetWriter(workbook, "Mail orders", [c.width for c in columns], freeze="E2")
    rows = [
        [
            date.fromisoformat(parcel["business_date"]),
            _local(parcel["occurred_at"], zone),
            parcel["site"],
            parcel["carrier"],
            reach_queries.recipient_label(visits.recipient_labels, parcel["recipient"]),
            parcel["for_others"],
            date.fromisoformat(parcel["returned_on"]) if parcel["returned_on"] else None,
            *_given(parcel["lines"], visits.skus),
            parcel["actor"],
        ]
        for parcel in visits.mail_orders
    ]
    sheet.table(columns, rows, autofilter=True, progress=progress)
