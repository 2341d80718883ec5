"""Changing an event's shape: PurchaseOrder.Closed version 2 carries the order's shortfall.

The worked example for later changes (see the docstring of PurchaseOrder.Closed): a version-1
record, shaped exactly as release 0.1.0 wrote it, still loads through today's application and gets
the old default (`shortfall` None: "not recorded"); a new close records version 2 with the field and
reads back the same; the committed release log replays unchanged (tests/history/test_release_logs.py).
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from uuid import UUID

import pytest
from eventsourcing.persistence import StoredEvent

from inventory.application import InventoryApplication
from inventory.domain import PurchaseOrder
from inventory.projections import all_projections
from inventory.projections.audit_log import summarise
from inventory.projections.runner import Projector
from inventory.projections.store import read_store_for
from tests.history.record_release_log import SEAL_KEY

RELEASE_LOG = Path(__file__).parent / "release-0.1.0" / "events.db"
CLOSED_TOPIC = "inventory.domain.purchasing:PurchaseOrder.Closed"
BUYER = "purchasing@demo.example.org"
pytestmark = pytest.mark.clock(datetime(2026, 12, 1, 15, 0, tzinfo=UTC))


@pytest.fixture
def url(tmp_path: Path) -> str:
    """A copy of release 0.1.0's log (it is never written to in place). Its one order is partly received."""
    shutil.copyfile(RELEASE_LOG, tmp_path / "events.db")
    return f"sqlite:///{tmp_path / 'events.db'}"


@pytest.fixture
def app(url: str) -> Iterator[InventoryApplication]:
    """Release 0.1.0's log opened by today's code."""
    application = InventoryApplication(url, timezone_name="America/New_York")
    try:
        yield application
    finally:
        application.close()


def the_order(app: InventoryApplication) -> PurchaseOrder:
    notifications = app.recorder.select_notifications(start=1, limit=10_000)
    [order_id] = {n.originator_id for n in notifications if n.topic.endswith(":PurchaseOrder.Raised")}
    order: Any = app.repository.get(UUID(str(order_id)))
    assert isinstance(order, PurchaseOrder) and order.status == "partly_received"
    return order


def closed_events(app: InventoryApplication) -> list[tuple[StoredEvent, Any]]:
    """Each stored close, with what today's code reads from it."""
    notifications = app.recorder.select_notifications(start=1, limit=10_000)
    return [(n, app.mapper.to_domain_event(n)) for n in notifications if n.topic == CLOSED_TOPIC]


def stored_state(app: InventoryApplication, stored: StoredEvent) -> dict[str, Any]:
    """The state as stored (the release's log has no cipher and no compression)."""
    assert app.mapper.cipher is None and app.mapper.compressor is None
    state: dict[str, Any] = json.loads(stored.state)
    return state


def audit_summaries(app: InventoryApplication, url: str, event_type: str) -> list[str]:
    """The audit log's sentences for one event type, from read models rebuilt from the whole log."""
    store = read_store_for(url)
    try:
        Projector(app, store, all_projections(app.zone, SEAL_KEY)).rebuild()
        rows = store.fetchall("SELECT summary FROM audit_log WHERE event_type = ? ORDER BY position", (event_type,))
        return [str(row[0]) for row in rows]
    finally:
        store.close()


def test_a_close_stored_at_version_1_loads_with_no_shortfall_recorded(app: InventoryApplication, url: str) -> None:
    order = the_order(app)
    # What release 0.1.0 wrote when an order was closed: no class_version (so version 1), no shortfall.
    v1_state = (
        '{"timestamp":{"_type_":"datetime_iso","_data_":"2026-12-01T14:00:00.000001+00:00"},'
        '"actor":"purchasing@demo.example.org",'
        '"occurred_at":{"_type_":"datetime_iso","_data_":"2026-12-01T14:00:00+00:00"}}'
    )
    app.recorder.insert_events([StoredEvent(order.id, order.version + 1, CLOSED_TOPIC, v1_state.encode())])
    app.close()

    today = InventoryApplication(url, timezone_name="America/New_York")
    try:
        reloaded: Any = today.repository.get(order.id)
        assert isinstance(reloaded, PurchaseOrder)
        assert reloaded.status == "closed" and reloaded.version == order.version + 1
        assert today.purchase_order(order.id)["status"] == "closed"

        [(stored, event)] = closed_events(today)
        assert "class_version" not in stored_state(today, stored)
        assert isinstance(event, PurchaseOrder.Closed)
        assert event.shortfall is None  # the upcast's default: not recorded then
        assert (event.actor, event.occurred_at) == (BUYER, datetime(2026, 12, 1, 14, 0, tzinfo=UTC))
        assert summarise(event) == "Purchase order closed"
        assert audit_summaries(today, url, "PurchaseOrder.Closed") == ["Purchase order closed"]
    finally:
        today.close()


def test_a_new_close_is_stored_at_version_2_with_its_shortfall(app: InventoryApplication, url: str) -> None:
    order = the_order(app)
    view = app.close_purchase_order(order_id=order.id, actor=BUYER)
    assert view["status"] == "closed"

    [(stored, event)] = closed_events(app)
    state = stored_state(app, stored)
    assert state["class_version"] == 2
    assert state["shortfall"] == [{"sku": "FTS", "quantity": 300}]
    assert isinstance(event, PurchaseOrder.Closed)
    assert event.shortfall == [{"sku": "FTS", "quantity": 300}]
    # It reads back as it was written, and the aggregate replays from it.
    again = app.mapper.to_domain_event(app.mapper.to_stored_event(event))
    assert isinstance(again, PurchaseOrder.Closed) and again.__dict__ == event.__dict__
    reloaded: Any = app.repository.get(order.id)
    assert isinstance(reloaded, PurchaseOrder) and reloaded.status == "closed"
    assert audit_summaries(app, url, "PurchaseOrder.Closed") == ["Purchase order closed; short: FTS x300"]


def test_an_order_closed_in_full_records_an_empty_shortfall(app: InventoryApplication) -> None:
    order = the_order(app)
    app.receive_purchase_order(
        order_id=order.id,
        lines=[{"sku": "FTS", "lot": "FTS-2712", "quantity": 300, "expires_on": "2028-06-30"}],
        actor=BUYER,
    )
    app.close_purchase_order(order_id=order.id, actor=BUYER)
    [(_stored, event)] = closed_events(app)
    assert event.shortfall == []
    assert summarise(event) == "Purchase order closed (all received)"


def test_the_upcast_fills_the_old_default_and_nothing_else() -> None:
    state: dict[str, Any] = {"actor": BUYER, "occurred_at": datetime(2026, 12, 1, tzinfo=UTC)}
    PurchaseOrder.Closed.upcast_v1_v2(state)
    assert state == {"actor": BUYER, "occurred_at": datetime(2026, 12, 1, tzinfo=UTC), "shortfall": None}
    assert PurchaseOrder.Closed.class_version == 2
