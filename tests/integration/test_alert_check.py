"""Alert conditions from the read models, and the check that raises and resolves their episodes.

A worked example: a van that handed out naloxone for ten days, ran out for ten (those days must not
drag the average down), was restocked with a lot that expires soon, and has a week of visits since;
a warehouse with syringe levels but no syringes, and a lot of naloxone that expired on the shelf.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import UTC, date, datetime, time, timedelta

import pytest

from inventory.application import InventoryApplication
from inventory.application.alert_conditions import current_conditions
from inventory.domain.alerts import alert_id
from inventory.domain.errors import InvalidState
from inventory.projections import all_projections
from inventory.projections.alerts import open_alerts, resolved_alerts
from inventory.projections.runner import Projector
from inventory.projections.store import ReadStore, read_store_for
from tests.conftest import ADMIN, seed_catalog

KEY = b"alert-tests"
# These tests run from a fixed moment (tests/clock.py): "today" never turns into tomorrow mid-test.
NOW = datetime(2026, 11, 18, 12, 0, tzinfo=UTC)
TODAY = NOW.date()
pytestmark = pytest.mark.clock(NOW)


def at(days_ago: int, hour: int) -> datetime:
    return datetime.combine(TODAY - timedelta(days=days_ago), time(hour), tzinfo=UTC)


class World:
    def __init__(self, app: InventoryApplication, store: ReadStore) -> None:
        self.app = app
        self.store = store
        self.projector = Projector(app, store, all_projections(app.zone, KEY))
        self.visits = 0

    def catch_up(self) -> None:
        self.projector.catch_up()

    def visit(self, site: str, sku: str, quantity: int, moment: datetime) -> None:
        self.visits += 1
        self.app.record_encounter(
            key=f"alert-test-visit-{self.visits}",
            site=site,
            lines=[{"sku": sku, "quantity": quantity}],
            actor=ADMIN,
            occurred_at=moment,
        )

    def receive(self, site: str, sku: str, lot: str, quantity: int, expires: date | None, moment: datetime) -> None:
        self.app.receive_stock(
            site=site,
            sku=sku,
            lot=lot,
            quantity=quantity,
            expires_on=expires,
            funding_source="STATE",
            actor=ADMIN,
            occurred_at=moment,
        )

    def check(self) -> tuple[set[tuple[str, str, str, str | None]], set[tuple[str, str, str, str | None]]]:
        self.catch_up()
        result = self.app.check_alerts(TODAY, NOW, store=self.store)
        self.catch_up()
        keys = {(v["kind"], v["site"], v["sku"], v["lot"]) for v in result.raised}
        gone = {(v["kind"], v["site"], v["sku"], v["lot"]) for v in result.resolved}
        return keys, gone


@pytest.fixture
def world(app: InventoryApplication, database_url: str) -> Iterator[World]:
    seed_catalog(app)
    store = read_store_for(database_url)
    found = World(app, store)
    app.set_stock_level(site="VAN-1", sku="NALOX-4MG", reorder_point=10, par_level=40, lead_time_days=4, actor=ADMIN)
    app.set_stock_level(site="WH", sku="SYR-1ML", reorder_point=100, par_level=500, lead_time_days=14, actor=ADMIN)
    # Levels of zero: the van does not carry syringes, so having none is not a shortage.
    app.set_stock_level(site="VAN-1", sku="SYR-1ML", reorder_point=0, par_level=0, lead_time_days=0, actor=ADMIN)
    # The van: 20 kits on the window's first day, 2 a day for 10 days, then none for 10 days.
    found.receive("VAN-1", "NALOX-4MG", "N-1", 20, TODAY + timedelta(days=365), at(27, 8))
    for day in range(27, 17, -1):
        found.visit("VAN-1", "NALOX-4MG", 2, at(day, 12))
    # Restocked a week ago with a lot that expires in 45 days; one kit a day since.
    found.receive("VAN-1", "NALOX-4MG", "N-2", 12, TODAY + timedelta(days=45), at(7, 8))
    for day in range(7, 0, -1):
        found.visit("VAN-1", "NALOX-4MG", 1, at(day, 12))
    # The warehouse: a lot that expired three days ago still on the shelf, and a fresh one.
    found.receive("WH", "NALOX-4MG", "OLD", 6, TODAY - timedelta(days=3), at(100, 9))
    found.receive("WH", "NALOX-4MG", "FRESH", 50, TODAY + timedelta(days=400), at(2, 9))
    found.catch_up()
    try:
        yield found
    finally:
        store.close()


EXPECTED = {
    ("below_reorder_point", "VAN-1", "NALOX-4MG", None),
    ("runs_out_within_lead_time", "VAN-1", "NALOX-4MG", None),
    ("expiring_soon", "VAN-1", "NALOX-4MG", "N-2"),
    ("out_of_stock", "WH", "SYR-1ML", None),
    ("below_reorder_point", "WH", "SYR-1ML", None),
    ("expired_on_hand", "WH", "NALOX-4MG", "OLD"),
}


def test_conditions_from_the_worked_example(world: World) -> None:
    conditions = {(c.kind, c.site, c.sku, c.lot): c for c in current_conditions(world.store, TODAY)}
    assert set(conditions) == EXPECTED

    # 27 kits over the 18 days the van had stock (10 + today and the 7 before it), not over 28.
    runs_out = conditions[("runs_out_within_lead_time", "VAN-1", "NALOX-4MG", None)].details
    assert runs_out["on_hand"] == 5
    assert runs_out["days_in_stock"] == 18
    assert runs_out["average_daily_use"] == 1.5
    assert runs_out["days_of_supply"] == 3.3  # under the lead time of 4; over 28 days it would be 5.2
    assert (runs_out["reorder_point"], runs_out["par_level"], runs_out["lead_time_days"]) == (10, 40, 4)

    expiring = conditions[("expiring_soon", "VAN-1", "NALOX-4MG", "N-2")].details
    assert (expiring["quantity"], expiring["expires_on"]) == (5, (TODAY + timedelta(days=45)).isoformat())
    expired = conditions[("expired_on_hand", "WH", "NALOX-4MG", "OLD")].details
    assert (expired["quantity"], expired["expires_on"]) == (6, (TODAY - timedelta(days=3)).isoformat())
    assert conditions[("out_of_stock", "WH", "SYR-1ML", None)].details["on_hand"] == 0

    # A shorter horizon leaves the lot that expires in 45 days out; the expired one stays.
    near = {(c.kind, c.lot) for c in current_conditions(world.store, TODAY, horizon_days=30)}
    assert ("expiring_soon", "N-2") not in near and ("expired_on_hand", "OLD") in near


def test_each_episode_is_raised_once_resolved_on_restock_and_raised_again_on_a_new_shortage(world: World) -> None:
    raised, resolved = world.check()
    assert raised == EXPECTED and resolved == set()
    assert world.check() == (set(), set())  # nothing new: each condition has its open episode

    shown = open_alerts(world.store)
    assert {(a["kind"], a["site"], a["sku"], a["lot"]) for a in shown} == EXPECTED
    assert all(a["episode"] == 1 and a["open"] for a in shown)
    assert open_alerts(world.store, sites=["WH"], kind="out_of_stock")[0]["details"]["reorder_point"] == 100

    # 50 syringes: no longer out, still below the reorder point of 100.
    world.receive("WH", "SYR-1ML", "S-1", 50, None, NOW - timedelta(minutes=5))
    assert world.check() == (set(), {("out_of_stock", "WH", "SYR-1ML", None)})
    world.receive("WH", "SYR-1ML", "S-2", 100, None, NOW - timedelta(minutes=4))
    assert world.check() == (set(), {("below_reorder_point", "WH", "SYR-1ML", None)})
    resolved_rows = resolved_alerts(world.store, (NOW - timedelta(days=7)).isoformat(), sites=["WH"])
    assert {r["kind"] for r in resolved_rows} == {"out_of_stock", "below_reorder_point"}
    assert next(r for r in resolved_rows if r["kind"] == "out_of_stock")["details"]["resolved"] == {"on_hand": 50}

    # All 150 damaged: the shortage is back, as second episodes of the same alerts.
    for lot, quantity in (("S-1", 50), ("S-2", 100)):
        world.app.adjust_stock(site="WH", sku="SYR-1ML", lot=lot, quantity=-quantity, reason="damaged", actor=ADMIN)
    raised, _ = world.check()
    assert raised == {("out_of_stock", "WH", "SYR-1ML", None), ("below_reorder_point", "WH", "SYR-1ML", None)}
    out = world.app.alert(alert_id("out_of_stock", "WH", "SYR-1ML"))
    assert (out["episode"], out["open"]) == (2, True)
    episodes = [(r["episode"], r["open"]) for r in resolved_alerts(world.store, "0", sites=["WH"], kind="out_of_stock")]
    assert episodes == [(1, False)]
    assert [a["episode"] for a in open_alerts(world.store, sites=["WH"], kind="out_of_stock")] == [2]


def test_acknowledging_and_recording_a_delivery(world: World) -> None:
    world.check()
    the_id = alert_id("out_of_stock", "WH", "SYR-1ML")
    world.app.record_notification(
        alert_id=the_id, episode=1, channel="email", recipients=["buyer@example.org", "admin@example.org"]
    )
    # The same delivery recorded again (a retry after a lost answer) is recorded once.
    view = world.app.record_notification(
        alert_id=str(the_id), episode=1, channel="email", recipients=["admin@example.org", "buyer@example.org"]
    )
    assert [(n["channel"], n["recipients"]) for n in view["notified"]] == [
        ("email", ["admin@example.org", "buyer@example.org"])
    ]
    assert world.app.acknowledge_alert(alert_id=the_id, episode=1, actor="buyer@example.org")["acknowledged_by"] == (
        "buyer@example.org"
    )
    world.catch_up()
    [row] = open_alerts(world.store, sites=["WH"], kind="out_of_stock")
    assert row["acknowledged_by"] == "buyer@example.org"
    assert [n["channel"] for n in row["notified"]] == ["email"]

    world.receive("WH", "SYR-1ML", "S-1", 500, None, NOW - timedelta(minutes=1))
    world.check()
    with pytest.raises(InvalidState, match="resolved"):
        world.app.acknowledge_alert(alert_id=the_id, episode=1, actor="buyer@example.org")


def test_two_workers_checking_at_once_raise_each_episode_once(world: World, database_url: str) -> None:
    world.catch_up()
    other = InventoryApplication(database_url)
    other_store = read_store_for(database_url)
    errors: list[BaseException] = []
    start = threading.Barrier(4)

    def run(app: InventoryApplication, store: ReadStore) -> None:
        try:
            start.wait()
            app.check_alerts(TODAY, NOW, store=store)
        except BaseException as error:  # reported below
            errors.append(error)

    try:
        threads = [
            threading.Thread(target=run, args=(app, store))
            for app, store in ((world.app, world.store), (other, other_store)) * 2
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=60)
        assert not errors, errors
        head = int(world.app.recorder.max_notification_id() or 0)
        topics = [n.topic for n in world.app.recorder.select_notifications(start=1, limit=head)]
        assert sum(topic.endswith("Alert.Raised") for topic in topics) == len(EXPECTED)
        assert sum(topic.endswith("Alert.Started") for topic in topics) == len(EXPECTED)
    finally:
        other.close()
        other_store.close()
