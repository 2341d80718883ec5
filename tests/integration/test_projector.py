"""The projector: read models catch up with the log once, in order, however many projectors run."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from inventory.application import InventoryApplication
from inventory.cli import main
from inventory.projections import all_projections, queries
from inventory.projections.runner import Projector
from inventory.projections.seal import verify
from inventory.projections.stock_card import StockCard
from inventory.projections.store import ReadStore, read_store_for
from tests.conftest import ADMIN, seed_catalog

KEY = b"projector-tests"
OUTREACH = "outreach@example.org"
EXPIRY = date(2031, 1, 31)
NAMES = [
    "catalog",
    "staff",
    "stock_on_hand",
    "recalls",
    "suppliers",
    "stock_card",
    "distribution",
    "alerts",
    "deliveries",
    "audit_log",
    "seal",
]


class StockCardV2(StockCard):
    """The stock card after a change to how its rows are computed."""

    version = StockCard.version + 1


@dataclass
class Setup:
    app: InventoryApplication
    url: str
    stores: list[ReadStore]

    def store(self) -> ReadStore:
        """A read store of its own, as another process would open it."""
        store = read_store_for(self.url)
        self.stores.append(store)
        return store

    def projector(self, store: ReadStore | None = None, **replace: Any) -> Projector:
        """A projector over all the read models; `replace` swaps one by name (stock_card=StockCardV2(...))."""
        projections = [replace.get(p.name, p) for p in all_projections(self.app.zone, KEY)]
        return Projector(self.app, store or self.store(), projections)

    def head(self) -> int:
        return int(self.app.recorder.max_notification_id() or 0)


@pytest.fixture
def setup(app: InventoryApplication, database_url: str) -> Iterator[Setup]:
    """A seeded program with a little stock, on SQLite and on PostgreSQL; read stores closed afterwards."""
    seed_catalog(app)
    found = Setup(app, database_url, [])
    try:
        yield found
    finally:
        for store in found.stores:
            store.close()


def record_visits(app: InventoryApplication, count: int, prefix: str = "visit") -> None:
    """A delivery to the van, then `count` visits that each hand out a kit and some syringes."""
    app.receive_stock(
        site="VAN-1",
        sku="NALOX-4MG",
        lot=f"N-{prefix}",
        quantity=count * 2,
        expires_on=EXPIRY,
        funding_source="STATE",
        actor=ADMIN,
    )
    app.receive_stock(
        site="VAN-1",
        sku="SYR-1ML",
        lot=f"S-{prefix}",
        quantity=count * 20,
        expires_on=None,
        funding_source="STATE",
        actor=ADMIN,
    )
    for number in range(count):
        app.record_encounter(
            key=f"{prefix}-{number:06d}",
            site="VAN-1",
            lines=[{"sku": "NALOX-4MG", "quantity": 1}, {"sku": "SYR-1ML", "quantity": 10}],
            actor=OUTREACH,
        )


def snapshot(projector: Projector) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every read model, in a stable order."""
    return {
        table: sorted(projector.store.fetchall(f"SELECT * FROM {table}"), key=repr)
        for projection in projector.projections
        for table in projection.tables
    }


def tracking(store: ReadStore) -> dict[str, tuple[int, int, str]]:
    """Each projection's (position, version, updated_at)."""
    return {
        name: (int(position), int(version), str(updated))
        for name, position, version, updated in store.fetchall(
            "SELECT name, position, version, updated_at FROM projection_tracking"
        )
    }


def on_hand(store: ReadStore) -> dict[tuple[str, str], int]:
    return {(row["site"], row["sku"]): int(row["on_hand"]) for row in queries.stock_levels(store)}


# ----- catching up ----------------------------------------------------------------------------


def test_catching_up_again_changes_nothing(setup: Setup) -> None:
    record_visits(setup.app, 20)
    projector = setup.projector()

    assert projector.catch_up() == setup.head()
    once = snapshot(projector)
    positions = {name: position for name, (position, _, _) in tracking(projector.store).items()}

    assert projector.catch_up() == setup.head()
    assert projector.catch_up(batch_size=1) == setup.head()
    assert setup.projector().catch_up() == setup.head()  # a fresh projector, as after a restart

    assert snapshot(projector) == once
    assert {name: position for name, (position, _, _) in tracking(projector.store).items()} == positions
    assert set(positions.values()) == {setup.head()}
    assert on_hand(projector.store) == {("VAN-1", "NALOX-4MG"): 20, ("VAN-1", "SYR-1ML"): 200}


def test_catching_up_in_small_batches_gives_the_same_read_models_as_one_big_batch(setup: Setup) -> None:
    record_visits(setup.app, 10)
    # A transfer sent and received: in small batches its dispatch and arrival fall in different ones.
    setup.app.receive_stock(
        site="WH", sku="NALOX-4MG", lot="W-1", quantity=50, expires_on=EXPIRY, funding_source="STATE", actor=ADMIN
    )
    sent = setup.app.dispatch_transfer(
        from_site="WH", to_site="VAN-1", lines=[{"sku": "NALOX-4MG", "quantity": 5}], actor=ADMIN
    )
    setup.app.record_encounter(
        key="between-0001", site="VAN-1", lines=[{"sku": "SYR-1ML", "quantity": 1}], actor=OUTREACH
    )
    setup.app.receive_transfer(transfer_id=sent["id"], actor=OUTREACH)
    small, big = setup.projector(), setup.projector()

    small.catch_up(batch_size=4)
    in_small_batches = snapshot(small)
    big.rebuild()

    assert snapshot(big) == in_small_batches


def run_together(*jobs: Callable[[], Any]) -> None:
    """Start the jobs in threads at the same moment; re-raise the first error any of them hit."""
    start, errors = threading.Barrier(len(jobs)), []

    def run(job: Callable[[], Any]) -> None:
        try:
            start.wait()
            job()
        except BaseException as error:
            errors.append(error)

    threads = [threading.Thread(target=run, args=(job,)) for job in jobs]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not any(thread.is_alive() for thread in threads), "a projector never finished"
    if errors:
        raise errors[0]


def test_two_projectors_catching_up_at_the_same_time_never_count_an_event_twice(setup: Setup) -> None:
    record_visits(setup.app, 40)
    one, other = setup.projector(), setup.projector()
    projected = {"one": 0, "other": 0}

    def count(name: str) -> Callable[[int], None]:
        return lambda events: projected.update({name: projected[name] + events})

    run_together(
        lambda: one.catch_up(batch_size=5, progress=count("one")),
        lambda: other.catch_up(batch_size=7, progress=count("other")),
    )

    assert projected["one"] + projected["other"] == setup.head()  # each event projected once, by one of them
    together = snapshot(one)
    assert on_hand(one.store) == {("VAN-1", "NALOX-4MG"): 40, ("VAN-1", "SYR-1ML"): 400}
    assert verify(setup.app.recorder, one.store, KEY).ok
    one.rebuild()
    assert snapshot(one) == together


def test_projectors_polling_while_visits_are_recorded_end_where_a_rebuild_does(setup: Setup) -> None:
    record_visits(setup.app, 5, prefix="first")
    recorded = threading.Event()
    one, other = setup.projector(), setup.projector()
    projected, counting = [0], threading.Lock()

    def count(events: int) -> None:
        with counting:
            projected[0] += events

    def record() -> None:
        try:
            record_visits(setup.app, 25, prefix="during")
        finally:
            recorded.set()

    def poll(projector: Projector, batch_size: int) -> Callable[[], None]:
        def job() -> None:
            while not recorded.is_set():
                projector.catch_up(batch_size=batch_size, progress=count)
            projector.catch_up(batch_size=batch_size, progress=count)

        return job

    run_together(record, poll(one, 3), poll(other, 4))

    assert tracking(one.store)["stock_card"][0] == setup.head()
    assert projected[0] == setup.head()
    together = snapshot(one)
    assert on_hand(one.store) == {("VAN-1", "NALOX-4MG"): 30, ("VAN-1", "SYR-1ML"): 300}
    assert verify(setup.app.recorder, one.store, KEY).ok
    one.rebuild()
    assert snapshot(one) == together


# ----- rebuilding ----------------------------------------------------------------------------


def test_rebuilding_one_read_model_rebuilds_that_one_only(setup: Setup) -> None:
    record_visits(setup.app, 10)
    projector = setup.projector()
    projector.catch_up()
    good = snapshot(projector)
    with projector.store.transaction() as tx:  # damage two read models
        tx.execute("DELETE FROM stock_movements WHERE kind = 'distributed'")
        tx.execute("UPDATE stock_on_hand SET quantity = quantity + 1000")
    before = tracking(projector.store)

    assert projector.rebuild(["stock_card"]) == setup.head()

    after = snapshot(projector)
    assert after["stock_movements"] == good["stock_movements"]
    assert after["stock_daily"] == good["stock_daily"]
    assert after["stock_on_hand"] != good["stock_on_hand"]  # not rebuilt: still damaged
    now = tracking(projector.store)
    assert now["stock_card"][0] == setup.head() and now["stock_card"][2] != before["stock_card"][2]
    assert {name: now[name] for name in now if name != "stock_card"} == {
        name: before[name] for name in before if name != "stock_card"
    }


def test_rebuilding_everything_repairs_every_read_model(setup: Setup) -> None:
    record_visits(setup.app, 10)
    projector = setup.projector()
    projector.catch_up()
    good = snapshot(projector)
    with projector.store.transaction() as tx:
        tx.execute("DELETE FROM stock_movements")
        tx.execute("UPDATE stock_on_hand SET quantity = 0")
        tx.execute("DELETE FROM audit_log WHERE position > 3")

    assert projector.rebuild() == setup.head()

    assert snapshot(projector) == good


def indexes(store: ReadStore) -> set[str]:
    if store.dialect == "sqlite":
        rows = store.fetchall("SELECT name FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL")
    else:
        rows = store.fetchall("SELECT indexname FROM pg_indexes WHERE schemaname = current_schema()")
    return {name for (name,) in rows}


def test_rebuilding_builds_the_indexes_again_at_the_end(setup: Setup) -> None:
    record_visits(setup.app, 5)
    projector = setup.projector()
    projector.catch_up()
    before = indexes(projector.store)
    assert {"audit_log_actor", "stock_movements_card", "stock_on_hand_expiry"} <= before

    projector.rebuild()

    assert indexes(projector.store) == before


def test_asking_to_rebuild_a_read_model_that_does_not_exist_names_the_ones_that_do(setup: Setup) -> None:
    with pytest.raises(KeyError, match="There is no projection called 'stock_cards'; there are: catalog, "):
        setup.projector().rebuild(["stock_cards"])


def test_a_read_model_whose_version_changed_is_rebuilt_on_setup_and_only_once(setup: Setup) -> None:
    record_visits(setup.app, 10)
    old = setup.projector()
    old.catch_up()
    good = snapshot(old)
    with old.store.transaction() as tx:  # rows the old code got wrong, and one that is not rebuilt
        tx.execute("UPDATE stock_movements SET quantity = quantity * 2")
        tx.execute("UPDATE stock_on_hand SET quantity = quantity + 1")

    new = setup.projector(old.store, stock_card=StockCardV2(setup.app.zone))
    new.setup()

    assert {row.name: (row.position, row.version) for row in new.status()} == {
        **{p.name: (setup.head(), p.version) for p in new.projections},
        "stock_card": (0, StockCard.version + 1),
    }
    assert new.store.fetchall("SELECT COUNT(*) FROM stock_movements") == [(0,)]

    new.catch_up()
    after = snapshot(new)
    assert after["stock_movements"] == good["stock_movements"]
    assert after["stock_on_hand"] != good["stock_on_hand"]

    restarted = setup.projector(stock_card=StockCardV2(setup.app.zone))  # version 2 again: nothing to do
    restarted.setup()
    assert {row.name: row.position for row in restarted.status()}["stock_card"] == setup.head()
    assert snapshot(restarted) == after


# ----- status --------------------------------------------------------------------------------


def test_status_shows_each_read_models_position_against_the_head_of_the_log(setup: Setup) -> None:
    record_visits(setup.app, 10)
    projector = setup.projector()
    head = setup.head()

    assert [(s.name, s.position, s.head, s.lag) for s in projector.status()] == [(n, 0, head, head) for n in NAMES]

    projector.catch_up(until=10)
    assert [(s.position, s.lag) for s in projector.status()] == [(10, head - 10)] * len(NAMES)

    projector.catch_up()
    record_visits(setup.app, 2, prefix="later")
    newer = setup.head()
    assert [(s.position, s.head, s.lag) for s in projector.status()] == [(head, newer, newer - head)] * len(NAMES)

    projector.catch_up()
    versions = {p.name: p.version for p in projector.projections}
    assert all(s.position == newer and s.lag == 0 and s.version == versions[s.name] for s in projector.status())


# ----- the command line ------------------------------------------------------------------------


def run_cli(args: list[str], url: str, instance: Path) -> Any:
    """Run the `inventory` command as a shell would, with the settings in the environment."""
    env = {"INVENTORY_DATABASE_URL": url, "INVENTORY_INSTANCE_PATH": str(instance), "INVENTORY_SEAL_KEY": KEY.decode()}
    return CliRunner().invoke(main, args, env=env, catch_exceptions=False)


def test_projections_status_prints_each_read_model_and_how_far_behind_it_is(setup: Setup, tmp_path: Path) -> None:
    record_visits(setup.app, 5)
    setup.projector().catch_up(until=7)
    head = setup.head()

    result = run_cli(["projections", "status"], setup.url, tmp_path)

    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[0].split() == ["read", "model", "position", "head", "behind"]
    assert [line.split() for line in lines[1:]] == [[name, "7", str(head), str(head - 7)] for name in NAMES]


def test_projections_rebuild_rebuilds_the_named_read_models_and_refuses_unknown_names(
    setup: Setup, tmp_path: Path
) -> None:
    record_visits(setup.app, 5)
    projector = setup.projector()
    projector.catch_up()
    good = snapshot(projector)
    with projector.store.transaction() as tx:
        tx.execute("DELETE FROM stock_movements")
        tx.execute("DELETE FROM daily_distribution")

    one = run_cli(["projections", "rebuild", "stock_card"], setup.url, tmp_path)
    assert one.exit_code == 0, one.output
    assert one.output.splitlines()[-1] == f"Rebuilt 1 read model(s) up to position {setup.head()}."
    assert snapshot(projector)["stock_movements"] == good["stock_movements"]
    assert snapshot(projector)["daily_distribution"] == []

    everything = run_cli(["projections", "rebuild"], setup.url, tmp_path)
    assert everything.exit_code == 0, everything.output
    assert everything.output.splitlines()[-1] == f"Rebuilt {len(NAMES)} read model(s) up to position {setup.head()}."
    assert snapshot(projector) == good

    unknown = run_cli(["projections", "rebuild", "stock_cards"], setup.url, tmp_path)
    assert unknown.exit_code == 2
    assert "There is no projection called 'stock_cards'" in unknown.output
