"""Purchase orders as the stock-on-hand read model holds them."""

from __future__ import annotations

import json
from typing import Any

from inventory.projections.store import ReadStore

# Orders stock can still be received against.
OPEN = ("submitted", "partly_received")


def open_purchase_orders(store: ReadStore, site: str) -> list[dict[str, Any]]:
    """Orders for `site` still awaiting stock, oldest first, each line with what is outstanding."""
    rows = store.fetchall(
        """SELECT id, number, supplier, funding_source, status, raised_at, lines FROM purchase_orders
           WHERE site = ? AND status IN (?, ?) ORDER BY raised_at, number""",
        (site, *OPEN),
    )
    orders = []
    for the_id, number, supplier, funding, status, raised_at, raw in rows:
        lines = [
            dict(line, outstanding=max(int(line["quantity"]) - int(line["received"]), 0)) for line in json.loads(raw)
        ]
        orders.append(
            {
                "id": the_id,
                "number": number,
                "supplier": supplier,
                "funding_source": funding,
                "status": status,
                "raised_at": raised_at,
                "lines": lines,
            }
        )
    return orders


# Orders still in play (a draft may yet be submitted), and those that are finished.
UNFINISHED = ("draft", "submitted", "partly_received")
FINISHED = ("received", "closed", "cancelled")


def _order(row: tuple[Any, ...]) -> dict[str, Any]:
    the_id, number, supplier, site, funding, status, raised_at, raised_by, updated_at, raw = row
    lines = [dict(line, outstanding=max(int(line["quantity"]) - int(line["received"]), 0)) for line in json.loads(raw)]
    return {
        "id": the_id,
        "number": number,
        "supplier": supplier,
        "site": site,
        "funding_source": funding,
        "status": status,
        "raised_at": raised_at,
        "raised_by": raised_by,
        "updated_at": updated_at,
        "lines": lines,
    }


_COLUMNS = "id, number, supplier, site, funding_source, status, raised_at, raised_by, updated_at, lines"


def purchase_orders(store: ReadStore, statuses: tuple[str, ...], limit: int | None = None) -> list[dict[str, Any]]:
    """Orders in `statuses` at every site, most recently changed first (at most `limit`)."""
    marks = ", ".join("?" for _ in statuses)
    tail = " LIMIT ?" if limit is not None else ""
    params: list[Any] = [*statuses, *([limit] if limit is not None else [])]
    rows = store.fetchall(
        f"SELECT {_COLUMNS} FROM purchase_orders WHERE status IN ({marks}) ORDER BY updated_at DESC, number{tail}",
        params,
    )
    return [_order(row) for row in rows]


def purchase_order_row(store: ReadStore, order_id: str) -> dict[str, Any] | None:
    """One order as the read model holds it (None if it has not been seen)."""
    rows = store.fetchall(f"SELECT {_COLUMNS} FROM purchase_orders WHERE id = ?", (order_id,))
    return _order(rows[0]) if rows else None
