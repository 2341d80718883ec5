"""What every projection is: tables, and a function that turns a batch of events into rows."""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import date, datetime
from decimal import Decimal
from typing import Any, ClassVar
from uuid import UUID
from zoneinfo import ZoneInfo

from eventsourcing.persistence import Notification

from inventory.projections.store import Tx


class Recorded:
    """One event as the log holds it: its position, the decoded event and the raw notification.

    Its business date and times as text are worked out once here, not once per projection.
    """

    __slots__ = ("_day", "_occurred", "_recorded", "_zone", "event", "notification", "position")

    def __init__(self, position: int, event: Any, notification: Notification, zone: ZoneInfo) -> None:
        self.position = position
        self.event = event
        self.notification = notification
        self._zone = zone
        self._day: str | None = None
        self._occurred: str | None = None
        self._recorded: str | None = None

    @property
    def day(self) -> str:
        """The business date of `occurred_at` (YYYY-MM-DD, program time zone); "" if it has none."""
        if self._day is None:
            moment = getattr(self.event, "occurred_at", None)
            self._day = moment.astimezone(self._zone).date().isoformat() if moment else ""
        return self._day

    @property
    def occurred_at(self) -> str:
        if self._occurred is None:
            self._occurred = self.event.occurred_at.isoformat()
        return self._occurred

    @property
    def recorded_at(self) -> str:
        if self._recorded is None:
            self._recorded = self.event.timestamp.isoformat()
        return self._recorded


class Projection:
    """A read model. `process` writes a batch's rows inside the caller's transaction."""

    name: ClassVar[str]
    # Bump when the tables or the way rows are computed change: the runner then rebuilds it.
    version: ClassVar[int] = 1
    tables: ClassVar[tuple[str, ...]]
    ddl: ClassVar[tuple[str, ...]]

    def __init__(self, zone: ZoneInfo) -> None:
        self.zone = zone

    def day(self, moment: datetime) -> str:
        """The business date of a moment, in the program's time zone, as YYYY-MM-DD."""
        return moment.astimezone(self.zone).date().isoformat()

    def process(self, batch: Sequence[Recorded], tx: Tx) -> None:
        raise NotImplementedError


def to_json(value: Any) -> str:
    """JSON for the values events carry (dates, decimals, UUIDs)."""
    return json.dumps(value, default=_plain, separators=(",", ":"), sort_keys=True)


def _plain(value: Any) -> Any:
    if isinstance(value, date | datetime):
        return value.isoformat()
    if isinstance(value, Decimal | UUID):
        return str(value)
    raise TypeError(f"cannot write {type(value).__name__} as JSON")


def iso(value: date | datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def event_name(event: Any) -> str:
    """`StockLedger.Received`, `Encounter.Recorded`, …"""
    return type(event).__qualname__
