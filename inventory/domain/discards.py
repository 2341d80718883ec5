"""A visit kept on a phone offline that the server could no longer record, discarded by the coordinator.

When the network returned, the server refused the visit (the stock ran out meanwhile, an item was
retired, the site closed). The coordinator chose to discard it, with a reason from a fixed list. The
discard is recorded so that an auditor can see that a visit happened on the phone and why it is not
among the encounters. It holds what was asked for and why it was refused, and nothing about the
participant: not even the optional code.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import NAMESPACE_URL, UUID, uuid5

from eventsourcing.domain import Aggregate, event

# Why a coordinator discards a visit the server refused: a fixed list, never free text.
DISCARD_REASONS: dict[str, str] = {
    "not_handed_out": "The supplies were not handed out in the end",
    "recorded_elsewhere": "It was recorded another way (paper, another device)",
    "entered_by_mistake": "It was entered by mistake",
    "duplicate": "It repeats another visit",
}


def discarded_visit_id(actor: str, key: str) -> UUID:
    """The id of the discard of the visit this person kept with this client key."""
    return uuid5(NAMESPACE_URL, f"/discarded-visits/{actor.strip().lower()}/{key}")


class DiscardedVisit(Aggregate):
    """One offline visit not recorded, named by the key the phone gave it."""

    @staticmethod
    def create_id(key: str, actor: str, **_: Any) -> UUID:
        return discarded_visit_id(actor, key)

    class Discarded(Aggregate.Created):
        """Declared so that mypy sees it; its name (and so its stored topic) is unchanged."""

        key: str
        fingerprint: str
        site: str
        lines: list[dict[str, Any]]
        reason: str
        refused_because: str
        actor: str
        occurred_at: datetime

    @event(Discarded)
    def __init__(
        self,
        key: str,
        fingerprint: str,
        site: str,
        lines: list[dict[str, Any]],
        reason: str,
        refused_because: str,
        actor: str,
        occurred_at: datetime,
    ) -> None:
        self.key = key
        self.fingerprint = fingerprint
        self.site = site
        self.lines = lines
        self.reason = reason
        self.refused_because = refused_because
        self.actor = actor
        self.occurred_at = occurred_at
