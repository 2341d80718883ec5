"""The stock of one item at one site, lot by lot."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, date, datetime, tzinfo
from decimal import Decimal
from typing import Any
from uuid import NAMESPACE_URL, UUID, uuid5

from eventsourcing.domain import Aggregate, event

from inventory.domain.errors import (
    CountConflict,
    InsufficientStock,
    InvalidInput,
    InvalidState,
    InventoryError,
    LotExpired,
    LotOnHold,
    NotFound,
    UnknownLot,
)
from inventory.domain.holds import Disposition, Hold, HoldReason
from inventory.domain.lot_history import (
    Entry,
    HistoryFolded,
    Restated,
    Shortfall,
    available_at,
    consequences,
    fold,
    insert,
    walk,
)
from inventory.domain.packs import word_for
from inventory.domain.time_words import day_in_words, moment_in_words
from inventory.domain.values import Lot, parse_enum, positive_quantity


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


_plural = word_for  # "kit", "kits", "boxes": one rule for the unit's word (inventory.domain.packs)


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
        """A change to the stock. Site and SKU ride along so each event can be read on its own.

        `occurred_at` is business time: when it happened (a void, a correction and a restated
        count carry the time of the entry they change, so that they land on its date)."""

        site: str
        sku: str
        actor: str
        occurred_at: datetime

    class Received(Movement):
        """Stock from a supplier. `manufacturer` and `manufacturer_lot` are what the maker printed on
        the box (a recall names them); `lot` is the program's own code for the lot."""

        class_version = 2

        lot: str
        quantity: int
        expires_on: date | None
        funding_source: str | None
        unit_cost: Decimal | None
        purchase_order: str | None
        reference: str | None
        manufacturer: str | None
        manufacturer_lot: str | None

        @staticmethod
        def upcast_v1_v2(state: dict[str, Any]) -> None:
            state.update(manufacturer=None, manufacturer_lot=None)

        def apply(self, aggregate: StockLedger) -> None:
            aggregate._put(self.lot, self.quantity, self.expires_on, self.funding_source, self, "received")

    class Distributed(Movement):
        encounter_id: UUID
        picks: list[dict[str, Any]]

        def apply(self, aggregate: StockLedger) -> None:
            aggregate._take(self.picks, self, str(self.encounter_id), "distributed")

    class HandedOutOnShift(Movement):
        """Stock handed out during a shift whose totals were recorded as a tally."""

        tally_id: UUID
        picks: list[dict[str, Any]]

        def apply(self, aggregate: StockLedger) -> None:
            aggregate._take(self.picks, self, str(self.tally_id), "distributed")

    class IssuedToPartner(Movement):
        """Stock issued in bulk to a partner organisation (inventory.domain.partners)."""

        issue_id: UUID
        partner: str
        picks: list[dict[str, Any]]

        def apply(self, aggregate: StockLedger) -> None:
            aggregate._take(self.picks, self, str(self.issue_id), "to_partner")

    class Mailed(Movement):
        """Stock packed and sent in a mail order (inventory.domain.mail)."""

        mail_order_id: UUID
        picks: list[dict[str, Any]]

        def apply(self, aggregate: StockLedger) -> None:
            aggregate._take(self.picks, self, str(self.mail_order_id), "mailed")

    class MailReturned(Movement):
        """A mail order's parcel back undelivered: its stock back in its lots, on the day it came back."""

        mail_order_id: UUID
        lots: list[dict[str, Any]]

        def apply(self, aggregate: StockLedger) -> None:
            for row in self.lots:
                aggregate._put(
                    row["lot"], row["quantity"], row["expires_on"], row["funding_source"], self, "mailed",
                    str(self.mail_order_id),
                )  # fmt: skip

    class UsedInKits(Movement):
        """Parts taken to assemble kits of `kit_sku` at this site (inventory.domain.kits)."""

        assembly_id: UUID
        kit_sku: str
        picks: list[dict[str, Any]]

        def apply(self, aggregate: StockLedger) -> None:
            aggregate._take(self.picks, self, str(self.assembly_id), "into_kits")

    class BackFromKits(Movement):
        """Parts back in their own lots: kits of `kit_sku` were taken apart."""

        kit_sku: str
        lots: list[dict[str, Any]]

        def apply(self, aggregate: StockLedger) -> None:
            for row in self.lots:
                aggregate._put(row["lot"], row["quantity"], row["expires_on"], row["funding_source"], self, "into_kits")

    class KitsAssembled(Movement):
        """Kits made here: each of `lots` is a kit lot of one make-up, with its `components` (per kit: sku,
        lot, quantity, expiry and funder of each part), so a kit handed out says what is in it."""

        assembly_id: UUID
        lots: list[dict[str, Any]]

        def apply(self, aggregate: StockLedger) -> None:
            for row in self.lots:
                aggregate._put(row["lot"], row["quantity"], row["expires_on"], None, self, "assembled",
                               str(self.assembly_id))  # fmt: skip
                aggregate.parts_of_kits()[row["lot"]] = [dict(part) for part in row["components"]]

    class KitsTakenApart(Movement):
        """Kits of a kit lot taken apart: their parts go back to the lots they came from."""

        picks: list[dict[str, Any]]

        def apply(self, aggregate: StockLedger) -> None:
            aggregate._take(self.picks, self, "", "assembled")

    class Dispatched(Movement):
        transfer_id: UUID
        to_site: str
        picks: list[dict[str, Any]]

        def apply(self, aggregate: StockLedger) -> None:
            aggregate._take(self.picks, self, str(self.transfer_id), "transfer_out")

    class Arrived(Movement):
        """Stock put in by a transfer from another site."""

        transfer_id: UUID
        from_site: str
        lots: list[dict[str, Any]]

        def apply(self, aggregate: StockLedger) -> None:
            for row in self.lots:
                aggregate._put(
                    row["lot"], row["quantity"], row["expires_on"], row["funding_source"], self, "transfer_in",
                    str(self.transfer_id),
                )  # fmt: skip

    class Returned(Movement):
        """Stock back in the sender's lots: its transfer was cancelled while in transit."""

        transfer_id: UUID
        to_site: str
        lots: list[dict[str, Any]]

        def apply(self, aggregate: StockLedger) -> None:
            for row in self.lots:
                aggregate._put(
                    row["lot"], row["quantity"], row["expires_on"], row["funding_source"], self, "returned",
                    str(self.transfer_id),
                )  # fmt: skip

    class LotHeld(Movement):
        """A lot kept off the shelf at this site from `occurred_at`: nothing is issued from it until it
        is released or written off. `recall` is the recall that held it, if one did."""

        lot: str
        reason: str
        recall: str | None

        def apply(self, aggregate: StockLedger) -> None:
            aggregate.lots[self.lot].held = Hold(self.reason, self.occurred_at, self.recall)

    class LotReleased(Movement):
        """A held lot back on the shelf (its check found nothing wrong, or its recall was withdrawn)."""

        lot: str

        def apply(self, aggregate: StockLedger) -> None:
            aggregate.lots[self.lot].held = None

    class WrittenOff(Movement):
        """Held stock taken out for good: destroyed, or returned to its supplier (`disposition`), for the
        hold's reason. The lot stays held."""

        lot: str
        quantity: int
        disposition: str
        reason: str
        recall: str | None
        expires_on: date | None
        funding_source: str | None

        def apply(self, aggregate: StockLedger) -> None:
            aggregate._put(self.lot, -self.quantity, self.expires_on, self.funding_source, self, "written_off")

    class Adjusted(Movement):
        lot: str
        quantity: int
        reason: str
        note: str
        expires_on: date | None
        funding_source: str | None

        def apply(self, aggregate: StockLedger) -> None:
            aggregate._put(self.lot, self.quantity, self.expires_on, self.funding_source, self, "adjusted")

    class Counted(Movement):
        """A count: at `occurred_at` the lot held `counted`; `variance` is what it saw minus what the
        entries before it left, as known when it was recorded (CountRestated changes it later)."""

        lot: str
        counted: int
        variance: int
        expires_on: date | None
        funding_source: str | None

        def apply(self, aggregate: StockLedger) -> None:
            lot = aggregate.lots[self.lot]
            lot.quantity += self.variance
            lot.note(Entry(self.occurred_at, self.originator_version, 0, self.counted, "", "counted"))

    class CountRestated(Movement):
        """A count's variance restated: an entry recorded later, dated before the count (or a void or a
        correction of one), changed what the count expected. The count still saw what it saw, so the
        stock after it is unchanged; `occurred_at` is the count's time. `because` is the ledger version
        of the event that restated it."""

        lot: str
        count: int
        before: int
        after: int
        because: int
        expires_on: date | None
        funding_source: str | None

        def apply(self, aggregate: StockLedger) -> None:
            aggregate.lots[self.lot].quantity += self.after - self.before

    class EntryVoided(Movement):
        """An entry undone. It stays in the log; its effect goes, on its own business time (`occurred_at`
        is the entry's). `entry` is the ledger version of the event voided, `kind` what it was on the
        stock card, and each of `lots` says what the void puts back (or takes out) of a lot."""

        entry: int
        kind: str
        reason: str
        source: str
        lots: list[dict[str, Any]]

        def apply(self, aggregate: StockLedger) -> None:
            for row in self.lots:
                lot = aggregate.lots[row["lot"]]
                lot.quantity += row["quantity"]
                found = False
                for entry in lot.entries if lot.history is not None else []:
                    if entry.ref == self.entry:
                        entry.delta, entry.counted, found = 0, None, True
                if not found:
                    lot.history = None  # it was folded away: the application replays this ledger

    class EntryCorrected(Movement):
        """A receipt's or an adjustment's quantity, or a count's figure, corrected from `was` to `now`
        on the entry's own business time; `quantity` is the change to the lot's stock from there."""

        entry: int
        kind: str
        reason: str
        lot: str
        was: int
        now: int
        quantity: int
        expires_on: date | None
        funding_source: str | None

        def apply(self, aggregate: StockLedger) -> None:
            lot = aggregate.lots[self.lot]
            lot.quantity += self.quantity
            found = False
            for entry in lot.entries if lot.history is not None else []:
                if entry.ref == self.entry:
                    found = True
                    if entry.counted is not None:
                        entry.counted = self.now
                    else:
                        entry.delta = self.now
            if not found:
                lot.history = None  # it was folded away: the application replays this ledger

    def _move(self, event_class: type[StockLedger.Movement], **kwargs: Any) -> None:
        self.trigger_event(event_class, site=self.site, sku=self.sku, **kwargs)

    # ----- state helpers (run on replay too: no checks here) ------------------------------

    def _put(
        self,
        code: str,
        quantity: int,
        expires_on: date | None,
        funding: str | None,
        made_by: StockLedger.Movement,
        kind: str,
        source: str = "",
    ) -> None:
        lot = self.lots.get(code)
        if lot is None:
            lot = self.lots[code] = Lot(code, 0, expires_on, funding)
        lot.quantity += quantity
        lot.note(Entry(made_by.occurred_at, made_by.originator_version, quantity, None, source, kind))

    def _take(self, picks: list[dict[str, Any]], made_by: StockLedger.Movement, source: str, kind: str) -> None:
        for pick in picks:
            lot = self.lots[pick["lot"]]
            lot.quantity -= pick["quantity"]
            lot.note(Entry(made_by.occurred_at, made_by.originator_version, -pick["quantity"], None, source, kind))

    # ----- the history rule: what a change to a lot's history does ------------------------

    def _effects(
        self, lot: Lot, change: Callable[[list[Entry]], None], refuse: Callable[[Shortfall], InventoryError]
    ) -> list[Restated]:
        """The counts a change restates; refused (by `refuse`) if it leaves the lot below zero anywhere."""
        before = lot.entries
        after = [replace(entry) for entry in before]
        change(after)
        result = consequences(before, after)
        if result.shortfall is not None:
            raise refuse(result.shortfall)
        return result.restated

    def _entry_effects(self, lot: Lot, at: datetime, delta: int, zone: tzinfo) -> list[Restated]:
        """An entry of `delta` at `at` (the next version): quick when it is the lot's latest."""
        history = lot.entries
        if not history or history[-1].at <= at:
            if lot.quantity + delta < 0:
                raise self._shortage(lot.quantity, -delta, f" in lot {lot.code}")
            return []
        lot.whole_at(at)
        new = Entry(at, self.version + 1, delta)

        def late(shortfall: Shortfall) -> InventoryError:
            return InsufficientStock(
                f"Lot {lot.code} of {self.sku} at {self.site} could not have covered this entry, dated "
                f"{_when(at, zone)}: counting what was recorded after it, the lot would be "
                f"{-shortfall.balance} {_plural(-shortfall.balance, self.unit)} short by "
                f"{_when(shortfall.at, zone)}. Check the entry's time and quantity.",
                field="quantity",
            )

        return self._effects(lot, lambda entries: insert(entries, new), late)

    def _recording(self, event_class: type[StockLedger.Movement], restated: list[tuple[Lot, Restated]],
                   **kwargs: Any) -> None:  # fmt: skip
        """Trigger an event, then restate the counts it changed (each CountRestated names it)."""
        self._move(event_class, **kwargs)
        because = self.version
        for lot, change in restated:
            self._move(
                self.CountRestated,
                lot=lot.code,
                count=change.entry.ref,
                before=change.before,
                after=change.after,
                because=because,
                expires_on=lot.expires_on,
                funding_source=lot.funding_source,
                actor=kwargs["actor"],
                occurred_at=change.entry.at,
            )

    # ----- queries ------------------------------------------------------------------------

    @property
    def on_hand(self) -> int:
        """Units on hand across all lots, expired ones included."""
        return sum(lot.quantity for lot in self.lots.values())

    def usable_on(self, day: date) -> int:
        """Units that may be issued on `day` (expired and held lots excluded)."""
        return sum(
            lot.quantity for lot in self.lots.values() if not lot.is_expired_on(day) and not lot.is_held_at(None)
        )

    @property
    def held_quantity(self) -> int:
        """Units in lots held now."""
        return sum(lot.quantity for lot in self.lots.values() if lot.is_held_at(None))

    def lot(self, code: str) -> Lot:
        """The named lot, or UnknownLot."""
        try:
            return self.lots[code]
        except KeyError:
            raise UnknownLot(f"There is no lot {code} of {self.sku} at {self.site}.", field="lot") from None

    def parts_of_kits(self) -> dict[str, list[dict[str, Any]]]:
        """What one kit of each kit lot holds (empty for an item that is not a kit; a ledger restored from a
        snapshot taken before kits existed has none yet)."""
        parts: dict[str, list[dict[str, Any]]] = self.__dict__.setdefault("kit_parts", {})
        return parts

    def fold_history(self) -> None:
        """Keep each lot's history small (inventory.domain.lot_history.fold); state only, no event."""
        for lot in self.lots.values():
            if lot.history is not None:
                lot.history, since = fold(lot.history)
                if since is not None:
                    lot.history_from = since if lot.history_from is None else max(since, lot.history_from)

    def entries_for(self, source: str) -> list[int]:
        """The ledger versions of the entries a visit, tally or transfer made here (a visit with two lines
        of one item makes two), oldest first."""
        refs = sorted({entry.ref for lot in self.lots.values() for entry in lot.entries if entry.source == source})
        if not refs and any(lot.history_from is not None for lot in self.lots.values()):
            raise HistoryFolded(source)
        return refs

    def plan_issue(
        self, quantity: int, day: date, lot: str | None = None, at: datetime | None = None, zone: tzinfo = UTC
    ) -> list[dict[str, Any]]:
        """Choose lots for an issue at `at` (now if not given): the named one, or first-expiry-first-out.

        A lot gives what it held at `at`, less what entries recorded after it (dated later) took: an
        entry recorded late never takes what a later one already handed out."""
        positive_quantity(quantity)
        when = "" if at is None else self._late_words(at, zone)

        def available(candidate: Lot) -> int:
            if at is None:
                return candidate.quantity
            candidate.whole_at(at)
            return available_at(candidate.entries, at, candidate.quantity)

        if lot is not None:
            chosen = self.lot(lot)
            if chosen.is_held_at(at):
                raise self._on_hold(chosen)
            if chosen.is_expired_on(day):
                raise LotExpired(
                    f"Lot {lot} of {self.sku} at {self.site} expired on "
                    f"{_day(chosen.expires_on)}; it cannot be issued. "
                    "Record it as an expired adjustment.",
                    field="lot",
                )
            if available(chosen) < quantity:
                raise self._shortage(max(available(chosen), 0), quantity, f" in lot {lot}{when}")
            return [_pick(chosen, quantity)]
        usable = sorted(
            (x for x in self.lots.values() if available(x) > 0 and not x.is_expired_on(day) and not x.is_held_at(at)),
            key=lambda x: (x.expires_on or date.max, x.code),
        )
        picks: list[dict[str, Any]] = []
        wanted = quantity
        for candidate in usable:
            take = min(wanted, available(candidate))
            picks.append(_pick(candidate, take))
            wanted -= take
            if wanted == 0:
                return picks
        held = 0 if when else self.held_quantity
        expired = 0 if when else self.on_hand - held - self.usable_on(day)
        raise self._shortage(quantity - wanted, quantity, when, expired=expired, held=held)

    def _on_hold(self, lot: Lot) -> LotOnHold:
        assert lot.held is not None
        return LotOnHold(
            f"Lot {lot.code} of {self.sku} at {self.site} is held ({lot.held.words().lower()}) since "
            f"{day_in_words(lot.held.since.date())}; it cannot be issued. Choose another lot, or release "
            "the hold if the lot is fine.",
            field="lot",
        )

    def _late_words(self, at: datetime, zone: tzinfo) -> str:
        """Words for an entry dated before the ledger's latest: the time it is dated."""
        latest = max((lot.entries[-1].at for lot in self.lots.values() if lot.entries), default=None)
        if latest is None or latest <= at:
            return ""
        return f" on {_when(at, zone)}, the time of this entry (less what was recorded after it)"

    def _shortage(self, available: int, wanted: int, where: str, expired: int = 0, held: int = 0) -> InsufficientStock:
        message = (
            f"Only {available} {_plural(available, self.unit)} of {self.sku} left at "
            f"{self.site}{where}; {wanted} requested."
        )
        if expired:
            message += f" Another {expired} are in expired lots and cannot be issued."
        if held:
            message += f" Another {held} are in held lots (a recall, damage or a check) and cannot be issued."
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
        manufacturer: str | None = None,
        manufacturer_lot: str | None = None,
        zone: tzinfo = UTC,
    ) -> None:
        """Record stock arriving from a supplier (or an opening balance)."""
        positive_quantity(quantity)
        self._check_new_lot(lot, expires_on, funding_source)
        if unit_cost is not None and unit_cost < 0:
            raise InvalidInput("unit_cost must not be negative.", field="unit_cost")
        existing = self.lots.get(lot)
        restated = [] if existing is None else self._entry_effects(existing, occurred_at, quantity, zone)
        self._recording(
            self.Received,
            [(existing, change) for change in restated] if existing else [],
            lot=lot,
            quantity=quantity,
            expires_on=expires_on,
            funding_source=funding_source,
            unit_cost=unit_cost,
            purchase_order=purchase_order,
            reference=reference,
            manufacturer=manufacturer,
            manufacturer_lot=manufacturer_lot,
            actor=actor,
            occurred_at=occurred_at,
        )

    def _check_new_lot(self, lot: str, expires_on: date | None, funding: str | None) -> None:
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
        if existing.expires_on != expires_on:
            raise InvalidInput(
                f"Lot {lot} of {self.sku} at {self.site} is recorded with expiry "
                f"{_day(existing.expires_on)}, not {_day(expires_on)}. Check the label.",
                field="expires_on",
            )
        if existing.funding_source != funding:
            raise InvalidInput(
                f"Lot {lot} of {self.sku} at {self.site} is booked to funding source "
                f"{existing.funding_source}; a lot keeps one funding source. "
                "Use a distinct lot code for stock paid by another source.",
                field="funding_source",
            )

    def _take_effects(self, picks: list[dict[str, Any]], at: datetime, zone: tzinfo) -> list[tuple[Lot, Restated]]:
        restated: list[tuple[Lot, Restated]] = []
        for pick in picks:
            lot = self.lot(pick["lot"])
            restated += [(lot, change) for change in self._entry_effects(lot, at, -pick["quantity"], zone)]
        return restated

    def _put_effects(self, rows: list[dict[str, Any]], at: datetime, zone: tzinfo) -> list[tuple[Lot, Restated]]:
        restated: list[tuple[Lot, Restated]] = []
        for row in rows:
            lot = self.lots.get(row["lot"])
            if lot is not None:
                restated += [(lot, change) for change in self._entry_effects(lot, at, row["quantity"], zone)]
        return restated

    def distribute(
        self,
        *,
        encounter_id: UUID,
        picks: list[dict[str, Any]],
        actor: str,
        occurred_at: datetime,
        zone: tzinfo = UTC,
    ) -> None:
        """Record stock handed out in an encounter (picks come from `plan_issue`)."""
        restated = self._take_effects(picks, occurred_at, zone)
        self._recording(
            self.Distributed, restated, encounter_id=encounter_id, picks=picks, actor=actor, occurred_at=occurred_at
        )

    def hand_out_on_shift(
        self,
        *,
        tally_id: UUID,
        picks: list[dict[str, Any]],
        actor: str,
        occurred_at: datetime,
        zone: tzinfo = UTC,
    ) -> None:
        """Record stock handed out in a shift recorded as a tally (picks come from `plan_issue`)."""
        restated = self._take_effects(picks, occurred_at, zone)
        self._recording(
            self.HandedOutOnShift, restated, tally_id=tally_id, picks=picks, actor=actor, occurred_at=occurred_at
        )

    def issue_to_partner(
        self,
        *,
        issue_id: UUID,
        partner: str,
        picks: list[dict[str, Any]],
        actor: str,
        occurred_at: datetime,
        zone: tzinfo = UTC,
    ) -> None:
        """Record stock issued to a partner organisation (picks come from `plan_issue`)."""
        restated = self._take_effects(picks, occurred_at, zone)
        self._recording(
            self.IssuedToPartner,
            restated,
            issue_id=issue_id,
            partner=partner,
            picks=picks,
            actor=actor,
            occurred_at=occurred_at,
        )

    def mail(
        self,
        *,
        mail_order_id: UUID,
        picks: list[dict[str, Any]],
        actor: str,
        occurred_at: datetime,
        zone: tzinfo = UTC,
    ) -> None:
        """Record stock sent in a mail order (picks come from `plan_issue`)."""
        restated = self._take_effects(picks, occurred_at, zone)
        self._recording(
            self.Mailed, restated, mail_order_id=mail_order_id, picks=picks, actor=actor, occurred_at=occurred_at
        )

    def use_in_kits(
        self,
        *,
        assembly_id: UUID,
        kit_sku: str,
        picks: list[dict[str, Any]],
        actor: str,
        occurred_at: datetime,
        zone: tzinfo = UTC,
    ) -> None:
        """Record parts taken to assemble kits (picks come from `plan_issue`)."""
        restated = self._take_effects(picks, occurred_at, zone)
        self._recording(self.UsedInKits, restated, assembly_id=assembly_id, kit_sku=kit_sku, picks=picks,
                        actor=actor, occurred_at=occurred_at)  # fmt: skip

    def assemble(
        self, *, assembly_id: UUID, lots: list[dict[str, Any]], actor: str, occurred_at: datetime, zone: tzinfo = UTC
    ) -> None:
        """Put in the kit lots an assembly made (inventory.domain.kits.kit_lots, each with its code)."""
        for row in lots:
            if row["lot"] in self.lots:
                raise InvalidInput(f"Lot {row['lot']} of {self.sku} at {self.site} exists already: choose another.",
                                   field="lot")  # fmt: skip
            if self.tracks_expiry and row["expires_on"] is None:
                raise InvalidInput(
                    f"{self.sku} tracks expiry, and none of the parts of lot {row['lot']} has an expiry date.",
                    field="lot",
                )
        restated = self._put_effects(lots, occurred_at, zone)
        self._recording(self.KitsAssembled, restated, assembly_id=assembly_id, lots=lots, actor=actor,
                        occurred_at=occurred_at)  # fmt: skip

    def take_apart(
        self, *, lot: str, quantity: int, actor: str, occurred_at: datetime, zone: tzinfo = UTC
    ) -> list[dict[str, Any]]:
        """Take `quantity` kits of a kit lot apart; returns the parts to put back ({sku, lot, quantity, expiry,
        funder}, for all of them)."""
        positive_quantity(quantity)
        parts = self.parts_of_kits().get(lot)
        if parts is None:
            raise InvalidInput(f"Lot {lot} of {self.sku} at {self.site} was not assembled here.", field="lot")
        found = self.lot(lot)
        if found.quantity < quantity:
            raise self._shortage(max(found.quantity, 0), quantity, f" in lot {lot}")
        picks = [{"lot": lot, "quantity": quantity, "expires_on": found.expires_on, "funding_source": None}]
        restated = self._take_effects(picks, occurred_at, zone)
        self._recording(self.KitsTakenApart, restated, picks=picks, actor=actor, occurred_at=occurred_at)
        return [dict(part, quantity=part["quantity"] * quantity) for part in parts]

    def back_from_kits(
        self, *, kit_sku: str, lots: list[dict[str, Any]], actor: str, occurred_at: datetime, zone: tzinfo = UTC
    ) -> None:
        """Put back the parts of kits taken apart, in their own lots."""
        for row in lots:
            self.lot(row["lot"])
        restated = self._put_effects(lots, occurred_at, zone)
        self._recording(self.BackFromKits, restated, kit_sku=kit_sku, lots=lots, actor=actor, occurred_at=occurred_at)

    def mail_returned(
        self,
        *,
        mail_order_id: UUID,
        lots: list[dict[str, Any]],
        actor: str,
        occurred_at: datetime,
        zone: tzinfo = UTC,
    ) -> None:
        """Put back the stock of a returned parcel, in the lots it was packed from."""
        for row in lots:
            self.lot(row["lot"])
        restated = self._put_effects(lots, occurred_at, zone)
        self._recording(
            self.MailReturned, restated, mail_order_id=mail_order_id, lots=lots, actor=actor, occurred_at=occurred_at
        )

    def dispatch(
        self,
        *,
        transfer_id: UUID,
        to_site: str,
        picks: list[dict[str, Any]],
        actor: str,
        occurred_at: datetime,
        zone: tzinfo = UTC,
    ) -> None:
        """Record stock leaving in a transfer (picks come from `plan_issue`)."""
        restated = self._take_effects(picks, occurred_at, zone)
        self._recording(
            self.Dispatched,
            restated,
            transfer_id=transfer_id,
            to_site=to_site,
            picks=picks,
            actor=actor,
            occurred_at=occurred_at,
        )

    def arrive(
        self,
        *,
        transfer_id: UUID,
        from_site: str,
        lots: list[dict[str, Any]],
        actor: str,
        occurred_at: datetime,
        zone: tzinfo = UTC,
    ) -> None:
        """Record stock put in by a transfer; zero-quantity rows (all missing) are dropped."""
        rows = [row for row in lots if row["quantity"] > 0]
        for row in rows:
            self._check_new_lot(row["lot"], row["expires_on"], row["funding_source"])
        if not rows:
            return
        restated = self._put_effects(rows, occurred_at, zone)
        self._recording(
            self.Arrived,
            restated,
            transfer_id=transfer_id,
            from_site=from_site,
            lots=rows,
            actor=actor,
            occurred_at=occurred_at,
        )

    def take_back(
        self,
        *,
        transfer_id: UUID,
        to_site: str,
        lots: list[dict[str, Any]],
        actor: str,
        occurred_at: datetime,
        zone: tzinfo = UTC,
    ) -> None:
        """Put back stock dispatched in a transfer that was cancelled."""
        for row in lots:
            self.lot(row["lot"])
        restated = self._put_effects(lots, occurred_at, zone)
        self._recording(
            self.Returned,
            restated,
            transfer_id=transfer_id,
            to_site=to_site,
            lots=lots,
            actor=actor,
            occurred_at=occurred_at,
        )

    def hold(self, *, lot: str, reason: str, actor: str, occurred_at: datetime, recall: str | None = None) -> bool:
        """Keep a lot off the shelf from `occurred_at`; False (nothing recorded) if it is held already."""
        held = self.lot(lot)
        reason = parse_enum(HoldReason, reason, "reason")
        if held.held is not None:
            return False
        self._move(self.LotHeld, lot=lot, reason=reason, recall=recall, actor=actor, occurred_at=occurred_at)
        return True

    def release(self, *, lot: str, actor: str, occurred_at: datetime) -> None:
        """Put a held lot back on the shelf."""
        held = self.lot(lot)
        if held.held is None:
            raise InvalidState(f"Lot {lot} of {self.sku} at {self.site} is not held.", field="lot")
        self._move(self.LotReleased, lot=lot, actor=actor, occurred_at=occurred_at)

    def write_off(
        self, *, lot: str, quantity: int, disposition: str, actor: str, occurred_at: datetime, zone: tzinfo = UTC
    ) -> None:
        """Take held stock out for good: destroyed or returned to the supplier."""
        positive_quantity(quantity)
        disposition = parse_enum(Disposition, disposition, "disposition")
        held = self.lot(lot)
        if held.held is None:
            raise InvalidState(
                f"Lot {lot} of {self.sku} at {self.site} is not held: hold it first (a recall, damage or a "
                "check), then write it off.",
                field="lot",
            )
        restated = [(held, change) for change in self._entry_effects(held, occurred_at, -quantity, zone)]
        self._recording(
            self.WrittenOff,
            restated,
            lot=lot,
            quantity=quantity,
            disposition=disposition,
            reason=held.held.reason,
            recall=held.held.recall,
            expires_on=held.expires_on,
            funding_source=held.funding_source,
            actor=actor,
            occurred_at=occurred_at,
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
        zone: tzinfo = UTC,
    ) -> None:
        """Correct a lot up or down with a reason; stock found in an unknown lot opens it."""
        if isinstance(quantity, bool) or not isinstance(quantity, int) or quantity == 0:
            raise InvalidInput(
                "quantity must be a whole number other than 0 (negative takes stock out).", field="quantity"
            )
        existing = self.lots.get(lot)
        restated: list[tuple[Lot, Restated]] = []
        if existing is None:
            if quantity < 0:
                self.lot(lot)  # raises UnknownLot
            self._check_new_lot(lot, expires_on, funding_source)
        else:
            expires_on, funding_source = existing.expires_on, existing.funding_source
            existing.whole_at(occurred_at)
            at_its_time = available_at(existing.entries, occurred_at, existing.quantity)
            if at_its_time + quantity < 0:
                raise self._shortage(
                    max(at_its_time, 0), -quantity, f" in lot {lot}{self._late_words(occurred_at, zone)}"
                )
            restated = [(existing, change) for change in self._entry_effects(existing, occurred_at, quantity, zone)]
        self._recording(
            self.Adjusted,
            restated,
            lot=lot,
            quantity=quantity,
            reason=reason,
            note=note,
            expires_on=expires_on,
            funding_source=funding_source,
            actor=actor,
            occurred_at=occurred_at,
        )

    def count(self, *, lot: str, counted: int, actor: str, occurred_at: datetime, zone: tzinfo = UTC) -> int:
        """Record a physical count of a lot; returns the variance (counted minus expected).

        A count dated before entries already recorded is an observation at its own time: the variance
        is against what the entries before it left, and the entries after it count on from what it saw
        (a later count's variance is restated). Refused if they would then take the lot below zero."""
        if isinstance(counted, bool) or not isinstance(counted, int) or counted < 0:
            raise InvalidInput("counted must be a whole number, 0 or more.", field="counted")
        existing = self.lot(lot)
        new = Entry(occurred_at, self.version + 1, 0, counted, "", "counted")
        history = existing.entries
        if not history or history[-1].at <= occurred_at:
            variance, restated = counted - existing.quantity, []
        else:
            existing.whole_at(occurred_at)

            def short(shortfall: Shortfall) -> InventoryError:
                return CountConflict(
                    f"A count of {counted} in lot {lot} of {self.sku} at {self.site} dated "
                    f"{_when(occurred_at, zone)} is less than what was recorded after it took: the lot "
                    f"would be {-shortfall.balance} {_plural(-shortfall.balance, self.unit)} short by "
                    f"{_when(shortfall.at, zone)}. Check the count, or date it now.",
                    field="counted",
                )

            changes = self._effects(existing, lambda entries: insert(entries, new), short)
            variance = walk(_with(history, new))[1][new.ref]
            restated = [(existing, change) for change in changes if change.entry.ref != new.ref]
        self._recording(
            self.Counted,
            restated,
            lot=lot,
            counted=counted,
            variance=variance,
            expires_on=existing.expires_on,
            funding_source=existing.funding_source,
            actor=actor,
            occurred_at=occurred_at,
        )
        return variance

    # ----- voids and corrections ----------------------------------------------------------

    def entry(self, ref: int) -> list[tuple[Lot, Entry]]:
        """Each lot's part of the entry a ledger version made (a visit may take from several lots)."""
        found = [(lot, entry) for lot in self.lots.values() for entry in lot.entries if entry.ref == ref]
        if not found and any(lot.history_from is not None for lot in self.lots.values()):
            raise HistoryFolded(f"entry {ref}")
        if not found:
            raise NotFound(f"Entry {ref} of {self.sku} at {self.site} does not change any lot.", field="entry")
        return found

    def void(self, *, entry: int, reason: str, actor: str, zone: tzinfo = UTC) -> None:
        """Undo an entry on its own business time: what it took goes back, what it put in comes out.

        Refused if it is void already, or if what was recorded after it needs the stock it put in."""
        parts = self.entry(entry)
        if all(part.delta == 0 and part.counted is None for _, part in parts):
            raise InvalidState("This entry is void already.", field="entry")
        at, kind, source = parts[0][1].at, parts[0][1].kind, parts[0][1].source
        rows: list[dict[str, Any]] = []
        restated: list[tuple[Lot, Restated]] = []
        for lot, part in parts:

            def short(shortfall: Shortfall, lot: Lot = lot) -> InventoryError:
                return InsufficientStock(
                    f"What was recorded after this entry used the stock it put in lot {lot.code}: voiding it would "
                    f"leave the lot {-shortfall.balance} {_plural(-shortfall.balance, self.unit)} short by "
                    f"{_when(shortfall.at, zone)}. Void or correct those entries first, or correct "
                    "this one to what really came.",
                    field="entry",
                )

            def voided(entries: list[Entry], ref: int = entry) -> None:
                for one in entries:
                    if one.ref == ref:
                        one.delta, one.counted = 0, None

            effect = -part.delta if part.counted is None else -walk(lot.entries)[1][part.ref]
            changes = self._effects(lot, voided, short)
            restated += [(lot, change) for change in changes if change.entry.ref != entry]
            rows.append(
                {
                    "lot": lot.code,
                    "quantity": effect,
                    "expires_on": lot.expires_on,
                    "funding_source": lot.funding_source,
                }
            )
        self._recording(
            self.EntryVoided,
            restated,
            entry=entry,
            kind=kind,
            reason=reason,
            source=source,
            lots=rows,
            actor=actor,
            occurred_at=at,
        )

    def correct(self, *, entry: int, now: int, reason: str, actor: str, zone: tzinfo = UTC) -> None:
        """Correct a receipt's or an adjustment's quantity, or a count's figure, on its own time."""
        parts = self.entry(entry)
        [(lot, part)] = parts if len(parts) == 1 else [(None, None)]
        if lot is None or part is None or part.kind not in ("received", "adjusted", "counted"):
            raise InvalidInput(
                "Only a receipt, an adjustment or a count can be corrected; void this entry and record it again.",
                field="entry",
            )
        if part.delta == 0 and part.counted is None:
            raise InvalidState("This entry is void; record it again instead.", field="entry")
        was = part.counted if part.counted is not None else part.delta
        if now == was:
            raise InvalidInput(f"The entry already says {was}.", field="quantity")
        if part.kind == "received" and now <= 0:
            raise InvalidInput("A receipt's quantity must be at least 1; void it if nothing came.", field="quantity")
        if part.kind == "adjusted" and now == 0:
            raise InvalidInput("An adjustment of 0 changes nothing; void it instead.", field="quantity")
        if part.kind == "counted" and now < 0:
            raise InvalidInput("A count is 0 or more.", field="quantity")

        def short(shortfall: Shortfall) -> InventoryError:
            return InsufficientStock(
                f"With {now} here, lot {lot.code} would be {-shortfall.balance} "
                f"{_plural(-shortfall.balance, self.unit)} short by {_when(shortfall.at, zone)}: "
                "what was recorded after it used the stock. Correct those entries first.",
                field="quantity",
            )

        def corrected(entries: list[Entry]) -> None:
            for one in entries:
                if one.ref == entry:
                    if one.counted is not None:
                        one.counted = now
                    else:
                        one.delta = now

        change = now - was
        changes = self._effects(lot, corrected, short)
        restated = [(lot, c) for c in changes if c.entry.ref != entry]
        self._recording(
            self.EntryCorrected,
            restated,
            entry=entry,
            kind=part.kind,
            reason=reason,
            lot=lot.code,
            was=was,
            now=now,
            quantity=change,
            expires_on=lot.expires_on,
            funding_source=lot.funding_source,
            actor=actor,
            occurred_at=part.at,
        )


def _with(history: list[Entry], new: Entry) -> list[Entry]:
    entries = list(history)
    insert(entries, new)
    return entries


def _day(day: date | None) -> str:
    return "no expiry date" if day is None else day_in_words(day)


def _when(moment: datetime, zone: tzinfo) -> str:
    """Tue 2 Dec, 01:08 in the program's zone (with the year when it is not this year)."""
    return moment_in_words(moment, zone, datetime.now(zone).year)
