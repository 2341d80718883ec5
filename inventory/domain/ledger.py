"""The stock of one item at one site, lot by lot."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any
from uuid import NAMESPACE_URL, UUID, uuid5

from eventsourcing.domain import Aggregate, event

from inventory.domain.errors import (
    CountConflict,
    InsufficientStock,
    InvalidInput,
    LotExpired,
    UnknownLot,
)
from inventory.domain.values import Lot, positive_quantity


def ledger_id(site: str, sku: str) -> UUID:
    """The id of the ledger for one site and item."""
    return uuid5(NAMESPACE_URL, f"/ledgers/{site}/{sku}")


def _pick(lot: Lot, quantity: int) -> dict[str, Any]:
    """What an issue takes from one lot; expiry and funding ride along so each event says it all."""
    return {
        "lot": lot.code,
        "quantity": quantity,
        "expires_on": lot.expires_on,
        "funding_source": lot.funding_source,
    }


def _plural(quantity: int, unit: str) -> str:
    if quantity == 1 or unit.endswith("s"):
        return unit
    return f"{unit}es" if unit.endswith(("x", "ch", "sh")) else f"{unit}s"


class StockLedger(Aggregate):
    """One ledger per site and item. Lots carry quantity, expiry and funding source."""

    @staticmethod
    def create_id(site: str, sku: str, **_: Any) -> UUID:
        return ledger_id(site, sku)

    class Opened(Aggregate.Created):
        """Declared so that mypy sees it; its name (and so its stored topic) is unchanged."""

        site: str
        sku: str
        unit: str
        tracks_expiry: bool

    @event(Opened)
    def __init__(self, site: str, sku: str, unit: str, tracks_expiry: bool) -> None:
        self.site = site
        self.sku = sku
        self.unit = unit
        self.tracks_expiry = tracks_expiry
        self.lots: dict[str, Lot] = {}

    # ----- events -------------------------------------------------------------------------

    class Movement(Aggregate.Event):
        """A change to the stock. Site and SKU ride along so each event can be read on its own."""

        site: str
        sku: str
        actor: str
        occurred_at: datetime

    class Received(Movement):
        lot: str
        quantity: int
        expires_on: date | None
        funding_source: str | None
        unit_cost: Decimal | None
        purchase_order: str | None
        reference: str | None

        def apply(self, aggregate: StockLedger) -> None:
            aggregate._put(self.lot, self.quantity, self.expires_on, self.funding_source, self.occurred_at)

    class Distributed(Movement):
        encounter_id: UUID
        picks: list[dict[str, Any]]

        def apply(self, aggregate: StockLedger) -> None:
            aggregate._take(self.picks, self.occurred_at)

    class HandedOutOnShift(Movement):
        """Stock handed out during a shift whose totals were recorded as a tally."""

        tally_id: UUID
        picks: list[dict[str, Any]]

        def apply(self, aggregate: StockLedger) -> None:
            aggregate._take(self.picks, self.occurred_at)

    class Dispatched(Movement):
        transfer_id: UUID
        to_site: str
        picks: list[dict[str, Any]]

        def apply(self, aggregate: StockLedger) -> None:
            aggregate._take(self.picks, self.occurred_at)

    class Arrived(Movement):
        """Stock put in by a transfer from another site."""

        transfer_id: UUID
        from_site: str
        lots: list[dict[str, Any]]

        def apply(self, aggregate: StockLedger) -> None:
            for row in self.lots:
                aggregate._put(row["lot"], row["quantity"], row["expires_on"], row["funding_source"], self.occurred_at)

    class Returned(Movement):
        """Stock back in the sender's lots: its transfer was cancelled while in transit."""

        transfer_id: UUID
        to_site: str
        lots: list[dict[str, Any]]

        def apply(self, aggregate: StockLedger) -> None:
            for row in self.lots:
                aggregate._put(row["lot"], row["quantity"], row["expires_on"], row["funding_source"], self.occurred_at)

    class Adjusted(Movement):
        lot: str
        quantity: int
        reason: str
        note: str
        expires_on: date | None
        funding_source: str | None

        def apply(self, aggregate: StockLedger) -> None:
            aggregate._put(self.lot, self.quantity, self.expires_on, self.funding_source, self.occurred_at)

    class Counted(Movement):
        lot: str
        counted: int
        variance: int
        expires_on: date | None
        funding_source: str | None

        def apply(self, aggregate: StockLedger) -> None:
            lot = aggregate.lots[self.lot]
            lot.quantity = self.counted
            lot.counted_at = self.occurred_at
            lot.moved(self.occurred_at)

    def _move(self, event_class: type[StockLedger.Movement], **kwargs: Any) -> None:
        self.trigger_event(event_class, site=self.site, sku=self.sku, **kwargs)

    # ----- state helpers (run on replay too: no checks here) ------------------------------

    def _put(self, code: str, quantity: int, expires_on: date | None, funding: str | None, at: datetime) -> None:
        lot = self.lots.get(code)
        if lot is None:
            lot = self.lots[code] = Lot(code, 0, expires_on, funding)
        lot.quantity += quantity
        lot.moved(at)

    def _take(self, picks: list[dict[str, Any]], at: datetime) -> None:
        for pick in picks:
            lot = self.lots[pick["lot"]]
            lot.quantity -= pick["quantity"]
            lot.moved(at)

    def _check_picks(self, picks: list[dict[str, Any]], at: datetime) -> None:
        for pick in picks:
            self._check_after_count(self.lot(pick["lot"]), at)

    def _check_after_count(self, lot: Lot, at: datetime) -> None:
        """Refuse an entry dated before the lot's last count: the count already reflects it."""
        if lot.counted_at is not None and at < lot.counted_at:
            raise CountConflict(
                f"Lot {lot.code} of {self.sku} at {self.site} was counted at "
                f"{lot.counted_at.isoformat(timespec='minutes')}, after this entry's time "
                f"{at.isoformat(timespec='minutes')}; the count already includes it. Date the entry after "
                "the count, or record the difference as an adjustment.",
                field="occurred_at",
            )

    # ----- queries ------------------------------------------------------------------------

    @property
    def on_hand(self) -> int:
        """Units on hand across all lots, expired ones included."""
        return sum(lot.quantity for lot in self.lots.values())

    def usable_on(self, day: date) -> int:
        """Units that may be issued on `day` (expired lots excluded)."""
        return sum(lot.quantity for lot in self.lots.values() if not lot.is_expired_on(day))

    def lot(self, code: str) -> Lot:
        """The named lot, or UnknownLot."""
        try:
            return self.lots[code]
        except KeyError:
            raise UnknownLot(f"There is no lot {code} of {self.sku} at {self.site}.", field="lot") from None

    def plan_issue(self, quantity: int, day: date, lot: str | None = None) -> list[dict[str, Any]]:
        """Choose lots for an issue: the named one, or first-expiry-first-out."""
        positive_quantity(quantity)
        if lot is not None:
            chosen = self.lot(lot)
            if chosen.is_expired_on(day):
                raise LotExpired(
                    f"Lot {lot} of {self.sku} at {self.site} expired on "
                    f"{chosen.expires_on}; it cannot be issued. Record it as an expired adjustment.",
                    field="lot",
                )
            if chosen.quantity < quantity:
                raise self._shortage(chosen.quantity, quantity, f" in lot {lot}")
            return [_pick(chosen, quantity)]
        usable = sorted(
            (x for x in self.lots.values() if x.quantity > 0 and not x.is_expired_on(day)),
            key=lambda x: (x.expires_on or date.max, x.code),
        )
        picks: list[dict[str, Any]] = []
        wanted = quantity
        for candidate in usable:
            take = min(wanted, candidate.quantity)
            picks.append(_pick(candidate, take))
            wanted -= take
            if wanted == 0:
                return picks
        raise self._shortage(quantity - wanted, quantity, "", expired=self.on_hand - self.usable_on(day))

    def _shortage(self, available: int, wanted: int, where: str, expired: int = 0) -> InsufficientStock:
        message = (
            f"Only {available} {_plural(available, self.unit)} of {self.sku} left at "
            f"{self.site}{where}; {wanted} requested."
        )
        if expired:
            message += f" Another {expired} are in expired lots and cannot be issued."
        return InsufficientStock(message, field="quantity")

    # ----- commands -----------------------------------------------------------------------

    def receive(
        self,
        *,
        lot: str,
        quantity: int,
        expires_on: date | None,
        funding_source: str | None,
        unit_cost: Decimal | None,
        purchase_order: str | None,
        reference: str | None,
        actor: str,
        occurred_at: datetime,
    ) -> None:
        """Record stock arriving from a supplier (or an opening balance)."""
        positive_quantity(quantity)
        self._check_new_lot(lot, expires_on, funding_source, occurred_at)
        if unit_cost is not None and unit_cost < 0:
            raise InvalidInput("unit_cost must not be negative.", field="unit_cost")
        self._move(
            self.Received,
            lot=lot,
            quantity=quantity,
            expires_on=expires_on,
            funding_source=funding_source,
            unit_cost=unit_cost,
            purchase_order=purchase_order,
            reference=reference,
            actor=actor,
            occurred_at=occurred_at,
        )

    def _check_new_lot(self, lot: str, expires_on: date | None, funding: str | None, at: datetime) -> None:
        if not lot:
            raise InvalidInput("lot is required.", field="lot")
        if self.tracks_expiry and expires_on is None:
            raise InvalidInput(
                f"{self.sku} tracks expiry: enter the expiry date printed on lot {lot}.",
                field="expires_on",
            )
        existing = self.lots.get(lot)
        if existing is None:
            return
        self._check_after_count(existing, at)
        if existing.expires_on != expires_on:
            raise InvalidInput(
                f"Lot {lot} of {self.sku} at {self.site} is recorded with expiry "
                f"{existing.expires_on}, not {expires_on}. Check the label.",
                field="expires_on",
            )
        if existing.funding_source != funding:
            raise InvalidInput(
                f"Lot {lot} of {self.sku} at {self.site} is booked to funding source "
                f"{existing.funding_source}; a lot keeps one funding source. "
                "Use a distinct lot code for stock paid by another source.",
                field="funding_source",
            )

    def distribute(self, *, encounter_id: UUID, picks: list[dict[str, Any]], actor: str, occurred_at: datetime) -> None:
        """Record stock handed out in an encounter (picks come from `plan_issue`)."""
        self._check_picks(picks, occurred_at)
        self._move(self.Distributed, encounter_id=encounter_id, picks=picks, actor=actor, occurred_at=occurred_at)

    def hand_out_on_shift(
        self, *, tally_id: UUID, picks: list[dict[str, Any]], actor: str, occurred_at: datetime
    ) -> None:
        """Record stock handed out in a shift recorded as a tally (picks come from `plan_issue`)."""
        self._check_picks(picks, occurred_at)
        self._move(self.HandedOutOnShift, tally_id=tally_id, picks=picks, actor=actor, occurred_at=occurred_at)

    def dispatch(
        self, *, transfer_id: UUID, to_site: str, picks: list[dict[str, Any]], actor: str, occurred_at: datetime
    ) -> None:
        """Record stock leaving in a transfer (picks come from `plan_issue`)."""
        self._check_picks(picks, occurred_at)
        self._move(
            self.Dispatched,
            transfer_id=transfer_id,
            to_site=to_site,
            picks=picks,
            actor=actor,
            occurred_at=occurred_at,
        )

    def arrive(
        self, *, transfer_id: UUID, from_site: str, lots: list[dict[str, Any]], actor: str, occurred_at: datetime
    ) -> None:
        """Record stock put in by a transfer; zero-quantity rows (all missing) are dropped."""
        rows = [row for row in lots if row["quantity"] > 0]
        for row in rows:
            self._check_new_lot(row["lot"], row["expires_on"], row["funding_source"], occurred_at)
        if not rows:
            return
        self._move(
            self.Arrived,
            transfer_id=transfer_id,
            from_site=from_site,
            lots=rows,
            actor=actor,
            occurred_at=occurred_at,
        )

    def take_back(
        self, *, transfer_id: UUID, to_site: str, lots: list[dict[str, Any]], actor: str, occurred_at: datetime
    ) -> None:
        """Put back stock dispatched in a transfer that was cancelled."""
        for row in lots:
            self._check_after_count(self.lot(row["lot"]), occurred_at)
        self._move(
            self.Returned, transfer_id=transfer_id, to_site=to_site, lots=lots, actor=actor, occurred_at=occurred_at
        )

    def adjust(
        self,
        *,
        lot: str,
        quantity: int,
        reason: str,
        note: str,
        day: date,
        actor: str,
        occurred_at: datetime,
        expires_on: date | None = None,
        funding_source: str | None = None,
    ) -> None:
        """Correct a lot up or down with a reason; stock found in an unknown lot opens it."""
        if isinstance(quantity, bool) or not isinstance(quantity, int) or quantity == 0:
            raise InvalidInput(
                "quantity must be a whole number other than 0 (negative takes stock out).", field="quantity"
            )
        existing = self.lots.get(lot)
        if existing is None:
            if quantity < 0:
                self.lot(lot)  # raises UnknownLot
            self._check_new_lot(lot, expires_on, funding_source, occurred_at)
        else:
            self._check_after_count(existing, occurred_at)
            expires_on, funding_source = existing.expires_on, existing.funding_source
            if existing.quantity + quantity < 0:
                raise self._shortage(existing.quantity, -quantity, f" in lot {lot}")
        self._move(
            self.Adjusted,
            lot=lot,
            quantity=quantity,
            reason=reason,
            note=note,
            expires_on=expires_on,
            funding_source=funding_source,
            actor=actor,
            occurred_at=occurred_at,
        )

    def count(self, *, lot: str, counted: int, actor: str, occurred_at: datetime) -> int:
        """Record a physical count of a lot; returns the variance (counted minus expected)."""
        if isinstance(counted, bool) or not isinstance(counted, int) or counted < 0:
            raise InvalidInput("counted must be a whole number, 0 or more.", field="counted")
        existing = self.lot(lot)
        if existing.last_moved_at is not None and occurred_at < existing.last_moved_at:
            raise CountConflict(
                f"Lot {lot} of {self.sku} at {self.site} has entries up to "
                f"{existing.last_moved_at.isoformat(timespec='minutes')}, after this count's time "
                f"{occurred_at.isoformat(timespec='minutes')}, so the stock the count is compared with is not "
                "known. Count again and date the count now.",
                field="occurred_at",
            )
        variance = counted - existing.quantity
        self._move(
            self.Counted,
            lot=lot,
            counted=counted,
            variance=variance,
            expires_on=existing.expires_on,
            funding_source=existing.funding_source,
            actor=actor,
            occurred_at=occurred_at,
        )
        return variance
