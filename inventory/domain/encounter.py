"""One anonymous visit at one site, named by the client's idempotency key."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import NAMESPACE_URL, UUID, uuid5

from eventsourcing.domain import Aggregate, event

from inventory.domain.errors import InvalidState


def encounter_id(actor: str, key: str) -> UUID:
    """The id of the encounter recorded by this person with this client key (keys are theirs alone)."""
    return uuid5(NAMESPACE_URL, f"/encounters/{actor.strip().lower()}/{key}")


class Encounter(Aggregate):
    """What one visitor received. Lines hold the lots issued, so a repeat answers the same."""

    @staticmethod
    def create_id(key: str, actor: str, **_: Any) -> UUID:
        return encounter_id(actor, key)

    class Recorded(Aggregate.Created):
        """Declared so that mypy sees it; its name (and so its stored topic) is unchanged."""

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
        self.voided: str | None = None

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
