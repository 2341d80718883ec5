"""Where read models live: a SQLite file beside the event store, or the same PostgreSQL database.

SQL is written once, with `?` placeholders, in the subset both databases share (upserts with
ON CONFLICT, window functions). On SQLite the read models get their own file, so the worker that
writes them never holds the lock that commands need to append events.
"""

from __future__ import annotations

import contextlib
import re
import sqlite3
import threading
import time
import zlib
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Protocol

from psycopg import OperationalError
from psycopg.errors import LockNotAvailable

from inventory.adapters.locks import LOCK_WAIT_SECONDS
from inventory.adapters.persistence import persistence_env, pool_wait_seconds, postgres_conninfo, store_namespace
from inventory.domain.errors import Busy

Row = tuple[Any, ...]


class Tx(Protocol):
    """A transaction on the read store."""

    def execute(self, sql: str, params: Sequence[Any] = ()) -> None: ...

    def executemany(self, sql: str, rows: Iterable[Sequence[Any]]) -> None: ...

    def fetchall(self, sql: str, params: Sequence[Any] = ()) -> list[Row]: ...


class ReadStore(Protocol):
    dialect: str

    @contextmanager
    def transaction(self, projector_lock: bool = True) -> Iterator[Tx]:
        """One transaction, holding the projector lock (only one writer catches up at a time)
        unless told not to (tables that are not read models, like the API's idempotency keys)."""
        ...

    @contextmanager
    def try_transaction(self) -> Iterator[Tx | None]:
        """Like transaction(), but yields None at once when another projector holds the lock."""
        ...

    @contextmanager
    def snapshot(self) -> Iterator[Tx]:
        """A read-only transaction: every read sees the store as it stood at the first, however long
        it stays open, while the projector goes on writing (it neither takes nor waits for the lock)."""
        ...

    def fetchall(self, sql: str, params: Sequence[Any] = ()) -> list[Row]: ...

    @contextmanager
    def bulk_load(self) -> Iterator[None]:
        """Settings for writing a whole rebuild in this thread, undone afterwards."""
        ...

    def close(self) -> None: ...


class _SqliteTx:
    def __init__(self, conn: sqlite3.Connection) -> None:
        self._conn = conn

    def execute(self, sql: str, params: Sequence[Any] = ()) -> None:
        self._conn.execute(sql, params)

    def executemany(self, sql: str, rows: Iterable[Sequence[Any]]) -> None:
        self._conn.executemany(sql, rows)

    def fetchall(self, sql: str, params: Sequence[Any] = ()) -> list[Row]:
        return self._conn.execute(sql, params).fetchall()


class SqliteReadStore:
    """Read models in a SQLite file (or in memory, for a one-off replay)."""

    dialect = "sqlite"

    def __init__(self, path: str) -> None:
        self.path = path
        self._memory = path == ":memory:"
        self._local = threading.local()
        self._shared: sqlite3.Connection | None = None
        self._all: list[sqlite3.Connection] = []
        self._guard = threading.Lock()

    def _conn(self) -> sqlite3.Connection:
        if self._memory:
            if self._shared is None:
                self._shared = self._open()
            return self._shared
        conn: sqlite3.Connection | None = getattr(self._local, "conn", None)
        if conn is None:
            conn = self._open()
            self._local.conn = conn
        return conn

    def _open(self) -> sqlite3.Connection:
        conn = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False, timeout=60)
        if not self._memory:
            conn.execute("PRAGMA busy_timeout=60000")
            # WAL is a property of the file, set once; switching needs a moment with no other
            # connection busy, and that wait ignores the busy timeout, so retry it.
            for attempt in range(100):
                try:
                    if conn.execute("PRAGMA journal_mode").fetchone()[0] != "wal":
                        conn.execute("PRAGMA journal_mode=WAL")
                    break
                except sqlite3.OperationalError:
                    if attempt == 99:
                        raise
                    time.sleep(0.05)
            # Read models can always be rebuilt from the log, and each batch commits its rows with
            # its tracking position, so a lost last commit is simply projected again.
            conn.execute("PRAGMA synchronous=NORMAL")
        with self._guard:
            self._all.append(conn)
        return conn

    @contextmanager
    def try_transaction(self) -> Iterator[Tx | None]:
        # SQLite's write lock is held for a batch at most; waiting for it is cheaper than polling.
        with self.transaction() as tx:
            yield tx

    @contextmanager
    def transaction(self, projector_lock: bool = True) -> Iterator[Tx]:
        conn = self._conn()
        conn.execute("BEGIN IMMEDIATE")
        try:
            yield _SqliteTx(conn)
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        conn.execute("COMMIT")

    @contextmanager
    def snapshot(self) -> Iterator[Tx]:
        # In WAL mode a deferred transaction reads the database as it was at its first read, and
        # writers go on beside it. query_only: a write through it fails rather than waiting.
        conn = self._conn()
        conn.execute("BEGIN")
        try:
            conn.execute("PRAGMA query_only=ON")
            yield _SqliteTx(conn)
        finally:
            try:
                conn.execute("PRAGMA query_only=OFF")
            finally:
                conn.execute("ROLLBACK")

    def fetchall(self, sql: str, params: Sequence[Any] = ()) -> list[Row]:
        return self._conn().execute(sql, params).fetchall()

    @contextmanager
    def bulk_load(self) -> Iterator[None]:
        """For a rebuild: no fsync at commit and a large page cache, on this thread's connection.

        A crash of the process loses nothing committed; an operating-system crash or power loss
        during a rebuild may lose or damage the read models, which are then rebuilt from the log,
        the only thing that must survive (the event store keeps synchronous=FULL).
        """
        conn = self._conn()
        if self._memory:
            yield
            return
        conn.execute("PRAGMA synchronous=OFF")
        conn.execute("PRAGMA cache_size=-262144")  # 256 MiB, for the indexes being filled
        try:
            yield
        finally:
            conn.execute("PRAGMA synchronous=NORMAL")
            conn.execute("PRAGMA cache_size=-2000")

    def close(self) -> None:
        with self._guard:
            for conn in self._all:
                conn.close()
            self._all.clear()
        self._shared = None
        self._local = threading.local()


_PLACEHOLDER = re.compile(r"\?")


def _pg(sql: str) -> str:
    return _PLACEHOLDER.sub("%s", sql)


class _PostgresTx:
    def __init__(self, conn: Any) -> None:
        self._conn = conn

    def execute(self, sql: str, params: Sequence[Any] = ()) -> None:
        self._conn.execute(_pg(sql), params)

    def executemany(self, sql: str, rows: Iterable[Sequence[Any]]) -> None:
        rows = list(rows)
        if rows:
            with self._conn.cursor() as cursor:
                cursor.executemany(_pg(sql), rows)

    def fetchall(self, sql: str, params: Sequence[Any] = ()) -> list[Row]:
        return list(self._conn.execute(_pg(sql), params).fetchall())


class PostgresReadStore:
    """Read models in the event store's PostgreSQL database and schema."""

    dialect = "postgres"

    def __init__(
        self,
        conninfo: str,
        schema: str | None,
        namespace: str,
        max_size: int = 4,
        *,
        pool_wait: float = 30.0,
        lock_wait: float = LOCK_WAIT_SECONDS,
    ) -> None:
        from psycopg_pool import ConnectionPool

        options = f"-c search_path={schema}" if schema else None
        kwargs: dict[str, Any] = {"autocommit": True}
        if options:
            kwargs["options"] = options
        self._pool = ConnectionPool(
            conninfo, min_size=0, max_size=max_size, kwargs=kwargs, timeout=pool_wait, open=True
        )
        # The projector lock: one advisory lock per event store, held for one batch.
        self._lock_key = zlib.crc32(f"projections:{namespace}".encode()) - 2**31
        self._lock_wait = lock_wait

    @contextmanager
    def transaction(self, projector_lock: bool = True) -> Iterator[Tx]:
        try:
            with self._pool.connection() as conn, conn.transaction():
                if projector_lock:
                    self._take_projector_lock(conn)
                yield _PostgresTx(conn)
        except OperationalError:
            self._drop_dead_connections()
            raise

    def _take_projector_lock(self, conn: Any) -> None:
        """Wait for the projector lock `lock_wait` seconds at most: its holder may be a process stopped
        mid-batch (paused, wedged), whose open transaction keeps the lock until it goes on or dies."""
        row = conn.execute("SELECT pg_try_advisory_xact_lock(%s)", (self._lock_key,)).fetchone()
        if row and row[0]:
            return
        wait_ms = max(int(self._lock_wait * 1000), 1)  # 0 would mean for ever
        conn.execute("SELECT set_config('lock_timeout', %s, true)", (f"{wait_ms}ms",))
        try:
            conn.execute("SELECT pg_advisory_xact_lock(%s)", (self._lock_key,))
        except LockNotAvailable:
            raise Busy(
                "Another process has been updating the read models for too long; nothing was changed. "
                "Try again in a moment."
            ) from None
        conn.execute("SET LOCAL lock_timeout TO DEFAULT")  # the batch's own statements wait as before

    @contextmanager
    def try_transaction(self) -> Iterator[Tx | None]:
        with self._pool.connection() as conn, conn.transaction():
            row = conn.execute("SELECT pg_try_advisory_xact_lock(%s)", (self._lock_key,)).fetchone()
            yield _PostgresTx(conn) if row and row[0] else None

    @contextmanager
    def snapshot(self) -> Iterator[Tx]:
        try:
            with self._pool.connection() as conn, conn.transaction():
                conn.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
                yield _PostgresTx(conn)
        except OperationalError:
            self._drop_dead_connections()
            raise

    def fetchall(self, sql: str, params: Sequence[Any] = ()) -> list[Row]:
        try:
            return self._fetchall(sql, params)
        except OperationalError:
            # The connection was dead (a database restart, a killed backend): so are its pool-mates.
            # Replace them all, then read once more (a read is safe to repeat).
            self._drop_dead_connections()
            return self._fetchall(sql, params)

    def _fetchall(self, sql: str, params: Sequence[Any]) -> list[Row]:
        with self._pool.connection() as conn:
            return list(conn.execute(_pg(sql), params).fetchall())

    def _drop_dead_connections(self) -> None:
        """Test the idle pooled connections and discard the broken ones (the pool opens new ones)."""
        with contextlib.suppress(Exception):
            self._pool.check()

    @contextmanager
    def bulk_load(self) -> Iterator[None]:
        # Each batch takes a pooled connection of its own; PostgreSQL needs nothing special here.
        yield

    def close(self) -> None:
        self._pool.close()


def has_table(store: ReadStore, name: str) -> bool:
    """Whether the read store holds a table of this name (PostgreSQL: on the search path)."""
    if store.dialect == "sqlite":
        return bool(store.fetchall("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?", [name]))
    rows = store.fetchall("SELECT to_regclass(?) IS NOT NULL", [name])
    return bool(rows and rows[0][0])


def read_store_for(database_url: str, lock_wait: float = LOCK_WAIT_SECONDS) -> SqliteReadStore | PostgresReadStore:
    """The read store that goes with an event store (on PostgreSQL, waiting `lock_wait` seconds at most
    for the projector lock, and as long as the event store's pool for a pooled connection)."""
    env = persistence_env(database_url)
    if env["PERSISTENCE_MODULE"] == "eventsourcing.sqlite":
        path = env["SQLITE_DBNAME"]
        if ":memory:" in path or "mode=memory" in path:
            return SqliteReadStore(":memory:")
        events = Path(path)
        return SqliteReadStore(str(events.with_name(f"{events.stem}.readmodels{events.suffix or '.db'}")))
    return PostgresReadStore(
        postgres_conninfo(env),
        env.get("POSTGRES_SCHEMA"),
        namespace=store_namespace(env),
        pool_wait=pool_wait_seconds(env),
        lock_wait=lock_wait,
    )
