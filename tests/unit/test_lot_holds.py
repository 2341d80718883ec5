"""Lot holds on the StockLedger alone: a held lot is skipped by first-expiry-first-out and refused by name,
released or written off (destroyed, returned to the supplier); the hold survives a snapshot; receipts
keep the maker's lot, and a receipt stored before makers' lots were recorded still loads."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from uuid import uuid4

import pytest
from eventsourcing.persistence import DatetimeAsISO, JSONTranscoder

from inventory.adapters.transcodings import ALL
from inventory.domain.errors import InsufficientStock, InvalidInput, InvalidState, LotOnHold
from inventory.domain.holds import Hold
from inventory.domain.ledger import StockLedger
from inventory.domain.values import Lot

TODAY = date(2026, 3, 1)
RECEIVED_AT = datetime(2026, 2, 20, 9, 0, tzinfo=UTC)
HELD_AT = datetime(2026, 3, 1, 8, 0, tzinfo=UTC)
NOW = datetime(2026, 3, 1, 18, 30, tzinfo=UTC)
COORDINATOR = "coordinator@example.org"


def ledger_with_two_lots() -> StockLedger:
    """Naloxone at a van: SOON (expires first, 10 kits) and LATE (20 kits)."""
    ledger = StockLedger("VAN-1", "NALOX-4MG", "kit", True)
    for lot, quantity, expires, maker_lot in (
        ("SOON", 10, date(2026, 9, 30), "23A45"),
        ("LATE", 20, date(2027, 6, 30), None),
    ):
        ledger.receive(
            lot=lot, quantity=quantity, expires_on=expires, funding_source="STATE", unit_cost=None,
            purchase_order=None, reference=None, actor=COORDINATOR, occurred_at=RECEIVED_AT,
            manufacturer="Emergent" if maker_lot else None, manufacturer_lot=maker_lot,
        )  # fmt: skip
    return ledger


def test_a_held_lot_is_skipped_by_first_expiry_first_out_and_refused_by_name() -> None:
    ledger = ledger_with_two_lots()
    assert [(p["lot"], p["quantity"]) for p in ledger.plan_issue(3, TODAY)] == [("SOON", 3)]
    assert ledger.hold(lot="SOON", reason="damaged", actor=COORDINATOR, occurred_at=HELD_AT) is True
    assert ledger.hold(lot="SOON", reason="damaged", actor=COORDINATOR, occurred_at=HELD_AT) is False  # once

    assert [(p["lot"], p["quantity"]) for p in ledger.plan_issue(3, TODAY)] == [("LATE", 3)]
    with pytest.raises(LotOnHold, match=r"Lot SOON of NALOX-4MG at VAN-1 is held \(damaged\)"):
        ledger.plan_issue(1, TODAY, "SOON")
    # Only the 20 of LATE can go; the 10 held are said to be held, not missing.
    with pytest.raises(InsufficientStock, match=r"Only 20 kits .* Another 10 are in held lots"):
        ledger.plan_issue(25, TODAY)
    assert ledger.usable_on(TODAY) == 20 and ledger.held_quantity == 10 and ledger.on_hand == 30


def test_a_visit_entered_late_dated_before_the_hold_still_takes_from_the_lot() -> None:
    """The kits left before the lot was held: recording that late must not be refused."""
    ledger = ledger_with_two_lots()
    ledger.hold(lot="SOON", reason="quality_check", actor=COORDINATOR, occurred_at=HELD_AT)
    before = HELD_AT - timedelta(hours=2)
    picks = ledger.plan_issue(2, TODAY, "SOON", at=before)
    ledger.distribute(encounter_id=uuid4(), picks=picks, actor=COORDINATOR, occurred_at=before)
    assert ledger.lots["SOON"].quantity == 8
    with pytest.raises(LotOnHold):
        ledger.plan_issue(1, TODAY, "SOON", at=HELD_AT + timedelta(minutes=1))


def test_a_released_lot_is_issued_again() -> None:
    ledger = ledger_with_two_lots()
    ledger.hold(lot="SOON", reason="quality_check", actor=COORDINATOR, occurred_at=HELD_AT)
    ledger.release(lot="SOON", actor=COORDINATOR, occurred_at=NOW)
    assert [(p["lot"], p["quantity"]) for p in ledger.plan_issue(3, TODAY)] == [("SOON", 3)]
    with pytest.raises(InvalidState, match="is not held"):
        ledger.release(lot="SOON", actor=COORDINATOR, occurred_at=NOW)


def test_held_stock_is_written_off_as_destroyed_or_returned_and_never_more_than_is_there() -> None:
    ledger = ledger_with_two_lots()
    with pytest.raises(InvalidState, match="hold it first"):
        ledger.write_off(lot="SOON", quantity=1, disposition="destroyed", actor=COORDINATOR, occurred_at=NOW)
    ledger.hold(lot="SOON", reason="recall", recall="r-1", actor=COORDINATOR, occurred_at=HELD_AT)
    ledger.write_off(lot="SOON", quantity=4, disposition="returned_to_supplier", actor=COORDINATOR, occurred_at=NOW)
    ledger.write_off(lot="SOON", quantity=6, disposition="destroyed", actor=COORDINATOR, occurred_at=NOW)
    assert ledger.lots["SOON"].quantity == 0 and ledger.on_hand == 20
    written = [e for e in ledger.collect_events() if isinstance(e, StockLedger.WrittenOff)]
    assert [(e.quantity, e.disposition, e.reason, e.recall) for e in written] == [
        (4, "returned_to_supplier", "recall", "r-1"),
        (6, "destroyed", "recall", "r-1"),
    ]
    with pytest.raises(InsufficientStock):
        ledger.write_off(lot="SOON", quantity=1, disposition="destroyed", actor=COORDINATOR, occurred_at=NOW)
    with pytest.raises(InvalidInput, match="disposition must be one of"):
        ledger.write_off(lot="SOON", quantity=1, disposition="sold", actor=COORDINATOR, occurred_at=NOW)
    with pytest.raises(InvalidInput, match="reason must be one of"):
        ledger.hold(lot="LATE", reason="because", actor=COORDINATOR, occurred_at=NOW)


def test_a_hold_and_the_folded_history_mark_survive_a_snapshot() -> None:
    transcoder = JSONTranscoder()
    for transcoding in (DatetimeAsISO, *ALL):
        transcoder.register(transcoding())
    lot = Lot("SOON", 10, date(2026, 9, 30), "STATE", history=[], history_from=RECEIVED_AT,
              held=Hold("recall", HELD_AT, "r-1"))  # fmt: skip
    back = transcoder.decode(transcoder.encode(lot))
    assert back.held == Hold("recall", HELD_AT, "r-1")
    assert back.history_from == RECEIVED_AT
    assert transcoder.decode(transcoder.encode(Lot("L", 1, None, None))).held is None


def test_a_receipt_keeps_the_makers_lot_and_an_old_receipt_loads_without_one() -> None:
    ledger = ledger_with_two_lots()
    received = [e for e in ledger.collect_events() if isinstance(e, StockLedger.Received)]
    assert [(e.lot, e.manufacturer, e.manufacturer_lot) for e in received] == [
        ("SOON", "Emergent", "23A45"),
        ("LATE", None, None),
    ]
    state = {"lot": "OLD", "quantity": 1}
    StockLedger.Received.upcast_v1_v2(state)
    assert state == {"lot": "OLD", "quantity": 1, "manufacturer": None, "manufacturer_lot": None}
