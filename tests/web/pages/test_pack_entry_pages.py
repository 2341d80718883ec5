"""Entering stock in packs on the pages: a delivery, an order's receipt, a count, a transfer and an order line
typed in boxes or cases land as units of issue, and the page says both; the admin sets an item's packs and
doses; a suggested order rounds up to whole packs of the supplier's pack."""

from __future__ import annotations

import html
import re
from typing import Any

import pytest
from flask import Flask

from inventory.application import InventoryApplication
from inventory.projections import queries
from tests.web.conftest import ADMIN, day
from tests.web.pages.conftest import Person

SYRINGE_PACKS = [{"name": "box", "units": 100}, {"name": "case", "units": 1_000}]


def field_error(page: str, name: str) -> str:
    """The error shown under one field ('' if none), as a person reads it."""
    found = re.search(rf'<small id="{re.escape(name)}-error" class="field-error">(.*?)</small>', page, re.S)
    return html.unescape(found.group(1)) if found else ""


def shown(page: str) -> str:
    """The page's text as a person reads it: tags gone, spaces squeezed."""
    return html.unescape(re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", page)))


def lots(flask_app: Flask, site: str, sku: str) -> dict[str, int]:
    store = flask_app.extensions["inventory"].store
    return {row["lot"]: int(row["quantity"]) for row in queries.stock_on_hand(store, site, sku)}


def head(flask_app: Flask) -> int:
    return int(flask_app.extensions["inventory"].projector.head())


@pytest.fixture
def boxed(flask_app: Flask, inventory: InventoryApplication, people: dict[str, Person]) -> dict[str, Person]:
    """Syringes come in boxes of 100 and cases of 1,000; naloxone kits in no pack; everyone signed in."""
    inventory.change_item_units(sku="SYR-1ML", packs=SYRINGE_PACKS, doses_per_unit=None, actor=ADMIN)
    flask_app.extensions["inventory"].projector.catch_up()
    return people


def receipt(**changes: Any) -> dict[str, Any]:
    return {"sku": "SYR-1ML", "quantity": "3", "pack": "box", "lot": "S-BOX-1", "funding_source": "STATE",
            "received_on": day(0).isoformat(), **changes}  # fmt: skip


def test_a_delivery_entered_in_boxes_is_recorded_in_syringes_and_said_both_ways(
    flask_app: Flask, boxed: dict[str, Person]
) -> None:
    admin = boxed["admin"]
    response = admin.post("/sites/WH/receive", receipt())
    assert response.status_code == 302, field_error(response.get_data(as_text=True), "pack")
    assert lots(flask_app, "WH", "SYR-1ML") == {"S-BOX-1": 300}
    store = flask_app.extensions["inventory"].store
    assert store.fetchall("SELECT quantity FROM stock_movements WHERE kind = 'received'") == [(300,)]
    page = shown(admin.get("/sites/WH/receive").get_data(as_text=True))
    assert "Received 3 boxes of 100 (300 syringes) of Syringe 1 mL lot S-BOX-1 at WH" in page
    assert "WH now has 300 syringes of SYR-1ML." in page
    # In units, as before: 40 more syringes.
    assert admin.post("/sites/WH/receive", receipt(quantity="40", pack="")).status_code == 302
    assert lots(flask_app, "WH", "SYR-1ML") == {"S-BOX-1": 340}


def test_the_in_choice_is_offered_only_for_items_that_come_in_packs(
    flask_app: Flask, inventory: InventoryApplication, people: dict[str, Person]
) -> None:
    admin = people["admin"]
    assert 'name="pack"' not in admin.get("/sites/WH/receive").get_data(as_text=True)
    inventory.change_item_units(sku="SYR-1ML", packs=SYRINGE_PACKS, doses_per_unit=None, actor=ADMIN)
    flask_app.extensions["inventory"].projector.catch_up()
    form = admin.get("/sites/WH/receive").get_data(as_text=True)
    choice = re.search(r'<select[^>]*name="pack"[^>]*>(.*?)</select>', form, re.S)
    assert choice is not None
    options = re.findall(r"<option[^>]*>([^<]*)</option>", choice.group(1))
    assert options == ["units of issue", "boxes of 100", "cases of 1,000"]
    # Per line: beside the syringes' count, not beside the kits'.
    for sku, lot, expiry in (("NALOX-4MG", "N-1", "2030-01-31"), ("SYR-1ML", "S-1", None)):
        inventory.receive_stock(site="VAN-1", sku=sku, lot=lot, quantity=50, expires_on=expiry, funding_source="STATE",
                                actor=ADMIN)  # fmt: skip
    flask_app.extensions["inventory"].projector.catch_up()
    count = people["coordinator"].get("/sites/VAN-1/count").get_data(as_text=True)
    assert 'name="lines-1-pack"' in count and 'name="lines-0-pack"' not in count
    line = re.search(r'<select[^>]*name="lines-1-pack"[^>]*>(.*?)</select>', count, re.S)
    assert line is not None and re.findall(r"<option[^>]*>([^<]*)</option>", line.group(1)) == [
        "syringes",
        "boxes of 100",
        "cases of 1,000",
    ]


def test_a_pack_the_item_does_not_come_in_is_refused_beside_the_choice_and_nothing_is_recorded(
    flask_app: Flask, boxed: dict[str, Person]
) -> None:
    admin = boxed["admin"]
    before = head(flask_app)
    refused = admin.post("/sites/WH/receive", receipt(pack="crate"))
    assert refused.status_code == 422
    assert field_error(refused.get_data(as_text=True), "pack") == (
        "There is no pack called 'crate' for this item: it comes in boxes of 100 ('box') or cases of 1,000 ('case'). "
        "Enter the quantity in one of those, or in syringes."
    )
    kits = admin.post("/sites/WH/receive", receipt(sku="NALOX-4MG", expires_on="2030-01-31"))
    assert kits.status_code == 422
    assert "it has no packs, so enter the quantity in kits" in field_error(kits.get_data(as_text=True), "pack")
    assert head(flask_app) == before and lots(flask_app, "WH", "SYR-1ML") == {}


def test_a_count_entered_in_boxes_makes_on_hand_that_many_syringes(
    flask_app: Flask, inventory: InventoryApplication, boxed: dict[str, Person]
) -> None:
    inventory.receive_stock(site="VAN-1", sku="SYR-1ML", lot="VS-1", quantity=250, expires_on=None,
                            funding_source="STATE", actor=ADMIN)  # fmt: skip
    flask_app.extensions["inventory"].projector.catch_up()
    coordinator = boxed["coordinator"]
    sent = {"lines-0-sku": "SYR-1ML", "lines-0-lot": "VS-1", "lines-0-counted": "2", "lines-0-pack": "box"}
    response = coordinator.post("/sites/VAN-1/count", sent)
    assert response.status_code == 302, response.get_data(as_text=True)[:2000]
    assert lots(flask_app, "VAN-1", "SYR-1ML") == {"VS-1": 200}
    page = coordinator.get("/sites/VAN-1/count").get_data(as_text=True)
    row = re.search(r'<li data-lot="VS-1">(.*?)</li>', page, re.S)
    assert row is not None
    assert shown(row.group(1)).strip() == (
        "Syringe 1 mL lot VS-1 Expected 250 · counted 2 boxes of 100 (200 syringes) · \u221250 fewer"
    )
    # A pack it does not come in: nothing counted.
    refused = coordinator.post("/sites/VAN-1/count", {**sent, "lines-0-pack": "pallet"})
    assert refused.status_code == 422
    assert "no pack called 'pallet'" in field_error(refused.get_data(as_text=True), "lines-0-pack")
    assert lots(flask_app, "VAN-1", "SYR-1ML") == {"VS-1": 200}


def test_a_transfer_sent_in_boxes_leaves_in_syringes(
    flask_app: Flask, inventory: InventoryApplication, boxed: dict[str, Person]
) -> None:
    inventory.receive_stock(site="WH", sku="SYR-1ML", lot="S-1", quantity=500, expires_on=None,
                            funding_source="STATE", actor=ADMIN)  # fmt: skip
    flask_app.extensions["inventory"].projector.catch_up()
    admin = boxed["admin"]
    sent = {"to_site": "VAN-1", "lines-0-sku": "SYR-1ML", "lines-0-quantity": "2", "lines-0-pack": "box",
            "lines-0-lot": ""}  # fmt: skip
    response = admin.post("/sites/WH/transfers/new", sent)
    assert response.status_code == 302, response.get_data(as_text=True)[:2000]
    assert lots(flask_app, "WH", "SYR-1ML") == {"S-1": 300}
    page = shown(admin.get("/transfers").get_data(as_text=True))
    assert "Sent from WH to VAN-1: 2 boxes of 100 (200 syringes) of Syringe 1 mL." in page


def test_an_order_line_in_cases_is_ordered_in_syringes_and_received_in_boxes(
    flask_app: Flask, inventory: InventoryApplication, boxed: dict[str, Person]
) -> None:
    buyer = boxed["purchasing"]
    raised = buyer.post(
        "/purchase-orders/new",
        {"site": "WH", "supplier": "Matrix Supply", "funding_source": "STATE", "lines-0-sku": "SYR-1ML",
         "lines-0-quantity": "2", "lines-0-pack": "case"},
    )  # fmt: skip
    assert raised.status_code == 302, raised.get_data(as_text=True)[:2000]
    order_id = raised.headers["Location"].rsplit("/", 1)[-1]
    order = inventory.purchase_order(order_id)
    assert [(line["sku"], line["quantity"]) for line in order["lines"]] == [("SYR-1ML", 2_000)]
    assert "2 cases of 1,000 (2,000 syringes) of SYR-1ML" in shown(buyer.get(f"/purchase-orders/{order_id}").get_data(
        as_text=True))  # fmt: skip
    inventory.submit_purchase_order(order_id=order_id, actor=ADMIN)
    flask_app.extensions["inventory"].projector.catch_up()

    path = f"/purchase-orders/{order_id}/receive"
    line = {"lines-0-sku": "SYR-1ML", "lines-0-lot": "S-PO-1", "received_on": day(0).isoformat()}
    too_many = buyer.post(path, {**line, "lines-0-quantity": "3", "lines-0-pack": "case"})
    assert too_many.status_code == 422
    assert "Only 2,000 are still to come" in field_error(too_many.get_data(as_text=True), "lines-0-quantity")
    received = buyer.post(path, {**line, "lines-0-quantity": "3", "lines-0-pack": "box"})
    assert received.status_code == 302, received.get_data(as_text=True)[:2000]
    assert lots(flask_app, "WH", "SYR-1ML") == {"S-PO-1": 300}
    assert [line["outstanding"] for line in inventory.purchase_order(order_id)["lines"]] == [1_700]
    assert "3 boxes of 100 (300 syringes) of SYR-1ML lot S-PO-1" in shown(
        buyer.get(f"/purchase-orders/{order_id}").get_data(as_text=True)
    )


def test_a_suggested_order_rounds_up_to_whole_packs_of_the_suppliers_pack(
    flask_app: Flask, inventory: InventoryApplication, boxed: dict[str, Person]
) -> None:
    """Par 1,250 with nothing on hand: 1,300 in boxes of 100 (the supplier's, the first), not 2,000 in cases."""
    inventory.set_stock_level(site="WH", sku="SYR-1ML", reorder_point=200, par_level=1_250, lead_time_days=7,
                              actor=ADMIN)  # fmt: skip
    flask_app.extensions["inventory"].projector.catch_up()
    page = boxed["purchasing"].get("/purchase-orders/new?site=WH&sku=SYR-1ML").get_data(as_text=True)
    assert "Suggested: <strong data-suggested>1,300 syringes</strong>" in page
    assert "(13 boxes of 100)" in page
    assert re.search(r'data-figure="pack_size">100<', page)


def test_the_admin_sets_an_items_packs_and_doses_and_the_list_says_them(
    flask_app: Flask, inventory: InventoryApplication, people: dict[str, Person]
) -> None:
    admin = people["admin"]
    path = "/admin/items/NALOX-4MG/units"
    same_name = admin.post(path, {"packs-0-name": "case", "packs-0-units": "24", "packs-1-name": "Case",
                                  "packs-1-units": "48", "doses_per_unit": "2"})  # fmt: skip
    assert same_name.status_code == 422
    assert "already a pack called 'Case'" in field_error(same_name.get_data(as_text=True), "packs-1-name")
    assert inventory.item("NALOX-4MG")["packs"] == []
    saved = admin.post(path, {"packs-0-name": "case", "packs-0-units": "24", "doses_per_unit": "2"})
    assert saved.status_code == 302 and saved.headers["Location"] == "/admin/items"
    item = inventory.item("NALOX-4MG")
    assert (item["packs"], item["pack_size"], item["doses_per_unit"]) == ([{"name": "case", "units": 24}], 24, 2)
    listed = admin.get("/admin/items").get_data(as_text=True)
    assert "Packs and doses of NALOX-4MG saved: case of 24 · 2 doses a kit." in html.unescape(listed)
    entry = re.search(r'<li class="[^"]*" data-sku="NALOX-4MG">(.*?)</li>', listed, re.S)
    assert entry is not None and "case of 24 · 2 doses a kit" in shown(entry.group(1))
    # The page opens with what is set, and a blank row to add another.
    form = admin.get(path).get_data(as_text=True)
    assert 'name="packs-0-name"' in form and 'value="case"' in form and 'name="packs-1-name"' in form
    # Cleared: sold singly again, not counted in doses.
    assert admin.post(path, {"packs-0-name": "", "packs-0-units": "", "doses_per_unit": ""}).status_code == 302
    item = inventory.item("NALOX-4MG")
    assert (item["packs"], item["pack_size"], item["doses_per_unit"]) == ([], 1, None)
