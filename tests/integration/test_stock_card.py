"""The stock card: movements by business date with a running balance, as an accountant writes it by hand.

The program runs on New York time. Every movement is dated in the past at a local hour, so each one's
business date is known in advance whatever the hour the tests run at; backdated entries are
recorded last, with an `occurred_at` days before the moment they are recorded.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from inventory.application import InventoryApplication
from inventory.domain.errors import InsufficientStock
from inventory.domain.time_words import day_in_words
from inventory.projections import all_projections, queries
from inventory.projections.runner import Projector
from inventory.projections.store import ReadStore, read_store_for
from tests.conftest import ADMIN, hand_out_as_release_0_2_did, seed_catalog

ZONE = ZoneInfo("America/New_York")
OUTREACH = "outreach@example.org"
DRIVER = "driver@example.org"


@dataclass
class Program:
    app: InventoryApplication
    store: ReadStore
    projector: Projector
    today: date

    def day(self, days_ago: int) -> date:
        """The business date `days_ago` days before today, in New York."""
        return self.today - timedelta(days=days_ago)

    def at(self, days_ago: int, hour: int, minute: int = 0) -> datetime:
        """A local wall-clock moment `days_ago` days ago, in New York."""
        return datetime.combine(self.day(days_ago), time(hour, minute), tzinfo=ZONE)

    def card(self, sku: str, site: str, start: int, end: int = 0) -> queries.StockCard:
        self.projector.catch_up()
        return queries.stock_card(self.store, site, sku, self.day(start), self.day(end))


@pytest.fixture
def program(database_url: str) -> Iterator[Program]:
    """A program in New York with a warehouse and a van, on SQLite and on PostgreSQL."""
    app = InventoryApplication(database_url, timezone_name="America/New_York")
    store = read_store_for(database_url)
    try:
        seed_catalog(app)
        projector = Projector(app, store, all_projections(app.zone, b"stock-card-tests"))
        yield Program(app, store, projector, datetime.now(ZONE).date())
    finally:
        store.close()
        app.close()


def table(card: queries.StockCard) -> list[tuple[str, str, str, int, int]]:
    """The card as the hand-written table: date, kind, lot, quantity, running balance."""
    return [(row["business_date"], row["kind"], row["lot"], row["quantity"], row["balance"]) for row in card.rows]


def hand_out(program: Program, key: str, site: str, sku: str, lot: str, quantity: int, when: datetime) -> None:
    program.app.record_encounter(
        key=key, site=site, lines=[{"sku": sku, "quantity": quantity, "lot": lot}], actor=OUTREACH, occurred_at=when
    )


def test_a_backdated_receipt_and_a_backdated_issue_land_on_their_own_dates_in_the_running_balance(
    program: Program,
) -> None:
    app, at, expiry = program.app, program.at, program.today + timedelta(days=700)
    # Naloxone at the warehouse, entered as it happened...
    app.receive_stock(
        site="WH",
        sku="NALOX-4MG",
        lot="N-A",
        quantity=100,
        expires_on=expiry,
        funding_source="SOR",
        reference="INV-100",
        actor=ADMIN,
        occurred_at=at(10, 9),
    )
    hand_out(program, "card-visit-0001", "WH", "NALOX-4MG", "N-A", 30, at(8, 15))
    app.receive_stock(
        site="WH",
        sku="NALOX-4MG",
        lot="N-B",
        quantity=50,
        expires_on=expiry,
        funding_source="STATE",
        reference="INV-101",
        actor=ADMIN,
        occurred_at=at(6, 10),
    )
    # A late-evening visit: 23:30 in New York is already the next day in UTC.
    hand_out(program, "card-visit-0002", "WH", "NALOX-4MG", "N-A", 20, at(5, 23, 30))
    app.dispatch_transfer(
        from_site="WH",
        to_site="VAN-1",
        lines=[{"sku": "NALOX-4MG", "quantity": 10, "lot": "N-B"}],
        actor=DRIVER,
        occurred_at=at(4, 11),
    )
    app.adjust_stock(
        site="WH",
        sku="NALOX-4MG",
        lot="N-A",
        quantity=-2,
        reason="damaged",
        note="crushed in the van",
        actor=ADMIN,
        occurred_at=at(1, 16),
    )
    # ...then, today, a delivery from three days ago and a visit from two days ago are entered late.
    app.receive_stock(
        site="WH",
        sku="NALOX-4MG",
        lot="N-C",
        quantity=40,
        expires_on=expiry,
        funding_source="SOR",
        reference="INV-102",
        actor=ADMIN,
        occurred_at=at(3, 9),
    )
    hand_out(program, "card-visit-0003", "WH", "NALOX-4MG", "N-C", 15, at(2, 13))

    card = program.card("NALOX-4MG", "WH", start=7)

    d = program.day
    # The stock card from 7 days ago to today, as written by hand:
    #
    #   date   movement       lot   quantity   balance
    #   (before the card: +100 received 10 days ago, -30 handed out 8 days ago)
    #                                   opening     70
    #   d-6    received       N-B       +50        120
    #   d-5    distributed    N-A       -20        100    (23:30 local; 03:30/04:30 UTC on d-4)
    #   d-4    transfer out   N-B       -10         90
    #   d-3    received       N-C       +40        130    (entered today)
    #   d-2    distributed    N-C       -15        115    (entered today)
    #   d-1    adjusted       N-A        -2        113
    #                                   closing    113
    assert card.opening == 70
    assert table(card) == [
        (d(6).isoformat(), "received", "N-B", +50, 120),
        (d(5).isoformat(), "distributed", "N-A", -20, 100),
        (d(4).isoformat(), "transfer_out", "N-B", -10, 90),
        (d(3).isoformat(), "received", "N-C", +40, 130),
        (d(2).isoformat(), "distributed", "N-C", -15, 115),
        (d(1).isoformat(), "adjusted", "N-A", -2, 113),
    ]
    assert card.closing == 113
    assert card.warnings == []
    assert not any(row["warning"] for row in card.rows)

    # The closing balance is what the ledger holds now.
    assert app.stock("WH", "NALOX-4MG")["on_hand"] == 113

    late_evening = card.rows[1]
    assert datetime.fromisoformat(late_evening["occurred_at"]).astimezone(UTC).date() == d(4)
    by_kind = {row["kind"]: row for row in card.rows}
    assert by_kind["transfer_out"]["other_site"] == "VAN-1"
    assert by_kind["adjusted"]["reason"] == "damaged"
    assert [row["reference"] for row in card.rows if row["kind"] == "received"] == ["INV-101", "INV-102"]
    # The backdated rows were recorded after every other row, yet sit on their own dates.
    backdated = [row for row in card.rows if row["lot"] == "N-C"]
    assert min(row["position"] for row in backdated) > max(row["position"] for row in card.rows if row["lot"] != "N-C")
    assert all(row["recorded_at"] > row["occurred_at"] for row in backdated)


def test_a_window_of_past_days_opens_and_closes_on_the_balances_of_those_days(program: Program) -> None:
    app, at, expiry = program.app, program.at, program.today + timedelta(days=700)
    app.receive_stock(
        site="WH",
        sku="NALOX-4MG",
        lot="N-A",
        quantity=100,
        expires_on=expiry,
        funding_source="SOR",
        actor=ADMIN,
        occurred_at=at(9, 9),
    )
    hand_out(program, "card-visit-0101", "WH", "NALOX-4MG", "N-A", 12, at(6, 10))
    hand_out(program, "card-visit-0102", "WH", "NALOX-4MG", "N-A", 8, at(4, 10))
    hand_out(program, "card-visit-0103", "WH", "NALOX-4MG", "N-A", 5, at(2, 10))
    hand_out(program, "card-visit-0104", "WH", "NALOX-4MG", "N-A", 3, at(5, 18))  # entered late

    card = program.card("NALOX-4MG", "WH", start=6, end=4)

    d = program.day
    #   opening 100 (received 9 days ago)
    #   d-6  distributed  -12   88
    #   d-5  distributed   -3   85   (entered after d-2's visit)
    #   d-4  distributed   -8   77
    #   closing 77; the visit 2 days ago is after the window.
    assert card.opening == 100
    assert table(card) == [
        (d(6).isoformat(), "distributed", "N-A", -12, 88),
        (d(5).isoformat(), "distributed", "N-A", -3, 85),
        (d(4).isoformat(), "distributed", "N-A", -8, 77),
    ]
    assert card.closing == 77


def test_an_issue_dated_before_the_receipt_it_drew_from_is_a_data_quality_warning_not_a_failure(
    program: Program,
) -> None:
    app, at = program.app, program.at
    # Syringes delivered to the van 3 days ago, entered on time...
    app.receive_stock(
        site="VAN-1",
        sku="SYR-1ML",
        lot="S-1",
        quantity=200,
        expires_on=None,
        funding_source="STATE",
        actor=ADMIN,
        occurred_at=at(3, 9),
    )
    hand_out(program, "card-visit-0201", "VAN-1", "SYR-1ML", "S-1", 20, at(2, 14))
    # ...then a visit is entered with the wrong date: 6 days ago, before the delivery it drew from.
    # Since release 0.3.0 the ledger refuses it (the lot held nothing then)...
    with pytest.raises(InsufficientStock, match=r"left at VAN-1 in lot S-1 on .*, the time of this entry"):
        hand_out(program, "card-visit-0202", "VAN-1", "SYR-1ML", "S-1", 50, at(6, 14))
    # ...but a log written by an earlier release may hold one, and the card must still read it.
    hand_out_as_release_0_2_did(app, "VAN-1", "SYR-1ML", "S-1", 50, at(6, 14), OUTREACH)
    assert app.stock("VAN-1", "SYR-1ML")["on_hand"] == 130

    card = program.card("SYR-1ML", "VAN-1", start=7)

    d = program.day
    #   opening 0
    #   d-6  distributed  S-1   -50   -50   <- below zero: warning for d-6
    #   d-3  received     S-1  +200   150
    #   d-2  distributed  S-1   -20   130
    #   closing 130
    assert card.opening == 0
    assert table(card) == [
        (d(6).isoformat(), "distributed", "S-1", -50, -50),
        (d(3).isoformat(), "received", "S-1", +200, 150),
        (d(2).isoformat(), "distributed", "S-1", -20, 130),
    ]
    assert card.closing == 130
    assert [row["warning"] for row in card.rows] == [True, False, False]
    assert card.warnings == [
        f"The running balance of SYR-1ML at VAN-1 goes below zero on {day_in_words(d(6))}: check for a movement "
        "entered with the wrong date, or a receipt not yet entered."
    ]

    # A card that starts after the bad date opens on the balance it left behind.
    later = program.card("SYR-1ML", "VAN-1", start=3)
    assert (later.opening, later.closing) == (-50, 130)
