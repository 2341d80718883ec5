"""History is forever: a log written by an earlier release loads and replays the same with today's code.

Each folder here holds a small log recorded by a release's own code (tests/history/record_release_log.py)
and what that release's read models made of it. Today's code must load every aggregate in it,
rebuild read models that give the same stock, the same audit history and the same open alerts, seal
it to the very same hash (the stored bytes are unchanged, and read the same), and go on recording
after it: a new entry on an old ledger takes the next version.
"""

from __future__ import annotations

import json
import shutil
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from inventory.application import InventoryApplication
from inventory.domain import StockLedger, ledger_id
from inventory.projections import all_projections
from inventory.projections.alerts import open_alerts
from inventory.projections.runner import Projector
from inventory.projections.seal import verify
from inventory.projections.store import read_store_for
from tests.history.record_release_log import SEAL_KEY

HERE = Path(__file__).parent
RELEASES = sorted(folder.name for folder in HERE.iterdir() if (folder / "expected.json").exists())
pytestmark = pytest.mark.clock(datetime(2026, 12, 1, 15, 0, tzinfo=UTC))


@pytest.fixture(params=RELEASES)
def release(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[InventoryApplication, Projector, Any]]:
    """The release's log, copied (it is never written to in place), opened and rebuilt by today's code."""
    shutil.copyfile(HERE / request.param / "events.db", tmp_path / "events.db")
    url = f"sqlite:///{tmp_path / 'events.db'}"
    app = InventoryApplication(url, timezone_name="America/New_York")
    store = read_store_for(url)
    projector = Projector(app, store, all_projections(app.zone, SEAL_KEY))
    try:
        projector.rebuild()
        yield app, projector, json.loads((HERE / request.param / "expected.json").read_text())
    finally:
        store.close()
        app.close()


def test_there_are_logs_of_the_previous_releases() -> None:
    assert {"release-0.1.0", "release-0.2.0"} <= set(RELEASES)


def test_every_aggregate_of_an_old_log_loads_with_todays_code(release: Any) -> None:
    app, projector, expected = release
    head = projector.head()
    notifications = app.recorder.select_notifications(start=1, limit=head + 1, stop=head)
    assert head == expected["head"]
    assert dict(Counter(n.topic for n in notifications)) == expected["topics"]
    versions: dict[Any, int] = {}
    for notification in notifications:
        versions[notification.originator_id] = notification.originator_version
    for aggregate_id, version in versions.items():
        assert app.repository.get(aggregate_id).version == version


def test_an_old_log_replays_to_the_same_stock_history_alerts_and_seal(release: Any) -> None:
    _app, projector, expected = release
    store = projector.store
    stock = store.fetchall("SELECT site, sku, lot, quantity FROM stock_on_hand WHERE quantity <> 0")
    assert sorted([str(s), str(k), str(lot), int(q)] for s, k, lot, q in stock) == expected["stock_on_hand"]
    assert int(store.fetchall("SELECT COUNT(*) FROM audit_log")[0][0]) == expected["audit_rows"]
    alerts = sorted([a["kind"], a["site"], a["sku"], a["lot"] or ""] for a in open_alerts(store))
    assert alerts == expected["open_alerts"]
    seal = verify(projector.app.recorder, store, SEAL_KEY)
    assert seal.ok and {"position": seal.head_position, "hash": seal.head_hash} == expected["seal"]


def test_todays_code_goes_on_recording_after_an_old_log(release: Any) -> None:
    app, projector, expected = release
    before = app.stock("VAN-1", "NALOX-4MG")
    app.receive_stock(site="VAN-1", sku="NALOX-4MG", lot="NAL-2712-1", quantity=24, expires_on=date(2028, 12, 31),
                      funding_source="STATE-HR", actor="admin@demo.example.org")  # fmt: skip
    app.record_encounter(key="after-the-upgrade-1", site="VAN-1", lines=[{"sku": "NALOX-4MG", "quantity": 2}],
                         actor="van@demo.example.org")  # fmt: skip
    after = app.stock("VAN-1", "NALOX-4MG")
    assert after["version"] == before["version"] + 2 and after["on_hand"] == before["on_hand"] + 22
    projector.catch_up()
    assert projector.position() == expected["head"] + 3  # the receipt, the visit's ledger event and the visit
    assert verify(app.recorder, projector.store, SEAL_KEY).ok


def test_a_ledger_snapshotted_by_release_0_2_takes_a_late_entry_across_its_count(tmp_path: Path) -> None:
    """Release 0.2.0's snapshots hold lots without a history: the ledger is replayed from its events, and
    a visit dated before the night's count (recorded after it) is taken and restates that count."""
    shutil.copyfile(HERE / "release-0.2.0" / "events.db", tmp_path / "events.db")
    app = InventoryApplication(f"sqlite:///{tmp_path / 'events.db'}", timezone_name="America/New_York")
    try:
        the_ledger = ledger_id("VAN-1", "NALOX-4MG")
        assert app.snapshots is not None and list(app.snapshots.get(the_ledger, desc=True, limit=1))
        before = app.stock("VAN-1", "NALOX-4MG")
        counts = [n for n in app.recorder.select_notifications(start=1, limit=10_000) if n.topic.endswith("Counted")]
        [count] = [app.mapper.to_domain_event(n) for n in counts]
        assert count.variance == -2  # type: ignore[attr-defined]

        app.record_encounter(key="late-after-the-upgrade", site="VAN-1", lines=[{"sku": "NALOX-4MG", "quantity": 1,
                             "lot": count.lot}], actor="van@demo.example.org",  # type: ignore[attr-defined]
                             occurred_at=count.occurred_at - timedelta(minutes=30))  # type: ignore[attr-defined]  # fmt: skip

        assert app.stock("VAN-1", "NALOX-4MG")["on_hand"] == before["on_hand"]  # the count saw what it saw
        ledger = app.ledger_aggregate("VAN-1", "NALOX-4MG")
        assert ledger is not None
        restated = [e for e in app.events.get(the_ledger) if isinstance(e, StockLedger.CountRestated)]
        assert [(e.before, e.after) for e in restated] == [(-2, -1)]
    finally:
        app.close()
