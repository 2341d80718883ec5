"""A transfer entered by mistake is voided: its stock moves back on the transfer's own times.

Sent to the wrong van, or with the wrong items, a transfer is voided rather than cancelled (a
cancellation is a trip called off, dated when it was called off). The transfer and its ledger entries
stay in the log; the void puts the sender's stock back as if it had never left and, once received,
takes it out of the receiver as if it had never arrived, each on its own date, so a late entry at the
sender in between finds the stock it really had and a count at the receiver is restated.
"""

from __future__ import annotations

from typing import Any

import pytest

from inventory.application import InventoryApplication
from inventory.domain import StockLedger, Transfer
from inventory.domain.errors import InsufficientStock, InvalidInput, InvalidState, NotFound
from tests.conftest import ADMIN, days_ago
from tests.integration.test_transfers import (
    DRIVER,
    OUTREACH,
    events_after,
    head,
    load_the_van,
    lots,
    warehouse,  # noqa: F401  (the fixture)
)
from tests.integration.test_transfers import pytestmark as fixed_day

pytestmark = fixed_day


def sent_two_days_ago(app: InventoryApplication) -> dict[str, Any]:
    return load_the_van(app, occurred_at=days_ago(2))


def test_a_transfer_in_transit_voided_puts_the_stock_back_at_the_sender_on_its_dispatch_time(
    warehouse: InventoryApplication,  # noqa: F811
) -> None:
    sent = sent_two_days_ago(warehouse)
    assert warehouse.stock("WH", "NALOX-4MG")["on_hand"] == 38
    before = head(warehouse)

    voided = warehouse.void_transfer(transfer_id=sent["id"], reason="wrong_site", actor=DRIVER)

    assert (voided["status"], voided["voided"]) == ("voided", "wrong_site")
    assert lots(warehouse, "WH", "NALOX-4MG") == {"N-SOON": 10, "N-LATE": 40}
    assert lots(warehouse, "WH", "SYR-1ML") == {"S-1": 1000}
    assert warehouse.stock("VAN-1", "NALOX-4MG")["on_hand"] == 0
    # One save: the transfer and the two sender ledgers; the dispatch's own time, not now.
    events = events_after(warehouse, before)
    assert sorted(type(e).__qualname__ for e in events) == [
        "StockLedger.EntryVoided",
        "StockLedger.EntryVoided",
        "Transfer.Voided",
    ]
    [dispatch] = [e for e in events_after(warehouse, 0) if isinstance(e, Transfer.Dispatched)]
    voids = [e for e in events if isinstance(e, StockLedger.EntryVoided)]
    assert {e.occurred_at for e in voids} == {dispatch.occurred_at}
    # A visit entered late, dated between the dispatch and the void, finds the 50 kits really there.
    warehouse.record_encounter(
        key="late-visit-at-the-warehouse-0001",
        site="WH",
        lines=[{"sku": "NALOX-4MG", "quantity": 50}],
        actor=ADMIN,
        occurred_at=days_ago(1),
    )
    assert warehouse.stock("WH", "NALOX-4MG")["on_hand"] == 0


def test_a_voided_transfer_can_be_neither_received_nor_cancelled_and_voiding_again_records_nothing(
    warehouse: InventoryApplication,  # noqa: F811
) -> None:
    sent = sent_two_days_ago(warehouse)
    first = warehouse.void_transfer(transfer_id=sent["id"], reason="entered_twice", actor=DRIVER)
    before = head(warehouse)

    assert warehouse.void_transfer(transfer_id=sent["id"], reason="entered_twice", actor=DRIVER) == first
    with pytest.raises(InvalidState, match="is voided; it cannot be received"):
        warehouse.receive_transfer(transfer_id=sent["id"], actor=OUTREACH)
    with pytest.raises(InvalidState, match="is voided; it cannot be cancelled"):
        warehouse.cancel_transfer(transfer_id=sent["id"], reason="called off", actor=DRIVER)
    assert head(warehouse) == before


def test_a_received_transfer_voided_comes_out_of_the_receiver_and_back_into_the_sender(
    warehouse: InventoryApplication,  # noqa: F811
) -> None:
    sent = sent_two_days_ago(warehouse)
    warehouse.receive_transfer(transfer_id=sent["id"], actor=OUTREACH, occurred_at=days_ago(1.5))
    # The van counted what arrived, and found one kit fewer than the ledger said.
    counted = warehouse.count_stock(
        site="VAN-1", sku="NALOX-4MG", lot="N-SOON", counted=9, actor=OUTREACH, occurred_at=days_ago(1)
    )
    assert counted["variance"] == -1

    warehouse.void_transfer(transfer_id=sent["id"], reason="wrong_site", actor=ADMIN)

    assert lots(warehouse, "WH", "NALOX-4MG") == {"N-SOON": 10, "N-LATE": 40}
    assert lots(warehouse, "WH", "SYR-1ML") == {"S-1": 1000}
    assert lots(warehouse, "VAN-1", "SYR-1ML") == {}
    # The count still says 9 were on the shelf: with the transfer void, that is a count of 9 found.
    assert lots(warehouse, "VAN-1", "NALOX-4MG") == {"N-SOON": 9}


def test_a_received_transfer_whose_stock_the_receiver_used_is_not_voided_and_says_where(
    warehouse: InventoryApplication,  # noqa: F811
) -> None:
    sent = sent_two_days_ago(warehouse)
    warehouse.receive_transfer(transfer_id=sent["id"], actor=OUTREACH, occurred_at=days_ago(1.5))
    warehouse.record_encounter(
        key="visit-from-the-van-0001",
        site="VAN-1",
        lines=[{"sku": "SYR-1ML", "quantity": 50}],
        actor=OUTREACH,
        occurred_at=days_ago(1),
    )
    before = head(warehouse)

    with pytest.raises(InsufficientStock, match=r"^At VAN-1: .*lot S-1.* 50 syringes short"):
        warehouse.void_transfer(transfer_id=sent["id"], reason="wrong_site", actor=ADMIN)

    assert head(warehouse) == before
    assert warehouse.transfer(sent["id"])["status"] == "received"
    assert lots(warehouse, "VAN-1", "SYR-1ML") == {"S-1": 150}
    assert lots(warehouse, "WH", "SYR-1ML") == {"S-1": 800}


def test_a_cancelled_transfer_has_nothing_to_void(warehouse: InventoryApplication) -> None:  # noqa: F811
    sent = sent_two_days_ago(warehouse)
    warehouse.cancel_transfer(transfer_id=sent["id"], reason="van broke down", actor=DRIVER)
    before = head(warehouse)

    with pytest.raises(InvalidState, match="was cancelled: its stock is back at WH and there is nothing to void"):
        warehouse.void_transfer(transfer_id=sent["id"], reason="wrong_site", actor=DRIVER)
    assert head(warehouse) == before


def test_a_void_needs_a_listed_reason_and_a_transfer_that_exists(warehouse: InventoryApplication) -> None:  # noqa: F811
    sent = sent_two_days_ago(warehouse)
    with pytest.raises(InvalidInput, match="reason"):
        warehouse.void_transfer(transfer_id=sent["id"], reason="the driver said so", actor=DRIVER)
    with pytest.raises(NotFound, match="There is no transfer"):
        warehouse.void_transfer(transfer_id="0b8f9c39-5c7e-4f43-9a55-0d9e2f0e7a11", reason="wrong_site", actor=DRIVER)
    with pytest.raises(InvalidInput, match="is not the id of a transfer"):
        warehouse.void_transfer(transfer_id="not-an-id", reason="wrong_site", actor=DRIVER)
    assert warehouse.transfer(sent["id"])["status"] == "in_transit"
