"""The inventory application: verbs that take and return plain values."""

from __future__ import annotations

import contextlib
import random
import time
from collections.abc import Callable, Iterable
from datetime import date, datetime
from decimal import Decimal
from typing import Any, TypeVar
from uuid import UUID, uuid4
from zoneinfo import ZoneInfo

from eventsourcing.application import AggregateNotFoundError, Application, ProcessingEvent
from eventsourcing.domain import Snapshot
from eventsourcing.persistence import IntegrityError, JSONTranscoder

from inventory import commands as check
from inventory.config import default_database_url, persistence_env, postgres_conninfo, store_namespace
from inventory.domain import (
    Encounter,
    FundingSource,
    Item,
    PurchaseOrder,
    Site,
    StockLedger,
    Transfer,
    encounter_id,
    ledger_id,
)
from inventory.domain.catalog import Item as ItemType
from inventory.domain.errors import (
    AlreadyExists,
    ConcurrentUpdate,
    FundingRestricted,
    IdempotencyConflict,
    InsufficientStock,
    InvalidInput,
    ItemRetired,
    SiteClosed,
    UnknownFundingSource,
    UnknownItem,
    UnknownPurchaseOrder,
    UnknownSite,
    UnknownTransfer,
)
from inventory.domain.participant import check_participant_code
from inventory.domain.purchasing import (
    DRAFT,
    PARTLY_RECEIVED,
    RECEIVED,
    SUBMITTED,
)
from inventory.domain.values import (
    AdjustmentReason,
    Category,
    Restriction,
    SiteKind,
    normalise_code,
    parse_enum,
    positive_quantity,
    required_text,
)
from inventory.locks import AdvisoryLocks, FileRangeLocks, ProcessLocks, StripedLocks
from inventory.transcodings import ALL as TRANSCODINGS
from inventory.views import (
    encounter_view,
    ledger_view,
    purchase_order_view,
    transfer_view,
)

REFERENCE_TTL = 2.0  # seconds a cached site, item or funding source is trusted
T = TypeVar("T")
A = TypeVar("A")


class InventoryApplication(Application[UUID]):
    """Every change to stock goes through one of these verbs and lands as events in the log."""

    name = "Inventory"
    snapshotting_intervals = {StockLedger: 100}
    max_attempts = 20

    def __init__(
        self,
        database_url: str | None = None,
        *,
        timezone_name: str = "UTC",
        env: dict[str, str] | None = None,
    ) -> None:
        settings = persistence_env(database_url or default_database_url())
        # Cached aggregates are used as they are, with no query to fast-forward them: every change
        # to them is made under this process's lock for their id and cached on save. Another
        # process's change shows up as a conflict on save, which evicts them and retries.
        settings.setdefault("AGGREGATE_CACHE_MAXSIZE", "20000")
        settings.setdefault("AGGREGATE_CACHE_FASTFORWARD", "n")
        settings.update(env or {})
        super().__init__(env=settings)
        self.zone = ZoneInfo(timezone_name)
        self.locks = StripedLocks(_process_locks(settings))
        self._loaded_at: dict[UUID, float] = {}

    def close(self) -> None:
        super().close()
        self.locks.close()

    def _take_snapshots(self, processing_event: ProcessingEvent[UUID]) -> None:
        """Snapshot from the aggregate in memory when it is at the snapshot's version.

        The library reloads the aggregate from the database for every snapshot; the aggregate just
        saved is already that state, so reloading is wasted work in the middle of a command.
        """
        if self.snapshots is None:
            return
        for event in processing_event.events:
            aggregate = processing_event.aggregates.get(event.originator_id)
            interval = self.snapshotting_intervals.get(type(aggregate)) if aggregate is not None else None
            if aggregate is None or not interval or event.originator_version % interval:
                continue
            if aggregate.version == event.originator_version:
                self.snapshots.put([Snapshot.take(aggregate)])
            else:
                self.take_snapshot(event.originator_id, version=event.originator_version)

    def register_transcodings(self, transcoder: JSONTranscoder) -> None:
        super().register_transcodings(transcoder)
        for transcoding in TRANSCODINGS:
            transcoder.register(transcoding())

    # ----- helpers ------------------------------------------------------------------------

    def business_day(self, moment: datetime) -> date:
        """The local calendar date of a moment, in the program's time zone."""
        return moment.astimezone(self.zone).date()

    def _get(self, kind: type[A], aggregate_id: UUID) -> A | None:
        """The cached aggregate itself (no copy): change it only under the lock for its id."""
        try:
            aggregate: Any = self.repository.get(aggregate_id, deepcopy_from_cache=False, projector_func=_replay)
        except AggregateNotFoundError:
            return None
        assert isinstance(aggregate, kind), f"{aggregate_id} is a {type(aggregate).__name__}"
        return aggregate

    def _reference(self, kind: type[A], aggregate_id: UUID) -> A | None:
        """A site, item or funding source, reloaded when the cached copy is older than REFERENCE_TTL.

        Commands read these without saving them, so another process's change (a site closed, an
        item retired) would never show up as a conflict; a short time-to-live bounds how stale
        they can be.
        """
        now = time.monotonic()
        if now - self._loaded_at.get(aggregate_id, 0.0) > REFERENCE_TTL:
            self._forget([aggregate_id])
            self._loaded_at[aggregate_id] = now
        return self._get(kind, aggregate_id)

    def _forget_unsaved(self, ids: Iterable[UUID]) -> None:
        """Evict cached aggregates that hold events not saved (a command changed them, then failed)."""
        cache = self.repository.cache
        assert cache is not None
        for aggregate_id in ids:
            try:
                aggregate = cache.get(aggregate_id)
            except KeyError:
                continue
            if getattr(aggregate, "pending_events", None):
                self._forget([aggregate_id])

    def _forget(self, ids: Iterable[UUID]) -> None:
        """Evict aggregates from the cache so the next read loads them from the log."""
        cache = self.repository.cache
        assert cache is not None
        for aggregate_id in ids:
            with contextlib.suppress(KeyError):
                cache.get(aggregate_id, evict=True)

    def _site(self, code: str, *, field: str = "site", must_be_open: bool = True) -> Site:
        code = normalise_code(code, field)
        site = self._reference(Site, Site.create_id(code))
        if site is None:
            raise UnknownSite(f"There is no site with code {code}.", field=field)
        if must_be_open and not site.is_open:
            raise SiteClosed(f"Site {code} is closed; reopen it before recording stock there.", field=field)
        return site

    def _item(self, sku: str, *, field: str = "sku", must_be_active: bool = True) -> ItemType:
        sku = normalise_code(sku, field)
        item = self._reference(Item, Item.create_id(sku))
        if item is None:
            raise UnknownItem(f"There is no item with SKU {sku}.", field=field)
        if must_be_active and item.retired:
            raise ItemRetired(f"{sku} ({item.name}) is retired and can no longer be stocked or issued.", field=field)
        return item

    def _funding(self, code: str, *, field: str = "funding_source") -> FundingSource:
        code = normalise_code(code, field)
        source = self._reference(FundingSource, FundingSource.create_id(code))
        if source is None:
            raise UnknownFundingSource(f"There is no funding source with code {code}.", field=field)
        return source

    def _ledger(self, site: Site, item: ItemType) -> StockLedger | None:
        return self._get(StockLedger, ledger_id(site.code, item.sku))

    def _open_ledger(self, site: Site, item: ItemType) -> StockLedger:
        ledger = self._ledger(site, item)
        if ledger is None:
            ledger = StockLedger(site.code, item.sku, item.unit, item.tracks_expiry)
        return ledger

    def _stocked_ledger(self, site: Site, item: ItemType, field: str = "sku") -> StockLedger:
        ledger = self._ledger(site, item)
        if ledger is None:
            raise InsufficientStock(
                f"There is no {item.sku} at {site.code}: none has been received there.", field=field
            )
        return ledger

    def _check_funding(self, source: FundingSource, item: ItemType, day: date) -> None:
        rule = source.restriction_on(item.category, day)
        if rule is not None:
            raise FundingRestricted(
                f"Funding source {source.code} may not pay for {item.category} items such as "
                f"{item.sku} on {day.isoformat()}: its rule is {rule.describe()}. "
                "Book this stock to another funding source.",
                field="funding_source",
            )

    def _retrying(self, ids: Iterable[UUID], attempt: Callable[[], T]) -> T:
        """Run a command under the in-process locks of `ids`; on a conflicting save, reload and retry."""
        ids = list(ids)
        with self.locks.holding(ids):
            for attempt_number in range(self.max_attempts):
                try:
                    return attempt()
                except IntegrityError:
                    # Another process saved first: the next attempt reloads from the log. Retry at
                    # once a few times (sleeping only lets the winner win again), then back off.
                    self._forget(ids)
                    if attempt_number >= 2:
                        time.sleep(random.uniform(0, min(0.002 * 2**attempt_number, 0.2)))
                except Exception:
                    # A refused command may have changed cached aggregates it did not save.
                    self._forget_unsaved(ids)
                    raise
        raise ConcurrentUpdate(
            "Others kept changing the same stock at the same moment; nothing was recorded. Try again."
        )

    def _create(self, aggregate: Any, what: str, field: str) -> None:
        try:
            self.save(aggregate)
        except IntegrityError:
            raise AlreadyExists(f"{what} is already registered.", field=field) from None

    # ----- reference data -----------------------------------------------------------------

    def register_item(
        self,
        *,
        sku: str,
        name: str,
        category: str,
        unit: str,
        tracks_expiry: bool,
        pack_size: int = 1,
        actor: str,
    ) -> dict[str, Any]:
        """Add an item to the catalog."""
        sku = normalise_code(sku, "sku")
        if pack_size is None or isinstance(pack_size, bool) or not isinstance(pack_size, int) or pack_size < 1:
            raise InvalidInput("pack_size must be a whole number, 1 or more.", field="pack_size")
        item = Item(
            sku=sku,
            name=required_text(name, "name"),
            category=parse_enum(Category, category, "category"),
            unit=required_text(unit, "unit", 30),
            tracks_expiry=bool(tracks_expiry),
            pack_size=pack_size,
            actor=actor,
        )
        self._create(item, f"An item with SKU {sku}", "sku")
        return self.item(sku)

    def retire_item(self, *, sku: str, actor: str) -> dict[str, Any]:
        """Stop stocking and issuing an item; its history stays."""
        the_id = Item.create_id(normalise_code(sku, "sku"))

        def attempt() -> dict[str, Any]:
            item = self._item(sku, must_be_active=False)
            if not item.retired:
                item.retire(actor=actor)
                self.save(item)
            return self.item(item.sku)

        return self._retrying([the_id], attempt)

    def item(self, sku: str) -> dict[str, Any]:
        """An item's catalog entry."""
        item = self._item(sku, must_be_active=False)
        return {
            "id": str(item.id),
            "sku": item.sku,
            "name": item.name,
            "category": item.category,
            "unit": item.unit,
            "tracks_expiry": item.tracks_expiry,
            "pack_size": item.pack_size,
            "retired": item.retired,
        }

    def register_site(self, *, code: str, name: str, kind: str, actor: str) -> dict[str, Any]:
        """Add a warehouse, fixed site or mobile van."""
        code = normalise_code(code, "code")
        site = Site(code=code, name=required_text(name, "name"), kind=parse_enum(SiteKind, kind, "kind"), actor=actor)
        self._create(site, f"A site with code {code}", "code")
        return self.site(code)

    def site(self, code: str) -> dict[str, Any]:
        """A site with its stock levels."""
        site = self._site(code, field="code", must_be_open=False)
        return {
            "id": str(site.id),
            "code": site.code,
            "name": site.name,
            "kind": site.kind,
            "open": site.is_open,
            "levels": {sku: dict(level) for sku, level in site.levels.items()},
        }

    def close_site(self, *, code: str, actor: str) -> dict[str, Any]:
        """Close a site: no stock can be recorded there until it reopens."""
        the_id = Site.create_id(normalise_code(code, "code"))

        def attempt() -> dict[str, Any]:
            site = self._site(code, field="code", must_be_open=False)
            if site.is_open:
                site.close(actor=actor)
                self.save(site)
            return self.site(site.code)

        return self._retrying([the_id], attempt)

    def reopen_site(self, *, code: str, actor: str) -> dict[str, Any]:
        """Reopen a closed site."""
        the_id = Site.create_id(normalise_code(code, "code"))

        def attempt() -> dict[str, Any]:
            site = self._site(code, field="code", must_be_open=False)
            if not site.is_open:
                site.reopen(actor=actor)
                self.save(site)
            return self.site(site.code)

        return self._retrying([the_id], attempt)

    def set_stock_level(
        self, *, site: str, sku: str, reorder_point: int, par_level: int, lead_time_days: int, actor: str
    ) -> dict[str, Any]:
        """Set when to reorder an item at a site, how much to hold, and how long delivery takes."""
        for field, value in (
            ("reorder_point", reorder_point),
            ("par_level", par_level),
            ("lead_time_days", lead_time_days),
        ):
            if isinstance(value, bool) or not isinstance(value, int) or value < 0:
                raise InvalidInput(f"{field} must be a whole number, 0 or more.", field=field)
        if par_level < reorder_point:
            raise InvalidInput(
                f"par_level ({par_level}) must be at least the reorder_point ({reorder_point}).", field="par_level"
            )
        item = self._item(sku)

        def attempt() -> dict[str, Any]:
            place = self._site(site, must_be_open=False)
            place.set_level(
                sku=item.sku,
                reorder_point=reorder_point,
                par_level=par_level,
                lead_time_days=lead_time_days,
                actor=actor,
            )
            self.save(place)
            return dict(place.levels[item.sku], site=place.code, sku=item.sku)

        return self._retrying([Site.create_id(normalise_code(site, "site"))], attempt)

    def register_funding_source(
        self,
        *,
        code: str,
        name: str,
        federal: bool,
        restrictions: list[dict[str, Any]] | None = None,
        actor: str,
    ) -> dict[str, Any]:
        """Add a grant or donor, with the categories it may not pay for."""
        code = normalise_code(code, "code")
        source = FundingSource(
            code=code,
            name=required_text(name, "name"),
            federal=bool(federal),
            restrictions=self._restrictions(restrictions or []),
            actor=actor,
        )
        self._create(source, f"A funding source with code {code}", "code")
        return self.funding_source(code)

    def change_restrictions(self, *, code: str, restrictions: list[dict[str, Any]], actor: str) -> dict[str, Any]:
        """Replace a funding source's rules (each with its own start and end date)."""
        rules = self._restrictions(restrictions)

        def attempt() -> dict[str, Any]:
            source = self._funding(code, field="code")
            source.change_restrictions(restrictions=rules, actor=actor)
            self.save(source)
            return self.funding_source(source.code)

        return self._retrying([FundingSource.create_id(normalise_code(code, "code"))], attempt)

    @staticmethod
    def _restrictions(rows: list[dict[str, Any]]) -> list[Restriction]:
        rules = []
        for index, row in enumerate(rows):
            prefix = f"restrictions[{index}]"
            category = parse_enum(Category, str(row.get("category")), f"{prefix}.category")
            starts_on = check.a_date(row.get("starts_on"), f"{prefix}.starts_on", required=True)
            ends_on = check.a_date(row.get("ends_on"), f"{prefix}.ends_on")
            assert starts_on is not None
            if ends_on is not None and ends_on < starts_on:
                raise InvalidInput(f"{prefix}.ends_on must not be before starts_on.", field=f"{prefix}.ends_on")
            rules.append(Restriction(category, starts_on, ends_on))
        return rules

    def funding_source(self, code: str) -> dict[str, Any]:
        """A funding source with its restrictions."""
        source = self._funding(code, field="code")
        return {
            "id": str(source.id),
            "code": source.code,
            "name": source.name,
            "federal": source.federal,
            "restrictions": [
                {"category": r.category, "starts_on": r.starts_on, "ends_on": r.ends_on} for r in source.restrictions
            ],
        }

    # ----- stock --------------------------------------------------------------------------

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
        actor: str,
        occurred_at: datetime | None = None,
    ) -> dict[str, Any]:
        """Record a delivery into a site's stock."""
        moment = check.when(occurred_at)
        expiry = check.a_date(expires_on, "expires_on")
        cost = check.money(unit_cost)
        lot_code = check.optional_lot(lot)
        if lot_code is None:
            raise InvalidInput("lot is required: enter the lot number printed on the box.", field="lot")
        place, item = self._site(site), self._item(sku)
        source = self._funding(funding_source)
        self._check_funding(source, item, self.business_day(moment))

        def attempt() -> dict[str, Any]:
            ledger = self._open_ledger(place, item)
            ledger.receive(
                lot=lot_code,
                quantity=quantity,
                expires_on=expiry,
                funding_source=source.code,
                unit_cost=cost,
                purchase_order=purchase_order,
                reference=reference,
                actor=actor,
                occurred_at=moment,
            )
            recordings = self.save(ledger)
            return dict(ledger_view(ledger), position=recordings[-1].notification.id)

        return self._retrying([ledger_id(place.code, item.sku)], attempt)

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
        actor: str,
        occurred_at: datetime | None = None,
    ) -> dict[str, Any]:
        """Record what one visitor received; a repeat of the same key returns the first result."""
        key = check.client_key(key)
        site_code = normalise_code(site, "site")
        parsed = check.issue_lines(lines)
        code = check_participant_code(participant_code)
        reversals = check.tally(reversals_reported, "reversals_reported")
        collected = check.tally(syringes_collected, "syringes_collected")
        reason = check.refill_reason(refill_reason)
        digest = check.fingerprint(
            {
                "site": site_code,
                "lines": sorted((line.sku, line.lot or "", line.quantity) for line in parsed),
                "participant_code": code,
                "reversals": reversals,
                "collected": collected,
                "refill_reason": reason,
                "occurred_at": occurred_at,
            }
        )
        moment = check.when(occurred_at)
        the_id = encounter_id(key)

        def attempt() -> dict[str, Any]:
            earlier = self._earlier_encounter(the_id)
            if earlier is not None:
                return self._repeat(earlier, digest)
            place = self._site(site_code)
            day = self.business_day(moment)
            ledgers: dict[str, StockLedger] = {}
            issued = []
            for index, line in enumerate(parsed):
                item = self._item(line.sku, field=f"lines[{index}].sku")
                ledger = ledgers.get(item.sku) or self._stocked_ledger(place, item, f"lines[{index}].sku")
                ledgers[item.sku] = ledger
                picks = ledger.plan_issue(line.quantity, day, line.lot)
                ledger.distribute(encounter_id=the_id, picks=picks, actor=actor, occurred_at=moment)
                issued.append({"sku": item.sku, "category": item.category, "quantity": line.quantity, "lots": picks})
            encounter = Encounter(
                key=key,
                fingerprint=digest,
                site=place.code,
                lines=issued,
                participant_code=code,
                reversals_reported=reversals,
                syringes_collected=collected,
                refill_reason=reason,
                actor=actor,
                occurred_at=moment,
            )
            self.save(encounter, *ledgers.values())
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

    def encounter(self, key: str) -> dict[str, Any]:
        """An encounter as recorded, by its client key."""
        found = self._get(Encounter, encounter_id(check.client_key(key)))
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
        moment = check.when(occurred_at)
        why = parse_enum(AdjustmentReason, reason, "reason")
        lot_code = check.optional_lot(lot)
        if lot_code is None:
            raise InvalidInput("lot is required.", field="lot")
        if len(note or "") > 200:
            raise InvalidInput("note must be at most 200 characters.", field="note")
        expiry = check.a_date(expires_on, "expires_on")
        place, item = self._site(site), self._item(sku, must_be_active=False)
        funding = self._funding(funding_source).code if funding_source else None

        def attempt() -> dict[str, Any]:
            ledger = self._open_ledger(place, item)
            ledger.adjust(
                lot=lot_code,
                quantity=quantity,
                reason=why,
                note=(note or "").strip(),
                day=self.business_day(moment),
                expires_on=expiry,
                funding_source=funding,
                actor=actor,
                occurred_at=moment,
            )
            recordings = self.save(ledger)
            return dict(ledger_view(ledger), position=recordings[-1].notification.id)

        return self._retrying([ledger_id(place.code, item.sku)], attempt)

    def count_stock(
        self, *, site: str, sku: str, lot: str, counted: int, actor: str, occurred_at: datetime | None = None
    ) -> dict[str, Any]:
        """Record a physical count of one lot; the difference is booked as a count variance."""
        moment = check.when(occurred_at)
        lot_code = check.optional_lot(lot)
        if lot_code is None:
            raise InvalidInput("lot is required.", field="lot")
        place, item = self._site(site), self._item(sku, must_be_active=False)

        def attempt() -> dict[str, Any]:
            ledger = self._stocked_ledger(place, item)
            variance = ledger.count(lot=lot_code, counted=counted, actor=actor, occurred_at=moment)
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
            return self.repository.get(aggregate_id, deepcopy_from_cache=False, projector_func=_replay)
        except AggregateNotFoundError:
            return None

    def ledger_aggregate(self, site: str, sku: str) -> StockLedger | None:
        """The live ledger aggregate, for audits and tests."""
        return self._get(StockLedger, ledger_id(normalise_code(site, "site"), normalise_code(sku, "sku")))

    # ----- transfers ----------------------------------------------------------------------

    def dispatch_transfer(
        self,
        *,
        from_site: str,
        to_site: str,
        lines: list[dict[str, Any]],
        actor: str,
        occurred_at: datetime | None = None,
        transfer_id: UUID | None = None,
    ) -> dict[str, Any]:
        """Send stock from one site to another: it leaves the sender now and is in transit."""
        moment = check.when(occurred_at)
        parsed = check.issue_lines(lines)
        sender = self._site(from_site, field="from_site")
        receiver = self._site(to_site, field="to_site")
        if sender.code == receiver.code:
            raise InvalidInput("from_site and to_site must be different sites.", field="to_site")
        items = {line.sku: self._item(line.sku, field=f"lines[{i}].sku") for i, line in enumerate(parsed)}
        the_id = transfer_id or uuid4()

        def attempt() -> dict[str, Any]:
            day = self.business_day(moment)
            ledgers: dict[str, StockLedger] = {}
            sent: list[dict[str, Any]] = []
            for index, line in enumerate(parsed):
                item = items[line.sku]
                ledger = ledgers.get(item.sku) or self._stocked_ledger(sender, item, f"lines[{index}].sku")
                ledgers[item.sku] = ledger
                picks = ledger.plan_issue(line.quantity, day, line.lot)
                ledger.dispatch(transfer_id=the_id, to_site=receiver.code, picks=picks, actor=actor, occurred_at=moment)
                for pick in picks:
                    _add_line(sent, dict(pick, sku=item.sku))
            # The id is chosen before the first attempt, so a retry records the same transfer.
            transfer = Transfer._create(
                Transfer.Dispatched,  # type: ignore[attr-defined]
                id=the_id,
                from_site=sender.code,
                to_site=receiver.code,
                lines=sent,
                actor=actor,
                occurred_at=moment,
            )
            self.save(transfer, *ledgers.values())
            return transfer_view(transfer)

        ids = [the_id, *(ledger_id(sender.code, sku) for sku in items)]
        return self._retrying(ids, attempt)

    def _transfer(self, transfer_id: UUID | str) -> Transfer:
        try:
            the_id = transfer_id if isinstance(transfer_id, UUID) else UUID(str(transfer_id))
        except ValueError:
            raise UnknownTransfer(f"{transfer_id!r} is not a transfer id.", field="transfer_id") from None
        transfer = self._get(Transfer, the_id)
        if transfer is None:
            raise UnknownTransfer(f"There is no transfer {the_id}.", field="transfer_id")
        return transfer

    def receive_transfer(
        self,
        *,
        transfer_id: UUID | str,
        received: list[dict[str, Any]] | None = None,
        note: str = "",
        actor: str,
        occurred_at: datetime | None = None,
    ) -> dict[str, Any]:
        """Book a transfer in at the receiving site; what did not arrive is recorded as shortfall.

        `received` lists (sku, lot, quantity) as counted on arrival; None means all as sent.
        """
        moment = check.when(occurred_at)
        first = self._transfer(transfer_id)
        the_id = first.id
        skus = sorted({line["sku"] for line in first.lines})

        def attempt() -> dict[str, Any]:
            transfer = self._transfer(the_id)
            transfer.check_in_transit("received")
            arrived, shortfall = _match_arrivals(transfer.lines, received)
            receiver = self._site(transfer.to_site)
            ledgers = []
            for sku in skus:
                rows = [row for row in arrived if row["sku"] == sku]
                if not any(row["quantity"] for row in rows):
                    continue
                ledger = self._open_ledger(receiver, self._item(sku, must_be_active=False))
                lots = [{k: row[k] for k in ("lot", "quantity", "expires_on", "funding_source")} for row in rows]
                ledger.arrive(
                    transfer_id=transfer.id, from_site=transfer.from_site, lots=lots, actor=actor, occurred_at=moment
                )
                ledgers.append(ledger)
            transfer.receive(
                received=arrived, shortfall=shortfall, note=(note or "").strip(), actor=actor, occurred_at=moment
            )
            self.save(transfer, *ledgers)
            return transfer_view(transfer)

        return self._retrying([the_id, *(ledger_id(first.to_site, sku) for sku in skus)], attempt)

    def cancel_transfer(
        self, *, transfer_id: UUID | str, reason: str, actor: str, occurred_at: datetime | None = None
    ) -> dict[str, Any]:
        """Call a transfer off while in transit: the stock goes back into the sender's lots."""
        moment = check.when(occurred_at)
        why = required_text(reason, "reason", 200)
        first = self._transfer(transfer_id)
        the_id = first.id
        skus = sorted({line["sku"] for line in first.lines})

        def attempt() -> dict[str, Any]:
            transfer = self._transfer(the_id)
            transfer.check_in_transit("cancelled")
            sender = self._site(transfer.from_site, must_be_open=False)
            ledgers = []
            for sku in skus:
                ledger = self._stocked_ledger(sender, self._item(sku, must_be_active=False))
                lots = [
                    {k: row[k] for k in ("lot", "quantity", "expires_on", "funding_source")}
                    for row in transfer.lines
                    if row["sku"] == sku
                ]
                ledger.take_back(
                    transfer_id=transfer.id, to_site=transfer.to_site, lots=lots, actor=actor, occurred_at=moment
                )
                ledgers.append(ledger)
            transfer.cancel(reason=why, actor=actor, occurred_at=moment)
            self.save(transfer, *ledgers)
            return transfer_view(transfer)

        return self._retrying([the_id, *(ledger_id(first.from_site, sku) for sku in skus)], attempt)

    def transfer(self, transfer_id: UUID | str) -> dict[str, Any]:
        """A transfer with its lines, status and any shortfall."""
        return transfer_view(self._transfer(transfer_id))

    # ----- purchase orders ----------------------------------------------------------------

    def raise_purchase_order(
        self,
        *,
        supplier: str,
        site: str,
        funding_source: str,
        lines: list[dict[str, Any]],
        number: str | None = None,
        actor: str,
        occurred_at: datetime | None = None,
    ) -> dict[str, Any]:
        """Draft an order for a site, paid by one funding source."""
        moment = check.when(occurred_at)
        place = self._site(site)
        source = self._funding(funding_source)
        if not lines:
            raise InvalidInput("Add at least one line to the order.", field="lines")
        ordered: list[dict[str, Any]] = []
        for index, row in enumerate(lines):
            item = self._item(str(row.get("sku") or ""), field=f"lines[{index}].sku")
            if any(line["sku"] == item.sku for line in ordered):
                raise InvalidInput(f"{item.sku} appears twice; put its total on one line.", field=f"lines[{index}]")
            self._check_funding(source, item, self.business_day(moment))
            quantity = positive_quantity(row.get("quantity"), f"lines[{index}].quantity")  # type: ignore[arg-type]
            cost = check.money(row.get("unit_cost"), f"lines[{index}].unit_cost")
            ordered.append({"sku": item.sku, "quantity": quantity, "unit_cost": cost})
        the_id = uuid4()
        order = PurchaseOrder._create(
            PurchaseOrder.Raised,  # type: ignore[attr-defined]
            id=the_id,
            number=required_text(number, "number", 40) if number else f"PO-{the_id.hex[:8].upper()}",
            supplier=required_text(supplier, "supplier"),
            site=place.code,
            funding_source=source.code,
            lines=ordered,
            actor=actor,
            occurred_at=moment,
        )
        self.save(order)
        return purchase_order_view(order)

    def _order(self, order_id: UUID | str) -> PurchaseOrder:
        try:
            the_id = order_id if isinstance(order_id, UUID) else UUID(str(order_id))
        except ValueError:
            raise UnknownPurchaseOrder(f"{order_id!r} is not a purchase order id.", field="purchase_order") from None
        order = self._get(PurchaseOrder, the_id)
        if order is None:
            raise UnknownPurchaseOrder(f"There is no purchase order {the_id}.", field="purchase_order")
        return order

    def submit_purchase_order(
        self, *, order_id: UUID | str, actor: str, occurred_at: datetime | None = None
    ) -> dict[str, Any]:
        """Send a drafted order to the supplier."""
        moment = check.when(occurred_at)
        the_id = self._order(order_id).id

        def attempt() -> dict[str, Any]:
            order = self._order(the_id)
            order.check_status((DRAFT,), "submitted")
            order.submit(actor=actor, occurred_at=moment)
            self.save(order)
            return purchase_order_view(order)

        return self._retrying([the_id], attempt)

    def receive_purchase_order(
        self,
        *,
        order_id: UUID | str,
        lines: list[dict[str, Any]],
        actor: str,
        occurred_at: datetime | None = None,
    ) -> dict[str, Any]:
        """Receive (part of) an order: each line is sku, lot, quantity, expiry and optional unit cost."""
        moment = check.when(occurred_at)
        first = self._order(order_id)
        if not lines:
            raise InvalidInput("Add at least one line received.", field="lines")
        rows = [check.receipt_line(row, f"lines[{index}]") for index, row in enumerate(lines)]
        skus = sorted({row.sku for row in rows})
        place = self._site(first.site)
        items = {sku: self._item(sku) for sku in skus}

        def attempt() -> dict[str, Any]:
            order = self._order(first.id)
            order.check_status((SUBMITTED, PARTLY_RECEIVED), "received")
            costs = {line["sku"]: line["unit_cost"] for line in order.lines}
            for sku in skus:
                wanted = sum(row.quantity for row in rows if row.sku == sku)
                if sku not in costs:
                    raise InvalidInput(f"{sku} is not on purchase order {order.number}.", field="lines")
                if wanted > order.outstanding(sku):
                    raise InvalidInput(
                        f"Only {order.outstanding(sku)} of {sku} are still outstanding on {order.number}; "
                        f"{wanted} were entered.",
                        field="lines",
                    )
            source = self._funding(order.funding_source)
            for sku in skus:
                # Rules are checked on the day stock arrives too: one may have started since the order.
                self._check_funding(source, items[sku], self.business_day(moment))
            ledgers: dict[str, StockLedger] = {}
            for row in rows:
                ledger = ledgers.get(row.sku) or self._open_ledger(place, items[row.sku])
                ledgers[row.sku] = ledger
                ledger.receive(
                    lot=row.lot,
                    quantity=row.quantity,
                    expires_on=row.expires_on,
                    funding_source=order.funding_source,
                    unit_cost=row.unit_cost if row.unit_cost is not None else costs[row.sku],
                    purchase_order=order.number,
                    reference=str(order.id),
                    actor=actor,
                    occurred_at=moment,
                )
            order.record_receipt(
                lines=[{"sku": r.sku, "lot": r.lot, "quantity": r.quantity} for r in rows],
                actor=actor,
                occurred_at=moment,
            )
            self.save(order, *ledgers.values())
            return purchase_order_view(order)

        return self._retrying([first.id, *(ledger_id(place.code, sku) for sku in skus)], attempt)

    def cancel_purchase_order(
        self, *, order_id: UUID | str, reason: str, actor: str, occurred_at: datetime | None = None
    ) -> dict[str, Any]:
        """Call off an order that has not been received in full."""
        moment = check.when(occurred_at)
        why = required_text(reason, "reason", 200)
        the_id = self._order(order_id).id

        def attempt() -> dict[str, Any]:
            order = self._order(the_id)
            order.check_status((DRAFT, SUBMITTED, PARTLY_RECEIVED), "cancelled")
            order.cancel(reason=why, actor=actor, occurred_at=moment)
            self.save(order)
            return purchase_order_view(order)

        return self._retrying([the_id], attempt)

    def close_purchase_order(
        self, *, order_id: UUID | str, actor: str, occurred_at: datetime | None = None
    ) -> dict[str, Any]:
        """Close an order: received in full, or nothing more is coming."""
        moment = check.when(occurred_at)
        the_id = self._order(order_id).id

        def attempt() -> dict[str, Any]:
            order = self._order(the_id)
            order.check_status((PARTLY_RECEIVED, RECEIVED), "closed")
            order.close(actor=actor, occurred_at=moment)
            self.save(order)
            return purchase_order_view(order)

        return self._retrying([the_id], attempt)

    def purchase_order(self, order_id: UUID | str) -> dict[str, Any]:
        """A purchase order with what has been received against it."""
        return purchase_order_view(self._order(order_id))


def _replay(aggregate: Any, events: Iterable[Any]) -> Any:
    """Apply events in order: the library's projector, without its per-event runtime protocol
    check (an isinstance against a Protocol, which costs more than applying the event)."""
    for event in events:
        aggregate = event.mutate(aggregate)
    return aggregate


def _add_line(lines: list[dict[str, Any]], line: dict[str, Any]) -> None:
    """Add a transfer line, merging it with an earlier line for the same SKU and lot."""
    for existing in lines:
        if existing["sku"] == line["sku"] and existing["lot"] == line["lot"]:
            existing["quantity"] += line["quantity"]
            return
    lines.append(line)


def _process_locks(settings: dict[str, str]) -> ProcessLocks | None:
    """The lock that makes other processes on the same database queue for the same stock."""
    if settings["PERSISTENCE_MODULE"] == "eventsourcing.sqlite":
        path = settings["SQLITE_DBNAME"]
        return None if ":memory:" in path or "mode=memory" in path else FileRangeLocks(f"{path}.locks")
    conninfo = postgres_conninfo(settings)
    namespace = store_namespace(settings)
    return AdvisoryLocks(conninfo, max_size=int(settings.get("POSTGRES_POOL_SIZE", "10")), namespace=namespace)


def _match_arrivals(
    sent: list[dict[str, Any]], received: list[dict[str, Any]] | None
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Pair what arrived with what was sent, lot by lot; the difference is the shortfall."""
    if received is None:
        return [dict(row) for row in sent], []
    counted: dict[tuple[str, str], int] = {}
    for index, row in enumerate(received):
        sku = normalise_code(str(row.get("sku") or ""), f"received[{index}].sku")
        lot = check.optional_lot(row.get("lot")) or ""
        quantity = row.get("quantity")
        if isinstance(quantity, bool) or not isinstance(quantity, int) or quantity < 0:
            raise InvalidInput(
                "quantity received must be a whole number, 0 or more.", field=f"received[{index}].quantity"
            )
        if not any(line["sku"] == sku and line["lot"] == lot for line in sent):
            raise InvalidInput(f"Lot {lot} of {sku} was not sent in this transfer.", field=f"received[{index}]")
        counted[(sku, lot)] = counted.get((sku, lot), 0) + quantity
    arrived, shortfall = [], []
    for line in sent:
        got = counted.get((line["sku"], line["lot"]), 0)
        if got > line["quantity"]:
            raise InvalidInput(
                f"{got} of lot {line['lot']} of {line['sku']} entered as received, but only "
                f"{line['quantity']} were sent. Record extra stock as a 'found' adjustment.",
                field="received",
            )
        arrived.append(dict(line, quantity=got))
        if got < line["quantity"]:
            shortfall.append(dict(line, quantity=line["quantity"] - got))
    return arrived, shortfall
