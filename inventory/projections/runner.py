"""Catching read models up with the log: by polling, in batches, one transaction per batch.

Every batch writes all its rows and each projection's new position in one transaction, under a
lock only one projector holds at a time. A projector killed mid-batch leaves nothing behind, and
any process may catch up (the worker all the time, a web request to show its own write), because
each batch starts from the positions committed by the last one.
"""

from __future__ import annotations

import gc
import logging
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

from eventsourcing.application import Application

from inventory.domain.catalog import Site
from inventory.domain.errors import Busy
from inventory.domain.ledger import StockLedger
from inventory.projections import stopped
from inventory.projections.base import Projection, Recorded
from inventory.projections.stopped import ProjectionFailed, ReadModelsStopped, Stop
from inventory.projections.store import ReadStore, Tx, has_table

log = logging.getLogger(__name__)

STOP_TTL = 2.0  # seconds a process trusts what it last read of the read models' stop
STOPPED_RETRY = 30.0  # seconds between attempts at the event the read models stopped at
READING = "reading the log"  # the stop's name when an event cannot even be decoded

TRACKING_DDL = """CREATE TABLE IF NOT EXISTS projection_tracking (
    name TEXT PRIMARY KEY, position BIGINT NOT NULL, version INTEGER NOT NULL, updated_at TEXT NOT NULL)"""


@dataclass(frozen=True)
class Status:
    name: str
    position: int
    head: int
    version: int

    @property
    def lag(self) -> int:
        return max(self.head - self.position, 0)


class Projector:
    """Runs a set of projections over one application's log into one read store."""

    def __init__(self, app: Application[Any], store: ReadStore, projections: Sequence[Projection]) -> None:
        self.app = app
        self.store = store
        self.projections = list(projections)
        self._ready = False
        self._setup_lock = threading.Lock()
        self._stop_known: Stop | None = None
        self._stop_checked = -STOP_TTL
        # Told which (site, SKU) stock changed once a catch-up has projected it (the level alerts).
        self.on_stock_changed: Callable[[set[tuple[str, str]]], object] | None = None
        self._changed: set[tuple[str, str]] = set()
        self._changed_lock = threading.Lock()

    def by_name(self, name: str) -> Projection:
        for projection in self.projections:
            if projection.name == name:
                return projection
        names = ", ".join(p.name for p in self.projections)
        raise KeyError(f"There is no projection called {name!r}; there are: {names}.")

    # ----- schema ---------------------------------------------------------------------------

    def setup(self) -> None:
        """Create tables; a projection whose code version changed is dropped and starts again."""
        with self._setup_lock:
            if self._ready:
                return
            with self.store.transaction() as tx:
                tx.execute(TRACKING_DDL)
                tx.execute(stopped.DDL)
                known = {
                    name: int(version) for name, version in tx.fetchall("SELECT name, version FROM projection_tracking")
                }
                for projection in self.projections:
                    if projection.name in known and known[projection.name] != projection.version:
                        log.warning(
                            "projection %s changed (v%s to v%s): rebuilding",
                            projection.name,
                            known[projection.name],
                            projection.version,
                        )
                        self._reset(tx, projection)
                    else:
                        for statement in projection.ddl:
                            tx.execute(statement)
                        if projection.name not in known:
                            self._track(tx, projection, 0)
            self._ready = True

    def missing(self) -> list[str]:
        """What `setup()` would still have to create or rebuild (tables, or projections by name)."""
        missing = [table for table in ("projection_tracking", "projection_stops") if not has_table(self.store, table)]
        if missing:
            return missing
        known = {
            name: int(version) for name, version in self.store.fetchall("SELECT name, version FROM projection_tracking")
        }
        missing = [p.name for p in self.projections if known.get(p.name) != p.version]
        missing += [table for p in self.projections for table in p.tables if not has_table(self.store, table)]
        return missing

    def _reset(self, tx: Tx, projection: Projection, *, indexes: bool = True) -> None:
        for table in projection.tables:
            tx.execute(f"DROP TABLE IF EXISTS {table}")
        for statement in projection.ddl:
            if indexes or not _is_index(statement):
                tx.execute(statement)
        tx.execute("DELETE FROM projection_tracking WHERE name = ?", (projection.name,))
        self._track(tx, projection, 0)

    @staticmethod
    def _track(tx: Tx, projection: Projection, position: int) -> None:
        tx.execute(
            "INSERT INTO projection_tracking (name, position, version, updated_at) VALUES (?, ?, ?, ?)",
            (projection.name, position, projection.version, _now()),
        )

    # ----- catching up ----------------------------------------------------------------------

    def head(self) -> int:
        """The log's last position."""
        return int(self.app.recorder.max_notification_id() or 0)

    def catch_up(
        self,
        until: int | None = None,
        *,
        batch_size: int = 1000,
        progress: Callable[[int], None] | None = None,
    ) -> int:
        """Project new events until every projection reaches `until` (default: the head as found)."""
        self.setup()
        target = self.head() if until is None else until
        size, careful_until = batch_size, 0
        while True:
            try:
                done, count, reached = self._one_batch(target, size)
            except ProjectionFailed as failed:
                if stopped.passes(failed.error):
                    raise failed.error from None  # the database, not the event: retried as ever
                if failed.first < failed.last:
                    # Which event? The same events again, one per transaction, up to the last of them.
                    size, careful_until = 1, failed.last
                    continue
                raise self._stop_at(failed) from failed.error
            if size == 1 and reached >= careful_until:
                size = batch_size
            if count and self._stop_known and self._stop_known.position <= reached:
                stopped.clear(self.store, reached)  # the event applied after all (an upgrade fixed it)
                self._stop_known = None
            if progress and count:
                progress(count)
            if done:
                self._tell()
                return reached

    def _stop_at(self, failed: ProjectionFailed) -> ReadModelsStopped:
        stop, new = stopped.record(self.store, failed)
        self._stop_known = stop
        if new:
            log.error("read models stopped: %s", stop.describe(), exc_info=failed.error)
        return ReadModelsStopped(stop)

    def stop(self, *, fresh: bool = False) -> Stop | None:
        """The stop in force, if the read models stopped at an event they cannot apply.

        Read from the store at most every STOP_TTL seconds (every write request asks), unless `fresh`.
        """
        now = time.monotonic()
        if fresh or now - self._stop_checked > STOP_TTL:
            self._stop_known = stopped.current(self.store)
            self._stop_checked = now
        return self._stop_known

    def positions(self) -> dict[str, int]:
        """How far each read model has got, by name, read without any lock."""
        return {
            str(name): int(at) for name, at in self.store.fetchall("SELECT name, position FROM projection_tracking")
        }

    def position(self) -> int:
        """How far every read model has got (the lowest position), read without any lock."""
        rows = self.store.fetchall("SELECT MIN(position) FROM projection_tracking")
        return int(rows[0][0] or 0) if rows else 0

    def catch_up_for_reader(self, position: int, timeout: float = 2.0, batch_size: int = 1000) -> bool:
        """Read-your-writes: return once the read models include `position`.

        Projects batches itself when the lock is free; when another process holds it (the worker,
        another web worker), waits for that one instead of queueing behind it. False after
        `timeout` seconds: the caller answers anyway and the worker catches up.
        """
        try:
            self.setup()
        except Busy:
            return False  # another projector kept the lock too long: the same answer as a timeout
        deadline = time.monotonic() + timeout
        while self.position() < position:
            known = self.stop()
            if known is not None and known.position <= position:
                raise ReadModelsStopped(known)
            try:
                with self.store.try_transaction() as tx:
                    if tx is not None:
                        _, count, _ = self._batch_in(tx, position, batch_size)
                        if count == 0:
                            break
                        continue
            except ProjectionFailed:
                # Find the event and record the stop (or pass a lost connection on), then say so.
                self.catch_up(until=position)
                continue
            if time.monotonic() > deadline:
                self._tell()
                return False
            time.sleep(0.005)
        self._tell()
        return self.position() >= position

    def read_your_writes(self) -> bool:
        """After a command: return once the read models show it, so the next page or GET does.

        The one catch-up every command of the pages and the API ends with. Best effort: the command
        is recorded either way, and the worker catches up if this times out or fails; only a read
        model stopped at an event is said (ReadModelsStopped, which the web answers with a 503 that
        says the command was recorded).
        """
        try:
            caught_up = False
            for _ in range(3):  # the alerts a change raised are shown too (see on_stock_changed)
                head = self.head()
                caught_up = self.catch_up_for_reader(head)
                if not caught_up or self.head() == head:
                    break
            return caught_up
        except ReadModelsStopped:
            raise
        except Exception:
            log.exception("catching up after a command failed; the worker will catch up")
            return False

    def _one_batch(self, target: int, batch_size: int) -> tuple[bool, int, int]:
        with self.store.transaction() as tx:
            return self._batch_in(tx, target, batch_size)

    def _batch_in(self, tx: Tx, target: int, batch_size: int) -> tuple[bool, int, int]:
        positions: dict[str, int] = dict(tx.fetchall("SELECT name, position FROM projection_tracking"))
        start = min(int(positions.get(p.name, 0)) for p in self.projections)
        if start >= target:
            return True, 0, start
        # `stop` bounds positions, not just the count: the log may have gaps (PostgreSQL
        # sequence numbers lost to a conflicting save), and a replay "until P" must end at P.
        notifications = self.app.recorder.select_notifications(start=start + 1, limit=batch_size, stop=target)
        if not notifications:
            return True, 0, start
        zone = self.projections[0].zone if self.projections else ZoneInfo("UTC")
        batch = self._decoded(notifications, zone)
        last = batch[-1].position
        touched = {(r.event.site, r.event.sku) for r in batch if isinstance(r.event, StockLedger.Movement)}
        stamp = _now()
        for projection in self.projections:
            position = int(positions.get(projection.name, 0))
            todo = batch if position == start else [r for r in batch if r.position > position]
            if not todo:
                continue
            try:
                projection.process(todo, tx)
            except Exception as error:
                raise ProjectionFailed(projection.name, todo[0].position, todo[-1].position, error) from error
            tx.execute(
                "UPDATE projection_tracking SET position = ?, updated_at = ? WHERE name = ?",
                (last, stamp, projection.name),
            )
        touched |= self._levels_set(tx, batch)
        if touched:
            with self._changed_lock:
                self._changed |= touched  # told once the transaction has committed (see _tell)
        return last >= target, len(batch), last

    def _levels_set(self, tx: Tx, batch: Sequence[Recorded]) -> set[tuple[str, str]]:
        """The (site, SKU) whose reorder point or par level the batch set: a new level changes which
        alerts hold as much as stock does. The event names the site by id; the catalog, just
        projected in this transaction, has its code."""
        changed = [r.event for r in batch if isinstance(r.event, Site.StockLevelSet)]
        if not changed or not any(p.name == "catalog" for p in self.projections):
            return set()
        ids = sorted({str(event.originator_id) for event in changed})
        marks = ", ".join("?" for _ in ids)
        codes: dict[str, str] = {
            str(i): str(c) for i, c in tx.fetchall(f"SELECT id, code FROM sites WHERE id IN ({marks})", ids)
        }
        return {(codes[str(e.originator_id)], e.sku) for e in changed if str(e.originator_id) in codes}

    def _tell(self) -> None:
        """Tell `on_stock_changed` what stock the catch-up just projected changed, if anything did."""
        with self._changed_lock:
            changed, self._changed = self._changed, set()
        if changed and self.on_stock_changed is not None:
            try:
                self.on_stock_changed(changed)
            except Exception:
                log.exception("checking the level alerts after a stock change failed; the periodic check will")

    def _decoded(self, notifications: Sequence[Any], zone: ZoneInfo) -> list[Recorded]:
        to_event = self.app.mapper.to_domain_event
        try:
            return [Recorded(n.id, to_event(n), n, zone) for n in notifications]
        except Exception as error:
            # An event that cannot be read back (an unknown type, a wrong cipher key, changed bytes).
            raise ProjectionFailed(READING, notifications[0].id, notifications[-1].id, error) from error

    def rebuild(self, names: Sequence[str] = (), *, progress: Callable[[int], None] | None = None) -> int:
        """Drop the named projections (all by default) and project the whole log again."""
        self.setup()
        chosen = [self.by_name(name) for name in names] if names else self.projections
        # Secondary indexes are built once at the end, not kept up to date row by row. A rebuild
        # cut short leaves them missing until the next setup(), which creates them.
        with self.store.transaction() as tx:
            for projection in chosen:
                self._reset(tx, projection, indexes=False)
        with self.store.bulk_load(), fewer_collections():
            reached = self.catch_up(batch_size=5000, progress=progress)
            with self.store.transaction() as tx:
                for projection in chosen:
                    for statement in projection.ddl:
                        if _is_index(statement):
                            tx.execute(statement)
        return reached

    def status(self) -> list[Status]:
        """Each projection's position against the log's head."""
        self.setup()
        head = self.head()
        rows = {
            name: (int(pos), int(ver))
            for name, pos, ver in self.store.fetchall("SELECT name, position, version FROM projection_tracking")
        }
        return [
            Status(p.name, rows.get(p.name, (0, 0))[0], head, rows.get(p.name, (0, 0))[1]) for p in self.projections
        ]

    def run(self, stop: threading.Event, interval: float = 0.5) -> None:
        """Catch up, then poll for new events until `stop` is set. Errors are logged and retried."""
        while not stop.is_set():
            try:
                self.catch_up()
            except ReadModelsStopped:
                stop.wait(STOPPED_RETRY)  # said once when it stopped; tried again in case it was fixed
                continue
            except Exception:
                log.exception("catching up projections failed; retrying")
                stop.wait(min(interval * 10, 10))
                continue
            stop.wait(interval)


@contextmanager
def fewer_collections(allocations: int = 50_000) -> Iterator[None]:
    """Run the cyclic garbage collector's youngest generation every `allocations` allocations, not 700.

    A rebuild makes millions of short-lived objects (decoded events, rows) that live for one batch
    and form no cycles; at the default threshold the collector kept scanning them and took a fifth of
    the rebuild's time. Reference counting still frees them as each batch ends. The threshold is the
    process's: it is put back afterwards.
    """
    before = gc.get_threshold()
    gc.set_threshold(allocations, *before[1:])
    try:
        yield
    finally:
        gc.set_threshold(*before)


def _is_index(statement: str) -> bool:
    return statement.lstrip().upper().startswith(("CREATE INDEX", "CREATE UNIQUE INDEX"))


def _now() -> str:
    return datetime.now(UTC).isoformat()
