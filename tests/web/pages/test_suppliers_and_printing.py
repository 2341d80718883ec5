"""Purchasing remembers what it knows: each supplier once with the last price of each item, offered when the next
order is raised; an order prints as a document with its prices and total, in the program's currency."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from decimal import Decimal

import pytest
from flask import Flask

from inventory.adapters.settings import load_settings
from inventory.application import InventoryApplication
from inventory.domain.errors import InvalidInput
from inventory.domain.money import money_shown
from inventory.projections.order_queries import priced, purchase_order_row
from tests.web.conftest import ADMIN
from tests.web.pages.conftest import Person
from tests.web.pages.test_stock_pages import table_rows


def catch_up(flask_app: Flask) -> None:
    flask_app.extensions["inventory"].projector.catch_up()


def order(inventory: InventoryApplication, supplier: str, number: str, **costs: str | None) -> str:
    lines = [{"sku": sku.replace("_", "-"), "quantity": 10, "unit_cost": cost} for sku, cost in costs.items()]
    return str(
        inventory.raise_purchase_order(
            supplier=supplier, site="WH", funding_source="STATE", lines=lines, number=number, actor=ADMIN
        )["id"]
    )


@pytest.fixture
def pounds(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setenv("INVENTORY_CURRENCY", "gbp")
    yield


def test_each_supplier_is_listed_once_with_the_last_price_of_each_item(
    flask_app: Flask, inventory: InventoryApplication, people: dict[str, Person]
) -> None:
    order(inventory, "Harm Reduction Supply Co.", "PO-1", NALOX_4MG="31.50", SYR_1ML="0.11")
    order(inventory, "harm reduction supply co", "PO-2", NALOX_4MG="29.00", SYR_1ML=None)
    order(inventory, "Pharmacy Wholesale", "PO-3", SYR_1ML="0.09")
    catch_up(flask_app)
    page = people["purchasing"].get("/suppliers").get_data(as_text=True)
    assert re.findall(r'<h2 id="supplier-\d+">([^<]+)</h2>', page) == ["Pharmacy Wholesale", "harm reduction supply co"]
    assert "2 orders; the last, PO-2" in page
    rows = table_rows(page, data_sku="*")
    # The latest price stands; a line without one leaves the earlier price as it was.
    assert [row[:2] for row in rows] == [
        ["Syringe 1 mL SYR-1ML", "$0.09"],
        ["Naloxone 4 mg NALOX-4MG", "$29.00"],
        ["Syringe 1 mL SYR-1ML", "$0.11"],
    ]

    # The next order's form offers them: the names to pick from, and each item's last price by supplier.
    form = people["purchasing"].get("/purchase-orders/new").get_data(as_text=True)
    assert re.findall(r'<option value="([^"]+)"></option>', form) == ["Pharmacy Wholesale", "harm reduction supply co"]
    offered = re.search(r'data-last-prices="([^"]+)"', form)
    assert offered is not None
    assert json.loads(offered.group(1).replace("&#34;", '"').replace("&quot;", '"')) == {
        "pharmacy wholesale": {"SYR-1ML": "0.09"},
        "harm reduction supply co": {"NALOX-4MG": "29.00", "SYR-1ML": "0.11"},
    }


def test_a_printable_order_has_each_line_priced_and_the_total_in_the_programs_currency(
    pounds: None, flask_app: Flask, inventory: InventoryApplication, people: dict[str, Person]
) -> None:
    order_id = order(inventory, "Pharmacy Wholesale", "PO-7", NALOX_4MG="31.505", SYR_1ML=None)
    catch_up(flask_app)
    page = people["purchasing"].get(f"/purchase-orders/{order_id}/print")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert [row[2:] for row in table_rows(html, data_sku="*")] == [
        ["10 kit", "£31.51", "£315.05"],
        ["10 syringe", "—", "—"],
    ]
    assert re.search(r"data-order-total>£315.05<", html)
    assert "1 line has no unit cost yet" in html and "Unit cost (GBP)" in html
    assert "Pharmacy Wholesale" in html and "Central warehouse" in html
    # The order's own page links to it; the receive form asks for the cost in the same currency.
    assert f"/purchase-orders/{order_id}/print" in people["purchasing"].get(f"/purchase-orders/{order_id}").get_data(
        as_text=True
    )
    assert "Unit cost (GBP)" in people["purchasing"].get("/sites/WH/receive").get_data(as_text=True)
    found = purchase_order_row(flask_app.extensions["inventory"].store, order_id)
    assert found is not None and priced(found)["total"] == Decimal("315.050")


def test_money_is_shown_to_the_cent_with_the_currencys_symbol_or_code() -> None:
    assert money_shown("1234.5", "USD") == "$1,234.50"
    assert money_shown(Decimal("0.125"), "EUR") == "€0.13"
    assert money_shown("12.5", "CHF") == "12.50 CHF"
    assert money_shown("-3", "GBP") == "-£3.00"
    assert money_shown(None, "USD") == ""
    assert load_settings({"INVENTORY_ENV": "development", "INVENTORY_CURRENCY": " cad "}).currency == "CAD"
    with pytest.raises(InvalidInput, match="three-letter currency code, like USD or CAD"):
        load_settings({"INVENTORY_ENV": "development", "INVENTORY_CURRENCY": "dollars"})
