"""A stock-out is an alert as soon as the visit that causes it is recorded: the API, the dashboard and
the alerts page say so at once, not at the next periodic check; and it ends when stock arrives."""

from __future__ import annotations

import html
from datetime import UTC, datetime
from typing import Any

from inventory.domain.time_words import day_in_words
from tests.web.conftest import Caller, error, ok
from tests.web.pages.conftest import Person


def alerts(caller: Caller) -> list[tuple[str, str, str]]:
    return sorted((a["kind"], a["site"], a["sku"]) for a in ok(caller.get("/api/v1/alerts"), 200))


def receive(caller: Caller, quantity: int, lot: str) -> Any:
    body = {"site": "VAN-1", "sku": "NALOX-4MG", "lot": lot, "quantity": quantity, "expires_on": "2099-12-31",
            "funding_source": "STATE"}  # fmt: skip
    return ok(caller.post("/api/v1/receipts", body))


def test_a_visit_that_empties_the_van_is_an_alert_at_once_and_a_delivery_ends_it(
    staff: dict[str, Caller], people: dict[str, Person]
) -> None:
    admin, coordinator = staff["admin"], staff["coordinator"]
    levels = {"reorder_point": 5, "par_level": 20, "lead_time_days": 2}
    ok(admin.put("/api/v1/sites/VAN-1/levels/NALOX-4MG", levels), 200)
    receive(admin, 8, "N-1")
    assert alerts(admin) == []
    # A new reorder point above what is on hand is an alert at once too; set back, it ends.
    ok(admin.put("/api/v1/sites/VAN-1/levels/NALOX-4MG", dict(levels, reorder_point=10)), 200)
    assert alerts(admin) == [("below_reorder_point", "VAN-1", "NALOX-4MG")]
    ok(admin.put("/api/v1/sites/VAN-1/levels/NALOX-4MG", levels), 200)
    assert alerts(admin) == []

    visit = {"site": "VAN-1", "lines": [{"sku": "NALOX-4MG", "quantity": 4}]}
    ok(coordinator.post("/api/v1/encounters", visit, key="visit-0001"))
    assert alerts(admin) == [("below_reorder_point", "VAN-1", "NALOX-4MG")]

    ok(coordinator.post("/api/v1/encounters", visit, key="visit-0002"))
    assert alerts(admin) == [("below_reorder_point", "VAN-1", "NALOX-4MG"), ("out_of_stock", "VAN-1", "NALOX-4MG")]
    dashboard = html.unescape(people["coordinator"].get("/").get_data(as_text=True))
    assert "NALOX-4MG is out of stock at VAN-1." in dashboard and "Nothing needs attention" not in dashboard
    page = people["purchasing"].get("/alerts").get_data(as_text=True)
    assert 'data-kind="out_of_stock" data-site="VAN-1" data-sku="NALOX-4MG"' in page

    # A refused visit changes nothing, and raises nothing new.
    error(coordinator.post("/api/v1/encounters", visit, key="visit-0003"), 409)
    assert len(ok(admin.get("/api/v1/alerts"), 200)) == 2

    receive(admin, 30, "N-2")
    assert alerts(admin) == []
    before = datetime.now(UTC).date()
    dashboard = html.unescape(people["coordinator"].get("/").get_data(as_text=True))
    after = datetime.now(UTC).date()
    assert "Nothing needs attention" in dashboard
    # The day as people read it ("Wed 2 Dec"), in the program's zone, from the one formatter.
    assert any(f"· {day_in_words(day, day.year)}</p>" in dashboard for day in {before, after})
