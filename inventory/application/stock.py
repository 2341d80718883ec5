"""Verbs that move stock at one site: receipts, encounters, adjustments and counts."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any
from uuid import UUID

from eventsourcing.application import AggregateNotFoundError

from inventory.application import rules as check
from inventory.application.answers import (
    encounter_view,
    ledger_view,
)
from inventory.application.core import InventoryCore, replay_events
from inventory.application.recalls import hold_if_recalled
from inventory.domain import (
    Encounter,
    Recall,
    StockLedger,
    encounter_id,
    ledger_id,
    recall_id,
)
from inventory.domain.errors import (
    IdempotencyConflict,
    InvalidInput,
)
from inventory.domain.participant import check_participant_code
from inventory.domain.reach import channel_for_site
from inventory.domain.text import CODE_LENGTH, NAME_LENGTH, clean_code, clean_lot, clean_note, clean_text
from inventory.domain.values import (
    AdjustmentReason,
    parse_enum,
)


class StockVerbs(InventoryCore):
    """Receive, hand out, adjust and count stock."""

    def receive_stock(
        self,
        *,
        site: str,
        sku: str,
        lot: str,
        quantity: int,
        expires_on: date | str | None,
        funding_source: str,
        unit_cost: Decimal | str | None = None,
        purchase_order: str | None = None,
        reference: str | None = None,
        manufacturer: str | None = None,
        manufacturer_lot: str | None = None,
        actor: str,
        occurred_at: datetime | None = None,
    ) -> dict[str, Any]:
        """Record a delivery into a site's stock. `manufacturer` and `manufacturer_lot` are what the maker
        printed on the box: a recall names them (a lot recalled already is held as it comes in)."""
        moment = check.when(occurred_at, zone=self.zone)
        quantity = check.QUANTITY.check(quantity, "quantity")
        expiry = check.a_date(expires_on, "expires_on")
        cost = check.money(unit_cost)
        lot_code = clean_lot(lot) or ""
        order_number = clean_text(purchase_order, "purchase_order", max_length=CODE_LENGTH, required=False) or None
        delivery = clean_text(reference, "reference", max_length=NAME_LENGTH, required=False) or None
        place, item = self._site(site), self._item(sku)
        source = self._funding(funding_source)
        self._check_funding(source, item, self.business_day(moment))
        maker = check.maker(manufacturer, manufacturer_lot)
        recall_ids = [] if maker is None else [recall_id(*maker)]

        def attempt() -> dict[str, Any]:
            ledger = self._open_ledger(place, item)
            ledger.receive(
                lot=lot_code,
                quantity=quantity,
                expires_on=expiry,
                funding_source=source.code,
                unit_cost=cost,
                purchase_order=order_number,
                reference=delivery,
                manufacturer=None if maker is None else maker[0],
                manufacturer_lot=None if maker is None else maker[1],
                actor=actor,
                occurred_at=moment,
                zone=self.zone,
            )
            recall = self._get(Recall, recall_ids[0]) if recall_ids else None
            hold_if_recalled(ledger, [lot_code], moment, actor, recall=recall)
            recordings = self.save(ledger, *([recall] if recall is not None else []))
            return dict(ledger_view(ledger), position=recordings[-1].notification.id)

        return self._retrying([ledger_id(place.code, item.sku), *recall_ids], attempt)

    def record_encounter(
        self,
        *,
        key: str,
        site: str,
        lines: list[dict[str, Any]],
        participant_code: str | None = None,
        reversals_reported: int | None = 0,
        syringes_collected: int | None = 0,
        refill_reason: str | None = None,
        recipient: str | None = None,
        for_others: int | None = None,
        channel: str | None = None,
        actor: str,
        occurred_at: datetime | None = None,
    ) -> dict[str, Any]:
        """Record what one visitor received; a repeat of the same key returns the first result.

        `recipient` (a recipient type; "unknown" if not given), `for_others` (about how many other
        people a visitor collecting for others reaches; None if not asked) and `channel` (the site's
        usual one if not given) say who it was for and how it left."""
        key = check.client_key(key)
        return self._record_visit(
            encounter_id(actor, key),
            {
                "key": key,
                "site": site,
                "lines": lines,
                "participant_code": participant_code,
                "reversals_reported": reversals_reported,
                "syringes_collected": syringes_collected,
                "refill_reason": refill_reason,
                "recipient": recipient,
                "for_others": for_others,
                "channel": channel,
                "actor": actor,
                "occurred_at": occurred_at,
            },
        )

    def _record_visit(self, the_id: UUID, asked: dict[str, Any], machine: bool = False) -> dict[str, Any]:
        """Record a visit (or a vending machine's dispense, `machine`) named `the_id`, once."""
        site_code = clean_code(asked["site"], "site")
        code = check_participant_code(asked["participant_code"])
        reversals = check.reported(asked["reversals_reported"], "reversals_reported", check.VISIT_REVERSALS)
        collected = check.reported(asked["syringes_collected"], "syringes_collected", check.VISIT_SYRINGES)
        # A visit may hand out nothing: someone returning used syringes, or reporting a reversal.
        lines = asked["lines"]
        parsed = check.issue_lines(lines) if lines or not (reversals or collected) else []
        reason = check.refill_reason(asked["refill_reason"])
        recipient = self._recipient(asked["recipient"])
        others = check.for_others(asked["for_others"], check.VISIT_FOR_OTHERS)
        occurred_at = asked["occurred_at"]
        request = {
            "site": site_code,
            "lines": sorted((line.sku, line.lot or "", line.quantity) for line in parsed),
            "participant_code": code,
            "reversals": reversals,
            "collected": collected,
            "refill_reason": reason,
            "occurred_at": occurred_at,
        }
        # Who it was for and how it left count only when given, so that a visit sent again from a form
        # older than these questions is still the same visit.
        for name in ("recipient", "for_others", "channel"):
            if asked[name] is not None:
                request[name] = asked[name]
        digest = check.fingerprint(request)
        moment = check.when(occurred_at, zone=self.zone)
        actor = asked["actor"]

        def attempt() -> dict[str, Any]:
            earlier = self._earlier_encounter(the_id)
            if earlier is not None:
                return self._repeat(earlier, digest)
            place = self._site(site_code)
            way = check.channel(asked["channel"], channel_for_site(place.kind))

            def take(ledger: StockLedger, picks: list[dict[str, Any]]) -> None:
                ledger.distribute(encounter_id=the_id, picks=picks, actor=actor, occurred_at=moment, zone=self.zone)

            ledgers, issued = self._issue_lines(place, parsed, moment, take)
            recorded = {
                "key": asked["key"],
                "fingerprint": digest,
                "site": place.code,
                "lines": issued,
                "participant_code": code,
                "reversals_reported": reversals,
                "syringes_collected": collected,
                "refill_reason": reason,
                "actor": actor,
                "occurred_at": moment,
                "recipient": recipient,
                "for_others": others,
                "channel": way,
            }
            encounter = Encounter.dispensed(the_id, **recorded) if machine else Encounter(**recorded)
            self.save(encounter, *ledgers)
            return encounter_view(encounter)

        ids = [the_id, *(ledger_id(site_code, line.sku) for line in parsed)]
        return self._retrying(ids, attempt)

    def _earlier_encounter(self, the_id: UUID) -> Encounter | None:
        """The encounter already recorded with this id, if any: one indexed query when there is none.

        (Encounters are never snapshotted, so the repository's look in the snapshot table is skipped.)
        """
        assert self.repository.cache is not None
        try:
            cached = self.repository.cache.get(the_id)
        except KeyError:
            if not list(self.events.get(the_id, limit=1)):
                return None
            return self._get(Encounter, the_id)
        assert isinstance(cached, Encounter)
        return cached

    @staticmethod
    def _repeat(earlier: Encounter, digest: str) -> dict[str, Any]:
        if earlier.fingerprint != digest:
            raise IdempotencyConflict(
                "This request key was already used for a different encounter. "
                "Reload the form to get a new key and enter the visit again.",
                field="key",
            )
        return encounter_view(earlier)

    def encounter(self, key: str, actor: str) -> dict[str, Any]:
        """An encounter as recorded, by the client key of the person who recorded it."""
        found = self._get(Encounter, encounter_id(actor, check.client_key(key)))
        if found is None:
            raise InvalidInput(f"No encounter was recorded with key {key}.", field="key")
        return encounter_view(found)

    def adjust_stock(
        self,
        *,
        site: str,
        sku: str,
        lot: str,
        quantity: int,
        reason: str,
        note: str = "",
        expires_on: date | str | None = None,
        funding_source: str | None = None,
        actor: str,
        occurred_at: datetime | None = None,
    ) -> dict[str, Any]:
        """Correct a lot with a reason: damaged, lost, expired, found, returned, correction."""
        moment = check.when(occurred_at, zone=self.zone)
        quantity = check.ADJUSTMENT.check(quantity, "quantity")
        why = parse_enum(AdjustmentReason, reason, "reason")
        lot_code = clean_lot(lot) or ""
        why_in_words = clean_note(note)
        expiry = check.a_date(expires_on, "expires_on")
        place, item = self._site(site), self._item(sku, must_be_active=False)
        funding = self._funding(funding_source).code if funding_source else None

        def attempt() -> dict[str, Any]:
            ledger = self._open_ledger(place, item)
            ledger.adjust(
                lot=lot_code,
                quantity=quantity,
                reason=why,
                note=why_in_words,
                day=self.business_day(moment),
                expires_on=expiry,
                funding_source=funding,
                actor=actor,
                occurred_at=moment,
                zone=self.zone,
            )
            recordings = self.save(ledger)
            return dict(ledger_view(ledger), position=recordings[-1].notification.id)

        return self._retrying([ledger_id(place.code, item.sku)], attempt)

    def count_stock(
        self, *, site: str, sku: str, lot: str, counted: int, actor: str, occurred_at: datetime | None = None
    ) -> dict[str, Any]:
        """Record a physical count of one lot; the difference is booked as a count variance."""
        moment = check.when(occurred_at, zone=self.zone)
        counted = check.COUNTED.check(counted, "counted")
        lot_code = clean_lot(lot) or ""
        place, item = self._site(site), self._item(sku, must_be_active=False)

        def attempt() -> dict[str, Any]:
            ledger = self._stocked_ledger(place, item)
            variance = ledger.count(lot=lot_code, counted=counted, actor=actor, occurred_at=moment, zone=self.zone)
            recordings = self.save(ledger)
            return dict(ledger_view(ledger), variance=variance, position=recordings[-1].notification.id)

        return self._retrying([ledger_id(place.code, item.sku)], attempt)

    def stock(self, site: str, sku: str) -> dict[str, Any]:
        """One ledger's lots as the aggregate holds them (tests and tools; screens use read models)."""
        place, item = self._site(site, must_be_open=False), self._item(sku, must_be_active=False)
        the_id = ledger_id(place.code, item.sku)
        with self.locks.holding([the_id]):
            ledger = self._ledger(place, item)
            if ledger is None:
                return {"site": place.code, "sku": item.sku, "on_hand": 0, "version": 0, "lots": []}
            return ledger_view(ledger)

    def aggregate(self, aggregate_id: UUID) -> Any:
        """Any aggregate as the application loads it (cache, snapshot, events), for audits and tools."""
        try:
            return self.repository.get(aggregate_id, deepcopy_from_cache=False, projector_func=replay_events)
        except AggregateNotFoundError:
            return None

    def ledger_aggregate(self, site: str, sku: str) -> StockLedger | None:
        """The live ledger aggregate, for audits and tests."""
        return self._get(StockLedger, ledger_id(clean_code(site, "site"), clean_code(sku, "sku")))
