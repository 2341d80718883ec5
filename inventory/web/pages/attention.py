"""What needs this person's attention, for the top of their home page: each item a sentence and a link, from
what their role may do (inventory.application.access), never from the role's name."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any

from flask import url_for

from inventory.application.access import Action, Principal
from inventory.projections import queries
from inventory.projections.alerts import open_alerts, sentence
from inventory.projections.order_queries import order_page
from inventory.projections.store import ReadStore
from inventory.projections.transfer_queries import transfers_in_transit
from inventory.web.pages.common import day_shown

# What an auditor looks over: entries that put an earlier one right, recorded in the last week.
CORRECTIONS = (
    "Encounter.Voided",
    "ShiftTally.Voided",
    "StockLedger.EntryVoided",
    "StockLedger.EntryCorrected",
    "Transfer.Voided",
    "StockLedger.CountRestated",
)
REVIEW_DAYS = 7
SHOWN = 10  # orders named at most, of each kind


@dataclass(frozen=True)
class Attention:
    kind: str  # alerts, transfers, orders, report, corrections
    text: str
    link: str
    action: str


def _plural(count: int, word: str) -> str:
    return f"{count:,} {word}" + ("" if count == 1 else "s")


def needs_attention(who: Principal, store: ReadStore, sites: list[str], today: date, zone: Any) -> list[Attention]:
    found: list[Attention] = []
    if who.can(Action.READ_ALERTS):
        alerts = open_alerts(store, sites, awake_on=today)
        if alerts:
            found.append(
                Attention(
                    "alerts",
                    f"{_plural(len(alerts), 'alert')} open. The newest: {sentence(alerts[0])}",
                    url_for("alerts.index"),
                    "See the alerts",
                )
            )
    if who.can(Action.TRANSFER):
        coming = [t for t in transfers_in_transit(store, sites) if t["to_site"] in sites]
        if coming and not who.all_sites:
            to = ", ".join(sorted({t["to_site"] for t in coming}))
            found.append(
                Attention(
                    "transfers",
                    f"{_plural(len(coming), 'transfer')} on the way to {to}: book them in when they arrive.",
                    url_for("transfers.index"),
                    "See the transfers",
                )
            )
    if who.can(Action.PURCHASE):
        buying = None if who.all_sites else sorted(site for site in sites if who.can(Action.PURCHASE, site))
        drafted = order_page(store, statuses=("draft",), sites=buying, limit=SHOWN)
        drafts, more = drafted.rows, drafted.next is not None
        partly = order_page(store, statuses=("partly_received",), sites=buying, limit=SHOWN).rows
        if drafts:
            found.append(
                Attention(
                    "orders",
                    f"{'At least ' if more else ''}{_plural(len(drafts), 'purchase order')} drafted and not yet sent: "
                    f"{', '.join(o['number'] for o in drafts)}{', …' if more else ''}.",
                    url_for("purchase_orders.index", status="draft"),
                    "See the orders",
                )
            )
        for order in partly:
            still = sum(line["outstanding"] for line in order["lines"])
            found.append(
                Attention(
                    "orders",
                    f"{order['number']} from {order['supplier']} is partly received: {still:,} still to come.",
                    url_for("purchase_orders.show", order_id=order["id"]),
                    "Open the order",
                )
            )
    if who.can(Action.READ_AUDIT):
        since = datetime.combine(today - timedelta(days=REVIEW_DAYS - 1), time(), tzinfo=zone)
        marks = ", ".join("?" for _ in CORRECTIONS)
        [(count,)] = store.fetchall(
            f"SELECT COUNT(*) FROM audit_log WHERE recorded_at >= ? AND event_type IN ({marks})",
            (since.isoformat(), *CORRECTIONS),
        )
        if count:
            found.append(
                Attention(
                    "corrections",
                    f"{int(count):,} {'entry' if count == 1 else 'entries'} in the log since "
                    f"{day_shown(since.date())} put earlier ones right (undone, voided, corrected, or a count "
                    "restated): each says what it changed and who did it.",
                    url_for("audit.index", start=since.date().isoformat()),
                    "Review them",
                )
            )
    # The grant manager's (and the admin's): the month just closed has its report to send.
    if (who.can(Action.EXPORT) and not who.can(Action.READ_AUDIT)) or who.can(Action.MANAGE_CATALOG):
        last_month_end = today.replace(day=1) - timedelta(days=1)
        if queries.daily_encounters(store, last_month_end.replace(day=1), last_month_end):
            found.append(
                Attention(
                    "report",
                    f"{last_month_end:%B %Y} has closed: its grant report (up to {day_shown(last_month_end)}) "
                    "is ready to download.",
                    url_for("exports.index"),
                    "Go to the reports",
                )
            )
    return found
