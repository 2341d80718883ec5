"""A save whose COMMIT happened but whose answer was lost (the connection died in between) is not
recorded twice: the library retries the insert, meets our own events and raises IntegrityError; the
application recognises its own events in their place and carries on as saved. A real conflict (another
writer's event in that place) still raises, so the command reloads and tries again.
"""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from eventsourcing.application import ProcessingEvent
from eventsourcing.persistence import IntegrityError

from inventory.application import InventoryApplication
from inventory.domain import Site, StockLedger
from inventory.domain.catalog import Site as SiteAggregate
from tests.conftest import ADMIN, seed_catalog


def test_a_save_already_stored_is_taken_as_saved_not_recorded_again(app: InventoryApplication) -> None:
    seed_catalog(app)
    site = app.repository.get(Site.create_id("VAN-1"))
    assert isinstance(site, SiteAggregate)
    site.close(actor=ADMIN)
    saving = ProcessingEvent[type(site.id)]()
    saving.collect_events(site)
    # The first attempt: stored, but its answer never came back.
    app.events.put(saving.events)
    head = app.recorder.max_notification_id()

    # The retry meets our own event in its place: taken as saved, nothing new in the log.
    recordings = app._record(saving)

    assert [r.notification.id for r in recordings] == [head]
    assert recordings[0].domain_event == saving.events[0]
    assert app.recorder.max_notification_id() == head
    stored = app.recorder.select_events(site.id)
    assert [e.originator_version for e in stored] == [1, 2] and stored[-1].topic.endswith("Site.Closed")


def test_another_writers_event_in_that_place_is_still_a_conflict(app: InventoryApplication) -> None:
    seed_catalog(app)
    ours = app.repository.get(Site.create_id("VAN-1"))
    theirs = app.repository.get(Site.create_id("VAN-1"))
    assert isinstance(ours, SiteAggregate) and isinstance(theirs, SiteAggregate)
    theirs.close(actor="someone-else@example.org")
    app.save(theirs)
    ours.close(actor=ADMIN)
    saving = ProcessingEvent[type(ours.id)]()
    saving.collect_events(ours)
    with pytest.raises(IntegrityError):
        app._record(saving)


def test_a_receipt_whose_answer_was_lost_is_in_the_ledger_once(app: InventoryApplication) -> None:
    seed_catalog(app)
    app.receive_stock(
        site="WH",
        sku="NALOX-4MG",
        lot="L-1",
        quantity=40,
        expires_on=date(2031, 1, 31),
        funding_source="STATE",
        actor=ADMIN,
    )
    ledger = app.repository.get(StockLedger.create_id("WH", "NALOX-4MG"))
    ledger.receive(
        lot="L-2",
        quantity=40,
        expires_on=date(2031, 1, 31),
        funding_source="STATE",
        unit_cost=None,
        purchase_order=None,
        reference=None,
        actor=ADMIN,
        occurred_at=datetime.now(UTC),
    )
    saving = ProcessingEvent[type(ledger.id)]()
    saving.collect_events(ledger)
    app.events.put(saving.events)  # stored; answer lost
    app._record(saving)  # the library's retry
    stored = app.repository.get(ledger.id)
    assert sorted(lot for lot in stored.lots) == ["L-1", "L-2"]
    assert sum(lot.quantity for lot in stored.lots.values()) == 80
