"""Supplies sent by mail, without an address.

A mail order records what was packed and sent, from which site, by which carrier and with which
tracking reference, and who it was for as a recipient type: never a name or an address. The program
keeps addresses where it already keeps them for posting (its mailing tool or the carrier's account),
outside this service. A parcel that comes back puts its stock back in its lots on the day it came back.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import NAMESPACE_URL, UUID, uuid5

from eventsourcing.domain import Aggregate, event

from inventory.domain.errors import InvalidState


def mail_order_id(actor: str, key: str) -> UUID:
    """The id of the mail order recorded by this person with this client key."""
    return uuid5(NAMESPACE_URL, f"/mail-orders/{actor.strip().lower()}/{key}")


class MailOrder(Aggregate):
    """One parcel: lines hold the lots packed, so a repeat answers the same."""

    @staticmethod
    def create_id(key: str, actor: str, **_: Any) -> UUID:
        return mail_order_id(actor, key)

    class Sent(Aggregate.Created):
        key: str
        fingerprint: str
        site: str
        lines: list[dict[str, Any]]
        carrier: str
        tracking: str
        recipient: str
        for_others: int
        actor: str
        occurred_at: datetime

    @event(Sent)
    def __init__(
        self,
        key: str,
        fingerprint: str,
        site: str,
        lines: list[dict[str, Any]],
        carrier: str,
        tracking: str,
        recipient: str,
        for_others: int,
        actor: str,
        occurred_at: datetime,
    ) -> None:
        self.key = key
        self.fingerprint = fingerprint
        self.site = site
        self.lines = lines
        self.carrier = carrier
        self.tracking = tracking
        self.recipient = recipient
        self.for_others = for_others
        self.actor = actor
        self.occurred_at = occurred_at
        self.returned_at: datetime | None = None
        self.voided: str | None = None

    class CameBack(Aggregate.Event):
        """The parcel was returned undelivered: its stock is back at the site from `occurred_at`."""

        actor: str
        occurred_at: datetime

        def apply(self, aggregate: Any) -> None:
            aggregate.returned_at = self.occurred_at

    class Voided(Aggregate.Event):
        """The mail order undone (recorded by mistake): its stock goes back on its own business time.
        `reason` is a VoidReason."""

        reason: str
        actor: str
        occurred_at: datetime

        def apply(self, aggregate: Any) -> None:
            aggregate.voided = self.reason

    def came_back(self, *, actor: str, occurred_at: datetime) -> None:
        if self.voided is not None:
            raise InvalidState("This mail order is void: nothing was sent.", field="id")
        if self.returned_at is not None:
            raise InvalidState("This parcel is recorded as returned already.", field="id")
        if occurred_at < self.occurred_at:
            raise InvalidState("A parcel cannot come back before it was sent: check the date.", field="occurred_at")
        self.trigger_event(self.CameBack, actor=actor, occurred_at=occurred_at)

    def void(self, *, reason: str, actor: str, occurred_at: datetime) -> None:
        if self.voided is not None:
            raise InvalidState("This mail order is void already.", field="id")
        self.trigger_event(self.Voided, reason=reason, actor=actor, occurred_at=occurred_at)
