"""Locks are always given back, and nobody waits for one for ever.

A killed PostgreSQL connection that held a ledger's advisory lock once left the ledger's in-process
lock taken for good (unlocking raised before it was released), and every later command on that
stock, and in the end every thread of the web worker, waited on it. Now a lock lost with its
connection counts as given back, the next command on that ledger runs at once, and a lock held
elsewhere for longer than INVENTORY_LOCK_WAIT_SECONDS makes a command Busy (503, try again) instead
of stuck: on PostgreSQL, on SQLite's lock files, and between threads of one process.
"""

from __future__ import annotations

import threading
import uuid
from collections.abc import Callable, Iterator
from datetime import date
from typing import Any

import psycopg
import pytest

from inventory.adapters.locks import IMPORTS
from inventory.adapters.persistence import persistence_env
from inventory.adapters.settings import load_settings
from inventory.application import InventoryApplication
from inventory.application.core import _creating_tables
from inventory.bootstrap import Services, build_services
from inventory.domain import StockLedger, ledger_id
from inventory.domain.errors import ConcurrentUpdate
from inventory.web.errors import status_for
from tests.conftest import ADMIN, POSTGRES_URL, seed_catalog
from tests.threads import Worker

WAIT = 1  # INVENTORY_LOCK_WAIT_SECONDS in these tests
ENOUGH = 10.0  # seconds within which anything that does not hang has long finished
BUSY = "Others are recording the same stock right now; nothing was recorded. Try again in a moment."
WH_NALOXONE = ledger_id("WH", "NALOX-4MG")
VAN_NALOXONE = ledger_id("VAN-1", "NALOX-4MG")


def services(url: str, wait: int = WAIT) -> Services:
    """What a process builds from its settings, with INVENTORY_LOCK_WAIT_SECONDS=`wait`."""
    return build_services(load_settings({"INVENTORY_DATABASE_URL": url, "INVENTORY_LOCK_WAIT_SECONDS": str(wait)}))


def receive(app: InventoryApplication, site: str, lot: str, quantity: int = 10) -> Callable[[], Any]:
    return lambda: app.receive_stock(
        site=site,
        sku="NALOX-4MG",
        lot=lot,
        quantity=quantity,
        expires_on=date(2031, 1, 31),
        funding_source="STATE",
        actor=ADMIN,
    )


def on_hand(url: str, the_id: uuid.UUID) -> int:
    """The ledger's stock as a fresh process reads it from the log."""
    fresh = InventoryApplication(url)
    try:
        ledger = fresh.repository.get(the_id)
        assert isinstance(ledger, StockLedger)
        return ledger.on_hand
    finally:
        fresh.close()


@pytest.fixture
def worker() -> Iterator[Callable[[str], Worker]]:
    """Daemon threads for the test (closed at its end; one stuck for good is left behind, harmless)."""
    made: list[Worker] = []

    def make(name: str) -> Worker:
        made.append(Worker(name))
        return made[-1]

    yield make
    for each in made:
        each.close()


@pytest.fixture
def app_name(monkeypatch: pytest.MonkeyPatch) -> str:
    """PGAPPNAME for this test: libpq names every connection its applications open with it."""
    name = f"inventory-locks-{uuid.uuid4().hex[:8]}"
    monkeypatch.setenv("PGAPPNAME", name)
    return name


def kill_lock_holders(application_name: str) -> int:
    """End this test's backends that hold an advisory lock, waiting until they are gone; how many."""
    with psycopg.connect(POSTGRES_URL.split("?")[0], autocommit=True) as admin:
        rows = admin.execute(
            "SELECT pg_terminate_backend(pid, 5000) FROM (SELECT DISTINCT l.pid FROM pg_locks l "
            "JOIN pg_stat_activity a ON a.pid = l.pid WHERE l.locktype = 'advisory' AND l.granted "
            "AND a.application_name = %s) AS holders",
            (application_name,),
        ).fetchall()
    assert all(ended for (ended,) in rows), "a backend outlived pg_terminate_backend's wait"
    return len(rows)


def advisory_locks_held(application_name: str) -> int:
    with psycopg.connect(POSTGRES_URL.split("?")[0], autocommit=True) as admin:
        row = admin.execute(
            "SELECT count(*) FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid "
            "WHERE l.locktype = 'advisory' AND l.granted AND a.application_name = %s",
            (application_name,),
        ).fetchone()
    return int(row[0]) if row else 0


def hold(found: Services, ids: list[uuid.UUID], until: threading.Event, holding: threading.Event) -> None:
    with found.app.locks.holding(ids):
        holding.set()
        until.wait(60)


@pytest.mark.postgres
def test_a_lock_whose_connection_was_killed_is_let_go_and_the_next_command_on_its_ledgers_runs_at_once(
    app_name: str, postgres_url: str, worker: Callable[[str], Worker]
) -> None:
    found = services(postgres_url, wait=30)  # a long wait: a lock left taken would show as a timeout here
    other = services(postgres_url, wait=30)  # another process on the same database
    try:
        seed_catalog(found.app)
        assert WH_NALOXONE.int % 256 != VAN_NALOXONE.int % 256, "the two ledgers share a stripe"
        first, second = worker("first"), worker("second")

        def killed_while_held() -> int:
            with found.app.locks.holding([WH_NALOXONE, VAN_NALOXONE]):
                return kill_lock_holders(app_name)

        held = first.submit(killed_while_held)
        held.exception(timeout=ENOUGH)
        # Another thread takes both ledgers at once, and so does the thread that held them (its
        # connection bookkeeping was left clean), and so does another process (no lock left behind).
        second.run(receive(found.app, "WH", "L-2"), ENOUGH)
        second.run(receive(found.app, "VAN-1", "L-3"), ENOUGH)
        # Leaving the locks on a dead connection was no error: the database dropped them with it.
        assert held.result() == 1
        first.run(receive(found.app, "WH", "L-4"), ENOUGH)
        worker("other").run(receive(other.app, "VAN-1", "L-5"), ENOUGH)
        assert advisory_locks_held(app_name) == 0
    finally:
        found.close()
        other.close()
    assert on_hand(postgres_url, WH_NALOXONE) == 20 and on_hand(postgres_url, VAN_NALOXONE) == 20


@pytest.mark.postgres
def test_an_import_lock_whose_connection_was_killed_is_let_go(
    app_name: str, postgres_url: str, worker: Callable[[str], Worker]
) -> None:
    found = services(postgres_url, wait=30)
    try:
        seed_catalog(found.app)

        def killed_while_importing() -> int:
            with found.app.locks.named(IMPORTS), found.app.locks.holding([WH_NALOXONE]):  # a command inside
                return kill_lock_holders(app_name)

        imported = worker("import").submit(killed_while_importing)
        imported.exception(timeout=ENOUGH)

        def next_import() -> bool:
            with found.app.locks.named(IMPORTS):
                return True

        assert worker("next import").run(next_import, ENOUGH)
        worker("command").run(receive(found.app, "WH", "L-2"), ENOUGH)
        assert imported.result() == 1
        assert advisory_locks_held(app_name) == 0
    finally:
        found.close()


@pytest.mark.postgres
def test_creating_tables_on_a_connection_killed_meanwhile_ends_cleanly_and_lets_the_next_process_in(
    app_name: str, postgres_url: str, worker: Callable[[str], Worker]
) -> None:
    settings = persistence_env(postgres_url)

    def killed_while_creating() -> int:
        with _creating_tables(settings):
            return kill_lock_holders(app_name)

    assert worker("creating").run(killed_while_creating, ENOUGH) == 1
    # The next process to start creates the tables at once.
    started = worker("next").run(lambda: InventoryApplication(postgres_url), ENOUGH)
    started.close()


@pytest.mark.parametrize("where", ["another process", "another thread"])
def test_a_command_waits_for_a_lock_held_elsewhere_only_so_long_then_is_told_to_try_again(
    database_url: str, where: str, worker: Callable[[str], Worker]
) -> None:
    found = services(database_url)
    # A second application on the same database stands in for another process: on SQLite it locks
    # the same lock files, on PostgreSQL the same advisory locks.
    holder = services(database_url) if where == "another process" else found
    let_go, holding = threading.Event(), threading.Event()
    try:
        seed_catalog(found.app)
        receive(found.app, "WH", "L-1")()
        worker("holder").submit(lambda: hold(holder, [WH_NALOXONE], let_go, holding))
        assert holding.wait(ENOUGH)

        waiting = worker("waiting").submit(receive(found.app, "WH", "L-2"))
        # WAIT seconds, then the answer: busy, nothing recorded, try again (503 with Retry-After).
        error = waiting.exception(timeout=WAIT + ENOUGH)
        assert isinstance(error, ConcurrentUpdate), error
        assert error.message == BUSY and status_for(error) == 503

        let_go.set()
        worker("again").run(receive(found.app, "WH", "L-2"), ENOUGH)
    finally:
        let_go.set()
        found.close()
        if holder is not found:
            holder.close()
    assert on_hand(database_url, WH_NALOXONE) == 20


def test_commands_on_the_same_stock_still_queue_behind_a_brief_holder(
    database_url: str, worker: Callable[[str], Worker]
) -> None:
    found, other = services(database_url, wait=30), services(database_url, wait=30)
    let_go, holding = threading.Event(), threading.Event()
    try:
        seed_catalog(found.app)
        worker("holder").submit(lambda: hold(other, [WH_NALOXONE], let_go, holding))
        assert holding.wait(ENOUGH)
        waiting = worker("waiting").submit(receive(found.app, "WH", "L-1"))
        assert not waiting.done()
        threading.Timer(0.3, let_go.set).start()
        waiting.result(timeout=ENOUGH)  # it waited its turn, then recorded
    finally:
        let_go.set()
        found.close()
        other.close()
    assert on_hand(database_url, WH_NALOXONE) == 10


def test_an_import_waits_for_another_only_so_long(database_url: str, worker: Callable[[str], Worker]) -> None:
    found, other = services(database_url), services(database_url)
    let_go, importing = threading.Event(), threading.Event()

    def long_import() -> None:
        with other.app.locks.named(IMPORTS):
            importing.set()
            let_go.wait(60)

    def second_import() -> None:
        with found.app.locks.named(IMPORTS):
            pass

    try:
        worker("first import").submit(long_import)
        assert importing.wait(ENOUGH)
        error = worker("second import").submit(second_import).exception(timeout=WAIT + ENOUGH)
        assert isinstance(error, ConcurrentUpdate) and status_for(error) == 503
        assert "Another import is running" in error.message
        let_go.set()
        worker("later import").run(second_import, ENOUGH)
    finally:
        let_go.set()
        found.close()
        other.close()


@pytest.mark.postgres
def test_the_projector_lock_held_too_long_elsewhere_makes_a_writer_busy_and_a_reader_answer_anyway(
    postgres_url: str, worker: Callable[[str], Worker]
) -> None:
    found, other = services(postgres_url), services(postgres_url)
    let_go, holding = threading.Event(), threading.Event()

    def stalled_batch() -> None:  # a projector stopped mid-batch, its transaction left open
        with other.store.transaction():
            holding.set()
            let_go.wait(60)

    def writing() -> None:
        with found.store.transaction():
            pass

    try:
        other.projector.setup()
        seed_catalog(found.app)
        worker("stalled").submit(stalled_batch)
        assert holding.wait(ENOUGH)
        error = worker("writer").submit(writing).exception(timeout=WAIT + ENOUGH)
        assert isinstance(error, ConcurrentUpdate) and status_for(error) == 503
        # Read-your-writes after a command is best effort: it answers, the worker catches up later.
        head = found.projector.head()
        assert worker("reader").run(lambda: found.projector.catch_up_for_reader(head), WAIT + ENOUGH) is False
        let_go.set()
        assert worker("reader again").run(lambda: found.projector.catch_up_for_reader(head), ENOUGH) is True
    finally:
        let_go.set()
        found.close()
        other.close()
