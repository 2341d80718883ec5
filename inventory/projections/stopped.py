"""When a read model cannot apply an event: it stops at that event and says so, never silently.

An event that a read model cannot apply (a bug, or text the database refuses) would otherwise fail
every batch forever while the log keeps growing: stock, stock cards, totals and the seal frozen,
and every page showing figures that no longer move. Instead the projector finds the one event
(batches are projected again one event at a time), records here which read model, which log
position and what went wrong, and stops there. `/readyz` answers 503 at once, writes are refused
with the reason before anything is recorded, `inventory projections status` and every page say
so, and the admins are emailed once. Each later attempt tries the event again; the first that
succeeds (after an upgrade fixed the cause) clears the stop and the read models go on.

Lost connections and locked databases are not stops: they pass, and are simply retried.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from datetime import UTC, datetime

from inventory.projections.store import ReadStore

DDL = """CREATE TABLE IF NOT EXISTS projection_stops (
    name TEXT PRIMARY KEY, position BIGINT NOT NULL, error TEXT NOT NULL, since TEXT NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 1, notified_at TEXT)"""
ERROR_LENGTH = 500  # characters of the error kept: enough to find the cause


@dataclass(frozen=True)
class Stop:
    """A read model stopped before the event at `position`, because applying it raised `error`."""

    name: str
    position: int
    error: str
    since: str
    attempts: int = 1
    notified_at: str | None = None

    def describe(self) -> str:
        return (
            f"The read model {self.name} cannot apply the event at log position {self.position} "
            f"({self.error}); the read models stopped before it on {self.since[:16].replace('T', ' ')} UTC."
        )


class ReadModelsStopped(Exception):
    """The read models stopped at an event they cannot apply: what they show no longer moves."""

    def __init__(self, stop: Stop) -> None:
        super().__init__(stop.describe())
        self.stop = stop


class ProjectionFailed(Exception):
    """One read model raised while applying events between `first` and `last` (log positions)."""

    def __init__(self, name: str, first: int, last: int, error: BaseException) -> None:
        super().__init__(f"{name} failed on positions {first}..{last}: {describe_error(error)}")
        self.name, self.first, self.last, self.error = name, first, last, error


def describe_error(error: BaseException) -> str:
    text = f"{type(error).__name__}: {error}"
    return text if len(text) <= ERROR_LENGTH else text[: ERROR_LENGTH - 1] + "…"


def passes(error: BaseException) -> bool:
    """Whether an error is about reaching the database (retry it), not about the event (stop there)."""
    from eventsourcing.persistence import InterfaceError, OperationalError
    from psycopg import InterfaceError as PsycopgInterfaceError
    from psycopg import OperationalError as PsycopgOperationalError
    from psycopg_pool import PoolTimeout

    reaching = (
        OperationalError,
        InterfaceError,
        PsycopgOperationalError,
        PsycopgInterfaceError,
        PoolTimeout,
        sqlite3.OperationalError,
        ConnectionError,
        TimeoutError,
    )
    return isinstance(error, reaching) or isinstance(getattr(error, "error", None), reaching)


def current(store: ReadStore) -> Stop | None:
    """The stop in force, if any (the earliest, should there be more than one)."""
    rows = store.fetchall(
        "SELECT name, position, error, since, attempts, notified_at FROM projection_stops ORDER BY position LIMIT 1"
    )
    if not rows:
        return None
    name, position, error, since, attempts, notified_at = rows[0]
    return Stop(str(name), int(position), str(error), str(since), int(attempts), notified_at)


def record(store: ReadStore, failed: ProjectionFailed) -> tuple[Stop, bool]:
    """Record (or count again) a stop; True as the second value when it is new."""
    now = datetime.now(UTC).isoformat(timespec="seconds")
    with store.transaction(projector_lock=False) as tx:
        rows = tx.fetchall(
            "SELECT position FROM projection_stops WHERE name = ? AND position = ?", (failed.name, failed.first)
        )
        new = not rows
        tx.execute("DELETE FROM projection_stops WHERE name <> ? OR position <> ?", (failed.name, failed.first))
        tx.execute(
            """INSERT INTO projection_stops (name, position, error, since) VALUES (?, ?, ?, ?)
               ON CONFLICT (name) DO UPDATE SET attempts = projection_stops.attempts + 1, error = ?""",
            (failed.name, failed.first, describe_error(failed.error), now, describe_error(failed.error)),
        )
    stop = current(store)
    assert stop is not None
    return stop, new


def mark_notified(store: ReadStore, stop: Stop) -> None:
    with store.transaction(projector_lock=False) as tx:
        tx.execute(
            "UPDATE projection_stops SET notified_at = ? WHERE name = ? AND position = ?",
            (datetime.now(UTC).isoformat(timespec="seconds"), stop.name, stop.position),
        )


def clear(store: ReadStore, reached: int) -> None:
    """The read models got past a stop (the event applied after all): it no longer holds."""
    with store.transaction(projector_lock=False) as tx:
        tx.execute("DELETE FROM projection_stops WHERE position <= ?", (reached,))
