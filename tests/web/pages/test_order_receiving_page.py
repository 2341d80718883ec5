"""Receiving against a purchase order starts from its open lines; a delivery without one keeps its price and
paperwork reference."""

from __future__ import annotations

import html
import re
from datetime import date, timedelta
from typing import Any

from flask import Flask

from inventory.application import InventoryApplication
from tests.web.conftest import ADMIN, day
from tests.web.pages.conftest import Person


def field_error(page: str, name: str) -> str:
    found = re.search(rf'<small id="{re.escape(name)}-error" class="field-error">(.*?)</small>', page, re.S)
    return html.unescape(found.group(1)) if found else ""


def value_of(page: str, name: str) -> str | None:
    found = re.search(rf'<input[^>]*name="{re.escape(name)}"[^>]*value="([^"]*)"', page) or re.search(
        rf'<input[^>]*value="([^"]*)"[^>]*name="{re.escape(name)}"', page
    )
    return html.unescape(found.group(1)) if found else None


def receipts(flask_app: Flask, site: str) -> list[tuple[str, str, int, str | None, str | None]]:
    """(sku, lot, quantity, unit cost, reference) of each receipt at `site`, from the stock card."""
    store = flask_app.extensions["inventory"].store
    rows = store.fetchall(
        "SELECT sku, lot, quantity, unit_cost, reference FROM stock_movements WHERE site = ? AND kind = 'received' "
        "ORDER BY position, seq",
        (site,),
    )
    return [(sku, lot, int(quantity), cost, reference) for sku, lot, quantity, cost, reference in rows]


def expiry() -> str:
    return (date.today() + timedelta(days=400)).isoformat()


def submitted_order(inventory: InventoryApplication, flask_app: Flask) -> str:
    order = inventory.raise_purchase_order(
        supplier="Harm Reduction Supply Co", site="WH", funding_source="STATE", number="PO-RECV-1",
        lines=[{"sku": "NALOX-4MG", "quantity": 24, "unit_cost": "31.50"}, {"sku": "SYR-1ML", "quantity": 500}],
        actor=ADMIN,
    )  # fmt: skip
    inventory.submit_purchase_order(order_id=order["id"], actor=ADMIN)
    flask_app.extensions["inventory"].projector.catch_up()
    return str(order["id"])


def arrived(**lines: Any) -> dict[str, Any]:
    """The form as a browser sends it back: both lines, with the values given."""
    base = {
        "lines-0-sku": "NALOX-4MG", "lines-0-quantity": "24", "lines-0-lot": "N-PO-1", "lines-0-expires_on": expiry(),
        "lines-0-unit_cost": "31.50",
        "lines-1-sku": "SYR-1ML", "lines-1-quantity": "500", "lines-1-lot": "S-PO-1", "lines-1-expires_on": "",
        "lines-1-unit_cost": "",
        "received_on": day(0).isoformat(),
    }  # fmt: skip
    return {**base, **lines}


def test_receiving_against_an_order_starts_from_what_is_still_to_come(
    flask_app: Flask, inventory: InventoryApplication, people: dict[str, Person]
) -> None:
    buyer = people["purchasing"]
    order_id = submitted_order(inventory, flask_app)
    url = f"/purchase-orders/{order_id}/receive"
    assert url in buyer.get(f"/purchase-orders/{order_id}").get_data(as_text=True)
    form = buyer.get(url).get_data(as_text=True)
    assert [value_of(form, f"lines-{n}-{name}") for n in (0, 1) for name in ("sku", "quantity", "unit_cost")] == [
        "NALOX-4MG", "24", "31.50", "SYR-1ML", "500", "",
    ]  # fmt: skip
    assert 'name="lines-0-expires_on" type="date"' in form or 'type="date" name="lines-0-expires_on"' in form

    # What to fix is said next to its line, and what was typed stays.
    missing = buyer.post(url, arrived(**{"lines-0-lot": "", "lines-0-expires_on": ""}))
    assert missing.status_code == 422
    page = missing.get_data(as_text=True)
    assert field_error(page, "lines-0-lot") == "Enter the lot number printed on the box."
    assert field_error(page, "lines-0-expires_on") == "Enter the expiry date printed on the box."
    assert value_of(page, "lines-1-lot") == "S-PO-1"
    too_many = buyer.post(url, arrived(**{"lines-0-quantity": "25"}))
    assert too_many.status_code == 422
    assert field_error(too_many.get_data(as_text=True), "lines-0-quantity").startswith(
        "Only 24 are still to come on this order"
    )
    nothing = buyer.post(url, arrived(**{"lines-0-quantity": "", "lines-1-quantity": ""}))
    assert field_error(nothing.get_data(as_text=True), "lines-0-quantity") == (
        "Enter how many arrived of at least one line."
    )
    assert receipts(flask_app, "WH") == []

    # 20 kits came at a new price; the syringes did not come.
    done = buyer.post(url, arrived(**{"lines-0-quantity": "20", "lines-0-unit_cost": "$30.00", "lines-1-quantity": ""}))
    assert done.status_code == 302 and done.headers["Location"] == f"/purchase-orders/{order_id}"
    shown = buyer.get(done.headers["Location"]).get_data(as_text=True)
    assert "Received against PO-RECV-1: 20 kits of NALOX-4MG lot N-PO-1 (WH now has 20 kits)." in html.unescape(shown)
    assert 'data-status="partly_received"' in shown
    assert receipts(flask_app, "WH") == [("NALOX-4MG", "N-PO-1", 20, "30.00", "PO-RECV-1")]

    # The next time, the form holds what is left: 4 kits and the 500 syringes.
    again = buyer.get(url).get_data(as_text=True)
    assert [value_of(again, f"lines-{n}-quantity") for n in (0, 1)] == ["4", "500"]
    rest = buyer.post(url, arrived(**{"lines-0-quantity": "4", "lines-0-lot": "N-PO-2"}))
    assert rest.status_code == 302
    assert 'data-status="received"' in buyer.get(f"/purchase-orders/{order_id}").get_data(as_text=True)
    # Received in full: nothing is waiting, so the form sends people back to the order.
    assert buyer.get(url).headers["Location"] == f"/purchase-orders/{order_id}"


def test_only_who_may_receive_at_the_orders_site_receives_against_it(
    flask_app: Flask, inventory: InventoryApplication, people: dict[str, Person]
) -> None:
    order_id = submitted_order(inventory, flask_app)
    url = f"/purchase-orders/{order_id}/receive"
    assert people["coordinator"].get(url).status_code == 403  # works at VAN-1, the order is for WH
    assert people["auditor"].get(url).status_code == 403
    assert people["admin"].get(url).status_code == 200
    assert people["purchasing"].get("/purchase-orders/00000000-0000-0000-0000-000000000000/receive").status_code == 404


def test_a_delivery_without_an_order_keeps_its_unit_cost_and_paperwork_reference(
    flask_app: Flask, people: dict[str, Person]
) -> None:
    admin = people["admin"]
    delivery = {
        "sku": "NALOX-4MG", "quantity": "12", "lot": "N-DN-1", "expires_on": expiry(), "funding_source": "STATE",
        "received_on": day(0).isoformat(),
    }  # fmt: skip
    wrong = admin.post("/sites/WH/receive", {**delivery, "unit_cost": "twelve", "reference": "DN-4471"})
    assert wrong.status_code == 422
    page = wrong.get_data(as_text=True)
    assert field_error(page, "unit_cost") == "Enter the price of one unit, 0 or more, like 12.50."
    assert value_of(page, "reference") == "DN-4471"
    done = admin.post("/sites/WH/receive", {**delivery, "unit_cost": "$12.50", "reference": "DN-4471"})
    assert done.status_code == 302
    assert receipts(flask_app, "WH") == [("NALOX-4MG", "N-DN-1", 12, "12.50", "DN-4471")]
    assert "at 12.50 each" in admin.get("/sites/WH/receive").get_data(as_text=True)
    # The stock card names the paperwork for what it is (not as an order number).
    assert "Reference: DN-4471" in admin.get("/sites/WH/stock/NALOX-4MG").get_data(as_text=True)
