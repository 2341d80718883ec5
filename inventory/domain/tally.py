"""A shift tally: on a night too busy to record each visit, the shift's totals recorded afterwards.

For a site and a shift (its date, start and end time): what was handed out per item (the lots it came
from are picked as for visits), how many visits there were, reversals reported and syringes collected.
Named by the client's key, like an encounter, so sending it twice records it once. Nothing about any
participant: only counts.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any
from uuid import NAMESPACE_URL, UUID, uuid5

from eventsourcing.domain import Aggregate, event

from inventory.domain.errors import InvalidState
from inventory.domain.reach import UNKNOWN


def tally_id(actor: str, key: str) -> UUID:
    """The id of the tally recorded by this person with this client key."""
    return uuid5(NAMESPACE_URL, f"/tallies/{actor.strip().lower()}/{key}")


class ShiftTally(Aggregate):
    """One shift's totals at one site. Lines hold the lots issued, so a repeat answers the same."""

    @staticmethod
    def create_id(key: str, actor: str, **_: Any) -> UUID:
        return tally_id(actor, key)

    class Recorded(Aggregate.Created):
        """Declared so that mypy sees it; its name (and so its stored topic) is unchanged.

        Version 2 adds who the shift's hand-outs were for and how they left, as for a visit
        (inventory.domain.encounter): `recipient` (the shift's usual recipient type, "unknown" if
        mixed), `for_others` (about how many people its visitors collected for) and `channel`.
        Tallies recorded before version 2 load with "unknown" and None: not recorded.
        """

        class_version = 2

        key: str
        fingerprint: str
        site: str
        shift_date: date
        starts_at: str
        ends_at: str
        lines: list[dict[str, Any]]
        visits: int
        reversals_reported: int
        syringes_collected: int
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
        shift_date: date,
        starts_at: str,
        ends_at: str,
        lines: list[dict[str, Any]],
        visits: int,
        reversals_reported: int,
        syringes_collected: int,
        actor: str,
        occurred_at: datetime,
        recipient: str,
        for_others: int | None,
        channel: str,
    ) -> None:
        self.key = key
        self.fingerprint = fingerprint
        self.site = site
        self.shift_date = shift_date
        self.starts_at = starts_at
        self.ends_at = ends_at
        self.lines = lines
        self.visits = visits
        self.reversals_reported = reversals_reported
        self.syringes_collected = syringes_collected
        self.actor = actor
        self.occurred_at = occurred_at
        self.recipient = recipient
        self.for_others = for_others
        self.channel = channel
        self.voided: str | None = None

    class Voided(Aggregate.Event):
        """The shift tally undone (recorded by mistake): its stock goes back on its own business time, in
        the same save; it stays in the log, and the reports count it nowhere. `reason` is a VoidReason."""

        reason: str
        actor: str
        occurred_at: datetime

        def apply(self, aggregate: Any) -> None:
            aggregate.voided = self.reason

    def void(self, *, reason: str, actor: str, occurred_at: datetime) -> None:
        if getattr(self, "voided", None) is not None:
            raise InvalidState("This shift tally is void already.", field="id")
        self.trigger_event(self.Voided, reason=reason, actor=actor, occurred_at=occurred_at)
