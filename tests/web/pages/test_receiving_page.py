"""Receiving stock through the page: a lot into a site's stock, refusals next to their field, orders."""

from __future__ import annotations

import html
import re
from typing import Any

from flask import Flask

from inventory.projections import queries
from tests.web.conftest import Caller, day, ok
from tests.web.pages.conftest import Person

NALOXONE = {"sku": "NALOX-4MG", "quantity": "40", "lot": "N-001", "expires_on": "2030-06-30", "funding_source": "STATE"}


def field_error(page: str, name: str) -> str:
    """The error shown under one field ('' if none), as a person reads it."""
    found = re.search(rf'<small id="{name}-error" class="field-error">(.*?)</small>', page, re.S)
    return html.unescape(found.group(1)) if found else ""


def on_hand(flask_app: Flask, site: str, sku: str) -> list[tuple[str, int]]:
    """(lot, quantity) on hand, from the read model the pages show."""
    return [
        (row["lot"], row["quantity"])
        for row in queries.stock_on_hand(flask_app.extensions["inventory"].store, site, sku)
    ]


def receipt(**changes: Any) -> dict[str, Any]:
    return {**NALOXONE, "received_on": day(0).isoformat(), **changes}


def test_admin_receives_a_lot_at_the_warehouse_and_stock_on_hand_rises(
    flask_app: Flask, people: dict[str, Person]
) -> None:
    admin = people["admin"]
    response = admin.post("/sites/WH/receive", receipt())
    assert response.status_code == 302 and response.headers["Location"] == "/sites/WH/receive"
    assert on_hand(flask_app, "WH", "NALOX-4MG") == [("N-001", 40)]
    # The next page says what was recorded, from the read model (read-your-writes).
    page = admin.get("/sites/WH/receive").get_data(as_text=True)
    assert "Received 40 kits of Naloxone 4 mg lot N-001, expiring Sun 30 Jun 2030 at WH, paid by STATE." in page
    assert "WH now has 40 kits of NALOX-4MG." in page
    admin.post("/sites/WH/receive", receipt(quantity="10"))
    assert on_hand(flask_app, "WH", "NALOX-4MG") == [("N-001", 50)]


def test_a_backdated_delivery_counts_on_its_day_and_a_future_one_is_refused(
    flask_app: Flask, people: dict[str, Person]
) -> None:
    admin = people["admin"]
    future = admin.post("/sites/WH/receive", receipt(received_on=day(-2).isoformat()))
    assert future.status_code == 422
    assert "is in the future" in field_error(future.get_data(as_text=True), "received_on")
    assert on_hand(flask_app, "WH", "NALOX-4MG") == []
    assert admin.post("/sites/WH/receive", receipt(received_on=day(3).isoformat())).status_code == 302
    store = flask_app.extensions["inventory"].store
    assert [row["quantity"] for row in queries.stock_as_of(store, day(3), "WH", "NALOX-4MG")] == [40]
    assert queries.stock_as_of(store, day(4), "WH", "NALOX-4MG") == []


def test_missing_lot_and_expiry_are_shown_next_to_their_fields_with_the_values_kept(
    flask_app: Flask, people: dict[str, Person]
) -> None:
    response = people["admin"].post("/sites/WH/receive", receipt(lot="  ", expires_on="", quantity="37"))
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert field_error(page, "lot") == "Enter the lot number printed on the box."
    assert "enter the expiry date printed on the box" in field_error(page, "expires_on")
    assert 'aria-invalid="true"' in page
    assert 'value="37"' in page and '<option selected value="STATE">' in page
    assert on_hand(flask_app, "WH", "NALOX-4MG") == []


def test_an_expiry_that_is_not_a_date_or_differs_from_the_lots_is_refused_next_to_expiry(
    flask_app: Flask, people: dict[str, Person]
) -> None:
    admin = people["admin"]
    typo = admin.post("/sites/WH/receive", receipt(expires_on="31/06/2030"))
    assert typo.status_code == 422
    assert field_error(typo.get_data(as_text=True), "expires_on") == "Enter a date like 2026-03-31."
    assert admin.post("/sites/WH/receive", receipt()).status_code == 302
    # The same lot again with another expiry: the domain refuses, next to the expiry, and keeps the typing.
    other = admin.post("/sites/WH/receive", receipt(expires_on="2031-01-31", quantity="5"))
    assert other.status_code == 422
    page = other.get_data(as_text=True)
    assert "is recorded with expiry Sun 30 Jun 2030, not Fri 31 Jan 2031" in field_error(page, "expires_on")
    assert 'value="2031-01-31"' in page and 'value="5"' in page
    assert on_hand(flask_app, "WH", "NALOX-4MG") == [("N-001", 40)]


def test_federal_money_for_syringes_is_refused_next_to_the_funding_source(
    flask_app: Flask, people: dict[str, Person]
) -> None:
    response = people["admin"].post(
        "/sites/WH/receive", receipt(sku="SYR-1ML", lot="S-1", quantity="1000", expires_on="", funding_source="SOR")
    )
    assert response.status_code == 409
    page = response.get_data(as_text=True)
    assert "Funding source SOR may not pay for syringe items such as SYR-1ML" in field_error(page, "funding_source")
    assert 'value="S-1"' in page and 'value="1000"' in page
    assert on_hand(flask_app, "WH", "SYR-1ML") == []


def test_who_may_receive_where(flask_app: Flask, people: dict[str, Person]) -> None:
    coordinator = people["coordinator"]
    # One site: straight to its form.
    choose = coordinator.get("/receive")
    assert choose.status_code == 302 and choose.headers["Location"] == "/sites/VAN-1/receive"
    assert coordinator.get("/sites/WH/receive").status_code == 403
    assert coordinator.post("/sites/WH/receive", receipt(), token_from="/sites/VAN-1/receive").status_code == 403
    assert coordinator.post("/sites/VAN-1/receive", receipt()).status_code == 302
    assert on_hand(flask_app, "VAN-1", "NALOX-4MG") == [("N-001", 40)]
    assert on_hand(flask_app, "WH", "NALOX-4MG") == []
    # Purchasing receives anywhere; a grant manager nowhere; an unknown site is 404.
    page = people["purchasing"].get("/receive").get_data(as_text=True)
    assert "/sites/WH/receive" in page and "/sites/VAN-1/receive" in page
    assert people["grant_manager"].get("/receive").status_code == 403
    assert people["admin"].get("/sites/NOWHERE/receive").status_code == 404


def test_a_delivery_against_an_open_order_is_booked_to_it(
    flask_app: Flask, people: dict[str, Person], staff: dict[str, Caller]
) -> None:
    order = ok(
        staff["purchasing"].post(
            "/api/v1/purchase-orders",
            {
                "supplier": "Acme",
                "site": "WH",
                "funding_source": "STATE",
                "lines": [{"sku": "NALOX-4MG", "quantity": 60}],
            },
        )
    )
    ok(staff["purchasing"].post(f"/api/v1/purchase-orders/{order['id']}/submit", {}), 200)
    buyer = people["purchasing"]
    assert order["number"] in buyer.get("/sites/WH/receive").get_data(as_text=True)
    wrong = buyer.post("/sites/WH/receive", receipt(purchase_order=order["id"], funding_source="SOR", quantity="70"))
    assert wrong.status_code == 422
    page = wrong.get_data(as_text=True)
    assert "is paid by STATE" in field_error(page, "funding_source")
    assert "Only 60 of NALOX-4MG are still to come" in field_error(page, "quantity")
    assert buyer.post("/sites/WH/receive", receipt(purchase_order=order["id"])).status_code == 302
    after = ok(staff["purchasing"].get(f"/api/v1/purchase-orders/{order['id']}"), 200)
    assert after["status"] == "partly_received" and after["lines"][0]["outstanding"] == 20
    assert on_hand(flask_app, "WH", "NALOX-4MG") == [("N-001", 40)]
