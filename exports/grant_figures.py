"""The figures of a grant report, read from the read models: balances, flows, receipts, the ledger.

Balances (opening, closing, month by month) come from the daily balances (`stock_daily`); flows
(received, transferred, distributed, adjusted) from the movements (`stock_movements`). They are
read separately, so that a report whose rows reconcile shows two read models agreeing.

The ledger (every movement of the period, possibly millions) is not read here: it is counted,
and streamed from the snapshot while the workbook is written, so it must be written before the
snapshot ends (`exports.reports.grant_figures`).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal
from typing import Any, Protocol

from exports.snapshot import Snapshot
from inventory.domain.values import AdjustmentReason
from inventory.projections import reach_queries
from inventory.projections import report_queries as rq

# Flows shown as positive quantities, and what each movement kind adds to.
RECEIVED, TRANSFERRED_IN, TRANSFERRED_OUT, DISTRIBUTED = "received", "transferred_in", "transferred_out", "distributed"
# Stock out to partner organisations, and by mail (less parcels that came back): never in DISTRIBUTED.
TO_PARTNERS, MAILED = "to_partners", "mailed"
COUNT_VARIANCE = "count_variance"
KIT_FLOWS = ("into_kits", "assembled")
ADJUSTMENTS = (*(reason.value for reason in AdjustmentReason), COUNT_VARIANCE)
OUT = (DISTRIBUTED, TO_PARTNERS, MAILED)  # what left the program's sites for people and partners
FLOWS = (RECEIVED, TRANSFERRED_IN, TRANSFERRED_OUT, *OUT, *ADJUSTMENTS)
# Whether a flow adds to (+1) or takes from (-1) the closing balance as shown.
SIGN = {
    RECEIVED: 1,
    TRANSFERRED_IN: 1,
    TRANSFERRED_OUT: -1,
    **dict.fromkeys(OUT, -1),
    **dict.fromkeys(ADJUSTMENTS, 1),
}


def flow_of(kind: str, reason: str | None) -> str:
    """The column a movement lands in. A cancelled transfer's stock coming back counts as transferred in."""
    if kind == "received":
        return RECEIVED
    if kind in ("transfer_in", "returned"):
        return TRANSFERRED_IN
    if kind == "transfer_out":
        return TRANSFERRED_OUT
    if kind == "distributed":
        return DISTRIBUTED
    if kind == "to_partner":
        return TO_PARTNERS
    if kind == "mailed":
        return MAILED
    if kind == "counted":
        return COUNT_VARIANCE
    if kind in KIT_FLOWS:
        return kind  # parts into kits (or back), kits assembled (or taken apart): columns when there are any
    return reason or "correction"


@dataclass
class Balance:
    """Opening, flows (as shown: positive for received, transferred and distributed) and closing."""

    opening: int = 0
    flows: dict[str, int] = field(default_factory=lambda: dict.fromkeys(FLOWS, 0))
    closing: int = 0

    def add(self, flow: str, signed: int) -> None:
        self.flows[flow] = self.flows.get(flow, 0) + signed * SIGN.get(flow, 1)

    def absorb(self, other: Balance) -> None:
        self.opening += other.opening
        self.closing += other.closing
        for flow, quantity in other.flows.items():
            self.flows[flow] = self.flows.get(flow, 0) + quantity

    @property
    def empty(self) -> bool:
        return not (self.opening or self.closing or any(self.flows.values()))


@dataclass(frozen=True)
class Month:
    label: str  # YYYY-MM
    first: date
    last: date


def months(start: date, end: date) -> list[Month]:
    """The calendar months a period touches, each clipped to the period."""
    found, first = [], start
    while first <= end:
        following = (first.replace(day=1) + timedelta(days=32)).replace(day=1)
        last = min(following - timedelta(days=1), end)
        found.append(Month(first.strftime("%Y-%m"), first, last))
        first = following
    return found


class Rows(Protocol):
    """Rows that can be counted and read in order: a list, or movements streamed from a snapshot."""

    def __len__(self) -> int: ...

    def __iter__(self) -> Iterator[dict[str, Any]]: ...


@dataclass
class GrantFigures:
    funding_source: str | None
    start: date
    end: date
    items: dict[str, dict[str, Any]]  # sku: name, category, unit
    funding_names: dict[str, str]
    by_site: dict[tuple[str, str], Balance]  # (site, sku)
    by_month: dict[tuple[str, str], Balance]  # (month label, sku)
    months: list[Month]
    # month, site, visits, reversals, syringes out, syringes in, visits counted on shift tallies
    activity: list[tuple[str, str, int, int, int, int, int]]
    receipts: list[dict[str, Any]]
    ledger: Rows  # read while the workbook is written, from the snapshot it was gathered from
    # Who it went to: units by channel and recipient type (this funder's), contacts by channel (the program's),
    # what each partner was issued (this funder's) and what it reported back for periods ending in this one.
    reach: list[dict[str, Any]] = field(default_factory=list)
    contacts: list[dict[str, Any]] = field(default_factory=list)
    partner_issues: dict[tuple[str, str], int] = field(default_factory=dict)  # (partner, sku): units
    partner_reports: list[dict[str, Any]] = field(default_factory=list)
    partners: dict[str, dict[str, Any]] = field(default_factory=dict)  # code: name, kind
    recipient_labels: dict[str, str] = field(default_factory=dict)
    # The parts inside kits handed out, each under the funder of its own lot: kit, part, funder, units.
    kit_parts: list[dict[str, Any]] = field(default_factory=list)

    @property
    def by_item(self) -> dict[str, Balance]:
        totals: dict[str, Balance] = defaultdict(Balance)
        for (_site, sku), balance in self.by_site.items():
            totals[sku].absorb(balance)
        return dict(totals)

    @property
    def adjustment_columns(self) -> list[str]:
        """The domain's reasons and the count variance, plus any other reason found in the period."""
        found = {flow for balance in self.by_site.values() for flow in balance.flows}
        return [*ADJUSTMENTS, *sorted(found - set(FLOWS))]

    def rows(self) -> int:
        """How many rows the workbook will hold (for a progress bar)."""
        return len(self.by_site) + len(self.by_month) + len(self.receipts) + len(self.ledger)


def gather(snapshot: Snapshot, funding_source: str | None, start: date, end: date) -> GrantFigures:
    """Everything a grant report shows, read from one snapshot of the read models."""
    reader = snapshot.reader
    by_site: dict[tuple[str, str], Balance] = defaultdict(Balance)
    by_month: dict[tuple[str, str], Balance] = defaultdict(Balance)
    for label, site, sku, kind, reason, quantity in rq.movement_totals(reader, start, end, funding_source):
        flow = flow_of(kind, reason)
        by_site[(site, sku)].add(flow, quantity)
        by_month[(label, sku)].add(flow, quantity)
    opening = rq.balances_before(reader, start, funding_source)
    closing = rq.balances_before(reader, end + timedelta(days=1), funding_source)
    for key in set(opening) | set(closing):
        by_site[key].opening = opening.get(key, 0)
        by_site[key].closing = closing.get(key, 0)
    period = months(start, end)
    net: dict[tuple[str, str], int] = defaultdict(int)
    for (month_label, _site, sku), quantity in rq.net_by_month(reader, start, end, funding_source).items():
        net[(month_label, sku)] += quantity
    running: dict[str, int] = defaultdict(int)
    for (_site, sku), quantity in opening.items():
        running[sku] += quantity
    skus = {sku for _site, sku in by_site}
    for month in period:
        for sku in sorted(skus):
            balance = by_month[(month.label, sku)]
            balance.opening = running[sku]
            running[sku] += net[(month.label, sku)]
            balance.closing = running[sku]
    return GrantFigures(
        funding_source=funding_source,
        start=start,
        end=end,
        items=rq.items(reader),
        funding_names=rq.funding_names(reader),
        by_site={key: value for key, value in sorted(by_site.items()) if not value.empty},
        by_month={key: value for key, value in sorted(by_month.items()) if not value.empty},
        months=period,
        activity=rq.encounter_totals(reader, start, end),
        receipts=_receipts(reader, start, end, funding_source),
        ledger=rq.Movements(reader, start, end, funding_source),
        reach=reach_queries.reach_by_channel(reader, start, end, funding_source=funding_source),
        contacts=reach_queries.contacts_by_channel(reader, start, end),
        partner_issues=_issued_to_partners(reader, start, end, funding_source),
        partner_reports=reach_queries.partner_reports(reader, start=start, end=end),
        partners={row["code"]: row for row in reach_queries.partners(reader)},
        recipient_labels=reach_queries.recipient_types(reader, active_only=False),
        kit_parts=rq.kit_parts_out(reader, start, end, funding_source),
    )


def _issued_to_partners(
    reader: rq.Reader, start: date, end: date, funding_source: str | None
) -> dict[tuple[str, str], int]:
    """Units issued to each partner in the period, by item; only those this funding source paid for, if one."""
    totals: dict[tuple[str, str], int] = defaultdict(int)
    for issue in reach_queries.partner_issues(reader, None, start, end):
        for line in issue["lines"]:
            for pick in line["lots"]:
                if funding_source is None or pick["funding_source"] == funding_source:
                    totals[(issue["partner"], line["sku"])] += int(pick["quantity"])
    return dict(sorted(totals.items()))


def _receipts(reader: rq.Reader, start: date, end: date, funding_source: str | None) -> list[dict[str, Any]]:
    """Receipts in the period; unit cost as received, else from the purchase order the receipt names."""
    costs = rq.order_costs(reader)
    orders = rq.order_numbers(reader)
    rows = []
    for movement in rq.movements(reader, start, end, funding_source, kind="received"):
        reference = movement["reference"]
        is_order = reference in orders
        cost: Decimal | None = Decimal(movement["unit_cost"]) if movement["unit_cost"] is not None else None
        if cost is None and is_order:
            cost = costs.get((reference, movement["sku"]))
        rows.append(
            dict(
                movement,
                purchase_order=reference if is_order else None,
                note=None if is_order else reference,
                unit_cost=cost,
            )
        )
    return rows
