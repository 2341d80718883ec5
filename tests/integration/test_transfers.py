"""Transfers: stock leaves the sender on dispatch, arrives on receipt, and returns if cancelled."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any
from uuid import UUID

import pytest
from eventsourcing.domain import DomainEvent

from inventory.application import InventoryApplication
from inventory.domain import StockLedger, Transfer, ledger_id
from inventory.domain.errors import InsufficientStock, InvalidInput, InvalidState, UnknownTransfer
from tests.conftest import ADMIN, days_ago, seed_catalog

DRIVER = "driver@example.org"
OUTREACH = "outreach@example.org"
SOON, LATE = date(2027, 1, 31), date(2028, 1, 31)
# The lots' expiry dates are fixed, so the module runs on a fixed day (and not on whatever day CI's
# shifted clock starts from, when SOON may be past).
pytestmark = pytest.mark.clock(datetime(2026, 12, 1, 15, 0, tzinfo=UTC))


@pytest.fixture
def warehouse(app: InventoryApplication) -> InventoryApplication:
    """A warehouse holding two lots of naloxone and a box of syringes; an empty van."""
    seed_catalog(app)
    for lot, quantity, expires_on, funding in (("N-LATE", 40, LATE, "STATE"), ("N-SOON", 10, SOON, "SOR")):
        app.receive_stock(
            site="WH",
            sku="NALOX-4MG",
            lot=lot,
            quantity=quantity,
            expires_on=expires_on,
            funding_source=funding,
            actor=ADMIN,
            occurred_at=days_ago(10),
        )
    app.receive_stock(
        site="WH", sku="SYR-1ML", lot="S-1", quantity=1000, expires_on=None, funding_source="STATE", actor=ADMIN,
        occurred_at=days_ago(10),
    )  # fmt: skip
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


def lots(app: InventoryApplication, site: str, sku: str) -> dict[str, int]:
    """Units left in each lot of one ledger (empty lots left out)."""
    return {row["lot"]: row["quantity"] for row in app.stock(site, sku)["lots"]}


def load_the_van(app: InventoryApplication, **overrides: Any) -> dict[str, Any]:
    """Send 12 kits of naloxone and 200 syringes to the van."""
    request: dict[str, Any] = {
        "from_site": "WH",
        "to_site": "VAN-1",
        "lines": [{"sku": "NALOX-4MG", "quantity": 12}, {"sku": "SYR-1ML", "quantity": 200}],
        "actor": DRIVER,
    }
    request.update(overrides)
    return app.dispatch_transfer(**request)


def test_dispatch_takes_stock_out_of_the_sender_first_expiry_first(warehouse: InventoryApplication) -> None:
    sent = load_the_van(warehouse)

    assert sent["status"] == "in_transit"
    assert sent["lines"] == [
        {"sku": "NALOX-4MG", "lot": "N-SOON", "quantity": 10, "expires_on": SOON, "funding_source": "SOR"},
        {"sku": "NALOX-4MG", "lot": "N-LATE", "quantity": 2, "expires_on": LATE, "funding_source": "STATE"},
        {"sku": "SYR-1ML", "lot": "S-1", "quantity": 200, "expires_on": None, "funding_source": "STATE"},
    ]
    assert lots(warehouse, "WH", "NALOX-4MG") == {"N-LATE": 38}
    assert lots(warehouse, "WH", "SYR-1ML") == {"S-1": 800}


def test_stock_in_transit_is_at_neither_site(warehouse: InventoryApplication) -> None:
    load_the_van(warehouse)

    assert warehouse.stock("WH", "NALOX-4MG")["on_hand"] == 38
    assert warehouse.stock("VAN-1", "NALOX-4MG")["on_hand"] == 0


def test_dispatch_saves_the_transfer_and_the_sender_ledgers_in_one_save(warehouse: InventoryApplication) -> None:
    before = head(warehouse)

    sent = load_the_van(warehouse)

    events = events_after(warehouse, before)
    assert len(events) == 3
    assert {event.originator_id for event in events} == {
        UUID(sent["id"]),
        ledger_id("WH", "NALOX-4MG"),
        ledger_id("WH", "SYR-1ML"),
    }
    for event in events:
        assert (event.actor, event.occurred_at.tzinfo is not None) == (DRIVER, True)  # type: ignore[attr-defined]


def test_receiving_a_transfer_puts_the_stock_in_at_the_receiver_with_its_lots(
    warehouse: InventoryApplication,
) -> None:
    sent = load_the_van(warehouse)

    received = warehouse.receive_transfer(transfer_id=sent["id"], actor=OUTREACH)

    assert received["status"] == "received"
    assert received["shortfall"] == []
    assert warehouse.stock("VAN-1", "NALOX-4MG")["lots"] == [
        {"lot": "N-SOON", "quantity": 10, "expires_on": SOON, "funding_source": "SOR"},
        {"lot": "N-LATE", "quantity": 2, "expires_on": LATE, "funding_source": "STATE"},
    ]
    assert lots(warehouse, "VAN-1", "SYR-1ML") == {"S-1": 200}
    assert lots(warehouse, "WH", "NALOX-4MG") == {"N-LATE": 38}


def test_receiving_less_than_was_sent_records_the_shortfall(warehouse: InventoryApplication) -> None:
    sent = load_the_van(warehouse)

    received = warehouse.receive_transfer(
        transfer_id=sent["id"],
        received=[
            {"sku": "NALOX-4MG", "lot": "N-SOON", "quantity": 9},
            {"sku": "NALOX-4MG", "lot": "N-LATE", "quantity": 2},
            {"sku": "SYR-1ML", "lot": "S-1", "quantity": 150},
        ],
        note="one kit crushed, a sleeve of syringes missing",
        actor=OUTREACH,
    )

    assert received["status"] == "received"
    assert [(row["sku"], row["lot"], row["quantity"]) for row in received["shortfall"]] == [
        ("NALOX-4MG", "N-SOON", 1),
        ("SYR-1ML", "S-1", 50),
    ]
    assert lots(warehouse, "VAN-1", "NALOX-4MG") == {"N-SOON": 9, "N-LATE": 2}
    assert lots(warehouse, "VAN-1", "SYR-1ML") == {"S-1": 150}
    assert lots(warehouse, "WH", "NALOX-4MG") == {"N-LATE": 38}
    stored: object = warehouse.repository.get(UUID(sent["id"]))
    assert isinstance(stored, Transfer)
    assert stored.shortfall == received["shortfall"]


def test_a_line_that_did_not_arrive_at_all_is_all_shortfall(warehouse: InventoryApplication) -> None:
    sent = load_the_van(warehouse)

    received = warehouse.receive_transfer(
        transfer_id=sent["id"], received=[{"sku": "SYR-1ML", "lot": "S-1", "quantity": 200}], actor=OUTREACH
    )

    assert sum(row["quantity"] for row in received["shortfall"]) == 12
    assert warehouse.stock("VAN-1", "NALOX-4MG")["on_hand"] == 0
    assert lots(warehouse, "VAN-1", "SYR-1ML") == {"S-1": 200}


def test_receiving_more_than_was_sent_is_refused_and_writes_nothing(warehouse: InventoryApplication) -> None:
    sent = load_the_van(warehouse)
    before = head(warehouse)

    with pytest.raises(InvalidInput) as refused:
        warehouse.receive_transfer(
            transfer_id=sent["id"], received=[{"sku": "SYR-1ML", "lot": "S-1", "quantity": 201}], actor=OUTREACH
        )

    assert refused.value.field == "received"
    assert "only 200 were sent" in refused.value.message
    assert "'found' adjustment" in refused.value.message
    assert head(warehouse) == before


def test_receiving_a_lot_that_was_not_sent_is_refused(warehouse: InventoryApplication) -> None:
    sent = load_the_van(warehouse)

    with pytest.raises(InvalidInput, match="Lot S-9 of SYR-1ML was not sent in this transfer"):
        warehouse.receive_transfer(
            transfer_id=sent["id"], received=[{"sku": "SYR-1ML", "lot": "S-9", "quantity": 1}], actor=OUTREACH
        )


def test_a_cancelled_transfer_returns_the_stock_to_the_sender(warehouse: InventoryApplication) -> None:
    before = {sku: lots(warehouse, "WH", sku) for sku in ("NALOX-4MG", "SYR-1ML")}
    sent = load_the_van(warehouse)

    cancelled = warehouse.cancel_transfer(transfer_id=sent["id"], reason="van broke down", actor=DRIVER)

    assert cancelled["status"] == "cancelled"
    assert {sku: lots(warehouse, "WH", sku) for sku in ("NALOX-4MG", "SYR-1ML")} == before
    assert warehouse.stock("WH", "NALOX-4MG")["lots"][0] == {
        "lot": "N-SOON",
        "quantity": 10,
        "expires_on": SOON,
        "funding_source": "SOR",
    }
    assert warehouse.stock("VAN-1", "NALOX-4MG")["on_hand"] == 0


def test_a_received_transfer_can_be_neither_received_again_nor_cancelled(warehouse: InventoryApplication) -> None:
    sent = load_the_van(warehouse)
    warehouse.receive_transfer(transfer_id=sent["id"], actor=OUTREACH)
    before = head(warehouse)

    with pytest.raises(InvalidState, match="is received; it cannot be received"):
        warehouse.receive_transfer(transfer_id=sent["id"], actor=OUTREACH)
    with pytest.raises(InvalidState, match="is received; it cannot be cancelled"):
        warehouse.cancel_transfer(transfer_id=sent["id"], reason="changed our mind", actor=DRIVER)

    assert head(warehouse) == before
    assert lots(warehouse, "VAN-1", "SYR-1ML") == {"S-1": 200}


def test_a_cancelled_transfer_cannot_be_received(warehouse: InventoryApplication) -> None:
    sent = load_the_van(warehouse)
    warehouse.cancel_transfer(transfer_id=sent["id"], reason="van broke down", actor=DRIVER)

    with pytest.raises(InvalidState, match="is cancelled; it cannot be received"):
        warehouse.receive_transfer(transfer_id=sent["id"], actor=OUTREACH)
    assert warehouse.stock("VAN-1", "SYR-1ML")["on_hand"] == 0


def test_dispatching_more_than_the_sender_holds_is_refused_and_writes_nothing(
    warehouse: InventoryApplication,
) -> None:
    before = head(warehouse)

    with pytest.raises(InsufficientStock) as refused:
        load_the_van(warehouse, lines=[{"sku": "SYR-1ML", "quantity": 10}, {"sku": "NALOX-4MG", "quantity": 51}])

    assert refused.value.message == "Only 50 kits of NALOX-4MG left at WH; 51 requested."
    assert head(warehouse) == before
    assert lots(warehouse, "WH", "SYR-1ML") == {"S-1": 1000}


def test_an_unknown_transfer_is_refused(warehouse: InventoryApplication) -> None:
    with pytest.raises(UnknownTransfer) as refused:
        warehouse.receive_transfer(transfer_id=UUID(int=7), actor=OUTREACH)
    assert refused.value.field == "transfer_id"


def test_every_transfer_step_records_the_actor_and_when_it_happened(warehouse: InventoryApplication) -> None:
    left, arrived = days_ago(1), days_ago(0.5)
    before = head(warehouse)

    sent = load_the_van(warehouse, occurred_at=left)
    warehouse.receive_transfer(transfer_id=sent["id"], actor=OUTREACH, occurred_at=arrived)
    recorded = datetime.now(UTC)

    # The van's naloxone and syringe ledgers open on first arrival; opening is not a movement.
    events = [e for e in events_after(warehouse, before) if type(e).__qualname__ != "StockLedger.Opened"]
    stamps = {(type(e).__qualname__, e.actor, e.occurred_at) for e in events}  # type: ignore[attr-defined]
    assert stamps == {
        ("Transfer.Dispatched", DRIVER, left),
        ("StockLedger.Dispatched", DRIVER, left),
        ("Transfer.Received", OUTREACH, arrived),
        ("StockLedger.Arrived", OUTREACH, arrived),
    }
    assert all(arrived + timedelta(hours=11) < e.timestamp <= recorded for e in events)
    arrivals = [e for e in events if isinstance(e, StockLedger.Arrived)]
    assert {e.from_site for e in arrivals} == {"WH"}


def test_a_lot_sent_on_two_lines_is_counted_once_when_part_of_it_arrives(warehouse: InventoryApplication) -> None:
    # A named line and a first-expiry line both take from N-SOON, so the transfer holds two N-SOON rows.
    sent = load_the_van(
        warehouse, lines=[{"sku": "NALOX-4MG", "quantity": 2, "lot": "N-SOON"}, {"sku": "NALOX-4MG", "quantity": 3}]
    )
    # The transfer holds one line per lot, however many request lines took from it.
    assert [(row["lot"], row["quantity"]) for row in sent["lines"]] == [("N-SOON", 5)]

    received = warehouse.receive_transfer(
        transfer_id=sent["id"], received=[{"sku": "NALOX-4MG", "lot": "N-SOON", "quantity": 2}], actor=OUTREACH
    )

    assert lots(warehouse, "VAN-1", "NALOX-4MG") == {"N-SOON": 2}
    assert sum(row["quantity"] for row in received["shortfall"]) == 3
