"""Purchase orders: raised, submitted, received in parts into the site's ledgers, then closed."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from eventsourcing.domain import DomainEvent

from inventory.application import InventoryApplication
from inventory.domain import PurchaseOrder, StockLedger
from inventory.domain.errors import FundingRestricted, InvalidInput, InvalidState, UnknownPurchaseOrder
from tests.conftest import ADMIN, days_ago, seed_catalog

BUYER = "purchasing@example.org"
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


def raise_order(app: InventoryApplication, **overrides: Any) -> dict[str, Any]:
    """Order 48 naloxone kits and 1000 syringes for the warehouse on the state fund."""
    request: dict[str, Any] = {
        "supplier": "Harm Reduction Supply Co.",
        "site": "WH",
        "funding_source": "STATE",
        "lines": [
            {"sku": "NALOX-4MG", "quantity": 48, "unit_cost": "37.50"},
            {"sku": "SYR-1ML", "quantity": 1000, "unit_cost": "0.12"},
        ],
        "number": "PO-2026-001",
        "actor": BUYER,
    }
    request.update(overrides)
    return app.raise_purchase_order(**request)


def receive(app: InventoryApplication, order: dict[str, Any], *lines: dict[str, Any], **extra: Any) -> dict[str, Any]:
    return app.receive_purchase_order(order_id=order["id"], lines=list(lines), actor=CLERK, **extra)


def kits(quantity: int, lot: str = "N-1") -> dict[str, Any]:
    return {"sku": "NALOX-4MG", "lot": lot, "quantity": quantity, "expires_on": "2027-06-30"}


def syringes(quantity: int, lot: str = "S-1") -> dict[str, Any]:
    return {"sku": "SYR-1ML", "lot": lot, "quantity": quantity}


def outstanding(order: dict[str, Any]) -> dict[str, int]:
    return {line["sku"]: line["outstanding"] for line in order["lines"]}


def test_an_order_goes_from_raised_to_closed_through_two_partial_receipts(seeded: InventoryApplication) -> None:
    order = raise_order(seeded)
    assert order["status"] == "draft"
    assert outstanding(order) == {"NALOX-4MG": 48, "SYR-1ML": 1000}

    order = seeded.submit_purchase_order(order_id=order["id"], actor=BUYER)
    assert order["status"] == "submitted"

    order = receive(seeded, order, kits(24), syringes(400))
    assert order["status"] == "partly_received"
    assert outstanding(order) == {"NALOX-4MG": 24, "SYR-1ML": 600}

    order = receive(seeded, order, kits(20, lot="N-2"))
    assert order["status"] == "partly_received"
    assert outstanding(order) == {"NALOX-4MG": 4, "SYR-1ML": 600}

    order = receive(seeded, order, kits(4, lot="N-2"), syringes(600, lot="S-2"))
    assert order["status"] == "received"
    assert outstanding(order) == {"NALOX-4MG": 0, "SYR-1ML": 0}
    assert [line["received"] for line in order["lines"]] == [48, 1000]

    order = seeded.close_purchase_order(order_id=order["id"], actor=BUYER)
    assert order["status"] == "closed"
    assert seeded.purchase_order(order["id"]) == order
    assert {row["lot"]: row["quantity"] for row in seeded.stock("WH", "NALOX-4MG")["lots"]} == {"N-1": 24, "N-2": 24}
    assert seeded.stock("WH", "SYR-1ML")["on_hand"] == 1000


def test_a_receipt_is_booked_to_the_orders_funding_source_price_and_number(seeded: InventoryApplication) -> None:
    order = raise_order(seeded)
    seeded.submit_purchase_order(order_id=order["id"], actor=BUYER)
    before = head(seeded)

    receive(seeded, order, kits(24), {**syringes(100), "unit_cost": "0.10"})

    received = {e.originator_id: e for e in events_after(seeded, before) if isinstance(e, StockLedger.Received)}
    naloxone = received[StockLedger.create_id("WH", "NALOX-4MG")]
    syringe = received[StockLedger.create_id("WH", "SYR-1ML")]
    assert (naloxone.funding_source, naloxone.unit_cost, naloxone.purchase_order) == (
        "STATE",
        Decimal("37.50"),
        "PO-2026-001",
    )
    assert syringe.unit_cost == Decimal("0.10")
    assert naloxone.reference == order["id"]


def test_a_receipt_saves_the_order_and_its_ledgers_in_one_save(seeded: InventoryApplication) -> None:
    order = raise_order(seeded)
    seeded.submit_purchase_order(order_id=order["id"], actor=BUYER)
    before = head(seeded)

    receive(seeded, order, kits(24), syringes(400))

    events = events_after(seeded, before)
    assert head(seeded) == before + len(events)
    receipts = [e for e in events if isinstance(e, PurchaseOrder.ReceiptRecorded)]  # type: ignore[attr-defined]
    assert len(receipts) == 1
    assert len([e for e in events if isinstance(e, StockLedger.Received)]) == 2


def test_receiving_more_than_is_outstanding_is_refused_and_writes_nothing(seeded: InventoryApplication) -> None:
    order = raise_order(seeded)
    seeded.submit_purchase_order(order_id=order["id"], actor=BUYER)
    receive(seeded, order, kits(40))
    before = head(seeded)

    with pytest.raises(InvalidInput) as refused:
        receive(seeded, order, syringes(10), kits(5, lot="N-2"), kits(4, lot="N-3"))

    assert refused.value.field == "lines"
    assert refused.value.message == "Only 8 of NALOX-4MG are still outstanding on PO-2026-001; 9 were entered."
    assert head(seeded) == before
    assert seeded.stock("WH", "SYR-1ML")["on_hand"] == 0
    assert outstanding(seeded.purchase_order(order["id"])) == {"NALOX-4MG": 8, "SYR-1ML": 1000}


def test_an_item_not_on_the_order_cannot_be_received_against_it(seeded: InventoryApplication) -> None:
    order = raise_order(seeded, lines=[{"sku": "SYR-1ML", "quantity": 100}])
    seeded.submit_purchase_order(order_id=order["id"], actor=BUYER)

    with pytest.raises(InvalidInput, match="NALOX-4MG is not on purchase order PO-2026-001"):
        receive(seeded, order, kits(1))


def test_a_draft_order_cannot_be_received_or_closed(seeded: InventoryApplication) -> None:
    order = raise_order(seeded)
    before = head(seeded)

    with pytest.raises(InvalidState, match="PO-2026-001 is draft; it cannot be received"):
        receive(seeded, order, kits(1))
    with pytest.raises(InvalidState, match="PO-2026-001 is draft; it cannot be closed"):
        seeded.close_purchase_order(order_id=order["id"], actor=BUYER)
    assert head(seeded) == before


def test_a_submitted_order_cannot_be_submitted_again(seeded: InventoryApplication) -> None:
    order = raise_order(seeded)
    seeded.submit_purchase_order(order_id=order["id"], actor=BUYER)

    with pytest.raises(InvalidState, match="is submitted; it cannot be submitted"):
        seeded.submit_purchase_order(order_id=order["id"], actor=BUYER)


def test_a_closed_order_cannot_be_received_into(seeded: InventoryApplication) -> None:
    order = raise_order(seeded)
    seeded.submit_purchase_order(order_id=order["id"], actor=BUYER)
    receive(seeded, order, kits(10))
    seeded.close_purchase_order(order_id=order["id"], actor=BUYER)

    with pytest.raises(InvalidState, match="is closed; it cannot be received"):
        receive(seeded, order, kits(10))
    assert seeded.stock("WH", "NALOX-4MG")["on_hand"] == 10


def test_a_cancelled_order_cannot_be_received_into(seeded: InventoryApplication) -> None:
    order = raise_order(seeded)
    seeded.submit_purchase_order(order_id=order["id"], actor=BUYER)
    cancelled = seeded.cancel_purchase_order(order_id=order["id"], reason="supplier out of stock", actor=BUYER)
    assert cancelled["status"] == "cancelled"

    with pytest.raises(InvalidState, match="is cancelled; it cannot be received"):
        receive(seeded, order, kits(10))


def test_an_order_for_a_category_its_funding_source_may_not_buy_is_refused(seeded: InventoryApplication) -> None:
    before = head(seeded)

    with pytest.raises(FundingRestricted) as refused:
        raise_order(seeded, funding_source="SOR")

    assert "no syringe purchases from Mon 1 Jan 2018" in refused.value.message
    assert head(seeded) == before


def test_a_receipt_after_a_rule_started_is_refused_even_if_the_order_was_raised_before(
    seeded: InventoryApplication,
) -> None:
    seeded.register_item(
        sku="FTS-1", name="Fentanyl test strip", category="test_strip", unit="strip", tracks_expiry=False, actor=ADMIN
    )
    order = raise_order(seeded, lines=[{"sku": "FTS-1", "quantity": 500}], occurred_at=days_ago(20))
    seeded.submit_purchase_order(order_id=order["id"], actor=BUYER, occurred_at=days_ago(20))
    seeded.change_restrictions(
        code="STATE", restrictions=[{"category": "test_strip", "starts_on": days_ago(10).date()}], actor=ADMIN
    )
    before = head(seeded)

    with pytest.raises(FundingRestricted):
        receive(seeded, order, {"sku": "FTS-1", "lot": "T-1", "quantity": 500})
    assert head(seeded) == before


def test_an_unknown_order_is_refused(seeded: InventoryApplication) -> None:
    with pytest.raises(UnknownPurchaseOrder) as refused:
        seeded.submit_purchase_order(order_id="not-an-id", actor=BUYER)
    assert refused.value.field == "purchase_order"


def test_every_order_step_records_the_actor_and_when_it_happened(seeded: InventoryApplication) -> None:
    raised, submitted, arrived = days_ago(3), days_ago(2), days_ago(1)
    before = head(seeded)

    order = raise_order(seeded, occurred_at=raised)
    seeded.submit_purchase_order(order_id=order["id"], actor=BUYER, occurred_at=submitted)
    receive(seeded, order, kits(48), syringes(1000), occurred_at=arrived)
    seeded.close_purchase_order(order_id=order["id"], actor=BUYER)
    recorded = datetime.now(UTC)

    events = [e for e in events_after(seeded, before) if type(e).__qualname__ != "StockLedger.Opened"]
    stamps = [(type(e).__qualname__, e.actor, e.occurred_at) for e in events]  # type: ignore[attr-defined]
    assert stamps[:5] == [
        ("PurchaseOrder.Raised", BUYER, raised),
        ("PurchaseOrder.Submitted", BUYER, submitted),
        ("PurchaseOrder.ReceiptRecorded", CLERK, arrived),
        ("StockLedger.Received", CLERK, arrived),
        ("StockLedger.Received", CLERK, arrived),
    ]
    closed = events[5]
    assert (type(closed).__qualname__, closed.actor) == ("PurchaseOrder.Closed", BUYER)  # type: ignore[attr-defined]
    assert recorded - timedelta(minutes=1) < closed.occurred_at <= recorded  # type: ignore[attr-defined]
    assert all(arrived < e.timestamp <= recorded for e in events)
