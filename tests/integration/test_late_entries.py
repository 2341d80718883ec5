"""Counts are observations: an entry recorded late, dated before a count, lands on its own time.

The van's week as it happens: a visit recorded offline reaches the server after the naloxone lot was
counted; a night shift is tallied after the end-of-night count. Each is accepted as what it is
(handed out, on its own time), the count's variance is restated, and the stock after the count
stays what the count saw. What the stock at its own time could not cover is refused in words.
Every test runs on SQLite and PostgreSQL, now and at the clock's edges (tests.clock.EDGES).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from inventory.application import InventoryApplication
from inventory.application.core import replay_events
from inventory.domain import ledger_id, lot_history
from inventory.domain.errors import InsufficientStock
from inventory.projections import all_projections, queries
from inventory.projections.runner import Projector
from inventory.projections.store import ReadStore, read_store_for
from tests.clock import EDGES, Clock, Edge
from tests.conftest import ADMIN, seed_catalog

VAN = "VAN-1"
NALOX = "NALOX-4MG"
LOT = "NAL-2611-3"
COORDINATOR = "van@example.org"


@dataclass
class Program:
    app: InventoryApplication
    store: ReadStore
    projector: Projector
    zone: ZoneInfo

    def day(self, moment: datetime) -> date:
        return moment.astimezone(self.zone).date()

    def rows(self, moment: datetime, kind: str | None = None) -> list[tuple[str, int, str | None]]:
        """The stock card's movements of the naloxone lot on `moment`'s business date: kind, change, reason."""
        self.projector.catch_up()
        day = self.day(moment)
        card = queries.stock_card(self.store, VAN, NALOX, day - timedelta(days=1), day)
        return [(r["kind"], r["quantity"], r["reason"]) for r in card.rows if kind is None or r["kind"] == kind]

    def on_hand(self) -> int:
        self.projector.catch_up()
        return sum(row["quantity"] for row in queries.stock_on_hand(self.store, VAN) if row["sku"] == NALOX)

    def as_of(self, day: date) -> int:
        self.projector.catch_up()
        return sum(row["quantity"] for row in queries.stock_as_of(self.store, day, VAN, NALOX))


@pytest.fixture
def program(edge: Edge | None, database_url: str) -> Iterator[Program]:
    zone = edge.zone if edge else "America/New_York"
    app = InventoryApplication(database_url, timezone_name=zone)
    store = read_store_for(database_url)
    try:
        seed_catalog(app)
        yield Program(app, store, Projector(app, store, all_projections(app.zone, b"late-entries")), app.zone)
    finally:
        store.close()
        app.close()


def visit(program: Program, key: str, quantity: int, at: datetime) -> None:
    program.app.record_encounter(
        key=key, site=VAN, lines=[{"sku": NALOX, "quantity": quantity}], actor=COORDINATOR, occurred_at=at
    )


def stocked(program: Program, now: datetime, quantity: int = 10) -> None:
    program.app.receive_stock(site=VAN, sku=NALOX, lot=LOT, quantity=quantity, expires_on=date(2030, 1, 31),
                              funding_source="STATE", actor=ADMIN, occurred_at=now - timedelta(hours=3))  # fmt: skip


@pytest.mark.parametrize("edge", [None, *EDGES], indirect=True, ids=lambda e: str(e or "now"))
def test_a_visit_recorded_after_the_count_that_saw_it_is_handed_out_on_its_time_and_restates_the_count(
    edge: Edge | None, program: Program
) -> None:
    now = datetime.now(UTC)
    stocked(program, now)
    visit(program, "visit-on-time-0001", 1, now - timedelta(hours=2))
    # Two kits go out at 30 minutes ago; the phone is offline, so the visit waits on it.
    offline_at = now - timedelta(minutes=30)
    # Ten minutes later the coordinator counts the lot: 7 on the shelf (9 expected).
    counted = program.app.count_stock(site=VAN, sku=NALOX, lot=LOT, counted=7, actor=COORDINATOR,
                                      occurred_at=now - timedelta(minutes=20))  # fmt: skip
    assert counted["variance"] == -2
    # Back online: the visit is sent, dated when it happened.
    visit(program, "visit-offline-0002", 2, offline_at)

    assert program.app.stock(VAN, NALOX)["on_hand"] == 7  # what the count saw
    assert program.on_hand() == 7
    # Handed out on its own time, as a visit; the count's variance restated from -2 to 0.
    assert ("distributed", -2, None) in program.rows(offline_at)
    assert [(kind, change) for kind, change, _ in program.rows(now, "counted")] == [("counted", -2), ("counted", 2)]
    restated = program.store.fetchall(
        "SELECT reference FROM stock_movements WHERE reason = 'count_restated' AND lot = ?", (LOT,)
    )
    assert [row[0] for row in restated] == ["-2 to +0"]
    # Distribution counts the visit on its business date; nothing is left as variance.
    first, last = program.day(now - timedelta(hours=2)), program.day(now)
    handed_out = queries.daily_totals(program.store, first, last, VAN)
    assert sum(row["quantity"] for row in handed_out if row["sku"] == NALOX) == 3
    on_its_day = queries.daily_totals(program.store, program.day(offline_at), program.day(offline_at), VAN)
    assert sum(row["quantity"] for row in on_its_day if row["sku"] == NALOX) >= 2
    variance = program.store.fetchall(
        "SELECT SUM(counted) FROM stock_daily WHERE site = ? AND sku = ? AND lot = ?", (VAN, NALOX, LOT)
    )
    assert variance[0][0] == 0
    assert program.as_of(program.day(now)) == 7
    # The audit log says what happened.
    [summary] = [
        row[0]
        for row in program.store.fetchall(
            "SELECT summary FROM audit_log WHERE event_type = 'StockLedger.CountRestated'"
        )
    ]
    assert "restated from variance -2 to +0" in summary


@pytest.mark.parametrize("edge", [None, *EDGES], indirect=True, ids=lambda e: str(e or "now"))
def test_a_late_entry_the_stock_then_could_not_cover_is_refused_in_words(edge: Edge | None, program: Program) -> None:
    now = datetime.now(UTC)
    stocked(program, now)
    visit(program, "visit-on-time-0001", 6, now - timedelta(minutes=10))
    before = program.app.stock(VAN, NALOX)

    # Dated an hour ago, before the six went out: the lot had 10 then, but 6 of those are gone since.
    with pytest.raises(InsufficientStock) as refused:
        visit(program, "visit-late-0002", 5, now - timedelta(hours=1))

    message = refused.value.message
    assert "Only 4 kits of NALOX-4MG left at VAN-1" in message and "5 requested" in message
    local = (now - timedelta(hours=1)).astimezone(program.zone)
    assert f"{local:%H:%M}" in message and not re.search(r"\d{4}-\d\d-\d\dT|[+-]\d\d:\d\d\b", message)
    assert program.app.stock(VAN, NALOX) == before


@pytest.mark.parametrize(
    "zone", ["America/New_York", "Pacific/Kiritimati", "Pacific/Pago_Pago", "UTC"], ids=lambda zone: zone
)
def test_a_night_shift_tallied_after_the_end_of_night_count_is_handed_out_during_the_shift(
    clock: Clock, database_url: str, zone: str
) -> None:
    here = ZoneInfo(zone)
    night = date(2026, 12, 1)
    # 02:30 the next morning, in the program's zone: the shift (21:00 to 02:00) and the count at 02:10 are over.
    clock.at(datetime.combine(night + timedelta(days=1), time(2, 30), here))
    app = InventoryApplication(database_url, timezone_name=zone)
    store = read_store_for(database_url)
    try:
        seed_catalog(app)
        projector = Projector(app, store, all_projections(app.zone, b"late-entries"))
        app.receive_stock(site=VAN, sku=NALOX, lot=LOT, quantity=40, expires_on=date(2030, 1, 31),
                          funding_source="STATE", actor=ADMIN,
                          occurred_at=datetime.combine(night, time(12), here))  # fmt: skip
        count_at = datetime.combine(night + timedelta(days=1), time(2, 10), here)
        counted = app.count_stock(site=VAN, sku=NALOX, lot=LOT, counted=28, actor=COORDINATOR, occurred_at=count_at)
        assert counted["variance"] == -12

        tally = app.record_shift_tally(key="night-0001", site=VAN, shift_date=night, starts_at="21:00",
                                       ends_at="02:00", lines=[{"sku": NALOX, "quantity": 12}], visits=9,
                                       actor=COORDINATOR)  # fmt: skip

        assert tally["visits"] == 9
        assert app.stock(VAN, NALOX)["on_hand"] == 28
        projector.catch_up()
        rows = store.fetchall(
            "SELECT kind, quantity, reason, business_date FROM stock_movements WHERE lot = ? ORDER BY position, seq",
            (LOT,),
        )
        assert [(kind, quantity, reason) for kind, quantity, reason, _ in rows] == [
            ("received", 40, None),
            ("counted", -12, "count_variance"),
            ("distributed", -12, "shift tally"),
            ("counted", 12, "count_restated"),
        ]
        # The tally lands on the shift's own business date (it started the evening before); the
        # restatement on the count's.
        assert rows[2][3] == night.isoformat() or rows[2][3] == (night + timedelta(days=1)).isoformat()
        assert rows[3][3] == (night + timedelta(days=1)).isoformat()
    finally:
        store.close()
        app.close()


@pytest.mark.parametrize("edge", [None], indirect=True, ids=["now"])
def test_a_busy_lot_keeps_a_short_history_and_an_entry_weeks_late_still_lands_on_its_time(
    edge: Edge | None, program: Program, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A lot keeps only its latest entries in memory and in snapshots (twice HISTORY_KEEP at most); a
    visit dated before those is still checked against the whole history (the ledger is replayed)."""
    monkeypatch.setattr(lot_history, "HISTORY_KEEP", 10)
    now = datetime.now(UTC)
    start = now - timedelta(days=60)
    program.app.receive_stock(site=VAN, sku=NALOX, lot=LOT, quantity=500, expires_on=date(2030, 1, 31),
                              funding_source="STATE", actor=ADMIN, occurred_at=start)  # fmt: skip
    for day in range(1, 60):
        visit(program, f"busy-{day:04d}", 2, start + timedelta(days=day))
    count = program.app.count_stock(site=VAN, sku=NALOX, lot=LOT, counted=380, actor=COORDINATOR,
                                    occurred_at=now - timedelta(days=50))  # fmt: skip
    assert count["variance"] == 380 - (500 - 2 * 10)  # the visit at the count's very time came first
    ledger = program.app.ledger_aggregate(VAN, NALOX)
    assert ledger is not None
    kept = ledger.lots[LOT]
    assert kept.history_from is not None and len(kept.entries) < 60
    before = program.app.stock(VAN, NALOX)["on_hand"]

    # 55 days back, before what the lot keeps, and before the count: it lands and restates the count.
    visit(program, "weeks-late-0001", 3, now - timedelta(days=55))

    assert program.app.stock(VAN, NALOX)["on_hand"] == before
    program.projector.catch_up()
    rows = program.store.fetchall(
        "SELECT reference FROM stock_movements WHERE reason = 'count_restated' AND lot = ?", (LOT,)
    )
    assert [row[0] for row in rows] == ["-100 to -97"]
    # Rebuilt from its events alone (no snapshot), the ledger has the same stock and the whole history.
    rebuilt = replay_events(None, program.app.events.get(ledger_id(VAN, NALOX)))
    assert rebuilt.lots[LOT].quantity == program.app.stock(VAN, NALOX)["on_hand"]
    assert rebuilt.lots[LOT].history_from is None and len(rebuilt.lots[LOT].entries) == 1 + 59 + 1 + 1
