"""The catalog: items, sites with their stock levels, funding sources with their rules, the recipient types
an admin added, and the partner organisations the program supplies (with their reports back)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from inventory.domain import FundingSource, Item, Partner, RecipientType, Site
from inventory.domain.packs import packs_from, registered_packs
from inventory.projections.base import Projection, Recorded, to_json
from inventory.projections.store import Tx


class Catalog(Projection):
    name = "catalog"
    version = 3  # 2: recipient types, partners and their reports back; 3: items' packs and doses per unit
    tables = ("items", "sites", "stock_levels", "funding_sources", "recipient_types", "partners", "partner_reports")
    ddl = (
        """CREATE TABLE IF NOT EXISTS items (
            id TEXT NOT NULL, sku TEXT PRIMARY KEY, name TEXT NOT NULL, category TEXT NOT NULL,
            unit TEXT NOT NULL, tracks_expiry INTEGER NOT NULL, pack_size INTEGER NOT NULL,
            retired INTEGER NOT NULL DEFAULT 0, packs TEXT NOT NULL DEFAULT '[]', doses_per_unit INTEGER)""",
        """CREATE TABLE IF NOT EXISTS sites (
            id TEXT NOT NULL, code TEXT PRIMARY KEY, name TEXT NOT NULL, kind TEXT NOT NULL,
            is_open INTEGER NOT NULL DEFAULT 1)""",
        """CREATE TABLE IF NOT EXISTS stock_levels (
            site TEXT NOT NULL, sku TEXT NOT NULL, reorder_point BIGINT NOT NULL, par_level BIGINT NOT NULL,
            lead_time_days INTEGER NOT NULL, PRIMARY KEY (site, sku))""",
        """CREATE TABLE IF NOT EXISTS funding_sources (
            id TEXT NOT NULL, code TEXT PRIMARY KEY, name TEXT NOT NULL, federal INTEGER NOT NULL,
            restrictions TEXT NOT NULL)""",
        """CREATE TABLE IF NOT EXISTS recipient_types (
            id TEXT NOT NULL, code TEXT PRIMARY KEY, name TEXT NOT NULL, retired INTEGER NOT NULL DEFAULT 0)""",
        """CREATE TABLE IF NOT EXISTS partners (
            id TEXT NOT NULL, code TEXT PRIMARY KEY, name TEXT NOT NULL, kind TEXT NOT NULL,
            contact_role TEXT NOT NULL, retired INTEGER NOT NULL DEFAULT 0)""",
        """CREATE TABLE IF NOT EXISTS partner_reports (
            partner TEXT NOT NULL, starts_on TEXT NOT NULL, ends_on TEXT NOT NULL, kits_distributed BIGINT NOT NULL,
            reversals_reported BIGINT NOT NULL, kits_remaining BIGINT, position BIGINT NOT NULL,
            recorded_at TEXT NOT NULL, actor TEXT NOT NULL, revisions INTEGER NOT NULL DEFAULT 0,
            PRIMARY KEY (partner, starts_on, ends_on))""",
    )

    def process(self, batch: Sequence[Recorded], tx: Tx) -> None:
        for recorded in batch:
            event = recorded.event
            if type(event) is Partner.ReportedBack:
                _reported_back(recorded, tx)
                continue
            handler = _HANDLERS.get(type(event))
            if handler is not None:
                handler(event, tx)


def _item_registered(event: Any, tx: Tx) -> None:
    tx.execute(
        """INSERT INTO items (id, sku, name, category, unit, tracks_expiry, pack_size, packs)
           VALUES (?, ?, ?, ?, ?, ?, ?, ?)""",
        (
            str(event.originator_id),
            event.sku,
            event.name,
            event.category,
            event.unit,
            int(event.tracks_expiry),
            event.pack_size,
            to_json([pack.as_dict() for pack in registered_packs(event.pack_size)]),
        ),
    )


def _units_changed(event: Any, tx: Tx) -> None:
    """New packs and doses; the pack size stays the supplier's pack (the first), 1 with none."""
    packs = packs_from(event.packs)
    tx.execute(
        "UPDATE items SET packs = ?, pack_size = ?, doses_per_unit = ? WHERE id = ?",
        (
            to_json([pack.as_dict() for pack in packs]),
            packs[0].units if packs else 1,
            event.doses_per_unit,
            str(event.originator_id),
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


def _recipient_type(event: Any, tx: Tx) -> None:
    tx.execute(
        "INSERT INTO recipient_types (id, code, name) VALUES (?, ?, ?)",
        (str(event.originator_id), event.code, event.name),
    )


def _recipient_type_retired(event: Any, tx: Tx) -> None:
    tx.execute("UPDATE recipient_types SET retired = 1 WHERE id = ?", (str(event.originator_id),))


def _partner(event: Any, tx: Tx) -> None:
    tx.execute(
        "INSERT INTO partners (id, code, name, kind, contact_role) VALUES (?, ?, ?, ?, ?)",
        (str(event.originator_id), event.code, event.name, event.kind, event.contact_role),
    )


def _partner_changed(event: Any, tx: Tx) -> None:
    tx.execute(
        "UPDATE partners SET name = ?, kind = ?, contact_role = ? WHERE id = ?",
        (event.name, event.kind, event.contact_role, str(event.originator_id)),
    )


def _partner_retired(event: Any, tx: Tx) -> None:
    tx.execute("UPDATE partners SET retired = 1 WHERE id = ?", (str(event.originator_id),))


def _reported_back(recorded: Recorded, tx: Tx) -> None:
    """A partner's report for a period; a second one for the same period replaces it (and is counted)."""
    event = recorded.event
    tx.execute(
        """INSERT INTO partner_reports (partner, starts_on, ends_on, kits_distributed, reversals_reported,
               kits_remaining, position, recorded_at, actor)
           SELECT code, ?, ?, ?, ?, ?, ?, ?, ? FROM partners WHERE id = ?
           ON CONFLICT (partner, starts_on, ends_on) DO UPDATE SET
               kits_distributed = excluded.kits_distributed, reversals_reported = excluded.reversals_reported,
               kits_remaining = excluded.kits_remaining, position = excluded.position,
               recorded_at = excluded.recorded_at, actor = excluded.actor,
               revisions = partner_reports.revisions + 1""",
        (
            event.starts_on.isoformat(),
            event.ends_on.isoformat(),
            event.kits_distributed,
            event.reversals_reported,
            event.kits_remaining,
            recorded.position,
            recorded.recorded_at,
            event.actor,
            str(event.originator_id),
        ),
    )


_HANDLERS: dict[type, Callable[[Any, Tx], None]] = {
    RecipientType.Registered: _recipient_type,
    RecipientType.Retired: _recipient_type_retired,
    Partner.Registered: _partner,
    Partner.Changed: _partner_changed,
    Partner.Retired: _partner_retired,
    Item.Registered: _item_registered,
    Item.Retired: _item_retired,
    Item.UnitsChanged: _units_changed,
    Site.Registered: _site_registered,
    Site.Closed: _site_open(0),
    Site.Reopened: _site_open(1),
    Site.StockLevelSet: _level_set,
    FundingSource.Registered: _funding_registered,
    FundingSource.RestrictionsChanged: _restrictions_changed,
}
