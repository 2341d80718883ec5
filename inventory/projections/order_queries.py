"""Purchase orders as the stock-on-hand read model holds them."""

from __future__ import annotations

import json
from collections.abc import Collection
from decimal import Decimal
from typing import Any

from inventory.projections.paging import PAGE_ROWS, Page, Part, between, keyset_page
from inventory.projections.store import ReadStore

# Orders stock can still be received against.
OPEN = ("submitted", "partly_received")


# Orders still in play (a draft may yet be submitted), and those that are finished.
UNFINISHED = ("draft", "submitted", "partly_received")
FINISHED = ("received", "closed", "cancelled")


_NAMES = (
    "id",
    "number",
    "supplier",
    "site",
    "funding_source",
    "status",
    "raised_at",
    "raised_by",
    "updated_at",
    "lines",
)
_COLUMNS = ", ".join(_NAMES)


def _order(row: tuple[Any, ...]) -> dict[str, Any]:
    return _decoded(dict(zip(_NAMES, row, strict=True)))


def _decoded(order: dict[str, Any]) -> dict[str, Any]:
    """An order's lines from their JSON, each with what is still outstanding."""
    lines = json.loads(order["lines"])
    return dict(
        order, lines=[dict(line, outstanding=max(int(line["quantity"]) - int(line["received"]), 0)) for line in lines]
    )


def open_purchase_orders(store: ReadStore, site: str) -> list[dict[str, Any]]:
    """Orders for `site` still awaiting stock, oldest first, each line with what is outstanding."""
    rows = store.fetchall(
        f"""SELECT {_COLUMNS} FROM purchase_orders WHERE site = ? AND status IN (?, ?)
            ORDER BY raised_at, number""",
        (site, *OPEN),
    )
    return [_order(row) for row in rows]


def purchase_order_row(store: ReadStore, order_id: str) -> dict[str, Any] | None:
    """One order as the read model holds it (None if it has not been seen)."""
    rows = store.fetchall(f"SELECT {_COLUMNS} FROM purchase_orders WHERE id = ?", (order_id,))
    return _order(rows[0]) if rows else None


def order_page(
    store: ReadStore,
    *,
    statuses: tuple[str, ...],
    sites: Collection[str] | None,
    number: str | None = None,
    raised_from: str | None = None,
    raised_before: str | None = None,
    newest_first: bool = True,
    after: str | None = None,
    limit: int = PAGE_ROWS,
) -> Page:
    """A page of orders in `statuses` at `sites` (None: every site), by when they were raised; or, given an
    order `number` (or its start), by number. `raised_from` and `raised_before` are UTC moments."""
    key = ("number", "id") if number else ("raised_at", "id")
    if sites is None:
        parts = [Part("status = ?", (status,)) for status in statuses]
    else:
        parts = [Part("site = ? AND status = ?", (site, status)) for site in sorted(sites) for status in statuses]
    where, params = between("raised_at", raised_from, raised_before)
    if number:
        where += " AND number >= ? AND number < ?"
        params += [number, number[:-1] + chr(ord(number[-1]) + 1)]  # every number that starts so
    found = keyset_page(
        store,
        select=f"SELECT {_COLUMNS} FROM purchase_orders",
        columns=_NAMES,
        key=key,
        parts=parts,
        where=where,
        params=params,
        newest_first=newest_first,
        after=after,
        limit=limit,
    )
    return Page([_decoded(row) for row in found.rows], found.next)


def priced(order: dict[str, Any]) -> dict[str, Any]:
    """An order's lines each with its total (quantity times unit cost, None without a price), the total of the
    priced lines, and how many lines have no price yet."""
    lines, total, unpriced = [], Decimal(0), 0
    for line in order["lines"]:
        cost = line.get("unit_cost")
        amount = Decimal(str(cost)) * int(line["quantity"]) if cost not in (None, "") else None
        if amount is None:
            unpriced += 1
        else:
            total += amount
        lines.append(dict(line, total=amount))
    return {"lines": lines, "total": total, "unpriced": unpriced}
