"""A day at the program at the edges of the clock: just after and just before midnight UTC, a program
14 hours ahead and one 11 hours behind, and the two days a year whose clocks jump.

At each moment a receipt, a visit recorded now and last night's shift tally land on the business
dates of the program's own zone, the daily totals and the stock card say so, and a count made now
is of today, not of UTC's day.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest

from inventory.application import InventoryApplication
from inventory.projections import all_projections, queries
from inventory.projections.runner import Projector
from inventory.projections.store import read_store_for
from tests.clock import EDGES, Edge
from tests.conftest import ADMIN, seed_catalog


@pytest.fixture
def program(edge: Edge, database_url: str) -> Iterator[tuple[InventoryApplication, Projector]]:
    app = InventoryApplication(database_url, timezone_name=edge.zone)
    store = read_store_for(database_url)
    try:
        seed_catalog(app)
        yield app, Projector(app, store, all_projections(app.zone, b"any-hour-seal-key"))
    finally:
        store.close()
        app.close()


@pytest.mark.parametrize("edge", EDGES, indirect=True, ids=str)
def test_a_day_lands_on_the_programs_own_dates_at_any_hour_in_any_zone(edge: Edge, program: Any) -> None:
    app, projector = program
    today = edge.moment.astimezone(app.zone).date()
    yesterday = today - timedelta(days=1)
    app.receive_stock(site="VAN-1", sku="NALOX-4MG", lot="N-1", quantity=30, expires_on=today + timedelta(days=1),
                      funding_source="STATE", actor=ADMIN, occurred_at=edge.moment - timedelta(days=3))  # fmt: skip
    app.record_encounter(key="any-hour-visit-1", site="VAN-1", lines=[{"sku": "NALOX-4MG", "quantity": 2}], actor=ADMIN)
    # Last night's shift, 21:00 to 02:00 local, dated by its start: over by now at every edge but
    # the ones just after midnight local, where it is the night before last.
    night = yesterday if (edge.moment.astimezone(app.zone).hour >= 3) else yesterday - timedelta(days=1)
    app.record_shift_tally(key="any-hour-tally-1", site="VAN-1", shift_date=night, starts_at="21:00", ends_at="02:00",
                           lines=[{"sku": "NALOX-4MG", "quantity": 3}], visits=3, actor=ADMIN)  # fmt: skip
    counted = app.count_stock(site="VAN-1", sku="NALOX-4MG", lot="N-1", counted=25, actor=ADMIN)
    projector.catch_up()

    visits = {row["date"]: row for row in queries.daily_encounters(projector.store, night, today, "VAN-1")}
    assert (visits[today.isoformat()]["encounters"], visits[today.isoformat()]["tally_visits"]) == (1, 0)
    assert (visits[night.isoformat()]["encounters"], visits[night.isoformat()]["tally_visits"]) == (3, 3)
    card = queries.stock_card(projector.store, "VAN-1", "NALOX-4MG", night, today)
    dated = [(row["business_date"], row["kind"], row["quantity"], row["reason"]) for row in card.rows]
    assert (night.isoformat(), "distributed", -3, "shift tally") in dated
    assert (today.isoformat(), "distributed", -2, None) in dated
    assert counted["variance"] == 0 and card.closing == 25
    # The lot expires tomorrow, the program's tomorrow: it is still in date, whatever UTC's date is.
    assert app.stock("VAN-1", "NALOX-4MG")["on_hand"] == 25
