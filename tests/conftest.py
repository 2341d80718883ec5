"""Shared fixtures: an application over a real SQLite file, and over a real PostgreSQL schema."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from inventory.application import InventoryApplication
from tests.clock import Clock, Edge, clock_fixture, start_session_clock

# Production mode (the default) refuses to start without its keys; the tests, and the commands they run
# in subprocesses, have their own. Tests of that refusal pass their settings explicitly.
os.environ.setdefault("INVENTORY_SECRET_KEY", "tests-secret-key-not-for-production")
os.environ.setdefault("INVENTORY_SEAL_KEY", "tests-seal-key-not-for-production")

POSTGRES_URL = os.environ.get("INVENTORY_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test")
IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")
ADMIN = "admin@example.org"


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--clock-at",
        metavar="MOMENT",
        default=os.environ.get("INVENTORY_TEST_CLOCK_AT"),
        help="run the whole suite (and the processes it starts) as if it began at MOMENT, an ISO time with "
        "its offset, e.g. 2026-12-01T23:55:00+00:00 to cross midnight UTC during the run",
    )


def pytest_configure(config: pytest.Config) -> None:
    moment = config.getoption("--clock-at")
    # Under pytest-xdist the controller only hands out tests: each worker (which gets --clock-at too) moves
    # its own clock. Moving the controller's would put the clock's sitecustomize on the workers' PYTHONPATH,
    # and time-machine imported before pytest starts makes every worker stop at its first warning.
    controller = bool(config.getoption("numprocesses", None)) and not hasattr(config, "workerinput")
    if moment and not controller:
        start_session_clock(moment)


clock = pytest.fixture(clock_fixture, name="clock")


@pytest.fixture(autouse=True)
def _clock_mark(request: pytest.FixtureRequest, clock: Clock) -> None:
    """`@pytest.mark.clock(moment)` (or a module's `pytestmark`) runs the test from that moment on."""
    mark = request.node.get_closest_marker("clock")
    if mark is not None:
        clock.at(mark.args[0])


@pytest.fixture
def edge(request: pytest.FixtureRequest, clock: Clock) -> Edge | None:
    """The moment a test runs at, from tests.clock.EDGES: `parametrize("edge", EDGES, indirect=True, ids=str)`;
    None runs it now (the real clock).

    Put it first among the test's arguments, so the fixtures after it are built at that moment too.
    """
    chosen = request.param
    if chosen is not None:
        assert isinstance(chosen, Edge)
        clock.at(chosen.moment)
    return chosen


def _postgres_or_skip() -> None:
    """Reach the test PostgreSQL server; in CI a missing server fails instead of skipping."""
    import psycopg

    try:
        with psycopg.connect(POSTGRES_URL.split("?")[0], connect_timeout=3):
            pass
    except psycopg.OperationalError as error:
        if IN_CI:
            pytest.fail(f"PostgreSQL at {POSTGRES_URL} is required under CI=true: {error}")
        pytest.skip(f"PostgreSQL not reachable at {POSTGRES_URL}: {error}")


@pytest.fixture
def postgres_url() -> Iterator[str]:
    """A database URL for a fresh PostgreSQL schema, dropped afterwards."""
    import psycopg

    _postgres_or_skip()
    schema = f"t_{uuid.uuid4().hex[:12]}"
    base = POSTGRES_URL.split("?")[0]
    with psycopg.connect(base, autocommit=True) as conn:
        conn.execute(f'CREATE SCHEMA "{schema}"')
    try:
        yield f"{base}?schema={schema}&pool_size=10&max_overflow=10"
    finally:
        with psycopg.connect(base, autocommit=True) as conn:
            conn.execute(f'DROP SCHEMA "{schema}" CASCADE')


@pytest.fixture
def sqlite_url(tmp_path: os.PathLike[str]) -> str:
    """A database URL for a fresh SQLite file."""
    return f"sqlite:///{tmp_path}/inventory.db"


@pytest.fixture(params=["sqlite", "postgres"])
def database_url(request: pytest.FixtureRequest) -> str:
    """Each integration test runs on a real SQLite file and on a real PostgreSQL schema."""
    if request.param == "postgres":
        request.applymarker(pytest.mark.postgres)
        return str(request.getfixturevalue("postgres_url"))
    return str(request.getfixturevalue("sqlite_url"))


@pytest.fixture
def app(database_url: str) -> Iterator[InventoryApplication]:
    application = InventoryApplication(database_url)
    try:
        yield application
    finally:
        application.close()


@pytest.fixture
def sqlite_app(sqlite_url: str) -> Iterator[InventoryApplication]:
    application = InventoryApplication(sqlite_url)
    try:
        yield application
    finally:
        application.close()


def days_ago(days: float) -> datetime:
    return datetime.now(UTC) - timedelta(days=days)


def hand_out_as_release_0_2_did(
    app: InventoryApplication, site: str, sku: str, lot: str, quantity: int, when: datetime, actor: str
) -> None:
    """A hand-out as release 0.2.0 and earlier accepted it: checked only against the stock then on hand,
    so it may be dated before the receipt it drew from. Written straight to the ledger; today's
    commands refuse it, but logs from those releases can hold it."""
    from inventory.domain import StockLedger

    ledger = app.ledger_aggregate(site, sku)
    assert ledger is not None
    lot_now = ledger.lot(lot)
    pick = {
        "lot": lot,
        "quantity": quantity,
        "expires_on": lot_now.expires_on,
        "funding_source": lot_now.funding_source,
    }
    ledger._move(StockLedger.Distributed, encounter_id=uuid.uuid4(), picks=[pick], actor=actor, occurred_at=when)
    app.save(ledger)


def seed_catalog(app: InventoryApplication) -> None:
    """A small program: a warehouse, a van, naloxone, syringes, a federal and a state grant."""
    app.register_site(code="WH", name="Central warehouse", kind="warehouse", actor=ADMIN)
    app.register_site(code="VAN-1", name="Outreach van", kind="mobile", actor=ADMIN)
    app.register_item(
        sku="NALOX-4MG", name="Naloxone 4 mg nasal", category="naloxone", unit="kit", tracks_expiry=True, actor=ADMIN
    )
    app.register_item(
        sku="SYR-1ML", name="Syringe 1 mL", category="syringe", unit="syringe", tracks_expiry=False, actor=ADMIN
    )
    app.register_funding_source(
        code="SOR",
        name="State Opioid Response (federal)",
        federal=True,
        restrictions=[{"category": "syringe", "starts_on": "2018-01-01"}],
        actor=ADMIN,
    )
    app.register_funding_source(code="STATE", name="State harm reduction fund", federal=False, actor=ADMIN)


def saved_as_before(app: InventoryApplication, *aggregates: Any) -> int:
    """Save as an earlier release could have: the library's own save, without today's checks of text.

    For tests that a log written before a rule existed still loads, projects and exports. The log
    position of the last event saved.
    """
    from eventsourcing.application import Application

    recordings = Application.save(app, *aggregates)
    return int(recordings[-1].notification.id)


def read_model_rows(projector: Any) -> dict[str, list[str]]:
    """Every read model table's rows, sorted, as text: two stores built from the same log compare equal."""
    return {
        table: sorted(repr(tuple(row)) for row in projector.store.fetchall(f"SELECT * FROM {table}"))
        for projection in projector.projections
        for table in projection.tables
    }
