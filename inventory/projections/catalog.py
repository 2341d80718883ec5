"""The catalog: items, sites with their stock levels, funding sources with their rules."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from inventory.domain import FundingSource, Item, Site
from inventory.projections.base import Projection, Recorded, to_json
from inventory.projections.store import Tx


class Catalog(Projection):
    name = "catalog"
    tables = ("items", "sites", "stock_levels", "funding_sources")
    ddl = (
        """CREATE TABLE IF NOT EXISTS items (
            id TEXT NOT NULL, sku TEXT PRIMARY KEY, name TEXT NOT NULL, category TEXT NOT NULL,
            unit TEXT NOT NULL, tracks_expiry INTEGER NOT NULL, pack_size INTEGER NOT NULL,
            retired INTEGER NOT NULL DEFAULT 0)""",
        """CREATE TABLE IF NOT EXISTS sites (
            id TEXT NOT NULL, code TEXT PRIMARY KEY, name TEXT NOT NULL, kind TEXT NOT NULL,
            is_open INTEGER NOT NULL DEFAULT 1)""",
        """CREATE TABLE IF NOT EXISTS stock_levels (
            site TEXT NOT NULL, sku TEXT NOT NULL, reorder_point BIGINT NOT NULL, par_level BIGINT NOT NULL,
            lead_time_days INTEGER NOT NULL, PRIMARY KEY (site, sku))""",
        """CREATE TABLE IF NOT EXISTS funding_sources (
            id TEXT NOT NULL, code TEXT PRIMARY KEY, name TEXT NOT NULL, federal INTEGER NOT NULL,
            restrictions TEXT NOT NULL)""",
    )

    def process(self, batch: Sequence[Recorded], tx: Tx) -> None:
        for recorded in batch:
            event = recorded.event
            handler = _HANDLERS.get(type(event))
            if handler is not None:
                handler(event, tx)


def _item_registered(event: Any, tx: Tx) -> None:
    tx.execute(
        "INSERT INTO items (id, sku, name, category, unit, tracks_expiry, pack_size) VALUES (?, ?, ?, ?, ?, ?, ?)",
        (
            str(event.originator_id),
            event.sku,
            event.name,
            event.category,
            event.unit,
            int(event.tracks_expiry),
            event.pack_size,
        ),
    )


def _item_retired(event: Any, tx: Tx) -> None:
    tx.execute("UPDATE items SET retired = 1 WHERE id = ?", (str(event.originator_id),))


def _site_registered(event: Any, tx: Tx) -> None:
    tx.execute(
        "INSERT INTO sites (id, code, name, kind) VALUES (?, ?, ?, ?)",
        (str(event.originator_id), event.code, event.name, event.kind),
    )


def _site_open(is_open: int) -> Callable[[Any, Tx], None]:
    def handler(event: Any, tx: Tx) -> None:
        tx.execute("UPDATE sites SET is_open = ? WHERE id = ?", (is_open, str(event.originator_id)))

    return handler


def _level_set(event: Any, tx: Tx) -> None:
    tx.execute(
        """INSERT INTO stock_levels (site, sku, reorder_point, par_level, lead_time_days)
           SELECT code, ?, ?, ?, ? FROM sites WHERE id = ?
           ON CONFLICT (site, sku) DO UPDATE SET reorder_point = excluded.reorder_point,
               par_level = excluded.par_level, lead_time_days = excluded.lead_time_days""",
        (event.sku, event.reorder_point, event.par_level, event.lead_time_days, str(event.originator_id)),
    )


def _rules(restrictions: list[object]) -> str:
    return to_json([vars(rule) for rule in restrictions])


def _funding_registered(event: Any, tx: Tx) -> None:
    tx.execute(
        "INSERT INTO funding_sources (id, code, name, federal, restrictions) VALUES (?, ?, ?, ?, ?)",
        (str(event.originator_id), event.code, event.name, int(event.federal), _rules(event.restrictions)),
    )


def _restrictions_changed(event: Any, tx: Tx) -> None:
    tx.execute(
        "UPDATE funding_sources SET restrictions = ? WHERE id = ?",
        (_rules(event.restrictions), str(event.originator_id)),
    )


_HANDLERS: dict[type, Callable[[Any, Tx], None]] = {
    Item.Registered: _item_registered,
    Item.Retired: _item_retired,
    Site.Registered: _site_registered,
    Site.Closed: _site_open(0),
    Site.Reopened: _site_open(1),
    Site.StockLevelSet: _level_set,
    FundingSource.Registered: _funding_registered,
    FundingSource.RestrictionsChanged: _restrictions_changed,
}
