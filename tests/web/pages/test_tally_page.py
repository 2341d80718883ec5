"""The shift tally page: a coordinator enters a night's totals; stock falls and the visits count."""

from __future__ import annotations

import html
import re
from datetime import UTC, datetime, timedelta

import pytest
from flask import Flask

from inventory.application import InventoryApplication
from inventory.domain.errors import InvalidInput
from inventory.projections import queries
from tests.clock import Clock
from tests.web.conftest import ADMIN, day
from tests.web.pages.conftest import Person


@pytest.fixture
def van(flask_app: Flask, inventory: InventoryApplication, people: dict[str, Person]) -> dict[str, Person]:
    """40 naloxone kits and 200 syringes in the van; everyone signed in."""
    for sku, lot, quantity, expiry in (("NALOX-4MG", "V-1", 40, "2030-01-31"), ("SYR-1ML", "VS-1", 200, None)):
        inventory.receive_stock(
            site="VAN-1", sku=sku, lot=lot, quantity=quantity, expires_on=expiry, funding_source="STATE", actor=ADMIN,
            occurred_at=datetime.now(UTC) - timedelta(days=5),
        )  # fmt: skip
    flask_app.extensions["inventory"].projector.catch_up()
    return people


def tally(key: str, **changes: str) -> dict[str, str]:
    # The form lists the items on hand by SKU: NALOX-4MG, then SYR-1ML.
    return {
        "key": key,
        "shift_date": day(2).isoformat(),
        "starts_at": "21:00",
        "ends_at": "02:00",
        "visits": "23",
        "reversals_reported": "1",
        "syringes_collected": "120",
        "lines-0-sku": "NALOX-4MG",
        "lines-0-quantity": "12",
        "lines-1-sku": "SYR-1ML",
        "lines-1-quantity": "150",
        **changes,
    }


def error_under(page: str, name: str) -> str:
    found = re.search(rf'<small id="{name}-error" class="field-error">(.*?)</small>', page, re.S)
    return html.unescape(found.group(1)) if found else ""


def test_a_coordinator_records_a_night_and_the_stock_and_visits_follow(
    flask_app: Flask, van: dict[str, Person]
) -> None:
    coordinator = van["coordinator"]
    form = coordinator.get("/sites/VAN-1/tally").get_data(as_text=True)
    assert "Naloxone 4 mg (kits)" in form and 'name="visits"' in form and 'type="time"' in form

    response = coordinator.post("/sites/VAN-1/tally", tally("night-of-the-21st"))
    assert response.status_code == 302 and response.headers["Location"] == "/sites/VAN-1/tally"
    page = coordinator.get("/sites/VAN-1/tally").get_data(as_text=True)
    assert "Shift tally recorded at VAN-1" in html.unescape(page) and "23 visits" in page

    store = flask_app.extensions["inventory"].store
    on_hand = {row["sku"]: row["quantity"] for row in queries.stock_on_hand(store, "VAN-1")}
    assert on_hand == {"NALOX-4MG": 28, "SYR-1ML": 50}
    [shift] = queries.daily_encounters(store, day(2), day(2), "VAN-1")
    assert (shift["encounters"], shift["tally_visits"], shift["syringes_collected"]) == (23, 23, 120)

    # The dashboard's weekly figures include the night, and say what came from shift tallies.
    dashboard = html.unescape(coordinator.get("/").get_data(as_text=True))
    assert "recorded as shift totals (shift tallies), not visit by visit" in dashboard
    assert "12 Naloxone 4 mg, 150 Syringe 1 mL" in " ".join(dashboard.split())

    # The same form sent again (a double tap) records nothing more.
    coordinator.post("/sites/VAN-1/tally", tally("night-of-the-21st"))
    assert {row["sku"]: row["quantity"] for row in queries.stock_on_hand(store, "VAN-1")} == on_hand


@pytest.mark.parametrize(
    ("changes", "field", "says"),
    [
        ({"visits": "0"}, "visits", "Enter how many visits"),
        ({"ends_at": "9pm"}, "ends_at", "Enter a time like 21:30."),
        ({"shift_date": (day(0) + timedelta(days=2)).isoformat()}, "shift_date", "in the future"),
    ],
)
def test_a_tally_that_cannot_be_right_is_shown_again_with_what_to_fix(
    flask_app: Flask, van: dict[str, Person], changes: dict[str, str], field: str, says: str
) -> None:
    response = van["coordinator"].post("/sites/VAN-1/tally", tally("bad-night-0001", **changes))
    assert response.status_code == 422
    assert says in error_under(response.get_data(as_text=True), field)
    store = flask_app.extensions["inventory"].store
    assert {row["sku"]: row["quantity"] for row in queries.stock_on_hand(store, "VAN-1")} == {
        "NALOX-4MG": 40,
        "SYR-1ML": 200,
    }


def test_more_than_is_on_hand_is_refused_at_the_top_naming_the_item(van: dict[str, Person]) -> None:
    response = van["coordinator"].post("/sites/VAN-1/tally", tally("big-night-0001", **{"lines-0-quantity": "41"}))
    assert response.status_code == 409
    assert "Only 40" in html.unescape(response.get_data(as_text=True))


@pytest.mark.clock("2026-11-30T12:00:00+00:00")
def test_after_midnight_the_page_offers_the_night_shift_still_going_and_records_it(
    flask_app: Flask, inventory: InventoryApplication, van: dict[str, Person], clock: Clock
) -> None:
    coordinator = van["coordinator"]
    # Monday night's tally, entered on Tuesday: the van's usual hours are 21:00 to 02:00.
    clock.at("2026-12-01T12:00:00+00:00")
    inventory.record_shift_tally(
        key="monday-night", site="VAN-1", shift_date="2026-11-30", starts_at="21:00", ends_at="02:00",
        lines=[{"sku": "NALOX-4MG", "quantity": 2}], visits=3, actor=coordinator.email,
    )  # fmt: skip
    flask_app.extensions["inventory"].projector.catch_up()

    # Wednesday 01:05, the van back at base after Tuesday night's shift (it would end at 02:00).
    clock.at("2026-12-02T01:05:00+00:00")
    assert coordinator.sign_in().status_code == 302
    page = html.unescape(coordinator.get("/sites/VAN-1/tally").get_data(as_text=True))
    values = dict(re.findall(r'name="(shift_date|starts_at|ends_at)"[^>]*value="([^"]*)"', page))
    assert values == {"shift_date": "2026-12-01", "starts_at": "21:00", "ends_at": "01:05"}
    assert "The shift of Tuesday 21:00 to Wednesday 01:05" in page

    response = coordinator.post("/sites/VAN-1/tally", tally("tuesday-night", **values))
    assert response.status_code == 302, error_under(response.get_data(as_text=True), "ends_at")
    said = html.unescape(coordinator.get("/sites/VAN-1/tally").get_data(as_text=True))
    assert "Shift tally recorded at VAN-1 for Tuesday 21:00 to Wednesday 01:05 (Tue 1 Dec): 23 visits" in said
    assert "+00:00" not in said


@pytest.mark.clock("2026-12-02T01:05:00+00:00")
def test_a_night_shift_dated_today_after_midnight_is_refused_saying_which_date_to_give(
    inventory: InventoryApplication, van: dict[str, Person]
) -> None:
    with pytest.raises(InvalidInput) as refused:
        inventory.record_shift_tally(
            key="wrong-date", site="VAN-1", shift_date="2026-12-02", starts_at="21:00", ends_at="00:30",
            lines=[], visits=3, actor=ADMIN,
        )  # fmt: skip
    assert refused.value.field == "ends_at"
    assert refused.value.message == (
        "This shift, Wednesday 21:00 to Thursday 00:30 from Wed 2 Dec, has not ended yet: "
        "record its tally after it ends. "
        "If it is the shift of Tuesday 21:00 to Wednesday 00:30, set the date to Tue 1 Dec, the day it started."
    )
