"""Transfers as the stock-on-hand read model holds them: in transit, and recently closed."""

from __future__ import annotations

import json
from collections.abc import Collection
from typing import Any

from inventory.projections.paging import PAGE_ROWS, Page, Part, between, keyset_page
from inventory.projections.store import ReadStore, Row

_COLUMNS = (
    "id",
    "from_site",
    "to_site",
    "status",
    "dispatched_at",
    "dispatched_by",
    "closed_at",
    "lines",
    "received",
    "shortfall",
)
_SELECT = f"SELECT {', '.join(_COLUMNS)} FROM transfers"


def _row(row: Row) -> dict[str, Any]:
    return _decoded(dict(zip(_COLUMNS, row, strict=True)))


def _decoded(found: dict[str, Any]) -> dict[str, Any]:
    for key in ("lines", "received", "shortfall"):
        found[key] = json.loads(found[key] or "[]")
    found["units"] = sum(int(line["quantity"]) for line in found["lines"])
    return found


def _involving(sites: Collection[str] | None) -> tuple[str, list[Any]]:
    """A WHERE clause for transfers from or to any of `sites` (None: every site)."""
    if sites is None:
        return "1 = 1", []
    codes = sorted(sites)
    if not codes:
        return "1 = 0", []
    marks = ", ".join("?" for _ in codes)
    return f"(from_site IN ({marks}) OR to_site IN ({marks}))", [*codes, *codes]


def transfers_in_transit(store: ReadStore, sites: Collection[str] | None = None) -> list[dict[str, Any]]:
    """Every transfer still on its way from or to one of `sites`, oldest first (they wait longest)."""
    where, params = _involving(sites)
    rows = store.fetchall(f"{_SELECT} WHERE status = 'in_transit' AND {where} ORDER BY dispatched_at, id", params)
    return [_row(row) for row in rows]


def recent_transfers(store: ReadStore, sites: Collection[str] | None = None, limit: int = 20) -> list[dict[str, Any]]:
    """The latest received or cancelled transfers from or to one of `sites`, newest first."""
    where, params = _involving(sites)
    rows = store.fetchall(
        f"{_SELECT} WHERE status <> 'in_transit' AND {where} ORDER BY closed_at DESC, id LIMIT ?", [*params, limit]
    )
    return [_row(row) for row in rows]


def transfer(store: ReadStore, transfer_id: str) -> dict[str, Any] | None:
    """One transfer by id, or None when the read model has no such transfer."""
    rows = store.fetchall(f"{_SELECT} WHERE id = ?", (transfer_id,))
    return _row(rows[0]) if rows else None


STATUSES = ("in_transit", "received", "cancelled", "voided")


def transfer_page(
    store: ReadStore,
    *,
    sites: Collection[str] | None,
    statuses: tuple[str, ...] = STATUSES,
    sent_from: str | None = None,
    sent_before: str | None = None,
    newest_first: bool = True,
    after: str | None = None,
    limit: int = PAGE_ROWS,
) -> Page:
    """A page of transfers from or to any of `sites` (None: every site) in `statuses`, by when they were
    sent; `sent_from` and `sent_before` are UTC moments."""
    if sites is None:
        parts = [Part("status = ?", (status,)) for status in statuses]
    else:
        parts = [
            Part(f"{end} = ? AND status = ?", (site, status))
            for site in sorted(sites)
            for end in ("from_site", "to_site")
            for status in statuses
        ]
    where, params = between("dispatched_at", sent_from, sent_before)
    found = keyset_page(
        store,
        select=_SELECT,
        columns=_COLUMNS,
        key=("dispatched_at", "id"),
        parts=parts,
        where=where,
        params=params,
        newest_first=newest_first,
        after=after,
        limit=limit,
    )
    return Page([_decoded(row) for row in found.rows], found.next)
