"""Audit replay: stock on hand as the log knew it at a past position or at the end of a past day."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from eventsourcing.application import Application

from inventory.projections import queries
from inventory.projections.catalog import Catalog
from inventory.projections.runner import Projector
from inventory.projections.stock_on_hand import StockOnHand
from inventory.projections.store import ReadStore, SqliteReadStore


def position_at_end_of(store: ReadStore, day: date, zone: ZoneInfo) -> int:
    """The last position recorded before midnight at the end of `day` in the program's time zone."""
    midnight = datetime.combine(day + timedelta(days=1), time(), tzinfo=zone).astimezone(ZoneInfo("UTC"))
    [(position,)] = store.fetchall(
        "SELECT COALESCE(MAX(position), 0) FROM audit_log WHERE recorded_at < ?", (midnight.isoformat(),)
    )
    return int(position)


def stock_known_at(app: Application[Any], zone: ZoneInfo, position: int) -> list[dict[str, Any]]:
    """Replay the log up to `position` into a fresh in-memory read model and read its stock on hand.

    Nothing recorded after `position` (including backdated movements) can change this answer.
    """
    memory = SqliteReadStore(":memory:")
    try:
        projector = Projector(app, memory, [Catalog(zone), StockOnHand(zone)])
        projector.catch_up(until=position, batch_size=5000)
        return queries.stock_on_hand(memory)
    finally:
        memory.close()
