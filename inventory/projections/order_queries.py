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
