"""The grant report's ledger is streamed: read in chunks from the export's snapshot, never all at once.

`iter_movements` must yield exactly the rows of `movements()`, in the same order, whatever the
chunk size: runs of whole dates read together, and dates busier than a chunk read in pages keyed
on (occurred_at, position, seq). And once the snapshot has ended, nothing more is read from it.

The snapshot is a read-only transaction that holds no lock: however long a workbook takes to
write, the projector goes on projecting beside it, and the export still sees one position.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import pytest

from exports.reports import grant_figures
from exports.snapshot import READ_MODELS, current
from inventory.projections import report_queries as rq
from tests.conftest import ADMIN
from tests.exports.conftest import Program


def test_streamed_movements_are_the_listed_ones_in_the_same_order(generated_on: Program) -> None:
    source = generated_on.source
    start, end = generated_on.last_day - timedelta(days=70), generated_on.last_day
    with current(source.store, source.zone) as snapshot:
        reader = snapshot.reader
        for funding, kind in ((None, None), ("SOR", None), ("GIFTS", None), (None, "received"), ("STATE", "received")):
            listed = rq.movements(reader, start, end, funding, kind)
            days = rq.movement_days(reader, start, end, funding, kind)
            assert sum(count for _day, count in days) == len(listed)
            for chunk in (1, 2, 3, 7, 50, 10_000):
                streamed = list(rq.iter_movements(reader, start, end, funding, kind, chunk=chunk))
                assert streamed == listed, (funding, kind, chunk)
            movements = rq.Movements(reader, start, end, funding, kind, chunk=4)
            assert len(movements) == len(listed)
            assert list(movements) == listed
            assert list(movements) == listed  # read again, from the start
        # The paths above were all taken: dates read together, and dates busier than a chunk.
        busiest = max(count for _day, count in rq.movement_days(reader, start, end))
        assert busiest > 7
        assert len(rq.movement_days(reader, start, end)) > 10
        # Ties on the date and time (one event's several movements) are kept in position and seq order.
        listed = rq.movements(reader, start, end)
        keys = [(m["business_date"], m["occurred_at"], m["position"]) for m in listed]
        assert len(set(keys)) < len(keys)
        # An empty period streams nothing.
        assert list(rq.iter_movements(reader, end + timedelta(days=1), end + timedelta(days=9))) == []


def test_the_ledger_is_not_read_once_the_snapshot_has_ended(generated: Program) -> None:
    start, end = generated.last_day - timedelta(days=20), generated.last_day
    with grant_figures(generated.source, funding_source=None, start=start, end=end, who="t") as (figures, _):
        rows = len(figures.ledger)
        assert rows > 0
        assert sum(1 for _row in figures.ledger) == rows
    with pytest.raises(RuntimeError, match="snapshot has ended"):
        next(iter(figures.ledger))


def test_a_replayed_snapshots_ledger_streams_while_it_is_open(generated: Program) -> None:
    source = generated.source
    head = generated.projector.head()
    start, end = generated.last_day - timedelta(days=20), generated.last_day
    with grant_figures(source, funding_source="SOR", start=start, end=end, who="t", position=head) as (figures, _):
        replayed = list(figures.ledger)
    with current(source.store, source.zone) as snapshot:
        assert replayed == rq.movements(snapshot.reader, start, end, "SOR")
    with pytest.raises(RuntimeError, match="snapshot has ended"):
        list(figures.ledger)


def test_the_projector_goes_on_while_an_export_reads_its_snapshot(generated_on: Program) -> None:
    program = generated_on
    source = program.source
    count = "SELECT COUNT(*) FROM stock_movements"
    with current(source.store, source.zone) as snapshot:
        [(before,)] = snapshot.reader.fetchall(count)
        program.app.receive_stock(
            site="WH", sku="SYR-1ML", lot="S-LATE", quantity=5, expires_on=None, funding_source="STATE", actor=ADMIN
        )
        with ThreadPoolExecutor(1) as pool:  # another thread: on SQLite, another connection
            reached = pool.submit(program.projector.catch_up).result(timeout=30)
        assert reached == program.projector.head()
        assert snapshot.reader.fetchall(count) == [(before,)]
        assert rq.read_position(snapshot.reader, READ_MODELS) == snapshot.position < reached
    assert source.store.fetchall(count) == [(before + 1,)]
