"""What an export reads: the read models now, or rebuilt as the log stood at a past position.

Now: every query of one export runs in one read-only transaction of the read store (a snapshot:
WAL on SQLite, REPEATABLE READ on PostgreSQL), so the figures all come from one position of the
read models, however long the workbook takes to write (its ledger is streamed from the snapshot),
while the projector goes on projecting beside it.

As known at position P: the read models an export needs are rebuilt from the log up to P into a
scratch in-memory store (as `inventory audit replay --until` does), so nothing recorded after P,
backdated or not, can change the figures: the same report, whatever was recorded since.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

from eventsourcing.application import Application

from inventory.projections.catalog import Catalog
from inventory.projections.distribution import Distribution
from inventory.projections.report_queries import Reader, read_position, seal_link_at
from inventory.projections.runner import Projector
from inventory.projections.stock_card import StockCard
from inventory.projections.stock_on_hand import StockOnHand
from inventory.projections.store import ReadStore, SqliteReadStore

READ_MODELS = ("catalog", "stock_on_hand", "stock_card", "distribution")


@dataclass(frozen=True)
class Snapshot:
    """Read models at one log position, and the seal's link there."""

    reader: Reader
    position: int
    seal: tuple[int, str] | None  # the last sealed position at or before `position`, and its hash
    replayed: bool  # rebuilt from the log for this export ("as known at")
    zone: ZoneInfo


class _While:
    """A reader that refuses to read once its snapshot has ended (its transaction committed, its
    scratch store closed): a figure read late would come from another position, or from nowhere."""

    def __init__(self, reader: Reader) -> None:
        self._reader: Reader | None = reader

    def fetchall(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        if self._reader is None:
            raise RuntimeError("The export's snapshot has ended: read it (write the workbook) inside its `with`.")
        return self._reader.fetchall(sql, params)

    def end(self) -> None:
        self._reader = None


@contextmanager
def _only_while(reader: Reader) -> Iterator[_While]:
    guarded = _While(reader)
    try:
        yield guarded
    finally:
        guarded.end()


@contextmanager
def current(store: ReadStore, zone: ZoneInfo) -> Iterator[Snapshot]:
    """The read models as they stand, read in one read-only transaction (the projector goes on)."""
    with store.snapshot() as tx, _only_while(tx) as reader:
        position = read_position(reader, READ_MODELS)
        yield Snapshot(reader, position, seal_link_at(reader, position), replayed=False, zone=zone)


@contextmanager
def known_at(
    app: Application[Any],
    store: ReadStore,
    zone: ZoneInfo,
    position: int,
    progress: Callable[[int], None] | None = None,
) -> Iterator[Snapshot]:
    """The read models rebuilt from the log up to `position` (progress: events replayed)."""
    memory = SqliteReadStore(":memory:")
    try:
        projector = Projector(app, memory, [Catalog(zone), StockOnHand(zone), StockCard(zone), Distribution(zone)])
        projector.catch_up(until=position, batch_size=5000, progress=progress)
        with _only_while(memory) as reader:
            yield Snapshot(reader, position, seal_link_at(store, position), replayed=True, zone=zone)
    finally:
        memory.close()


def log_head(app: Application[Any]) -> int:
    """The log's last position."""
    return int(app.recorder.max_notification_id() or 0)
