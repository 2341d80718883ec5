"""Receiving stock: funding rules are checked against the receipt's business date; who and when are kept."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone

import pytest
from eventsourcing.domain import DomainEvent

from inventory.application import InventoryApplication
from inventory.domain import StockLedger
from inventory.domain.errors import FundingRestricted
from inventory.domain.time_words import day_in_words
from tests.conftest import ADMIN, days_ago, seed_catalog

CLERK = "receiving@example.org"


@pytest.fixture
def seeded(app: InventoryApplication) -> InventoryApplication:
    seed_catalog(app)
    return app


def head(app: InventoryApplication) -> int:
    """The position of the newest event in the log."""
    return app.recorder.max_notification_id() or 0


def events_after(app: InventoryApplication, position: int) -> list[DomainEvent]:
    """Every event recorded after `position`, oldest first."""
    notifications = app.recorder.select_notifications(start=position, limit=1000, inclusive_of_start=False)
    events = [app.mapper.to_domain_event(n) for n in notifications]
    assert all(isinstance(event, DomainEvent) for event in events)
    return events  # type: ignore[return-value]


def register_test_strips(app: InventoryApplication) -> None:
    app.register_item(
        sku="FTS-1", name="Fentanyl test strip", category="test_strip", unit="strip", tracks_expiry=False, actor=ADMIN
    )


def receive_strips(app: InventoryApplication, funding_source: str, occurred_at: datetime, lot: str = "T-1") -> None:
    app.receive_stock(
        site="WH",
        sku="FTS-1",
        lot=lot,
        quantity=100,
        expires_on=None,
        funding_source=funding_source,
        actor=CLERK,
        occurred_at=occurred_at,
    )


def test_receiving_stock_opens_a_lot_with_its_expiry_and_funding_source(seeded: InventoryApplication) -> None:
    answer = seeded.receive_stock(
        site="WH",
        sku="NALOX-4MG",
        lot="N-1",
        quantity=24,
        expires_on="2027-06-30",
        funding_source="SOR",
        unit_cost="37.50",
        actor=CLERK,
    )

    assert answer["on_hand"] == 24
    assert answer["lots"] == [{"lot": "N-1", "quantity": 24, "expires_on": date(2027, 6, 30), "funding_source": "SOR"}]
    assert answer["position"] == head(seeded)
    assert seeded.stock("WH", "NALOX-4MG")["lots"] == answer["lots"]


def test_receiving_the_same_lot_again_adds_to_it(seeded: InventoryApplication) -> None:
    for _ in range(2):
        seeded.receive_stock(
            site="WH",
            sku="NALOX-4MG",
            lot="N-1",
            quantity=10,
            expires_on=date(2027, 6, 30),
            funding_source="STATE",
            actor=CLERK,
        )

    assert seeded.stock("WH", "NALOX-4MG")["on_hand"] == 20


def test_a_receipt_funded_by_a_source_that_may_not_buy_the_category_is_refused(seeded: InventoryApplication) -> None:
    before = head(seeded)

    with pytest.raises(FundingRestricted) as refused:
        seeded.receive_stock(
            site="WH", sku="SYR-1ML", lot="S-1", quantity=1000, expires_on=None, funding_source="SOR", actor=CLERK
        )

    message = refused.value.message
    assert refused.value.field == "funding_source"
    assert "SOR" in message and "SYR-1ML" in message
    assert "no syringe purchases from Mon 1 Jan 2018 with no end date" in message
    assert "another funding source" in message
    assert head(seeded) == before


def test_the_same_syringes_may_be_booked_to_a_source_without_that_rule(seeded: InventoryApplication) -> None:
    seeded.receive_stock(
        site="WH", sku="SYR-1ML", lot="S-1", quantity=1000, expires_on=None, funding_source="STATE", actor=CLERK
    )

    assert seeded.stock("WH", "SYR-1ML")["on_hand"] == 1000


def test_a_receipt_dated_before_the_rule_started_is_accepted(seeded: InventoryApplication) -> None:
    register_test_strips(seeded)
    starts_on = days_ago(10).date()
    seeded.register_funding_source(
        code="CDC",
        name="CDC grant",
        federal=True,
        restrictions=[{"category": "test_strip", "starts_on": starts_on.isoformat()}],
        actor=ADMIN,
    )

    receive_strips(seeded, "CDC", days_ago(30))

    with pytest.raises(FundingRestricted, match=f"no test_strip purchases from {day_in_words(starts_on)}"):
        receive_strips(seeded, "CDC", days_ago(2))
    assert seeded.stock("WH", "FTS-1")["on_hand"] == 100


def test_a_rule_applies_from_its_first_day(seeded: InventoryApplication) -> None:
    register_test_strips(seeded)
    first_day = days_ago(5).date()
    seeded.register_funding_source(
        code="CDC",
        name="CDC grant",
        federal=True,
        restrictions=[{"category": "test_strip", "starts_on": first_day}],
        actor=ADMIN,
    )
    start_of_first_day = datetime.combine(first_day, datetime.min.time(), tzinfo=UTC)

    receive_strips(seeded, "CDC", start_of_first_day - timedelta(seconds=1))
    with pytest.raises(FundingRestricted):
        receive_strips(seeded, "CDC", start_of_first_day)


def test_a_rule_that_ended_before_the_receipt_date_does_not_apply(seeded: InventoryApplication) -> None:
    register_test_strips(seeded)
    seeded.register_funding_source(
        code="CDC",
        name="CDC grant",
        federal=True,
        restrictions=[{"category": "test_strip", "starts_on": days_ago(60).date(), "ends_on": days_ago(20).date()}],
        actor=ADMIN,
    )

    with pytest.raises(FundingRestricted, match=r"to \w{3} \d{1,2} \w{3} \d{4}\."):
        receive_strips(seeded, "CDC", days_ago(30))
    receive_strips(seeded, "CDC", days_ago(10))

    assert seeded.stock("WH", "FTS-1")["on_hand"] == 100


def test_changed_rules_apply_to_receipts_recorded_after_the_change(seeded: InventoryApplication) -> None:
    register_test_strips(seeded)
    receive_strips(seeded, "STATE", days_ago(3), lot="T-1")

    seeded.change_restrictions(
        code="STATE", restrictions=[{"category": "test_strip", "starts_on": days_ago(1).date()}], actor=ADMIN
    )

    receive_strips(seeded, "STATE", days_ago(3), lot="T-2")
    with pytest.raises(FundingRestricted):
        receive_strips(seeded, "STATE", days_ago(0), lot="T-3")
    assert seeded.funding_source("STATE")["restrictions"] == [
        {"category": "test_strip", "starts_on": days_ago(1).date(), "ends_on": None}
    ]


def test_a_receipt_records_the_actor_and_when_it_happened_apart_from_when_it_was_recorded(
    seeded: InventoryApplication,
) -> None:
    happened = days_ago(2)
    before = head(seeded)

    seeded.receive_stock(
        site="WH",
        sku="NALOX-4MG",
        lot="N-1",
        quantity=24,
        expires_on="2027-06-30",
        funding_source="SOR",
        actor=CLERK,
        occurred_at=happened,
    )
    recorded = datetime.now(UTC)

    received = [event for event in events_after(seeded, before) if isinstance(event, StockLedger.Received)]
    assert len(received) == 1
    event = received[0]
    assert event.actor == CLERK
    assert event.occurred_at == happened
    assert event.occurred_at.tzinfo is not None
    assert recorded - timedelta(minutes=1) < event.timestamp <= recorded
    assert event.timestamp - event.occurred_at > timedelta(days=1)


def test_a_receipt_without_a_time_happened_when_it_was_recorded(seeded: InventoryApplication) -> None:
    before = head(seeded)

    seeded.receive_stock(
        site="WH", sku="NALOX-4MG", lot="N-1", quantity=24, expires_on="2027-06-30", funding_source="SOR", actor=CLERK
    )

    ledger: object = seeded.repository.get(StockLedger.create_id("WH", "NALOX-4MG"))
    assert isinstance(ledger, StockLedger)
    (event,) = [e for e in events_after(seeded, before) if isinstance(e, StockLedger.Received)]
    assert abs(event.timestamp - event.occurred_at) < timedelta(seconds=5)
    assert event.originator_version == ledger.version


def test_a_phone_clock_a_little_ahead_of_the_server_is_tolerated(seeded: InventoryApplication) -> None:
    seeded.receive_stock(
        site="WH",
        sku="NALOX-4MG",
        lot="N-1",
        quantity=1,
        expires_on="2027-06-30",
        funding_source="SOR",
        actor=CLERK,
        occurred_at=datetime.now(UTC) + timedelta(minutes=2),
    )

    assert seeded.stock("WH", "NALOX-4MG")["on_hand"] == 1


def test_an_occurred_at_in_another_time_zone_is_stored_as_the_same_instant(seeded: InventoryApplication) -> None:
    eastern = timezone(timedelta(hours=-5))
    happened = datetime.now(eastern).replace(microsecond=0) - timedelta(hours=3)
    before = head(seeded)

    seeded.receive_stock(
        site="WH",
        sku="NALOX-4MG",
        lot="N-1",
        quantity=1,
        expires_on="2027-06-30",
        funding_source="SOR",
        actor=CLERK,
        occurred_at=happened,
    )

    (event,) = [e for e in events_after(seeded, before) if isinstance(e, StockLedger.Received)]
    assert event.occurred_at == happened
    assert event.occurred_at.utcoffset() == timedelta(0)
