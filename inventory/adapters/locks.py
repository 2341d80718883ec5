"""Locks per aggregate, so commands on the same stock queue instead of colliding.

Threads of one process queue on in-process locks. Processes sharing one database queue on a lock
the database's host provides: lock files beside a SQLite database, advisory locks on PostgreSQL.
Without the second kind, optimistic retries alone let a process with a warm cache win every race
against one that has to reload, and the loser gives up.

Two promises keep a worker answering whatever happens to its connections:
- every wait is bounded: a command that cannot have its locks within LOCK_WAIT_SECONDS (the
  INVENTORY_LOCK_WAIT_SECONDS setting) raises Busy, which answers 503 with Retry-After;
- every lock taken is given back, whatever raises in between. A connection that fails while locking
  or unlocking is closed, never pooled again: a closed (or killed) session holds no advisory lock, so
  none can stay behind on a connection the pool hands out later.
"""

from __future__ import annotations

import contextlib
import fcntl
import logging
import os
import threading
import time
import zlib
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any, Protocol
from uuid import UUID

from psycopg import Connection, OperationalError, sql
from psycopg.errors import LockNotAvailable

from inventory.domain.errors import Busy

STRIPES = 256
IMPORTS = STRIPES + 1  # the named lock one import at a time holds (see StripedLocks.named)
# Seconds a command waits for its locks at most (INVENTORY_LOCK_WAIT_SECONDS). Commands on one ledger
# hold its lock for milliseconds, so a wait this long means its holder is stuck or the stock is
# swamped: better to say so than to keep the request, and the worker thread, waiting.
LOCK_WAIT_SECONDS = 10
STOCK_BUSY = "Others are recording the same stock right now; nothing was recorded. Try again in a moment."
IMPORT_BUSY = (
    "Another import is running right now; nothing was recorded from this file. Try again once it has finished."
)

log = logging.getLogger(__name__)


class ProcessLocks(Protocol):
    def acquire(self, stripe: int, deadline: float) -> bool:
        """Take the stripe's lock, waiting until `deadline` (time.monotonic()) at most; False if not taken."""
        ...

    def release(self, stripe: int) -> None:
        """Give the lock back. A lock lost with its connection counts as given back: never raises for it."""
        ...

    def close(self) -> None: ...


class LockFiles:
    """One lock file per stripe in a folder beside a SQLite database, locked with flock.

    flock belongs to the open file, not the process, so two application instances (even in one
    process, as in the tests) exclude each other; the kernel drops the lock if a process dies.
    """

    def __init__(self, folder: str) -> None:
        self._folder = folder
        os.makedirs(folder, exist_ok=True)
        self._fds: dict[int, int] = {}
        self._guard = threading.Lock()

    def _fd(self, stripe: int) -> int:
        with self._guard:
            fd = self._fds.get(stripe)
            if fd is None:
                fd = os.open(os.path.join(self._folder, f"{stripe:03d}.lock"), os.O_RDWR | os.O_CREAT, 0o600)
                self._fds[stripe] = fd
            return fd

    def acquire(self, stripe: int, deadline: float) -> bool:
        # flock cannot wait with a timeout (an alarm signal would reach the main thread only): poll.
        # The pause stays short because only one thread per process polls a stripe (the in-process
        # lock queues the others), and a command holds the file for a millisecond or so.
        fd = self._fd(stripe)
        pause = 0.0005
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                return True
            except BlockingIOError:
                left = deadline - time.monotonic()
                if left <= 0:
                    return False
                time.sleep(min(pause, left))
                pause = min(pause * 2, 0.005)

    def release(self, stripe: int) -> None:
        # A file closed meanwhile (close()) took its lock with it.
        with contextlib.suppress(OSError):
            fcntl.flock(self._fd(stripe), fcntl.LOCK_UN)

    def close(self) -> None:
        # Safe to call twice (the library's Application.__del__ closes again).
        with self._guard:
            fds, self._fds = list(self._fds.values()), {}
        for fd in fds:
            with contextlib.suppress(OSError):
                os.close(fd)


def take_advisory_lock(conn: Connection[Any], keys: Sequence[int], deadline: float) -> bool:
    """Take a session advisory lock on `conn` by `deadline` (time.monotonic()); False if others held it.

    The first try does not wait (one round trip, the usual case). Then pg_advisory_lock waits with
    lock_timeout set to the time left, so waiters still queue in PostgreSQL's order rather than poll.
    A dead connection raises (psycopg's OperationalError).
    """
    key_list = sql.SQL(", ").join(sql.Literal(key) for key in keys)
    row = conn.execute(sql.SQL("SELECT pg_try_advisory_lock({})").format(key_list)).fetchone()
    if row and row[0]:
        return True
    left_ms = int((deadline - time.monotonic()) * 1000)
    if left_ms < 1:  # lock_timeout 0 would mean waiting for ever
        return False
    conn.execute("SELECT set_config('lock_timeout', %s, false)", (f"{left_ms}ms",))
    try:
        conn.execute(sql.SQL("SELECT pg_advisory_lock({})").format(key_list))
    except LockNotAvailable:
        return False
    return True


class _Session(threading.local):
    """A thread's connection holding its advisory locks, and which stripes it holds there."""

    def __init__(self) -> None:
        self.conn: Connection[Any] | None = None
        self.stripes: set[int] = set()


class AdvisoryLocks:
    """PostgreSQL session advisory locks, one connection per thread that holds any."""

    def __init__(self, conninfo: str, max_size: int, namespace: str, pool_wait: float = 30.0) -> None:
        from psycopg_pool import ConnectionPool

        # Two-key advisory locks: the first key names this event store (database and schema), so
        # two stores on one server never wait for each other; the second is the stripe.
        self._space = zlib.crc32(namespace.encode()) - 2**31
        self._pool = ConnectionPool(
            conninfo, min_size=0, max_size=max_size, kwargs={"autocommit": True}, timeout=pool_wait, open=True
        )
        self._session = _Session()

    def acquire(self, stripe: int, deadline: float) -> bool:
        session = self._session
        if session.conn is not None:  # this thread holds other stripes: take this one on the same session
            try:
                taken = take_advisory_lock(session.conn, (self._space, stripe), deadline)
            except BaseException:
                self._discard(session)  # its other locks died with it, or go with it now
                raise
            if taken:
                session.stripes.add(stripe)
            return taken
        for attempt in (1, 2):
            conn = self._pool.getconn()
            try:
                taken = take_advisory_lock(conn, (self._space, stripe), deadline)
            except OperationalError:
                # A dead connection (the database restarted, the backend was killed): drop it and its
                # dead pool-mates, and try once more on a new one.
                self._close(conn)
                if attempt == 2:
                    raise
                with contextlib.suppress(Exception):
                    self._pool.check()
                continue
            except BaseException:
                self._close(conn)  # the lock may have been granted as we were interrupted: close drops it
                raise
            if not taken:
                self._pool.putconn(conn)
                return False
            session.conn, session.stripes = conn, {stripe}
            return True
        raise AssertionError("unreachable: the second attempt returns or raises")

    def release(self, stripe: int) -> None:
        session = self._session
        conn = session.conn
        if conn is None or stripe not in session.stripes:
            return  # lost with its connection (see _discard): the database dropped it then
        session.stripes.discard(stripe)
        try:
            conn.execute("SELECT pg_advisory_unlock(%s, %s)", (self._space, stripe))
        except BaseException as error:
            # Closing the session drops whatever it still holds, so no lock outlives this failure.
            self._discard(session)
            if not isinstance(error, Exception):
                raise
            log.warning("unlocking stripe %s failed (%s); its connection was closed instead", stripe, error)
            return
        if not session.stripes:
            session.conn = None
            self._pool.putconn(conn)

    def _discard(self, session: _Session) -> None:
        """Forget this thread's session and close its connection: every lock it held is released."""
        conn, session.conn, session.stripes = session.conn, None, set()
        if conn is not None:
            self._close(conn)

    def _close(self, conn: Connection[Any]) -> None:
        with contextlib.suppress(Exception):
            conn.close()
        with contextlib.suppress(Exception):
            self._pool.putconn(conn)  # closed, so the pool discards it and frees its place

    def close(self) -> None:
        self._pool.close()


class StripedLocks:
    """A fixed set of stripes; an aggregate id always maps to the same one."""

    def __init__(
        self, across_processes: ProcessLocks | None = None, stripes: int = STRIPES, wait: float = LOCK_WAIT_SECONDS
    ) -> None:
        self._locks = [threading.Lock() for _ in range(stripes)]
        self._processes = across_processes
        self._named: dict[int, threading.Lock] = {}
        self._named_guard = threading.Lock()
        self.wait = wait

    @contextmanager
    def named(self, number: int, busy: str = IMPORT_BUSY) -> Iterator[None]:
        """A lock of its own, outside the aggregates' stripes (`number` >= their count), held across
        threads and processes for work made of many commands (an import). The commands inside take
        their stripes as usual: they never wait for this lock, so nothing deadlocks. Busy(`busy`)
        when others hold it longer than the wait."""
        if number < len(self._locks):
            raise ValueError(f"named lock {number} would share a stripe with aggregates")
        with self._named_guard:
            lock = self._named.setdefault(number, threading.Lock())
        with self._taking([(number, lock)], busy):
            yield

    @contextmanager
    def holding(self, ids: Iterable[UUID]) -> Iterator[None]:
        """Hold the locks of all `ids`, taken in a fixed order so two commands never deadlock."""
        indexes = sorted({uid.int % len(self._locks) for uid in ids})
        with self._taking([(index, self._locks[index]) for index in indexes], STOCK_BUSY):
            yield

    @contextmanager
    def _taking(self, locks: list[tuple[int, threading.Lock]], busy: str) -> Iterator[None]:
        """Take `locks` in order, in this process and then across processes, all by one deadline.

        The exit stack gives each lock back in reverse order, every one of them even when giving back
        another raised, so a failure while unlocking can never leave a thread's lock taken for good.
        """
        deadline = time.monotonic() + self.wait
        with contextlib.ExitStack() as taken:
            for _, lock in locks:
                if not lock.acquire(timeout=max(deadline - time.monotonic(), 0)):
                    raise Busy(busy)
                taken.callback(lock.release)
            if self._processes is not None:
                for number, _ in locks:
                    if not self._processes.acquire(number, deadline):
                        raise Busy(busy)
                    taken.callback(self._processes.release, number)
            yield

    def close(self) -> None:
        if self._processes is not None:
            self._processes.close()
