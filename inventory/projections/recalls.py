"""Recalls, the makers' lots behind the program's lots, and what kit lots were made from.

`lot_makers` says, for each of the program's lots, which maker's lot number its receipts recorded (a
recall names the maker's lot; the program's lots under it are found here). `recalls` holds each recall
with the program's lots it covers; `kit_parts` what each kit lot was made from (so a recall holds the kits
made with a recalled part). Where the stock of a lot is now, and every movement it took, are in
`stock_on_hand`, `lot_holds` and `stock_movements` (inventory.projections.recall_queries reads them).
"""

from __future__ import annotations

import json
from collections.abc import Sequence

from inventory.domain import Recall, StockLedger
from inventory.domain.recalls import recall_key
from inventory.projections.base import Projection, Recorded, iso, to_json
from inventory.projections.store import Tx


class Recalls(Projection):
    name = "recalls"
    version = 1
    tables = ("lot_makers", "recalls", "kit_parts")
    ddl = (
        """CREATE TABLE IF NOT EXISTS lot_makers (
            maker_key TEXT NOT NULL, sku TEXT NOT NULL, lot TEXT NOT NULL, manufacturer TEXT NOT NULL,
            manufacturer_lot TEXT NOT NULL, received BIGINT NOT NULL, first_received_at TEXT NOT NULL,
            PRIMARY KEY (maker_key, sku, lot))""",
        "CREATE INDEX IF NOT EXISTS lot_makers_lot ON lot_makers (sku, lot)",
        """CREATE TABLE IF NOT EXISTS recalls (
            id TEXT PRIMARY KEY, manufacturer TEXT NOT NULL, manufacturer_lot TEXT NOT NULL, notice TEXT NOT NULL,
            lots TEXT NOT NULL, announced_at TEXT NOT NULL, announced_by TEXT NOT NULL, closed_at TEXT)""",
        "CREATE INDEX IF NOT EXISTS recalls_announced ON recalls (announced_at)",
        # What each kit lot was made from (a recall of a part holds the kits made with it).
        """CREATE TABLE IF NOT EXISTS kit_parts (
            site TEXT NOT NULL, kit_sku TEXT NOT NULL, kit_lot TEXT NOT NULL, sku TEXT NOT NULL, lot TEXT NOT NULL,
            per_kit INTEGER NOT NULL, PRIMARY KEY (site, kit_sku, kit_lot, sku, lot))""",
        "CREATE INDEX IF NOT EXISTS kit_parts_part ON kit_parts (sku, lot)",
    )

    def process(self, batch: Sequence[Recorded], tx: Tx) -> None:
        for recorded in batch:
            event = recorded.event
            kind = type(event)
            if kind is StockLedger.Received and event.manufacturer_lot:
                tx.execute(
                    """INSERT INTO lot_makers
                       (maker_key, sku, lot, manufacturer, manufacturer_lot, received, first_received_at)
                       VALUES (?, ?, ?, ?, ?, ?, ?)
                       ON CONFLICT (maker_key, sku, lot)
                       DO UPDATE SET received = lot_makers.received + excluded.received""",
                    (
                        recall_key(event.manufacturer, event.manufacturer_lot),
                        event.sku,
                        event.lot,
                        event.manufacturer,
                        event.manufacturer_lot,
                        event.quantity,
                        iso(event.occurred_at),
                    ),
                )
            elif kind is StockLedger.KitsAssembled:
                tx.executemany(
                    "INSERT INTO kit_parts (site, kit_sku, kit_lot, sku, lot, per_kit) VALUES (?, ?, ?, ?, ?, ?)",
                    [
                        (event.site, event.sku, row["lot"], part["sku"], part["lot"], part["quantity"])
                        for row in event.lots
                        for part in row["components"]
                    ],
                )
            elif kind is Recall.Announced:
                tx.execute(
                    """INSERT INTO recalls
                       (id, manufacturer, manufacturer_lot, notice, lots, announced_at, announced_by)
                       VALUES (?, ?, ?, ?, ?, ?, ?)""",
                    (
                        str(event.originator_id),
                        event.manufacturer,
                        event.manufacturer_lot,
                        event.notice,
                        to_json(event.lots),
                        iso(event.occurred_at),
                        event.actor,
                    ),
                )
            elif kind is Recall.LotCovered:
                [(lots,)] = tx.fetchall("SELECT lots FROM recalls WHERE id = ?", (str(event.originator_id),))
                covered = [*json.loads(lots), {"sku": event.sku, "lot": event.lot}]
                tx.execute("UPDATE recalls SET lots = ? WHERE id = ?", (to_json(covered), str(event.originator_id)))
            elif kind is Recall.Closed:
                tx.execute(
                    "UPDATE recalls SET closed_at = ? WHERE id = ?", (iso(event.occurred_at), str(event.originator_id))
                )
