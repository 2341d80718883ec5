"""The stock card: every movement, by business date, and each day's net change per lot.

A void, a correction and a restated count land on the date of the entry (or count) they change,
as the movement kind of that entry, so each day's columns say what really happened that day.

Stock at the end of any date is one query over `stock_daily` (a row per site, item, lot and day
with movement, carrying the lot's funding source and expiry), and a movement entered late with an
earlier `occurred_at` simply lands on its own date: running balances are summed when read, so
nothing after it needs rewriting.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from typing import Any

from inventory.domain import StockLedger
from inventory.projections.base import Projection, Recorded, iso
from inventory.projections.store import Tx

# Columns of stock_daily that a movement kind adds to.
KINDS = (
    "received",
    "distributed",
    "transfer_out",
    "transfer_in",
    "returned",
    "adjusted",
    "counted",
    "to_partner",
    "mailed",
)
_COLUMN = {kind: index for index, kind in enumerate(KINDS)}
# Movement kinds kept in another kind's daily column (the daily rows serve balances, which need only the
# net): held stock written off, parts put into kits (or back) and kits assembled (or taken apart).
_DAILY = {"written_off": "adjusted", "into_kits": "adjusted", "assembled": "adjusted"}


class StockCard(Projection):
    name = "stock_card"
    version = 3  # 2: a receipt's unit cost; 3: issues to partners and mail orders
    tables = ("stock_movements", "stock_daily")
    ddl = (
        """CREATE TABLE IF NOT EXISTS stock_movements (
            position BIGINT NOT NULL, seq INTEGER NOT NULL, site TEXT NOT NULL, sku TEXT NOT NULL,
            lot TEXT NOT NULL, funding_source TEXT, expires_on TEXT, business_date TEXT NOT NULL,
            occurred_at TEXT NOT NULL, recorded_at TEXT NOT NULL, kind TEXT NOT NULL, quantity BIGINT NOT NULL,
            reason TEXT, reference TEXT, other_site TEXT, actor TEXT NOT NULL, unit_cost TEXT,
            PRIMARY KEY (position, seq))""",
        """CREATE INDEX IF NOT EXISTS stock_movements_card
            ON stock_movements (site, sku, business_date, occurred_at, position)""",
        "CREATE INDEX IF NOT EXISTS stock_movements_date ON stock_movements (business_date)",
        # Every movement of one lot, at every site (a recall, a trace forward from a receipt).
        "CREATE INDEX IF NOT EXISTS stock_movements_lot ON stock_movements (sku, lot, position)",
        """CREATE TABLE IF NOT EXISTS stock_daily (
            site TEXT NOT NULL, sku TEXT NOT NULL, lot TEXT NOT NULL, business_date TEXT NOT NULL,
            funding_source TEXT, expires_on TEXT,
            received BIGINT NOT NULL DEFAULT 0, distributed BIGINT NOT NULL DEFAULT 0,
            transfer_out BIGINT NOT NULL DEFAULT 0, transfer_in BIGINT NOT NULL DEFAULT 0,
            returned BIGINT NOT NULL DEFAULT 0, adjusted BIGINT NOT NULL DEFAULT 0,
            counted BIGINT NOT NULL DEFAULT 0, to_partner BIGINT NOT NULL DEFAULT 0,
            mailed BIGINT NOT NULL DEFAULT 0, net BIGINT NOT NULL DEFAULT 0,
            PRIMARY KEY (site, sku, lot, business_date))""",
        "CREATE INDEX IF NOT EXISTS stock_daily_date ON stock_daily (business_date)",
        # The balance before a day (the stock card's pages): a sum read from this index alone.
        "CREATE INDEX IF NOT EXISTS stock_daily_balance ON stock_daily (site, sku, business_date, net)",
    )

    def process(self, batch: Sequence[Recorded], tx: Tx) -> None:
        rows: list[tuple[Any, ...]] = []
        daily: dict[tuple[str, str, str, str, str | None, str | None], list[int]] = defaultdict(
            lambda: [0] * (len(KINDS) + 1)
        )
        for recorded in batch:
            event = recorded.event
            movements = _movements(event)
            if not movements:
                continue
            day, occurred, logged = recorded.day, recorded.occurred_at, recorded.recorded_at
            cost = getattr(event, "unit_cost", None) if type(event) is StockLedger.Received else None
            unit_cost = None if cost is None else str(cost)
            for seq, (kind, row, quantity, reason, reference, other) in enumerate(movements):
                expires = iso(row["expires_on"])
                rows.append(
                    (
                        recorded.position,
                        seq,
                        event.site,
                        event.sku,
                        row["lot"],
                        row["funding_source"],
                        expires,
                        day,
                        occurred,
                        logged,
                        kind,
                        quantity,
                        reason,
                        reference,
                        other,
                        event.actor,
                        unit_cost,
                    )
                )
                totals = daily[(event.site, event.sku, row["lot"], day, row["funding_source"], expires)]
                totals[_COLUMN[_DAILY.get(kind, kind)]] += quantity
                totals[-1] += quantity
        tx.executemany(
            """INSERT INTO stock_movements (position, seq, site, sku, lot, funding_source, expires_on,
               business_date, occurred_at, recorded_at, kind, quantity, reason, reference, other_site, actor,
               unit_cost) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)""",
            rows,
        )
        updates = ", ".join(f"{column} = stock_daily.{column} + excluded.{column}" for column in (*KINDS, "net"))
        tx.executemany(
            f"""INSERT INTO stock_daily (site, sku, lot, business_date, funding_source, expires_on,
                    {", ".join(KINDS)}, net)
                VALUES (?, ?, ?, ?, ?, ?, {", ".join("?" for _ in KINDS)}, ?)
                ON CONFLICT (site, sku, lot, business_date) DO UPDATE SET {updates}""",
            [(*key, *totals) for key, totals in daily.items()],
        )


Movement = tuple[str, dict[str, Any], int, str | None, str | None, str | None]


def _movements(event: Any) -> list[Movement]:
    """(kind, lot row, signed quantity, reason, reference, other site) for each lot a ledger event moves."""
    kind = type(event)
    if kind is StockLedger.Distributed:
        return [("distributed", p, -p["quantity"], None, str(event.encounter_id), None) for p in event.picks]
    if kind is StockLedger.HandedOutOnShift:
        return [("distributed", p, -p["quantity"], "shift tally", str(event.tally_id), None) for p in event.picks]
    if kind is StockLedger.IssuedToPartner:
        return [("to_partner", p, -p["quantity"], None, str(event.issue_id), event.partner) for p in event.picks]
    if kind is StockLedger.Mailed:
        return [("mailed", p, -p["quantity"], None, str(event.mail_order_id), None) for p in event.picks]
    if kind is StockLedger.MailReturned:
        return [("mailed", r, r["quantity"], "parcel returned", str(event.mail_order_id), None) for r in event.lots]
    if kind is StockLedger.Received:
        reference = event.purchase_order or event.reference
        return [("received", vars(event), event.quantity, None, reference, None)]
    if kind is StockLedger.Dispatched:
        return [("transfer_out", p, -p["quantity"], None, str(event.transfer_id), event.to_site) for p in event.picks]
    if kind is StockLedger.Arrived:
        return [("transfer_in", r, r["quantity"], None, str(event.transfer_id), event.from_site) for r in event.lots]
    if kind is StockLedger.Returned:
        return [
            ("returned", r, r["quantity"], "transfer cancelled", str(event.transfer_id), event.to_site)
            for r in event.lots
        ]
    if kind is StockLedger.Adjusted:
        return [("adjusted", vars(event), event.quantity, event.reason, None, None)]
    if kind is StockLedger.UsedInKits:
        return [("into_kits", p, -p["quantity"], None, str(event.assembly_id), event.kit_sku) for p in event.picks]
    if kind is StockLedger.BackFromKits:
        return [("into_kits", r, r["quantity"], "taken apart", None, event.kit_sku) for r in event.lots]
    if kind is StockLedger.KitsAssembled:
        return [("assembled", r, r["quantity"], None, str(event.assembly_id), None) for r in event.lots]
    if kind is StockLedger.KitsTakenApart:
        return [("assembled", p, -p["quantity"], "taken apart", None, None) for p in event.picks]
    if kind is StockLedger.WrittenOff:
        return [("written_off", vars(event), -event.quantity, event.disposition, event.recall, None)]
    if kind is StockLedger.Counted:
        return [("counted", vars(event), event.variance, "count_variance", None, None)]
    if kind is StockLedger.CountRestated:
        change = f"{event.before:+d} to {event.after:+d}"
        return [("counted", vars(event), event.after - event.before, "count_restated", change, None)]
    if kind is StockLedger.EntryVoided:
        return [(event.kind, r, r["quantity"], f"void:{event.reason}", event.source or None, None) for r in event.lots]
    if kind is StockLedger.EntryCorrected:
        change = f"{event.was} to {event.now}"
        return [(event.kind, vars(event), event.quantity, f"corrected:{event.reason}", change, None)]
    return []
