"""Shift tallies: a night's totals recorded afterwards lower the stock as visits do, on the shift's
date; the daily totals count the tally's visits with the encounters and keep apart what came from
tallies; the stock card shows the movement as handed out on a shift tally.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest

from exports.reports import Source, grant_report
from inventory.application import InventoryApplication
from inventory.domain.errors import IdempotencyConflict, InsufficientStock, InvalidInput
from inventory.projections import all_projections, queries
from inventory.projections.runner import Projector
from inventory.projections.store import read_store_for
from tests.conftest import ADMIN, read_model_rows, seed_catalog
from tests.exports.workbooks import sheets, table

VAN = "van@example.org"
# These tests run at noon of a fixed day (tests/clock.py): "today" never turns into tomorrow mid-test.
NOON = datetime(2026, 11, 18, 12, 0, tzinfo=UTC)
TODAY = NOON.date()
pytestmark = pytest.mark.clock(NOON)
SHIFT = TODAY - timedelta(days=3)


@pytest.fixture
def stocked(app: InventoryApplication) -> InventoryApplication:
    seed_catalog(app)
    for lot, quantity, expires in (("N-EARLY", 30, date(2030, 1, 31)), ("N-LATE", 50, date(2031, 1, 31))):
        app.receive_stock(
            site="VAN-1",
            sku="NALOX-4MG",
            lot=lot,
            quantity=quantity,
            expires_on=expires,
            funding_source="STATE",
            actor=ADMIN,
            occurred_at=datetime.combine(SHIFT - timedelta(days=7), datetime.min.time(), UTC),
        )
    app.receive_stock(
        site="VAN-1",
        sku="SYR-1ML",
        lot="S-1",
        quantity=1_000,
        expires_on=None,
        funding_source="STATE",
        actor=ADMIN,
        occurred_at=datetime.combine(SHIFT - timedelta(days=7), datetime.min.time(), UTC),
    )
    return app


def night_shift(app: InventoryApplication, key: str = "tally-night-0001", **changes: object) -> dict[str, object]:
    tally = {
        "key": key,
        "site": "VAN-1",
        "shift_date": SHIFT.isoformat(),
        "starts_at": "21:00",
        "ends_at": "02:30",  # the next morning
        "lines": [{"sku": "NALOX-4MG", "quantity": 35}, {"sku": "SYR-1ML", "quantity": 400}],
        "visits": 42,
        "reversals_reported": 2,
        "syringes_collected": 310,
        "actor": VAN,
    }
    tally.update(changes)
    return app.record_shift_tally(**tally)  # type: ignore[arg-type]


def test_a_tally_lowers_stock_on_the_shift_date_and_counts_its_visits_apart(
    stocked: InventoryApplication, database_url: str
) -> None:
    app = stocked
    encounter = app.record_encounter(
        key="visit-same-day-01",
        site="VAN-1",
        lines=[{"sku": "NALOX-4MG", "quantity": 1}],
        actor=VAN,
        occurred_at=datetime.combine(SHIFT, datetime.min.time(), UTC) + timedelta(hours=19),
    )
    tally = night_shift(app)

    # Lots first-expiry-first-out, as for a visit: 29 left in N-EARLY after the visit's 1, then 6 of N-LATE.
    naloxone = tally["lines"][0]  # type: ignore[index]
    assert [(p["lot"], p["quantity"]) for p in naloxone["lots"]] == [("N-EARLY", 29), ("N-LATE", 6)]
    assert tally["visits"] == 42 and tally["shift_date"] == SHIFT and encounter["site"] == "VAN-1"

    store = read_store_for(database_url)
    projector = Projector(app, store, all_projections(app.zone, b"tally-seal"))
    try:
        projector.catch_up()
        on_hand = {(r["sku"], r["lot"]): r["quantity"] for r in queries.stock_on_hand(store, "VAN-1")}
        assert on_hand == {("NALOX-4MG", "N-LATE"): 44, ("SYR-1ML", "S-1"): 600}

        card = queries.stock_card(store, "VAN-1", "NALOX-4MG", SHIFT, SHIFT)
        assert card.opening == 80 and card.closing == 44
        shift_rows = [r for r in card.rows if r["reason"] == "shift tally"]
        assert [(r["business_date"], r["kind"], r["lot"], r["quantity"]) for r in shift_rows] == [
            (SHIFT.isoformat(), "distributed", "N-EARLY", -29),
            (SHIFT.isoformat(), "distributed", "N-LATE", -6),
        ]
        assert {r["reference"] for r in shift_rows} == {tally["id"]}

        [day] = queries.daily_encounters(store, SHIFT, SHIFT, "VAN-1")
        assert (day["encounters"], day["tally_visits"]) == (43, 42)
        assert (day["reversals_reported"], day["syringes_collected"], day["syringes_distributed"]) == (2, 310, 400)
        totals = {r["sku"]: (r["quantity"], r["from_tallies"]) for r in queries.daily_totals(store, SHIFT, SHIFT)}
        assert totals == {"NALOX-4MG": (36, 35), "SYR-1ML": (400, 400)}
        # Nothing lands on the next day, although the shift ended then.
        assert queries.daily_encounters(store, SHIFT + timedelta(days=1), TODAY, "VAN-1") == []

        # The read models equal a rebuild from the log.
        caught_up = read_model_rows(projector)
        projector.rebuild()
        assert read_model_rows(projector) == caught_up
    finally:
        store.close()


def test_the_same_tally_sent_twice_is_recorded_once_and_a_reused_key_is_refused(stocked: InventoryApplication) -> None:
    first = night_shift(stocked)
    head = stocked.recorder.max_notification_id()
    assert night_shift(stocked) == first
    assert stocked.recorder.max_notification_id() == head
    with pytest.raises(IdempotencyConflict, match="already used for a different tally"):
        night_shift(stocked, visits=41)
    assert stocked.shift_tally("tally-night-0001", VAN) == first


@pytest.mark.parametrize(
    ("changes", "field", "says"),
    [
        ({"lines": [{"sku": "NALOX-4MG", "quantity": 81}]}, "quantity", "Only 80"),
        ({"visits": 0}, "visits", "Enter how many visits"),
        ({"starts_at": "21:00", "ends_at": "21:00"}, "ends_at", "must end after it starts"),
        ({"shift_date": TODAY.isoformat(), "starts_at": "00:00", "ends_at": "23:59"}, "ends_at", "has not ended yet"),
        ({"starts_at": "9pm"}, "starts_at", "not a time like 18:30"),
        ({"shift_date": "03/01/2026"}, "shift_date", "not a date like 2026-03-01"),
        ({"visits": -1}, "visits", "from 0 to 100,000"),
    ],
)
def test_a_tally_that_cannot_be_right_is_refused_saying_what_to_fix_and_changes_nothing(
    stocked: InventoryApplication, changes: dict[str, object], field: str, says: str
) -> None:
    head = stocked.recorder.max_notification_id()
    with pytest.raises((InvalidInput, InsufficientStock)) as refused:
        night_shift(stocked, **changes)
    assert refused.value.field == field and says in refused.value.message
    assert stocked.recorder.max_notification_id() == head


def test_the_grant_report_counts_a_tallys_visits_and_hand_outs_and_says_how_many_came_from_tallies(
    stocked: InventoryApplication, database_url: str, tmp_path: Path
) -> None:
    app = stocked
    app.record_encounter(
        key="visit-same-day-01",
        site="VAN-1",
        lines=[{"sku": "NALOX-4MG", "quantity": 1}],
        actor=VAN,
        occurred_at=datetime.combine(SHIFT, datetime.min.time(), UTC) + timedelta(hours=19),
    )
    night_shift(app)
    store = read_store_for(database_url)
    try:
        Projector(app, store, all_projections(app.zone, b"tally-seal")).catch_up()
        path = tmp_path / "grant.xlsx"
        grant_report(Source(app, store, app.zone), str(path), funding_source=None, start=SHIFT, end=SHIFT, who="t")
    finally:
        store.close()

    summary = sheets(path)["Summary"]
    items = {row["SKU"]: row for row in table(summary, "Category").records()}
    assert (items["NALOX-4MG"]["Distributed"], items["SYR-1ML"]["Distributed"]) == (36, 400)
    [van] = [row for row in table(summary, "Site").records() if row["Site"] == "VAN-1"]
    assert (van["Encounters"], van["of which counted on shift tallies"]) == (43, 42)
    assert (van["Overdose reversals reported"], van["Syringes collected"]) == (2, 310)
    ledger = table(sheets(path)["Ledger"], "Log position").records()
    assert sum(1 for row in ledger if row.get("Reason") == "shift tally") == 3  # two naloxone lots, one syringe lot
