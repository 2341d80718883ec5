"""Purchase orders through the pages: raised with a suggested quantity, submitted, received in part, closed."""

from __future__ import annotations

import html
import re
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from flask import Flask

from inventory.application import InventoryApplication
from inventory.domain.alerts import alert_id
from inventory.projections import queries
from tests.web.conftest import ADMIN, day
from tests.web.pages.conftest import Person

STRIPS = "FTS-100"  # fentanyl test strips, sold in boxes of 12


def expiry() -> str:
    """A lot's expiry well after today (read when the test runs, not at import)."""
    return (date.today() + timedelta(days=500)).isoformat()


def field_error(page: str, name: str) -> str:
    """The error shown under one field ('' if none), as a person reads it."""
    found = re.search(rf'<small id="{name}-error" class="field-error">(.*?)</small>', page, re.S)
    return html.unescape(found.group(1)) if found else ""


def input_value(page: str, name: str) -> str | None:
    found = re.search(rf'<input[^>]*name="{re.escape(name)}"[^>]*value="([^"]*)"', page) or re.search(
        rf'<input[^>]*value="([^"]*)"[^>]*name="{re.escape(name)}"', page
    )
    return found.group(1) if found else None


def figure(page: str, name: str) -> str:
    found = re.search(rf'<dd data-figure="{name}">([^<]*)</dd>', page)
    assert found, f"no figure {name} on the page"
    return html.unescape(found.group(1)).replace("\u2212", "").strip()


def levels(flask_app: Flask, site: str, sku: str) -> tuple[int, int]:
    """(on hand, on order) from the read model the stock pages show (no row: nothing of either, no levels)."""
    rows = queries.stock_levels(flask_app.extensions["inventory"].store, site, sku)
    assert len(rows) <= 1
    return (rows[0]["on_hand"], rows[0]["on_order"]) if rows else (0, 0)


def status_of(who: Person, order_id: str) -> str:
    found = re.search(r'data-status="(\w+)"', who.get(f"/purchase-orders/{order_id}").get_data(as_text=True))
    assert found
    return found.group(1)


def order_form(**changes: Any) -> dict[str, Any]:
    """The new-order form as a browser sends it: every row, blank ones too."""
    blank = {f"lines-{row}-{name}": "" for row in range(3) for name in ("sku", "quantity", "unit_cost")}
    return {
        **blank,
        "site": "WH",
        "supplier": "Harm Reduction Supply Co",
        "funding_source": "STATE",
        "number": "",
        "lines-0-sku": "NALOX-4MG",
        "lines-0-quantity": "24",
        "lines-0-unit_cost": "31.50",
        **changes,
    }


def catch_up(flask_app: Flask) -> None:
    flask_app.extensions["inventory"].projector.catch_up()


SHORTAGE = alert_id("below_reorder_point", "WH", STRIPS)


def shortage_open(flask_app: Flask, inventory: InventoryApplication) -> tuple[bool, int]:
    """Run the alert check on the caught-up read models: is the WH strips shortage open, in which episode."""
    catch_up(flask_app)
    inventory.check_alerts(day(0), datetime.now(UTC), store=flask_app.extensions["inventory"].store)
    catch_up(flask_app)
    found = inventory.alert(SHORTAGE)
    return found["open"], found["episode"]


@pytest.fixture
def short_of_strips(inventory: InventoryApplication, people: dict[str, Person], flask_app: Flask) -> str:
    """WH below its reorder point (60) for strips: 30 on hand, 10 on their way from the van, 20 on order.

    Par level 100, so the suggestion is 100 - 30 - 20 - 10 = 40, up to boxes of 12: 48.
    Returns the other order's id.
    """
    inventory.register_item(
        sku=STRIPS, name="Fentanyl test strip", category="test_strip", unit="strip", tracks_expiry=True,
        pack_size=12, actor=ADMIN,
    )  # fmt: skip
    inventory.set_stock_level(site="WH", sku=STRIPS, reorder_point=60, par_level=100, lead_time_days=14, actor=ADMIN)
    for site, quantity in (("WH", 30), ("VAN-1", 10)):
        inventory.receive_stock(
            site=site, sku=STRIPS, quantity=quantity, lot=f"{site}-L1", expires_on=date.fromisoformat(expiry()),
            funding_source="STATE", actor=ADMIN,
        )  # fmt: skip
    inventory.dispatch_transfer(
        from_site="VAN-1", to_site="WH", lines=[{"sku": STRIPS, "quantity": 10, "lot": "VAN-1-L1"}], actor=ADMIN
    )
    earlier = inventory.raise_purchase_order(
        supplier="Earlier Supplier", site="WH", funding_source="STATE", lines=[{"sku": STRIPS, "quantity": 20}],
        actor=ADMIN,
    )  # fmt: skip
    inventory.submit_purchase_order(order_id=earlier["id"], actor=ADMIN)
    catch_up(flask_app)
    return str(earlier["id"])


def test_an_order_from_an_alert_is_raised_submitted_received_twice_and_closed(
    flask_app: Flask, inventory: InventoryApplication, people: dict[str, Person], short_of_strips: str
) -> None:
    buyer = people["purchasing"]
    assert levels(flask_app, "WH", STRIPS) == (30, 20)
    assert shortage_open(flask_app, inventory) == (True, 1)

    # The link from the alert: site and item chosen, the suggestion and the figures it came from shown.
    start = f"/purchase-orders/new?site=WH&sku={STRIPS}"
    assert start in html.unescape(buyer.get("/alerts").get_data(as_text=True))
    page = buyer.get(start).get_data(as_text=True)
    assert [figure(page, name) for name in ("par_level", "on_hand", "on_order", "in_transit", "shortfall")] == [
        "100",
        "30",
        "20",
        "10",
        "40",
    ]
    assert figure(page, "pack_size") == "12"
    assert "Below reorder point" in page and "On hand 30; reorder point 60, delivery takes 14 days." in page
    assert "Suggested: <strong data-suggested>48 strips</strong>" in page and "(4 packs of 12)" in page
    assert input_value(page, "lines-0-quantity") == "48"
    assert f'<option selected value="{STRIPS}">' in page and '<option selected value="WH">' in page

    # Raised with what was suggested: a draft, nothing on order yet.
    raised = buyer.post(
        start,
        order_form(**{"lines-0-sku": STRIPS, "lines-0-quantity": input_value(page, "lines-0-quantity")}),
    )
    assert raised.status_code == 302, raised.get_data(as_text=True)
    order_id = raised.headers["Location"].rsplit("/", 1)[-1]
    shown = buyer.get(raised.headers["Location"]).get_data(as_text=True)
    assert "drafted for WH from Harm Reduction Supply Co, paid by STATE: 48 strips of FTS-100" in shown
    assert status_of(buyer, order_id) == "draft"
    assert levels(flask_app, "WH", STRIPS) == (30, 20)
    assert shortage_open(flask_app, inventory) == (True, 1)  # ordering is not having

    # Submitted: its 48 are on order.
    submitted = buyer.post(f"/purchase-orders/{order_id}/submit", {}, token_from=f"/purchase-orders/{order_id}")
    assert submitted.status_code == 302
    assert status_of(buyer, order_id) == "submitted"
    assert levels(flask_app, "WH", STRIPS) == (30, 68)
    assert shortage_open(flask_app, inventory) == (True, 1)

    # First part received on the receive page, against the order: stock rises, on order falls.
    first = buyer.post(
        "/sites/WH/receive",
        {
            "sku": STRIPS,
            "quantity": "20",
            "lot": "FTS-A",
            "expires_on": expiry(),
            "funding_source": "STATE",
            "purchase_order": order_id,
            "received_on": day(0).isoformat(),
        },
    )
    assert first.status_code == 302, first.get_data(as_text=True)
    assert status_of(buyer, order_id) == "partly_received"
    assert levels(flask_app, "WH", STRIPS) == (50, 48)
    assert shortage_open(flask_app, inventory) == (True, 1)  # 50 is still below 60

    # Second part, through the application (as the API would).
    inventory.receive_purchase_order(
        order_id=order_id,
        lines=[{"sku": STRIPS, "lot": "FTS-B", "quantity": 12, "expires_on": date.fromisoformat(expiry())}],
        actor=ADMIN,
    )
    catch_up(flask_app)
    page = buyer.get(f"/purchase-orders/{order_id}").get_data(as_text=True)
    assert "partly_received" in page and re.search(r"data-received>32<", page) and re.search(r"outstanding>16<", page)
    assert levels(flask_app, "WH", STRIPS) == (62, 36)
    assert shortage_open(flask_app, inventory) == (False, 1)  # 62: resolved

    # Closed with 16 never coming: they stop counting as on order; the earlier order's 20 remain.
    closed = buyer.post(f"/purchase-orders/{order_id}/close", {}, token_from=f"/purchase-orders/{order_id}")
    assert closed.status_code == 302
    assert status_of(buyer, order_id) == "closed"
    assert levels(flask_app, "WH", STRIPS) == (62, 20)
    assert shortage_open(flask_app, inventory) == (False, 1)  # closing takes nothing off the shelf
    index = buyer.get("/purchase-orders").get_data(as_text=True)
    open_part, finished_part = index.split('id="recent-heading"')
    assert short_of_strips in open_part and order_id not in open_part
    assert order_id in finished_part


def test_federal_money_may_not_buy_syringes_and_the_refusal_is_next_to_the_funding_source(
    flask_app: Flask, people: dict[str, Person]
) -> None:
    response = people["purchasing"].post(
        "/purchase-orders/new",
        order_form(funding_source="SOR", **{"lines-0-sku": "SYR-1ML", "lines-0-quantity": "500"}),
    )
    assert response.status_code == 409  # the rule, as it stands, refuses it
    page = response.get_data(as_text=True)
    assert "Funding source SOR may not pay for syringe items such as SYR-1ML" in field_error(page, "funding_source")
    assert 'value="Harm Reduction Supply Co"' in page and input_value(page, "lines-0-quantity") == "500"
    assert queries.stock_levels(flask_app.extensions["inventory"].store, "WH", "SYR-1ML") == []
    # The same order paid from the state fund is fine.
    fine = people["purchasing"].post(
        "/purchase-orders/new", order_form(**{"lines-0-sku": "SYR-1ML", "lines-0-quantity": "500"})
    )
    assert fine.status_code == 302


def test_line_mistakes_are_shown_next_to_their_line_with_the_values_kept(
    flask_app: Flask, people: dict[str, Person]
) -> None:
    buyer = people["purchasing"]
    response = buyer.post(
        "/purchase-orders/new",
        order_form(
            **{
                "lines-0-quantity": "",
                "lines-0-unit_cost": "twelve",
                "lines-1-quantity": "5",
                "lines-2-sku": "NALOX-4MG",
                "lines-2-quantity": "3",
            }
        ),
    )
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert field_error(page, "lines-0-quantity") == "Enter how many to order."
    assert field_error(page, "lines-0-unit_cost") == "Enter a price of 0 or more, like 12.50."
    assert field_error(page, "lines-1-sku") == "Choose the item, or clear this line."
    assert input_value(page, "lines-1-quantity") == "5" and input_value(page, "lines-0-unit_cost") == "twelve"
    # The same item twice: the verb's refusal lands on the third row of the form (the second line sent).
    twice = buyer.post("/purchase-orders/new", order_form(**{"lines-2-sku": "NALOX-4MG", "lines-2-quantity": "3"}))
    assert twice.status_code == 422
    assert "NALOX-4MG appears twice" in field_error(twice.get_data(as_text=True), "lines-2-sku")
    nothing = buyer.post(
        "/purchase-orders/new", order_form(**{"lines-0-sku": "", "lines-0-quantity": "", "lines-0-unit_cost": ""})
    )
    assert nothing.status_code == 422
    assert field_error(nothing.get_data(as_text=True), "lines-0-sku") == "Choose at least one item to order."
    assert buyer.get("/purchase-orders").get_data(as_text=True).count('class="po-card"') == 0


def test_without_a_par_level_there_is_no_suggestion_and_an_unknown_site_is_404(
    flask_app: Flask, people: dict[str, Person]
) -> None:
    buyer = people["purchasing"]
    page = buyer.get("/purchase-orders/new?site=VAN-1&sku=NALOX-4MG").get_data(as_text=True)
    assert "No par level is set for NALOX-4MG at VAN-1" in page
    assert input_value(page, "lines-0-quantity") in (None, "")
    assert buyer.get("/purchase-orders/new?site=NOWHERE&sku=NALOX-4MG").status_code == 404
    assert buyer.get("/purchase-orders/00000000-0000-0000-0000-000000000000").status_code == 404
    assert buyer.get("/purchase-orders/not-an-id").status_code == 404


def test_a_cancelled_order_needs_a_reason_and_stops_counting_as_on_order(
    flask_app: Flask, inventory: InventoryApplication, people: dict[str, Person]
) -> None:
    admin = people["admin"]
    order = inventory.raise_purchase_order(
        supplier="S", site="VAN-1", funding_source="STATE", lines=[{"sku": "NALOX-4MG", "quantity": 30}], actor=ADMIN
    )
    inventory.submit_purchase_order(order_id=order["id"], actor=ADMIN)
    catch_up(flask_app)
    assert levels(flask_app, "VAN-1", "NALOX-4MG") == (0, 30)
    show = f"/purchase-orders/{order['id']}"
    assert "Receive against it at VAN-1" in admin.get(show).get_data(as_text=True)
    refused = admin.post(f"{show}/cancel", {"reason": ""}, token_from=show)
    assert refused.status_code == 422
    assert field_error(refused.get_data(as_text=True), "reason") == "Choose why the order is cancelled."
    assert levels(flask_app, "VAN-1", "NALOX-4MG") == (0, 30)
    done = admin.post(f"{show}/cancel", {"reason": "Supplier cannot deliver"}, token_from=show)
    assert done.status_code == 302
    assert "cancelled (Supplier cannot deliver)" in admin.get(show).get_data(as_text=True)
    assert status_of(admin, str(order["id"])) == "cancelled"
    assert levels(flask_app, "VAN-1", "NALOX-4MG") == (0, 0)
    # A cancelled order cannot be submitted: said on the page, with 409, and nothing changes.
    again = admin.post(f"{show}/submit", {}, token_from=show)
    assert again.status_code == 409
    assert "is cancelled; it cannot be submitted" in again.get_data(as_text=True)


def test_only_purchasing_and_admin_use_the_order_pages(
    flask_app: Flask, inventory: InventoryApplication, people: dict[str, Person]
) -> None:
    order = inventory.raise_purchase_order(
        supplier="S", site="VAN-1", funding_source="STATE", lines=[{"sku": "NALOX-4MG", "quantity": 5}], actor=ADMIN
    )
    catch_up(flask_app)
    paths = ["/purchase-orders", "/purchase-orders/new", f"/purchase-orders/{order['id']}"]
    for role, who in people.items():
        expected = 200 if role in ("admin", "purchasing") else 403
        assert [who.get(path).status_code for path in paths] == [expected] * 3, role
    assert "Purchase orders" in people["purchasing"].get("/").get_data(as_text=True)
    assert "Purchase orders" not in people["coordinator"].get("/").get_data(as_text=True)
