"""The application's core: persistence settings, locks, caching, loading and retrying."""

from __future__ import annotations

import contextlib
import logging
import random
import time
import zlib
from collections.abc import Callable, Iterable, Iterator, Sequence
from datetime import date, datetime
from typing import Any, TypeVar
from uuid import UUID
from zoneinfo import ZoneInfo

from eventsourcing.application import AggregateNotFoundError, Application, ProcessingEvent
from eventsourcing.domain import Snapshot
from eventsourcing.persistence import IntegrityError, JSONTranscoder, Recording

from inventory.adapters.locks import (
    LOCK_WAIT_SECONDS,
    AdvisoryLocks,
    LockFiles,
    ProcessLocks,
    StripedLocks,
    take_advisory_lock,
)
from inventory.adapters.persistence import (
    default_database_url,
    persistence_env,
    pool_wait_seconds,
    postgres_conninfo,
    store_namespace,
)
from inventory.adapters.transcodings import ALL as TRANSCODINGS
from inventory.application import rules as check
from inventory.domain import (
    FundingSource,
    Item,
    Partner,
    RecipientType,
    Site,
    StockLedger,
    ledger_id,
    partner_id,
)
from inventory.domain.catalog import Item as ItemType
from inventory.domain.errors import (
    AlreadyExists,
    Busy,
    ConcurrentUpdate,
    FundingRestricted,
    InsufficientStock,
    InvalidInput,
    InvalidState,
    ItemRetired,
    NotFound,
    SiteClosed,
    UnknownFundingSource,
    UnknownItem,
    UnknownSite,
)
from inventory.domain.lot_history import HistoryFolded
from inventory.domain.reach import RECIPIENTS, UNKNOWN
from inventory.domain.text import check_storable, clean_code
from inventory.domain.time_words import day_in_words

log = logging.getLogger(__name__)
REFERENCE_TTL = 2.0  # seconds a cached site, item or funding source is trusted
RECENT_NOTIFICATIONS = 5_000  # how far back a save whose answer was lost looks for its events
T = TypeVar("T")
A = TypeVar("A")


class InventoryCore(Application[UUID]):
    """What every verb relies on: loading aggregates, checking references, locking and retrying."""

    name = "Inventory"
    snapshotting_intervals = {StockLedger: 100}
    max_attempts = 20

    def __init__(
        self,
        database_url: str | None = None,
        *,
        timezone_name: str = "UTC",
        cipher_key: str | None = None,
        env: dict[str, str] | None = None,
        lock_wait: float = LOCK_WAIT_SECONDS,
    ) -> None:
        settings = persistence_env(database_url or default_database_url())
        if cipher_key:
            # Events and snapshots are encrypted (AES-GCM) before they are stored, and checked on reading.
            settings.update(CIPHER_TOPIC="eventsourcing.cryptography:AESCipher", CIPHER_KEY=cipher_key)
        # Cached aggregates are used as they are, with no query to fast-forward them: every change
        # to them is made under this process's lock for their id and cached on save. Another
        # process's change shows up as a conflict on save, which evicts them and retries.
        settings.setdefault("AGGREGATE_CACHE_MAXSIZE", "20000")
        settings.setdefault("AGGREGATE_CACHE_FASTFORWARD", "n")
        settings.update(env or {})
        with _creating_tables(settings, lock_wait):
            super().__init__(env=settings)
        self.zone = ZoneInfo(timezone_name)
        self.locks = StripedLocks(_process_locks(settings), wait=lock_wait)
        self._loaded_at: dict[UUID, float] = {}
        self._whole_history: set[UUID] = set()  # ledgers to load by full replay (lot_history.HistoryFolded)

    def close(self) -> None:
        super().close()
        self.locks.close()

    def save(self, *objs: Any, **kwargs: Any) -> list[Recording[UUID]]:
        """Store the aggregates' new events in one transaction; a save that fails leaves no trace.

        Commands change cached aggregates in place before saving them. If anything raises between
        collecting their events and the commit (text that cannot be stored, a lost connection, a
        conflict), the changed aggregates are evicted, so the next command reloads them from the log
        as it was: no version skipped, nothing half applied (a ledger saved after a version the log never
        got could never be loaded again). Text is checked once more here, whatever verb or field it came
        through, so nothing that cannot be stored or shown reaches the log.
        """
        aggregates = [obj for obj in objs if obj is not None and hasattr(obj, "pending_events")]
        try:
            for aggregate in aggregates:
                check_storable(aggregate.pending_events)
                if isinstance(aggregate, StockLedger):
                    aggregate.fold_history()  # before a snapshot is taken of it
            return super().save(*objs, **kwargs)
        except BaseException:
            self._forget(aggregate.id for aggregate in aggregates)
            raise

    def _record(self, processing_event: ProcessingEvent[UUID]) -> list[Recording[UUID]]:
        """Store a save's events; a save that was stored although its answer was lost counts as stored.

        When a database connection dies after COMMIT but before its answer arrives, the library
        retries the insert and meets our own events: an IntegrityError, which would otherwise send the
        command round again and record it twice (a receipt doubled). So on a conflict we look at what
        holds our first event's place in the log: our very event (same timestamp and contents) means
        the save succeeded; anything else is a real conflict with another writer.
        """
        try:
            return super()._record(processing_event)
        except IntegrityError:
            found = self._stored_already(processing_event.events)
            if found is None:
                raise
            if self.repository.cache is not None:
                for aggregate_id, aggregate in processing_event.aggregates.items():
                    self.repository.cache.put(aggregate_id, aggregate)
            return found

    def _stored_already(self, events: Sequence[Any]) -> list[Recording[UUID]] | None:
        """The recordings of `events` if the log holds exactly them, else None (one indexed query when not)."""
        if not events:
            return None
        first = events[0]
        version = first.originator_version
        stored = self.recorder.select_events(first.originator_id, gt=version - 1, lte=version)
        if len(stored) != 1 or self.mapper.to_domain_event(stored[0]) != first:
            return None
        # Ours: find each event's log position among the latest notifications.
        head = int(self.recorder.max_notification_id() or 0)
        start = max(1, head - RECENT_NOTIFICATIONS)
        recent = self.recorder.select_notifications(start=start, limit=head - start + 1, stop=head)
        by_place = {(n.originator_id, n.originator_version): n for n in recent}
        recordings = []
        for event in events:
            notification = by_place.get((event.originator_id, event.originator_version))
            if notification is None or self.mapper.to_domain_event(notification) != event:
                return None
            recordings.append(Recording(event, notification))
        return recordings

    def _take_snapshots(self, processing_event: ProcessingEvent[UUID]) -> None:
        """Snapshot from the aggregate in memory when it is at the snapshot's version.

        The library reloads the aggregate from the database for every snapshot; the aggregate just
        saved is already that state, so reloading is wasted work in the middle of a command.
        """
        if self.snapshots is None:
            return
        try:
            self._snapshot_saved(processing_event)
        except Exception:
            # The events are committed: a snapshot only makes the next load faster, and the next
            # snapshot interval takes one again. Failing the command now would report as not
            # recorded what was recorded.
            log.warning("taking a snapshot failed; the events are saved", exc_info=True)

    def _snapshot_saved(self, processing_event: ProcessingEvent[UUID]) -> None:
        assert self.snapshots is not None
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

    def _get(self, kind: type[A], aggregate_id: UUID, *, fresh: bool = True, strict: bool = True) -> A | None:
        """The cached aggregate itself (no copy): change it only under the lock for its id.

        `strict=False` answers None for an id that names another kind of aggregate (an id from a URL).
        `fresh` checks whether other processes saved events since the cached copy (one indexed
        query) and if so reloads it, so that under the cross-process lock the first save succeeds
        where a stale copy would conflict and retry. The cached object is replaced, never changed
        in place, so a reader holding it is not disturbed.
        """
        cache = self.repository.cache
        assert cache is not None
        try:
            aggregate: Any = cache.get(aggregate_id)
        except KeyError:
            try:
                aggregate = self.repository.get(aggregate_id, deepcopy_from_cache=False, projector_func=replay_events)
            except AggregateNotFoundError:
                return None
            if aggregate_id in self._whole_history and isinstance(aggregate, StockLedger):
                # A change reaches before the history a snapshot keeps: the ledger's full history, once.
                self._whole_history.discard(aggregate_id)
                aggregate = replay_events(None, self.events.get(aggregate_id))
                cache.put(aggregate_id, aggregate)
            if isinstance(aggregate, StockLedger) and any(lot.history is None for lot in aggregate.lots.values()):
                # Loaded from a snapshot taken before lots kept their history (release 0.3.0): replay it
                # from its events once; the next snapshot has the history.
                aggregate = replay_events(None, self.events.get(aggregate_id))
                cache.put(aggregate_id, aggregate)
        else:
            if fresh and list(self.events.get(aggregate_id, gt=aggregate.version, limit=1)):
                self._forget([aggregate_id])
                return self._get(kind, aggregate_id, fresh=False, strict=strict)
        if not strict and not isinstance(aggregate, kind):
            return None  # an id from outside (a URL) that names something else
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
        return self._get(kind, aggregate_id, fresh=False)

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
        code = clean_code(code, field)
        site = self._reference(Site, Site.create_id(code))
        if site is None:
            raise UnknownSite(f"There is no site with code {code}.", field=field)
        if must_be_open and not site.is_open:
            raise SiteClosed(f"Site {code} is closed; reopen it before recording stock there.", field=field)
        return site

    def _item(self, sku: str, *, field: str = "sku", must_be_active: bool = True) -> ItemType:
        sku = clean_code(sku, field)
        item = self._reference(Item, Item.create_id(sku))
        if item is None:
            raise UnknownItem(f"There is no item with SKU {sku}.", field=field)
        if must_be_active and item.retired:
            raise ItemRetired(f"{sku} ({item.name}) is retired and can no longer be stocked or issued.", field=field)
        return item

    def _funding(self, code: str, *, field: str = "funding_source") -> FundingSource:
        code = clean_code(code, field)
        source = self._reference(FundingSource, FundingSource.create_id(code))
        if source is None:
            raise UnknownFundingSource(f"There is no funding source with code {code}.", field=field)
        return source

    def _recipient(self, code: str | None, *, field: str = "recipient") -> str:
        """A recipient type: a built-in one, one an admin added (not retired), or "unknown" when not given."""
        if code is None or code == "":
            return UNKNOWN
        code = check.recipient_code(code, field)
        if code in RECIPIENTS or code == UNKNOWN:
            return code
        found = self._reference(RecipientType, RecipientType.create_id(code))
        if found is None or found.retired:
            raise InvalidInput(
                f"There is no recipient type {code}. Use one of: {', '.join(RECIPIENTS)}, or one an admin "
                "added under Recipient types.",
                field=field,
            )
        return code

    def _partner(self, code: str, *, field: str = "partner", must_be_active: bool = True) -> Partner:
        code = clean_code(code, field)
        partner = self._reference(Partner, partner_id(code))
        if partner is None:
            raise NotFound(f"There is no partner organisation with code {code}.", field=field)
        if must_be_active and partner.retired:
            raise InvalidState(
                f"Partner {code} ({partner.name}) no longer takes supplies: it was retired.", field=field
            )
        return partner

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

    def _issue_lines(
        self,
        place: Site,
        lines: Sequence[check.IssueLine],
        moment: datetime,
        take: Callable[[StockLedger, list[dict[str, Any]]], None],
    ) -> tuple[list[StockLedger], list[dict[str, Any]]]:
        """Pick the lots of each line at `moment` (the named lot, or first-expiry-first-out) and `take` them from
        the site's ledger (a visit, a shift, a partner issue, a parcel): the ledgers changed, and the lines as
        issued ({sku, category, quantity, lots})."""
        day = self.business_day(moment)
        ledgers: dict[str, StockLedger] = {}
        issued = []
        for index, line in enumerate(lines):
            item = self._item(line.sku, field=f"lines[{index}].sku")
            ledger = ledgers.get(item.sku) or self._stocked_ledger(place, item, f"lines[{index}].sku")
            ledgers[item.sku] = ledger
            picks = ledger.plan_issue(line.quantity, day, line.lot, at=moment, zone=self.zone)
            take(ledger, picks)
            issued.append({"sku": item.sku, "category": item.category, "quantity": line.quantity, "lots": picks})
        return list(ledgers.values()), issued

    def _check_funding(self, source: FundingSource, item: ItemType, day: date) -> None:
        rule = source.restriction_on(item.category, day)
        if rule is not None:
            raise FundingRestricted(
                f"Funding source {source.code} may not pay for {item.category} items such as "
                f"{item.sku} on {day_in_words(day)}: its rule is {rule.describe()}. "
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
                except HistoryFolded:
                    # The change reaches before the history kept in memory: replay these ledgers in
                    # full (from their events) and try again.
                    self._forget(ids)
                    self._whole_history.update(ids)
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


def replay_events(aggregate: Any, events: Iterable[Any]) -> Any:
    """Apply events in order: the library's projector, without its per-event runtime protocol
    check (an isinstance against a Protocol, which costs more than applying the event)."""
    for event in events:
        aggregate = event.mutate(aggregate)
    return aggregate


@contextlib.contextmanager
def _creating_tables(settings: dict[str, str], wait: float = LOCK_WAIT_SECONDS) -> Iterator[None]:
    """On PostgreSQL, one process at a time creates the event store's tables.

    The library creates them (IF NOT EXISTS) as each application starts; two processes starting at
    the same moment (two workers, gunicorn's workers without `inventory init` first) then fail with
    "tuple concurrently updated" on PostgreSQL's catalogue. A session advisory lock queues them, for
    `wait` seconds at most. Closing the connection releases it (a dead one has already): there is no
    unlock that could fail.
    """
    if settings["PERSISTENCE_MODULE"] != "eventsourcing.postgres" or settings.get("CREATE_TABLE") == "n":
        yield
        return
    import psycopg

    key = zlib.crc32(f"create-tables:{store_namespace(settings)}".encode()) - 2**31
    with psycopg.connect(postgres_conninfo(settings), autocommit=True) as conn:
        if not take_advisory_lock(conn, [key], time.monotonic() + wait):
            raise Busy(
                f"Another process has been creating the event store's tables for over {wait:g} seconds; "
                "nothing was changed. Start this one again in a moment."
            )
        yield


def _process_locks(settings: dict[str, str]) -> ProcessLocks | None:
    """The lock that makes other processes on the same database queue for the same stock."""
    if settings["PERSISTENCE_MODULE"] == "eventsourcing.sqlite":
        path = settings["SQLITE_DBNAME"]
        return None if ":memory:" in path or "mode=memory" in path else LockFiles(f"{path}.locks")
    conninfo = postgres_conninfo(settings)
    namespace = store_namespace(settings)
    size = int(settings.get("POSTGRES_POOL_SIZE", "10"))
    return AdvisoryLocks(conninfo, max_size=size, namespace=namespace, pool_wait=pool_wait_seconds(settings))
