"""Purchase orders: raised, submitted, received in part or whole, closed or cancelled."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from eventsourcing.domain import Aggregate, event

from inventory.domain.errors import InvalidState

DRAFT = "draft"
SUBMITTED = "submitted"
PARTLY_RECEIVED = "partly_received"
RECEIVED = "received"
CANCELLED = "cancelled"
CLOSED = "closed"


class PurchaseOrder(Aggregate):
    """Lines hold sku, quantity ordered and unit cost; receipts add to `received`."""

    # ----- events: declared so that mypy sees them; names (and so stored topics) are unchanged --------

    class Raised(Aggregate.Created):
        number: str
        supplier: str
        site: str
        funding_source: str
        lines: list[dict[str, Any]]
        actor: str
        occurred_at: datetime

    class Submitted(Aggregate.Event):
        actor: str
        occurred_at: datetime

    class ReceiptRecorded(Aggregate.Event):
        lines: list[dict[str, Any]]
        actor: str
        occurred_at: datetime

    class Cancelled(Aggregate.Event):
        reason: str
        actor: str
        occurred_at: datetime

    class Closed(Aggregate.Event):
        """The order is closed: received in full, or nothing more is coming.

        Version 2 adds `shortfall`: what was still outstanding when it was closed, one
        {"sku", "quantity"} per line not received in full ([] when it all came). Orders closed
        before version 2 did not record it: their events load with `shortfall` None ("not
        recorded"), never a guess.

        This is the pattern for changing an event's shape. Never edit what a stored event
        means: add the field at the end, raise `class_version` by one, and write
        `upcast_vN_vN+1(state)` as a static method that turns the stored state of version N into
        version N+1 (here: the old default). eventsourcing stores `class_version` with each new
        event and runs the upcasts, in order, on every older one it reads; a test loads a
        version-1 record (tests/history/test_event_versions.py). If the aggregate's own attributes
        change too, give the aggregate a `class_version` and upcast for its snapshots.
        """

        class_version = 2

        actor: str
        occurred_at: datetime
        shortfall: list[dict[str, Any]] | None

        @staticmethod
        def upcast_v1_v2(state: dict[str, Any]) -> None:
            state["shortfall"] = None

    # ----- command bodies: they run again on every replay ----------------------------------

    @event(Raised)
    def __init__(
        self,
        number: str,
        supplier: str,
        site: str,
        funding_source: str,
        lines: list[dict[str, Any]],
        actor: str,
        occurred_at: datetime,
    ) -> None:
        self.number = number
        self.supplier = supplier
        self.site = site
        self.funding_source = funding_source
        self.lines = lines
        self.received: dict[str, int] = {line["sku"]: 0 for line in lines}
        self.status = DRAFT

    def outstanding(self, sku: str) -> int:
        """Units of `sku` ordered and not yet received."""
        ordered = sum(int(line["quantity"]) for line in self.lines if line["sku"] == sku)
        return max(ordered - self.received.get(sku, 0), 0)

    def check_status(self, allowed: tuple[str, ...], verb: str) -> None:
        if self.status not in allowed:
            raise InvalidState(f"Purchase order {self.number} is {self.status.replace('_', ' ')}; it cannot be {verb}.")

    @event(Submitted)
    def submit(self, actor: str, occurred_at: datetime) -> None:
        self.status = SUBMITTED

    @event(ReceiptRecorded)
    def record_receipt(self, lines: list[dict[str, Any]], actor: str, occurred_at: datetime) -> None:
        for line in lines:
            self.received[line["sku"]] = self.received.get(line["sku"], 0) + line["quantity"]
        done = all(self.outstanding(line["sku"]) == 0 for line in self.lines)
        self.status = RECEIVED if done else PARTLY_RECEIVED

    @event(Cancelled)
    def cancel(self, reason: str, actor: str, occurred_at: datetime) -> None:
        self.status = CANCELLED

    def shortfall(self) -> list[dict[str, Any]]:
        """Each line not received in full, with the units still outstanding."""
        skus = dict.fromkeys(line["sku"] for line in self.lines)
        return [{"sku": sku, "quantity": self.outstanding(sku)} for sku in skus if self.outstanding(sku)]

    @event(Closed)
    def close(self, actor: str, occurred_at: datetime, shortfall: list[dict[str, Any]] | None) -> None:
        self.status = CLOSED
