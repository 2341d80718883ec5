"""Long lists for the list benchmarks and the constant-work test: the read models behind every list page and
list route, filled straight through SQL as their projections write them (a million audit entries take
seconds this way, rather than the hour recording a million events would), and each list's pages as calls.

A log of `events` events is taken to hold, besides its audit entries, a transfer and a purchase order for
every 5 events, across 10 sites (more than a program makes, so that every status at every site fills whole
pages); 30 transfers still on their way, 12 orders still open; alert episodes (one in 100 events) all over
but 40; a lot received for every 10 events, all used up but 300.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from typing import Any

from inventory.projections.alerts import Alerts, open_alert_page, open_alerts
from inventory.projections.audit_log import AuditLog
from inventory.projections.order_queries import FINISHED, UNFINISHED, order_page
from inventory.projections.paging import Page, encode_cursor
from inventory.projections.queries import audit_page, stock_page
from inventory.projections.stock_on_hand import StockOnHand
from inventory.projections.store import SqliteReadStore
from inventory.projections.transfer_queries import transfer_page

SITES = [f"SITE-{n}" for n in range(10)]
ACTORS = [f"staff{n}@example.org" for n in range(20)]
EVENTS = ["StockLedger.Distributed", "Encounter.Recorded", "StockLedger.Received", "StockLedger.Counted",
          "Transfer.Dispatched", "Transfer.Received", "PurchaseOrder.Raised", "StockLedger.Adjusted",
          "ShiftTally.Recorded", "Alert.Raised"]  # fmt: skip
RARE_EVENT = "Site.Registered"  # ten in the whole log
START = datetime(2020, 1, 1, tzinfo=UTC)
PER_DAY = 1_000  # events a day, so a million events span about three years


def moment(n: int) -> str:
    return (START + timedelta(seconds=n * 86_400 // PER_DAY)).isoformat()


def day_of(n: int) -> date:
    return (START + timedelta(seconds=n * 86_400 // PER_DAY)).date()


def fill(store: SqliteReadStore, events: int) -> None:
    """The audit log, transfers, purchase orders and alerts of a log of `events` events."""
    with store.transaction() as tx:
        for projection in (AuditLog, StockOnHand, Alerts):
            for statement in projection.ddl:
                tx.execute(statement)
    rare = {events * k // 10 for k in range(10)}
    audit = (
        (n + 1, moment(n), ACTORS[n % 20], f"aggregate-{n % 997}", "StockLedger",
         RARE_EVENT if n in rare else EVENTS[n % 10], SITES[n % 10], day_of(n).isoformat(), "summary")
        for n in range(events)
    )  # fmt: skip
    line = json.dumps([{"sku": "SYR-1ML", "lot": "S-1", "quantity": 1}])
    transfers = []
    for k in range(events // 5):
        n = k * 5
        status = "in_transit" if k >= events // 5 - 30 else ("cancelled", "voided", *["received"] * 6)[k % 8]
        transfers.append((f"{k:08d}-0000-4000-8000-000000000000", SITES[k % 10], SITES[(k + 1 + k // 10) % 10],
                          status, moment(n), ACTORS[k % 20], None if status == "in_transit" else moment(n + 4),
                          line, line if status == "received" else "[]", "[]"))  # fmt: skip
    order_line = json.dumps([{"sku": "NALOX-4MG", "quantity": 24, "received": 0, "unit_cost": "10.0000"}])
    orders = []
    for k in range(events // 5):
        n = k * 5
        status = UNFINISHED[k % 3] if k >= events // 5 - 12 else FINISHED[(k // 10) % 3]
        orders.append((f"{k:08d}-1111-4000-8000-000000000000", f"PO-{k:07d}", "Supply Co", SITES[k % 10],
                       "STATE", status, moment(n), ACTORS[k % 20], moment(n + 4), order_line))  # fmt: skip
    alerts = []
    for k in range(events // 100):
        still_open = k >= events // 100 - 40
        alerts.append((f"alert-{k % 4000}", k // 4000 + 1, "below_reorder_point", SITES[k % 10], f"SKU-{k % 400}",
                       None, 1 if still_open else 0, moment(k * 100), None if still_open else moment(k * 100 + 50),
                       None, None, "{}", None, None))  # fmt: skip
    # Lots ever received, one in 10 events: all used up but the last 300, 30 at each site.
    lots = [(SITES[k % 10], f"SKU-{k % 40}", f"LOT-{k:07d}", None, "STATE", 0 if k < events // 10 - 300 else 5)
            for k in range(events // 10)]  # fmt: skip
    with store.transaction() as tx:
        tx.executemany(
            """INSERT INTO stock_on_hand (site, sku, lot, expires_on, funding_source, quantity)
               VALUES (?, ?, ?, ?, ?, ?)""",
            lots,
        )
        tx.executemany(
            """INSERT INTO audit_log (position, recorded_at, actor, aggregate_id, aggregate_type, event_type, site,
               business_date, summary) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)""",
            audit,
        )
        tx.executemany(
            """INSERT INTO transfers (id, from_site, to_site, status, dispatched_at, dispatched_by, closed_at, lines,
               received, shortfall) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)""",
            transfers,
        )
        tx.executemany(
            """INSERT INTO purchase_orders (id, number, supplier, site, funding_source, status, raised_at, raised_by,
               updated_at, lines) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)""",
            orders,
        )
        tx.executemany(
            """INSERT INTO alerts (id, episode, kind, site, sku, lot, is_open, raised_at, resolved_at,
               acknowledged_by, acknowledged_at, details, snoozed_until, assigned_to) VALUES
               (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)""",
            alerts,
        )


def pages(events: int) -> dict[str, Callable[[SqliteReadStore], Any]]:
    """Each list page (and its filters) as a call that reads one page of 50, at a log of `events` events.

    "middle" pages start from a cursor halfway down the list: what "next page" reaches after many pages.
    """
    half = events // 2
    a_month = (day_of(half), day_of(half) + timedelta(days=30))
    transfer_key = (moment(half), f"{half // 5:08d}-0000-4000-8000-000000000000")
    order_key = (moment(half), f"{half // 5:08d}-1111-4000-8000-000000000000")

    def transfers(**filters: Any) -> Callable[[SqliteReadStore], Page]:
        return lambda store: transfer_page(store, **{"sites": None, **filters})

    def orders(**filters: Any) -> Callable[[SqliteReadStore], Page]:
        return lambda store: order_page(store, **{"sites": None, "statuses": UNFINISHED + FINISHED, **filters})

    audit_key = (half + 1,)  # a position: without days of recording, the history is in the log's order

    def audit(**filters: Any) -> Callable[[SqliteReadStore], Page]:
        return lambda store: audit_page(store, **filters)

    return {
        "audit: newest": audit(),
        "audit: middle": audit(after=encode_cursor(audit_key)),
        "audit: one person": audit(actor=ACTORS[3]),
        "audit: one site, middle": audit(site=SITES[4], after=encode_cursor(audit_key)),
        "audit: a rare event": audit(event_type=RARE_EVENT),
        "audit: a month": audit(start=a_month[0], end=a_month[1]),
        "audit: one person in a month": audit(actor=ACTORS[3], start=a_month[0], end=a_month[1]),
        "transfers: in transit": transfers(statuses=("in_transit",), newest_first=False),
        "transfers: done, newest": transfers(statuses=("received", "cancelled", "voided")),
        "transfers: every status, middle": transfers(after=encode_cursor(transfer_key)),
        "transfers: cancelled": transfers(statuses=("cancelled",)),
        "transfers: two sites": transfers(sites=SITES[:2]),
        "transfers: a month": transfers(sent_from=moment(half), sent_before=moment(half + 30 * PER_DAY)),
        "orders: open": orders(statuses=UNFINISHED),
        "orders: every status, middle": orders(after=encode_cursor(order_key)),
        "orders: by number": orders(number=f"PO-{half // 5:07d}"[:-3]),
        "orders: one site, finished": orders(sites=[SITES[2]], statuses=FINISHED),
        "alerts: open": lambda store: open_alerts(store, None),
        "alerts: open at one site": lambda store: open_alerts(store, [SITES[5]]),
        "api alerts: a page": lambda store: open_alert_page(store, None, limit=20),
        "api alerts: two sites": lambda store: open_alert_page(store, SITES[:2]),
        "api stock: every site": lambda store: stock_page(store, None),
        "api stock: two sites, an item": lambda store: stock_page(store, SITES[:2], "SKU-1"),
    }
