"""Stock moving between two sites: dispatched, in transit, then received or cancelled; voided if it was
entered by mistake (its stock movements undone on their own times)."""

from __future__ import annotations

from datetime import UTC, datetime, tzinfo
from typing import Any

from eventsourcing.domain import Aggregate, event

from inventory.domain.errors import InvalidInput, InvalidState
from inventory.domain.time_words import moment_in_words

IN_TRANSIT = "in_transit"
RECEIVED = "received"
CANCELLED = "cancelled"
VOIDED = "voided"


class Transfer(Aggregate):
    """Lines carry sku, lot, quantity, expiry and funding source as they left the sender."""

    # ----- events: declared so that mypy sees them; names (and so stored topics) are unchanged --------

    class Dispatched(Aggregate.Created):
        from_site: str
        to_site: str
        lines: list[dict[str, Any]]
        actor: str
        occurred_at: datetime

    class Received(Aggregate.Event):
        received: list[dict[str, Any]]
        shortfall: list[dict[str, Any]]
        note: str
        actor: str
        occurred_at: datetime

    class Cancelled(Aggregate.Event):
        reason: str
        actor: str
        occurred_at: datetime

    class Voided(Aggregate.Event):
        """Entered by mistake: the sender's dispatch (and the receiver's arrival, if it was received) are
        voided in the same save; `reason` is a VoidReason, `occurred_at` when it was voided."""

        reason: str
        actor: str
        occurred_at: datetime

    # ----- command bodies: they run again on every replay ----------------------------------

    @event(Dispatched)
    def __init__(
        self, from_site: str, to_site: str, lines: list[dict[str, Any]], actor: str, occurred_at: datetime
    ) -> None:
        self.from_site = from_site
        self.to_site = to_site
        self.lines = lines
        self.dispatched_at = occurred_at
        self.status = IN_TRANSIT
        self.received: list[dict[str, Any]] = []
        self.shortfall: list[dict[str, Any]] = []
        self.voided: str | None = None
        self.voided_from: str | None = None

    def check_not_before_dispatch(self, at: datetime, verb: str, zone: tzinfo = UTC) -> None:
        """Refuse a step dated before the stock left the sender."""
        if at < self.dispatched_at:
            year = datetime.now(zone).year
            raise InvalidInput(
                f"The transfer left {self.from_site} on {moment_in_words(self.dispatched_at, zone, year)}; "
                f"it cannot have been {verb} earlier ({moment_in_words(at, zone, year)}).",
                field="occurred_at",
            )

    def check_in_transit(self, verb: str) -> None:
        """Refuse a step on a transfer that is no longer in transit."""
        if self.status != IN_TRANSIT:
            raise InvalidState(
                f"Transfer {self.id} from {self.from_site} to {self.to_site} is {self.status.replace('_', ' ')}; "
                f"it cannot be {verb}."
            )

    @event(Received)
    def receive(
        self,
        received: list[dict[str, Any]],
        shortfall: list[dict[str, Any]],
        note: str,
        actor: str,
        occurred_at: datetime,
    ) -> None:
        self.received = received
        self.shortfall = shortfall
        self.status = RECEIVED

    @event(Cancelled)
    def cancel(self, reason: str, actor: str, occurred_at: datetime) -> None:
        self.status = CANCELLED

    def check_voidable(self) -> None:
        """A cancelled transfer moved nothing in the end: there is nothing to void."""
        if self.status == CANCELLED:
            raise InvalidState(
                f"Transfer {self.id} from {self.from_site} to {self.to_site} was cancelled: its stock is back at "
                f"{self.from_site} and there is nothing to void.",
                field="id",
            )

    @event(Voided)
    def void(self, reason: str, actor: str, occurred_at: datetime) -> None:
        self.voided_from = self.status
        self.voided = reason
        self.status = VOIDED
