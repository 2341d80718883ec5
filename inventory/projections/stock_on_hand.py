"""Stock on hand by site, item and lot; and what is on order and in transit."""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Callable, Sequence
from typing import Any

from inventory.domain import PurchaseOrder, StockLedger, Transfer
from inventory.projections.base import Projection, Recorded, iso, to_json
from inventory.projections.store import Tx

LotKey = tuple[str, str, str]  # site, sku, lot


class StockOnHand(Projection):
    name = "stock_on_hand"
    version = 4  # 3: no row for a site and item with nothing on order or in transit; 4: lots held
    tables = ("stock_on_hand", "stock_pipeline", "transfers", "purchase_orders", "lot_holds")
    ddl = (
        """CREATE TABLE IF NOT EXISTS stock_on_hand (
            site TEXT NOT NULL, sku TEXT NOT NULL, lot TEXT NOT NULL, expires_on TEXT,
            funding_source TEXT, quantity BIGINT NOT NULL, PRIMARY KEY (site, sku, lot))""",
        "CREATE INDEX IF NOT EXISTS stock_on_hand_expiry ON stock_on_hand (expires_on)",
        # The API's list of lots on hand, a page at a time: only lots with stock (queries.stock_page).
        """CREATE INDEX IF NOT EXISTS stock_on_hand_live ON stock_on_hand
           (site, sku, (COALESCE(expires_on, '9999-12-31')), lot) WHERE quantity <> 0""",
        # Lots kept off the shelf at a site (inventory.domain.holds): a row while the hold lasts.
        """CREATE TABLE IF NOT EXISTS lot_holds (
            site TEXT NOT NULL, sku TEXT NOT NULL, lot TEXT NOT NULL, reason TEXT NOT NULL, recall TEXT,
            held_at TEXT NOT NULL, held_by TEXT NOT NULL, PRIMARY KEY (site, sku, lot))""",
        "CREATE INDEX IF NOT EXISTS lot_holds_recall ON lot_holds (recall)",
        """CREATE TABLE IF NOT EXISTS stock_pipeline (
            site TEXT NOT NULL, sku TEXT NOT NULL, on_order BIGINT NOT NULL DEFAULT 0,
            in_transit BIGINT NOT NULL DEFAULT 0, PRIMARY KEY (site, sku))""",
        """CREATE TABLE IF NOT EXISTS transfers (
            id TEXT PRIMARY KEY, from_site TEXT NOT NULL, to_site TEXT NOT NULL, status TEXT NOT NULL,
            dispatched_at TEXT NOT NULL, dispatched_by TEXT NOT NULL, closed_at TEXT, lines TEXT NOT NULL,
            received TEXT NOT NULL DEFAULT '[]', shortfall TEXT NOT NULL DEFAULT '[]')""",
        "CREATE INDEX IF NOT EXISTS transfers_to_site ON transfers (to_site, status)",
        # The transfers list, a page at a time (inventory.projections.paging): by status, from or to a site.
        "CREATE INDEX IF NOT EXISTS transfers_page ON transfers (status, dispatched_at, id)",
        "CREATE INDEX IF NOT EXISTS transfers_from_page ON transfers (from_site, status, dispatched_at, id)",
        "CREATE INDEX IF NOT EXISTS transfers_to_page ON transfers (to_site, status, dispatched_at, id)",
        """CREATE TABLE IF NOT EXISTS purchase_orders (
            id TEXT PRIMARY KEY, number TEXT NOT NULL, supplier TEXT NOT NULL, site TEXT NOT NULL,
            funding_source TEXT NOT NULL, status TEXT NOT NULL, raised_at TEXT NOT NULL,
            raised_by TEXT NOT NULL, updated_at TEXT NOT NULL, lines TEXT NOT NULL)""",
        # The purchase orders list, a page at a time: by status, at a site; and found by number.
        "CREATE INDEX IF NOT EXISTS purchase_orders_page ON purchase_orders (status, raised_at, id)",
        "CREATE INDEX IF NOT EXISTS purchase_orders_site_page ON purchase_orders (site, status, raised_at, id)",
        "CREATE INDEX IF NOT EXISTS purchase_orders_number ON purchase_orders (status, number, id)",
        "CREATE INDEX IF NOT EXISTS purchase_orders_site_number ON purchase_orders (site, status, number, id)",
    )

    def process(self, batch: Sequence[Recorded], tx: Tx) -> None:
        lots: dict[LotKey, list[Any]] = {}
        pipeline: dict[tuple[str, str], list[int]] = defaultdict(lambda: [0, 0])

        def add(site: str, sku: str, row: dict[str, Any], quantity: int) -> None:
            entry = lots.get((site, sku, row["lot"]))
            if entry is None:
                lots[(site, sku, row["lot"])] = [iso(row["expires_on"]), row["funding_source"], quantity]
            else:
                entry[2] += quantity

        for recorded in batch:
            event = recorded.event
            kind = type(event)
            if (
                kind is StockLedger.Distributed
                or kind is StockLedger.Dispatched
                or kind is StockLedger.HandedOutOnShift
                or kind is StockLedger.IssuedToPartner
                or kind is StockLedger.Mailed
                or kind is StockLedger.UsedInKits
                or kind is StockLedger.KitsTakenApart
            ):
                for pick in event.picks:
                    add(event.site, event.sku, pick, -pick["quantity"])
            elif kind is StockLedger.Received:
                add(event.site, event.sku, vars(event), event.quantity)
            elif (
                kind is StockLedger.Arrived
                or kind is StockLedger.Returned
                or kind is StockLedger.MailReturned
                or kind is StockLedger.BackFromKits
                or kind is StockLedger.KitsAssembled
            ):
                for row in event.lots:
                    add(event.site, event.sku, row, row["quantity"])
            elif kind is StockLedger.Adjusted:
                add(event.site, event.sku, vars(event), event.quantity)
            elif kind is StockLedger.Counted:
                add(event.site, event.sku, vars(event), event.variance)
            elif kind is StockLedger.CountRestated:
                add(event.site, event.sku, vars(event), event.after - event.before)
            elif kind is StockLedger.EntryVoided:
                for row in event.lots:
                    add(event.site, event.sku, row, row["quantity"])
            elif kind is StockLedger.EntryCorrected:
                add(event.site, event.sku, vars(event), event.quantity)
            elif kind is StockLedger.WrittenOff:
                add(event.site, event.sku, vars(event), -event.quantity)
            elif kind is StockLedger.LotHeld:
                tx.execute(
                    """INSERT INTO lot_holds (site, sku, lot, reason, recall, held_at, held_by)
                       VALUES (?, ?, ?, ?, ?, ?, ?)""",
                    (event.site, event.sku, event.lot, event.reason, event.recall, iso(event.occurred_at), event.actor),
                )
            elif kind is StockLedger.LotReleased:
                tx.execute(
                    "DELETE FROM lot_holds WHERE site = ? AND sku = ? AND lot = ?", (event.site, event.sku, event.lot)
                )
            else:
                handler = _PIPELINE.get(kind)
                if handler is not None:
                    handler(event, tx, pipeline)

        tx.executemany(
            """INSERT INTO stock_on_hand (site, sku, lot, expires_on, funding_source, quantity)
               VALUES (?, ?, ?, ?, ?, ?)
               ON CONFLICT (site, sku, lot) DO UPDATE SET quantity = stock_on_hand.quantity + excluded.quantity""",
            [(site, sku, lot, expiry, funding, qty) for (site, sku, lot), (expiry, funding, qty) in lots.items()],
        )
        # Empty lots leave the table, so it holds what is on the shelves, not all history.
        tx.executemany("DELETE FROM stock_on_hand WHERE site = ? AND sku = ? AND lot = ? AND quantity = 0", list(lots))
        tx.executemany(
            """INSERT INTO stock_pipeline (site, sku, on_order, in_transit) VALUES (?, ?, ?, ?)
               ON CONFLICT (site, sku) DO UPDATE SET on_order = stock_pipeline.on_order + excluded.on_order,
                   in_transit = stock_pipeline.in_transit + excluded.in_transit""",
            [(site, sku, order, transit) for (site, sku), (order, transit) in pipeline.items() if order or transit],
        )
        # Nothing on order or in transit: no row, however the log was cut into batches (a dispatch and
        # its arrival in one batch add nothing; in two they meet at zero), so a rebuild matches.
        tx.executemany(
            "DELETE FROM stock_pipeline WHERE site = ? AND sku = ? AND on_order = 0 AND in_transit = 0",
            list(pipeline),
        )


Pipeline = dict[tuple[str, str], list[int]]


def _dispatched(event: Any, tx: Tx, pipeline: Pipeline) -> None:
    tx.execute(
        """INSERT INTO transfers (id, from_site, to_site, status, dispatched_at, dispatched_by, lines)
           VALUES (?, ?, ?, 'in_transit', ?, ?, ?)""",
        (
            str(event.originator_id),
            event.from_site,
            event.to_site,
            iso(event.occurred_at),
            event.actor,
            to_json(event.lines),
        ),
    )
    for line in event.lines:
        pipeline[(event.to_site, line["sku"])][1] += line["quantity"]


def _transfer_closed(status: str) -> Callable[[Any, Tx, Pipeline], None]:
    def handler(event: Any, tx: Tx, pipeline: Pipeline) -> None:
        [(to_site, lines)] = tx.fetchall(
            "SELECT to_site, lines FROM transfers WHERE id = ?", (str(event.originator_id),)
        )
        for line in json.loads(lines):
            pipeline[(to_site, line["sku"])][1] -= line["quantity"]
        received = to_json(getattr(event, "received", []))
        shortfall = to_json(getattr(event, "shortfall", []))
        tx.execute(
            "UPDATE transfers SET status = ?, closed_at = ?, received = ?, shortfall = ? WHERE id = ?",
            (status, iso(event.occurred_at), received, shortfall, str(event.originator_id)),
        )

    return handler


def _transfer_voided(event: Any, tx: Tx, pipeline: Pipeline) -> None:
    """Entered by mistake: if it was still on its way, it is no longer in transit to the receiver (the
    stock itself moves back with the ledgers' EntryVoided)."""
    [(to_site, status, lines)] = tx.fetchall(
        "SELECT to_site, status, lines FROM transfers WHERE id = ?", (str(event.originator_id),)
    )
    if status == "in_transit":
        for line in json.loads(lines):
            pipeline[(to_site, line["sku"])][1] -= line["quantity"]
    tx.execute(
        "UPDATE transfers SET status = 'voided', closed_at = ? WHERE id = ?",
        (iso(event.occurred_at), str(event.originator_id)),
    )


def _order_raised(event: Any, tx: Tx, pipeline: Pipeline) -> None:
    lines = [dict(line, received=0) for line in event.lines]
    tx.execute(
        """INSERT INTO purchase_orders
           (id, number, supplier, site, funding_source, status, raised_at, raised_by, updated_at, lines)
           VALUES (?, ?, ?, ?, ?, 'draft', ?, ?, ?, ?)""",
        (
            str(event.originator_id),
            event.number,
            event.supplier,
            event.site,
            event.funding_source,
            iso(event.occurred_at),
            event.actor,
            iso(event.occurred_at),
            to_json(lines),
        ),
    )


def _order_changed(event: Any, tx: Tx, pipeline: Pipeline) -> None:
    """Submitted puts the order's quantities on order; receipts take them off; closing clears the rest."""
    [(site, status, raw)] = tx.fetchall(
        "SELECT site, status, lines FROM purchase_orders WHERE id = ?", (str(event.originator_id),)
    )
    lines = json.loads(raw)
    was_on_order = status in ("submitted", "partly_received")
    kind = type(event)
    if kind is PurchaseOrder.Submitted:
        status = "submitted"
        for line in lines:
            pipeline[(site, line["sku"])][0] += line["quantity"] - line["received"]
    elif kind is PurchaseOrder.ReceiptRecorded:
        for received in event.lines:
            line = next(line for line in lines if line["sku"] == received["sku"])
            outstanding = max(line["quantity"] - line["received"], 0)
            pipeline[(site, line["sku"])][0] -= min(received["quantity"], outstanding)
            line["received"] += received["quantity"]
        done = all(line["received"] >= line["quantity"] for line in lines)
        status = "received" if done else "partly_received"
    else:
        if was_on_order:
            for line in lines:
                pipeline[(site, line["sku"])][0] -= max(line["quantity"] - line["received"], 0)
        status = "cancelled" if kind is PurchaseOrder.Cancelled else "closed"
    tx.execute(
        "UPDATE purchase_orders SET status = ?, lines = ?, updated_at = ? WHERE id = ?",
        (status, to_json(lines), iso(event.occurred_at), str(event.originator_id)),
    )


_PIPELINE: dict[type, Callable[[Any, Tx, Pipeline], None]] = {
    Transfer.Dispatched: _dispatched,
    Transfer.Received: _transfer_closed("received"),
    Transfer.Cancelled: _transfer_closed("cancelled"),
    Transfer.Voided: _transfer_voided,
    PurchaseOrder.Raised: _order_raised,
    PurchaseOrder.Submitted: _order_changed,
    PurchaseOrder.ReceiptRecorded: _order_changed,
    PurchaseOrder.Cancelled: _order_changed,
    PurchaseOrder.Closed: _order_changed,
}
