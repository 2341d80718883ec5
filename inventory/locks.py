"""Locks per aggregate, so commands on the same stock queue instead of colliding.

Threads of one process queue on in-process locks. Processes sharing one database queue on a lock
the database's host provides: lock files beside a SQLite database, advisory locks on PostgreSQL.
Without the second kind, optimistic retries alone let a process with a warm cache win every race
against one that has to reload, and the loser gives up.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import threading
import zlib
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from typing import Protocol
from uuid import UUID

from psycopg import OperationalError

STRIPES = 256
IMPORTS = STRIPES + 1  # the named lock one import at a time holds (see StripedLocks.named)


class ProcessLocks(Protocol):
    def acquire(self, stripe: int) -> None: ...

    def release(self, stripe: int) -> None: ...

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

    def acquire(self, stripe: int) -> None:
        fcntl.flock(self._fd(stripe), fcntl.LOCK_EX)

    def release(self, stripe: int) -> None:
        fcntl.flock(self._fd(stripe), fcntl.LOCK_UN)

    def close(self) -> None:
        # Safe to call twice (the library's Application.__del__ closes again).
        with self._guard:
            fds, self._fds = list(self._fds.values()), {}
        for fd in fds:
            with contextlib.suppress(OSError):
                os.close(fd)


class AdvisoryLocks:
    """PostgreSQL session advisory locks, one connection per thread that holds any."""

    def __init__(self, conninfo: str, max_size: int, namespace: str) -> None:
        from psycopg_pool import ConnectionPool

        # Two-key advisory locks: the first key names this event store (database and schema), so
        # two stores on one server never wait for each other; the second is the stripe.
        self._space = zlib.crc32(namespace.encode()) - 2**31
        self._pool = ConnectionPool(conninfo, min_size=0, max_size=max_size, kwargs={"autocommit": True}, open=True)
        self._held = threading.local()

    def acquire(self, stripe: int) -> None:
        held: dict[int, object] = self._held.__dict__.setdefault("stripes", {})
        if held:  # this thread already holds a connection with locks on it: use that one
            self._held.conn.execute("SELECT pg_advisory_lock(%s, %s)", (self._space, stripe))
            held[stripe] = True
            return
        for attempt in (1, 2):
            conn = self._pool.getconn()
            try:
                conn.execute("SELECT pg_advisory_lock(%s, %s)", (self._space, stripe))
            except OperationalError:
                # A dead connection (the database restarted, the backend was killed): give it back
                # (the pool drops broken ones), drop its dead pool-mates too, and try once more.
                self._pool.putconn(conn)
                if attempt == 2:
                    raise
                with contextlib.suppress(Exception):
                    self._pool.check()
                continue
            except BaseException:
                self._pool.putconn(conn)  # never leak a pooled connection: the pool would run dry
                raise
            self._held.conn = conn
            held[stripe] = True
            return

    def release(self, stripe: int) -> None:
        held: dict[int, object] = self._held.__dict__.setdefault("stripes", {})
        conn = self._held.conn
        try:
            conn.execute("SELECT pg_advisory_unlock(%s, %s)", (self._space, stripe))
        finally:
            held.pop(stripe, None)
            if not held:
                self._pool.putconn(conn)
                self._held.conn = None

    def close(self) -> None:
        self._pool.close()


class StripedLocks:
    """A fixed set of stripes; an aggregate id always maps to the same one."""

    def __init__(self, across_processes: ProcessLocks | None = None, stripes: int = STRIPES) -> None:
        self._locks = [threading.Lock() for _ in range(stripes)]
        self._processes = across_processes
        self._named: dict[int, threading.Lock] = {}
        self._named_guard = threading.Lock()

    @contextmanager
    def named(self, number: int) -> Iterator[None]:
        """A lock of its own, outside the aggregates' stripes (`number` >= their count), held across
        threads and processes for work made of many commands (an import). The commands inside take
        their stripes as usual: they never wait for this lock, so nothing deadlocks."""
        if number < len(self._locks):
            raise ValueError(f"named lock {number} would share a stripe with aggregates")
        with self._named_guard:
            lock = self._named.setdefault(number, threading.Lock())
        with lock:
            if self._processes is not None:
                self._processes.acquire(number)
            try:
                yield
            finally:
                if self._processes is not None:
                    self._processes.release(number)

    @contextmanager
    def holding(self, ids: Iterable[UUID]) -> Iterator[None]:
        """Hold the locks of all `ids`, taken in a fixed order so two commands never deadlock."""
        indexes = sorted({uid.int % len(self._locks) for uid in ids})
        taken: list[int] = []
        across: list[int] = []
        try:
            for index in indexes:
                self._locks[index].acquire()
                taken.append(index)
            if self._processes is not None:
                for index in indexes:
                    self._processes.acquire(index)
                    across.append(index)
            yield
        finally:
            if self._processes is not None:
                for index in reversed(across):
                    self._processes.release(index)
            for index in reversed(taken):
                self._locks[index].release()

    def close(self) -> None:
        if self._processes is not None:
            self._processes.close()
