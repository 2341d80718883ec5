"""One anonymous visit at one site, named by the client's idempotency key."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import NAMESPACE_URL, UUID, uuid5

from eventsourcing.domain import Aggregate, event

from inventory.domain.errors import InvalidState
from inventory.domain.reach import UNKNOWN


def encounter_id(actor: str, key: str) -> UUID:
    """The id of the encounter recorded by this person with this client key (keys are theirs alone)."""
    return uuid5(NAMESPACE_URL, f"/encounters/{actor.strip().lower()}/{key}")


def dispense_id(site: str, transaction: str) -> UUID:
    """The id of the visit a vending machine's transaction records: the machine's own transaction id names it,
    whoever imports the machine's export and however often."""
    return uuid5(NAMESPACE_URL, f"/vending/{site}/{transaction}")


class Encounter(Aggregate):
    """What one visitor received. Lines hold the lots issued, so a repeat answers the same."""

    @staticmethod
    def create_id(key: str, actor: str, **_: Any) -> UUID:
        return encounter_id(actor, key)

    class Recorded(Aggregate.Created):
        """Declared so that mypy sees it; its name (and so its stored topic) is unchanged.

        Version 2 adds who it was for and how it left (inventory.domain.reach): `recipient` (a
        recipient type), `for_others` (the visitor collects for others: about how many people they
        reach; 0 if not) and `channel`. Visits recorded before version 2 load with recipient and
        channel "unknown" and `for_others` None: not recorded, never a guess.
        """

        class_version = 2

        key: str
        fingerprint: str
        site: str
        lines: list[dict[str, Any]]
        participant_code: str | None
        reversals_reported: int
        syringes_collected: int
        refill_reason: str | None
        actor: str
        occurred_at: datetime
        recipient: str
        for_others: int | None
        channel: str

        @staticmethod
        def upcast_v1_v2(state: dict[str, Any]) -> None:
            state.update(recipient=UNKNOWN, for_others=None, channel=UNKNOWN)

    @event(Recorded)
    def __init__(
        self,
        key: str,
        fingerprint: str,
        site: str,
        lines: list[dict[str, Any]],
        participant_code: str | None,
        reversals_reported: int,
        syringes_collected: int,
        refill_reason: str | None,
        actor: str,
        occurred_at: datetime,
        recipient: str,
        for_others: int | None,
        channel: str,
    ) -> None:
        self.key = key
        self.fingerprint = fingerprint
        self.site = site
        self.lines = lines
        self.participant_code = participant_code
        self.reversals_reported = reversals_reported
        self.syringes_collected = syringes_collected
        self.refill_reason = refill_reason
        self.actor = actor
        self.occurred_at = occurred_at
        self.recipient = recipient
        self.for_others = for_others
        self.channel = channel
        self.voided: str | None = None

    @classmethod
    def dispensed(cls, the_id: UUID, **kwargs: Any) -> Encounter:
        """A vending machine's dispense, named by its transaction (`dispense_id`), not by a client key."""
        return cls._create(cls.Recorded, id=the_id, **kwargs)

    class Voided(Aggregate.Event):
        """The visit undone (recorded by mistake): its stock goes back on its own business time, in
        the same save; it stays in the log, and the reports count it nowhere. `reason` is a VoidReason."""

        reason: str
        actor: str
        occurred_at: datetime

        def apply(self, aggregate: Any) -> None:
            aggregate.voided = self.reason

    def void(self, *, reason: str, actor: str, occurred_at: datetime) -> None:
        if getattr(self, "voided", None) is not None:
            raise InvalidState("This visit is void already.", field="id")
        self.trigger_event(self.Voided, reason=reason, actor=actor, occurred_at=occurred_at)
