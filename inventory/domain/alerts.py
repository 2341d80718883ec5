"""Alerts as episodes: a condition (kind, site, item, lot) is raised once when it starts and resolved
when it ends; each episode's raising, notification, acknowledgement, snoozing, assignment and resolution
is an event.

One aggregate per condition, named by its key, so two workers that see the same shortage at the
same moment both try to append the same next event and only one succeeds (the other's save
conflicts): the alert is raised once, and delivered from that one event.
"""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum
from typing import Any
from uuid import NAMESPACE_URL, UUID, uuid5

from eventsourcing.domain import Aggregate, event

from inventory.domain.errors import InvalidState


class AlertKind(StrEnum):
    OUT_OF_STOCK = "out_of_stock"
    BELOW_REORDER_POINT = "below_reorder_point"
    RUNS_OUT_WITHIN_LEAD_TIME = "runs_out_within_lead_time"
    EXPIRING_SOON = "expiring_soon"
    EXPIRED_ON_HAND = "expired_on_hand"
    RECALLED = "recalled"  # a lot held for a manufacturer's recall still on a shelf: to pull and return


def alert_id(kind: str, site: str, sku: str, lot: str | None = None) -> UUID:
    """The condition's name: the same shortage is always the same aggregate."""
    return uuid5(NAMESPACE_URL, f"/alerts/{kind}/{site}/{sku}/{lot or ''}")


class Alert(Aggregate):
    """One condition over time. `episode` counts how many times it has been raised; `open` says
    whether the latest episode is still going on. `details` are the figures when it was raised
    (on hand, reorder point, days of supply, expiry …): never anything about a participant."""

    @staticmethod
    def create_id(kind: str, site: str, sku: str, lot: str | None = None, **_: Any) -> UUID:
        return alert_id(kind, site, sku, lot)

    # ----- events: declared so that mypy sees them; names (and so stored topics) are unchanged --------

    class Started(Aggregate.Created):
        kind: str
        site: str
        sku: str
        lot: str | None

    class Raised(Aggregate.Event):
        details: dict[str, Any]
        occurred_at: datetime

    class Notified(Aggregate.Event):
        episode: int
        channel: str
        recipients: list[str]
        occurred_at: datetime

    class Acknowledged(Aggregate.Event):
        episode: int
        actor: str
        occurred_at: datetime

    class Resolved(Aggregate.Event):
        details: dict[str, Any]
        occurred_at: datetime

    class Snoozed(Aggregate.Event):
        episode: int
        until: date
        actor: str
        occurred_at: datetime

    class Assigned(Aggregate.Event):
        episode: int
        to: str
        actor: str
        occurred_at: datetime

    # ----- command bodies: they run again on every replay ----------------------------------

    @event(Started)
    def __init__(self, kind: str, site: str, sku: str, lot: str | None) -> None:
        self.kind = kind
        self.site = site
        self.sku = sku
        self.lot = lot
        self.episode = 0
        self.open = False
        self.details: dict[str, Any] = {}
        self.raised_at: datetime | None = None
        self.resolved_at: datetime | None = None
        self.acknowledged_by: str | None = None
        self.notified: list[dict[str, Any]] = []  # this episode's deliveries: channel, recipients, at
        self.snoozed_until: date | None = None
        self.assigned_to: str | None = None

    @event(Raised)
    def raise_episode(self, details: dict[str, Any], occurred_at: datetime) -> None:
        """The condition has started (again): a new episode, to be delivered once."""
        if self.open:
            raise InvalidState(f"The {self.kind} alert for {self.sku} at {self.site} is already raised.")
        self.episode += 1
        self.open = True
        self.details = details
        self.raised_at = occurred_at
        self.resolved_at = None
        self.acknowledged_by = None
        self.notified = []
        self.snoozed_until = None
        self.assigned_to = None

    @event(Notified)
    def record_notification(self, episode: int, channel: str, recipients: list[str], occurred_at: datetime) -> None:
        """Who was told of an episode, and how (email to whom, the webhook, …)."""
        self.notified.append({"episode": episode, "channel": channel, "recipients": recipients, "at": occurred_at})

    @event(Acknowledged)
    def acknowledge(self, episode: int, actor: str, occurred_at: datetime) -> None:
        """Someone in purchasing has seen it (it stays raised until the condition ends)."""
        self.acknowledged_by = actor

    @event(Snoozed)
    def snooze(self, episode: int, until: date, actor: str, occurred_at: datetime) -> None:
        """Out of the open list until `until` (a business date): it comes back that day if still going on."""
        self.snoozed_until = until

    @event(Assigned)
    def assign(self, episode: int, to: str, actor: str, occurred_at: datetime) -> None:
        """Who is dealing with this episode."""
        self.assigned_to = to

    @event(Resolved)
    def resolve(self, details: dict[str, Any], occurred_at: datetime) -> None:
        """The condition has ended (stock received, the lot used up or written off)."""
        if not self.open:
            raise InvalidState(f"The {self.kind} alert for {self.sku} at {self.site} is not raised.")
        self.open = False
        self.resolved_at = occurred_at
        self.details = {**self.details, "resolved": details}


def digest_id(day: date) -> UUID:
    """The day's digest: one aggregate per local day, so only one worker can prepare it."""
    return uuid5(NAMESPACE_URL, f"/digests/{day.isoformat()}")


class Digest(Aggregate):
    """The daily digest of open alerts for one local day: prepared once (whoever saves first sends
    it), then each recipient it went to. A worker that dies between the two leaves a digest that was
    prepared and never sent, which the log shows."""

    @staticmethod
    def create_id(day: date, **_: Any) -> UUID:
        return digest_id(day)

    class Prepared(Aggregate.Created):
        day: date
        alert_ids: list[str]
        recipients: list[str]
        occurred_at: datetime

    class Sent(Aggregate.Event):
        recipients: list[str]
        occurred_at: datetime

    @event(Prepared)
    def __init__(self, day: date, alert_ids: list[str], recipients: list[str], occurred_at: datetime) -> None:
        self.day = day
        self.alert_ids = alert_ids
        self.recipients = recipients
        self.sent_to: list[str] = []

    @event(Sent)
    def record_sent(self, recipients: list[str], occurred_at: datetime) -> None:
        """Who the digest reached (those it failed for are in the worker's log)."""
        self.sent_to = sorted({*self.sent_to, *recipients})
