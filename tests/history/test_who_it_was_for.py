"""Visits and shift tallies recorded before release 0.3.0 asked who they were for (Encounter.Recorded and
ShiftTally.Recorded version 2): they load as "unknown", never a guess, and the reports count them so."""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest

from inventory.application import InventoryApplication
from inventory.domain import Encounter, ShiftTally
from inventory.projections import all_projections, reach_queries
from inventory.projections.runner import Projector
from inventory.projections.store import read_store_for
from tests.history.record_release_log import SEAL_KEY

RELEASE_LOG = Path(__file__).parent / "release-0.2.0" / "events.db"
pytestmark = pytest.mark.clock(datetime(2026, 12, 1, 15, 0, tzinfo=UTC))


@pytest.fixture
def app(tmp_path: Path) -> Iterator[InventoryApplication]:
    shutil.copyfile(RELEASE_LOG, tmp_path / "events.db")
    application = InventoryApplication(f"sqlite:///{tmp_path / 'events.db'}", timezone_name="America/New_York")
    try:
        yield application
    finally:
        application.close()


def stored(app: InventoryApplication, topic: str) -> list[tuple[dict[str, Any], Any]]:
    """Each stored event of a kind: its state as stored, and what today's code reads from it."""
    notifications = app.recorder.select_notifications(start=1, limit=10_000)
    return [(json.loads(n.state), app.mapper.to_domain_event(n)) for n in notifications if n.topic.endswith(topic)]


def test_an_old_visit_and_tally_load_with_who_it_was_for_not_recorded(app: InventoryApplication) -> None:
    visits = stored(app, ":Encounter.Recorded")
    tallies = stored(app, ":ShiftTally.Recorded")
    assert len(visits) == 157 and len(tallies) == 1
    for state, event in [*visits, *tallies]:
        assert "class_version" not in state and "recipient" not in state  # written by release 0.2.0
        assert (event.recipient, event.for_others, event.channel) == ("unknown", None, "unknown")
    encounter: Any = app.repository.get(visits[0][1].originator_id)
    assert isinstance(encounter, Encounter) and encounter.recipient == "unknown"
    tally: Any = app.repository.get(tallies[0][1].originator_id)
    assert isinstance(tally, ShiftTally) and tally.channel == "unknown"


def test_the_reports_count_old_hand_outs_as_not_recorded(app: InventoryApplication, tmp_path: Path) -> None:
    store = read_store_for(f"sqlite:///{tmp_path / 'events.db'}")
    try:
        Projector(app, store, all_projections(app.zone, SEAL_KEY)).rebuild()
        rows = reach_queries.contacts_by_channel(store, date(2000, 1, 1), date(2100, 1, 1))
        assert {(row["channel"], row["recipient"]) for row in rows} == {("unknown", "unknown")}
        assert sum(row["contacts"] for row in rows) == 157 + sum(
            event.visits for _, event in stored(app, "Tally.Recorded")
        )
        assert reach_queries.recipient_label({}, "unknown") == "Not recorded"
    finally:
        store.close()


def test_a_new_visit_is_stored_at_version_2_with_who_it_was_for(app: InventoryApplication) -> None:
    site = next(e.site for _, e in stored(app, ":Encounter.Recorded"))
    lines = next(e.lines for _, e in stored(app, ":Encounter.Recorded") if e.lines)
    app.record_encounter(key="after-upgrade-1", site=site, lines=[{"sku": lines[0]["sku"], "quantity": 1}],
                         recipient="friend_or_family", for_others=2, actor="van@demo.example.org")  # fmt: skip
    state, event = stored(app, ":Encounter.Recorded")[-1]
    assert state["class_version"] == 2
    assert (state["recipient"], state["for_others"]) == ("friend_or_family", 2)
    assert event.channel == state["channel"] != "unknown"


def test_the_upcasts_fill_not_recorded_and_nothing_else() -> None:
    for kind in (Encounter.Recorded, ShiftTally.Recorded):
        state: dict[str, Any] = {"site": "VAN-1"}
        kind.upcast_v1_v2(state)
        assert state == {"site": "VAN-1", "recipient": "unknown", "for_others": None, "channel": "unknown"}
        assert kind.class_version == 2
