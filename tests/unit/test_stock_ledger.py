"""The StockLedger aggregate alone: lots never go below zero, expired lots are never issued, FEFO."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any
from uuid import uuid4

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from inventory.domain.errors import InsufficientStock, InvalidInput, LotExpired, UnknownLot
from inventory.domain.ledger import StockLedger

TODAY = date(2026, 3, 1)
MOMENT = datetime(2026, 3, 1, 18, 30, tzinfo=UTC)
COORDINATOR = "coordinator@example.org"


def naloxone_ledger() -> StockLedger:
    """A van's naloxone ledger: kits, lots carry an expiry."""
    return StockLedger("VAN-1", "NALOX-4MG", "kit", True)


def syringe_ledger() -> StockLedger:
    """A van's syringe ledger: lots may or may not carry an expiry."""
    return StockLedger("VAN-1", "SYR-1ML", "syringe", False)


def receive(
    ledger: StockLedger,
    lot: str,
    quantity: int,
    expires_on: date | None = date(2027, 6, 30),
    funding_source: str | None = "STATE",
) -> None:
    """Receive a lot from a supplier."""
    ledger.receive(
        lot=lot,
        quantity=quantity,
        expires_on=expires_on,
        funding_source=funding_source,
        unit_cost=None,
        purchase_order=None,
        reference=None,
        actor=COORDINATOR,
        occurred_at=MOMENT,
    )


def issue(ledger: StockLedger, quantity: int, lot: str | None = None, day: date = TODAY) -> list[tuple[str, int]]:
    """Plan and record an issue, as an encounter does; return (lot, quantity) taken from each lot."""
    picks = ledger.plan_issue(quantity, day, lot)
    ledger.distribute(encounter_id=uuid4(), picks=picks, actor=COORDINATOR, occurred_at=MOMENT)
    return [(pick["lot"], pick["quantity"]) for pick in picks]


def adjust(ledger: StockLedger, lot: str, quantity: int, **extra: Any) -> None:
    """Correct a lot with a reason."""
    ledger.adjust(
        lot=lot,
        quantity=quantity,
        reason=extra.pop("reason", "correction"),
        note="",
        day=TODAY,
        actor=COORDINATOR,
        occurred_at=MOMENT,
        **extra,
    )


def quantities(ledger: StockLedger) -> dict[str, int]:
    """Units left in each lot."""
    return {code: lot.quantity for code, lot in ledger.lots.items()}


def replayed(ledger: StockLedger) -> StockLedger:
    """The ledger rebuilt from its own pending events, as the repository would rebuild it."""
    copy: StockLedger | None = None
    for event in ledger.collect_events():
        copy = event.mutate(copy)
    assert copy is not None
    return copy


# ----- first expiry, first out -------------------------------------------------------------


def test_issue_picks_the_lot_that_expires_first() -> None:
    ledger = naloxone_ledger()
    receive(ledger, "LATE", 10, date(2028, 1, 31))
    receive(ledger, "SOON", 10, date(2026, 4, 30))
    receive(ledger, "MIDDLE", 10, date(2027, 1, 31))

    assert issue(ledger, 4) == [("SOON", 4)]
    assert quantities(ledger) == {"LATE": 10, "SOON": 6, "MIDDLE": 10}


def test_issue_spills_over_into_the_next_lot_to_expire() -> None:
    ledger = naloxone_ledger()
    receive(ledger, "LATE", 10, date(2028, 1, 31))
    receive(ledger, "SOON", 3, date(2026, 4, 30))

    assert issue(ledger, 5) == [("SOON", 3), ("LATE", 2)]
    assert quantities(ledger) == {"LATE": 8, "SOON": 0}


def test_issue_skips_lots_that_are_empty() -> None:
    ledger = naloxone_ledger()
    receive(ledger, "SOON", 2, date(2026, 4, 30))
    receive(ledger, "LATE", 5, date(2028, 1, 31))
    issue(ledger, 2)

    assert issue(ledger, 1) == [("LATE", 1)]


def test_lots_without_expiry_are_issued_last() -> None:
    ledger = syringe_ledger()
    receive(ledger, "NO-DATE", 100, None)
    receive(ledger, "DATED", 20, date(2029, 12, 31))

    assert issue(ledger, 30) == [("DATED", 20), ("NO-DATE", 10)]


def test_lots_expiring_on_the_same_day_are_issued_in_lot_code_order() -> None:
    ledger = naloxone_ledger()
    receive(ledger, "B-2", 5, date(2027, 6, 30))
    receive(ledger, "A-1", 5, date(2027, 6, 30))

    assert issue(ledger, 6) == [("A-1", 5), ("B-2", 1)]


def test_a_pick_carries_the_lots_expiry_and_funding_source() -> None:
    ledger = naloxone_ledger()
    receive(ledger, "SOON", 3, date(2026, 4, 30), "SOR")
    receive(ledger, "LATE", 10, date(2028, 1, 31), "STATE")

    assert ledger.plan_issue(5, TODAY) == [
        {"lot": "SOON", "quantity": 3, "expires_on": date(2026, 4, 30), "funding_source": "SOR"},
        {"lot": "LATE", "quantity": 2, "expires_on": date(2028, 1, 31), "funding_source": "STATE"},
    ]


def test_a_named_lot_is_issued_even_when_another_expires_sooner() -> None:
    ledger = naloxone_ledger()
    receive(ledger, "SOON", 10, date(2026, 4, 30))
    receive(ledger, "LATE", 10, date(2028, 1, 31))

    assert issue(ledger, 2, lot="LATE") == [("LATE", 2)]
    assert quantities(ledger) == {"SOON": 10, "LATE": 8}


# ----- expired lots are never issued -------------------------------------------------------


def test_a_lot_can_be_issued_on_its_expiry_date() -> None:
    ledger = naloxone_ledger()
    receive(ledger, "EDGE", 5, TODAY)

    assert issue(ledger, 1, lot="EDGE", day=TODAY) == [("EDGE", 1)]
    assert issue(ledger, 1, day=TODAY) == [("EDGE", 1)]


def test_a_named_lot_is_refused_the_day_after_it_expires() -> None:
    ledger = naloxone_ledger()
    receive(ledger, "OLD", 5, TODAY - timedelta(days=1))
    ledger.collect_events()

    with pytest.raises(LotExpired) as refused:
        ledger.plan_issue(1, TODAY, "OLD")

    assert refused.value.field == "lot"
    assert "OLD" in refused.value.message
    assert "expired on Sat 28 Feb 2026" in refused.value.message
    assert quantities(ledger) == {"OLD": 5}
    assert ledger.collect_events() == []


def test_first_expiry_first_out_skips_expired_lots() -> None:
    ledger = naloxone_ledger()
    receive(ledger, "OLD", 5, TODAY - timedelta(days=1))
    receive(ledger, "GOOD", 5, TODAY + timedelta(days=1))

    assert issue(ledger, 3) == [("GOOD", 3)]
    assert quantities(ledger) == {"OLD": 5, "GOOD": 2}


def test_stock_only_in_expired_lots_cannot_be_issued() -> None:
    ledger = naloxone_ledger()
    receive(ledger, "OLD", 5, TODAY - timedelta(days=1))
    receive(ledger, "GOOD", 2, TODAY + timedelta(days=30))

    with pytest.raises(InsufficientStock) as refused:
        ledger.plan_issue(4, TODAY)

    message = refused.value.message
    assert message.startswith("Only 2 kits of NALOX-4MG left at VAN-1; 4 requested.")
    assert "Another 5 are in expired lots and cannot be issued." in message
    assert ledger.usable_on(TODAY) == 2
    assert ledger.on_hand == 7


# ----- no lot below zero -------------------------------------------------------------------


def test_issue_cannot_take_more_than_is_on_hand() -> None:
    ledger = naloxone_ledger()
    receive(ledger, "A", 2)
    receive(ledger, "B", 1, date(2028, 1, 31))
    ledger.collect_events()

    with pytest.raises(InsufficientStock) as refused:
        ledger.plan_issue(5, TODAY)

    assert refused.value.message == "Only 3 kits of NALOX-4MG left at VAN-1; 5 requested."
    assert refused.value.field == "quantity"
    assert quantities(ledger) == {"A": 2, "B": 1}
    assert ledger.collect_events() == []


def test_a_named_lot_cannot_give_more_than_it_holds() -> None:
    ledger = naloxone_ledger()
    receive(ledger, "A", 3)
    receive(ledger, "B", 50, date(2028, 1, 31))

    with pytest.raises(InsufficientStock) as refused:
        ledger.plan_issue(4, TODAY, "A")

    assert refused.value.message == "Only 3 kits of NALOX-4MG left at VAN-1 in lot A; 4 requested."


def test_the_shortage_message_uses_the_singular_for_one_unit() -> None:
    ledger = naloxone_ledger()
    receive(ledger, "A", 1)

    with pytest.raises(InsufficientStock, match=r"^Only 1 kit of NALOX-4MG left at VAN-1; 2 requested\.$"):
        ledger.plan_issue(2, TODAY)


def test_the_shortage_message_for_an_empty_ledger_says_none_are_left() -> None:
    ledger = syringe_ledger()

    with pytest.raises(InsufficientStock, match=r"^Only 0 syringes of SYR-1ML left at VAN-1; 10 requested\.$"):
        ledger.plan_issue(10, TODAY)


def test_an_unknown_named_lot_is_refused() -> None:
    ledger = naloxone_ledger()
    receive(ledger, "A", 3)

    with pytest.raises(UnknownLot) as refused:
        ledger.plan_issue(1, TODAY, "ZZZ")

    assert refused.value.field == "lot"
    assert refused.value.message == "There is no lot ZZZ of NALOX-4MG at VAN-1."


@pytest.mark.parametrize("quantity", [0, -1, 2.5, "3", True, None])
def test_an_issue_must_be_a_whole_number_above_zero(quantity: Any) -> None:
    ledger = naloxone_ledger()
    receive(ledger, "A", 3)

    with pytest.raises(InvalidInput) as refused:
        ledger.plan_issue(quantity, TODAY)

    assert refused.value.field == "quantity"


def test_adjusting_a_lot_below_zero_is_refused() -> None:
    ledger = naloxone_ledger()
    receive(ledger, "A", 3)
    ledger.collect_events()

    with pytest.raises(InsufficientStock) as refused:
        adjust(ledger, "A", -4, reason="damaged")

    assert refused.value.message == "Only 3 kits of NALOX-4MG left at VAN-1 in lot A; 4 requested."
    assert quantities(ledger) == {"A": 3}
    assert ledger.collect_events() == []


def test_adjusting_a_lot_down_to_exactly_zero_is_allowed() -> None:
    ledger = naloxone_ledger()
    receive(ledger, "A", 3)

    adjust(ledger, "A", -3, reason="damaged")

    assert quantities(ledger) == {"A": 0}


def test_adjusting_an_expired_lot_out_is_allowed() -> None:
    ledger = naloxone_ledger()
    receive(ledger, "OLD", 4, TODAY - timedelta(days=10))

    adjust(ledger, "OLD", -4, reason="expired")

    assert quantities(ledger) == {"OLD": 0}


def test_adjusting_down_a_lot_that_does_not_exist_is_refused() -> None:
    ledger = naloxone_ledger()

    with pytest.raises(UnknownLot) as refused:
        adjust(ledger, "GHOST", -1, reason="lost")

    assert refused.value.field == "lot"


def test_stock_found_in_an_unknown_lot_opens_it_with_its_expiry_and_funding() -> None:
    ledger = naloxone_ledger()

    adjust(ledger, "FOUND-1", 2, reason="found", expires_on=date(2027, 1, 31), funding_source="STATE")

    lot = ledger.lots["FOUND-1"]
    assert (lot.quantity, lot.expires_on, lot.funding_source) == (2, date(2027, 1, 31), "STATE")


def test_stock_found_in_an_unknown_lot_needs_its_expiry_when_the_item_tracks_expiry() -> None:
    ledger = naloxone_ledger()

    with pytest.raises(InvalidInput) as refused:
        adjust(ledger, "FOUND-1", 2, reason="found")

    assert refused.value.field == "expires_on"


@pytest.mark.parametrize("quantity", [0, 1.5, True])
def test_an_adjustment_must_be_a_whole_number_other_than_zero(quantity: Any) -> None:
    ledger = naloxone_ledger()
    receive(ledger, "A", 3)

    with pytest.raises(InvalidInput) as refused:
        adjust(ledger, "A", quantity)

    assert refused.value.field == "quantity"


@given(
    st.lists(
        st.tuples(st.sampled_from(["receive", "issue", "issue-a", "adjust-a", "count-a"]), st.integers(-20, 20)),
        max_size=40,
    )
)
@settings(max_examples=150, deadline=None)
def test_no_sequence_of_commands_drives_a_lot_below_zero(steps: list[tuple[str, int]]) -> None:
    ledger = naloxone_ledger()
    receive(ledger, "A", 5, date(2026, 6, 30))
    receive(ledger, "B", 5, date(2027, 6, 30))
    for verb, number in steps:
        try:
            if verb == "receive":
                receive(ledger, "B", number, date(2027, 6, 30))
            elif verb == "issue":
                issue(ledger, number)
            elif verb == "issue-a":
                issue(ledger, number, lot="A")
            elif verb == "adjust-a":
                adjust(ledger, "A", number)
            else:
                ledger.count(lot="A", counted=number, actor=COORDINATOR, occurred_at=MOMENT)
        except (InvalidInput, InsufficientStock):
            pass
        assert all(quantity >= 0 for quantity in quantities(ledger).values())
    assert quantities(replayed(ledger)) == quantities(ledger)


# ----- a lot keeps one expiry and one funding source ---------------------------------------


def test_receiving_more_of_a_lot_adds_to_it() -> None:
    ledger = naloxone_ledger()
    receive(ledger, "A", 3)
    receive(ledger, "A", 4)

    assert quantities(ledger) == {"A": 7}


def test_a_lot_keeps_one_expiry_date() -> None:
    ledger = naloxone_ledger()
    receive(ledger, "A", 3, date(2027, 6, 30))

    with pytest.raises(InvalidInput) as refused:
        receive(ledger, "A", 3, date(2027, 7, 31))

    assert refused.value.field == "expires_on"
    assert "recorded with expiry Wed 30 Jun 2027, not Sat 31 Jul 2027" in refused.value.message
    assert quantities(ledger) == {"A": 3}


def test_a_lot_keeps_one_funding_source() -> None:
    ledger = naloxone_ledger()
    receive(ledger, "A", 3, funding_source="STATE")

    with pytest.raises(InvalidInput) as refused:
        receive(ledger, "A", 3, funding_source="SOR")

    assert refused.value.field == "funding_source"
    assert "booked to funding source STATE" in refused.value.message
    assert "distinct lot code" in refused.value.message
    assert ledger.lots["A"].funding_source == "STATE"


def test_a_lot_arriving_by_transfer_keeps_its_expiry_and_funding() -> None:
    ledger = naloxone_ledger()
    receive(ledger, "A", 3, date(2027, 6, 30), "STATE")

    with pytest.raises(InvalidInput):
        ledger.arrive(
            transfer_id=uuid4(),
            from_site="WH",
            lots=[{"lot": "A", "quantity": 2, "expires_on": date(2027, 6, 30), "funding_source": "SOR"}],
            actor=COORDINATOR,
            occurred_at=MOMENT,
        )

    assert quantities(ledger) == {"A": 3}


def test_a_lot_without_expiry_is_refused_when_the_item_tracks_expiry() -> None:
    ledger = naloxone_ledger()

    with pytest.raises(InvalidInput) as refused:
        receive(ledger, "A", 3, None)

    assert refused.value.field == "expires_on"
    assert refused.value.message == "NALOX-4MG tracks expiry: enter the expiry date printed on lot A."


def test_a_lot_without_expiry_is_accepted_when_the_item_does_not_track_expiry() -> None:
    ledger = syringe_ledger()
    receive(ledger, "A", 100, None)

    assert ledger.lots["A"].expires_on is None


# ----- counts ------------------------------------------------------------------------------


@pytest.mark.parametrize(("counted", "variance"), [(7, -3), (12, 2), (10, 0), (0, -10)])
def test_a_count_records_the_variance_and_sets_the_lot_to_what_was_counted(counted: int, variance: int) -> None:
    ledger = naloxone_ledger()
    receive(ledger, "A", 10)
    ledger.collect_events()

    assert ledger.count(lot="A", counted=counted, actor=COORDINATOR, occurred_at=MOMENT) == variance

    (event,) = ledger.collect_events()
    assert isinstance(event, StockLedger.Counted)
    assert (event.lot, event.counted, event.variance) == ("A", counted, variance)
    assert (event.actor, event.occurred_at) == (COORDINATOR, MOMENT)
    assert quantities(ledger) == {"A": counted}


@pytest.mark.parametrize("counted", [-1, 2.5, True])
def test_a_count_must_be_a_whole_number_zero_or_more(counted: Any) -> None:
    ledger = naloxone_ledger()
    receive(ledger, "A", 10)

    with pytest.raises(InvalidInput) as refused:
        ledger.count(lot="A", counted=counted, actor=COORDINATOR, occurred_at=MOMENT)

    assert refused.value.field == "counted"
    assert quantities(ledger) == {"A": 10}


def test_counting_a_lot_that_does_not_exist_is_refused() -> None:
    ledger = naloxone_ledger()

    with pytest.raises(UnknownLot):
        ledger.count(lot="GHOST", counted=1, actor=COORDINATOR, occurred_at=MOMENT)


# ----- history ----------------------------------------------------------------------------


def test_every_movement_records_who_and_when() -> None:
    ledger = naloxone_ledger()
    ledger.collect_events()
    receive(ledger, "A", 10)
    issue(ledger, 2)
    adjust(ledger, "A", -1, reason="damaged")
    ledger.count(lot="A", counted=7, actor=COORDINATOR, occurred_at=MOMENT)

    events = ledger.collect_events()

    movements = [event for event in events if isinstance(event, StockLedger.Movement)]
    assert [type(event).__name__ for event in movements] == ["Received", "Distributed", "Adjusted", "Counted"]
    assert len(movements) == len(events)
    assert {(event.actor, event.occurred_at) for event in movements} == {(COORDINATOR, MOMENT)}


def test_a_ledger_rebuilt_from_its_events_has_the_same_lots() -> None:
    ledger = naloxone_ledger()
    receive(ledger, "A", 10, date(2026, 6, 30))
    receive(ledger, "B", 10, date(2027, 6, 30))
    issue(ledger, 12)
    adjust(ledger, "B", -1, reason="damaged")
    ledger.count(lot="B", counted=6, actor=COORDINATOR, occurred_at=MOMENT)

    assert quantities(replayed(ledger)) == quantities(ledger) == {"A": 0, "B": 6}
