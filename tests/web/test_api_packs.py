"""Packs over the API: an admin sets an item's packs and doses; a receipt, a count, a transfer, an order and
an order's receipt may send a quantity in one of its packs (`pack`), and land in units of issue; a pack the
item does not come in is a 422 naming the ones it does, with nothing recorded."""

from __future__ import annotations

from typing import Any

import pytest
from flask import Flask

from tests.web.conftest import Caller, error, ok

UNITS = "/api/v1/items/SYR-1ML/units"
PACKS = [{"name": "box", "units": 100}, {"name": "case", "units": 1_000}]


def receipt(**changes: Any) -> dict[str, Any]:
    return {"site": "WH", "sku": "SYR-1ML", "lot": "S-1", "quantity": 3, "pack": "box", "funding_source": "STATE",
            **changes}  # fmt: skip


def head(flask_app: Flask) -> int:
    return int(flask_app.extensions["inventory"].projector.head())


def on_hand(caller: Caller, site: str, sku: str) -> int:
    return sum(int(row["quantity"]) for row in ok(caller.get("/api/v1/stock", site=site, sku=sku), 200))


@pytest.fixture
def boxed(staff: dict[str, Caller]) -> dict[str, Caller]:
    """Syringes come in boxes of 100 and cases of 1,000 (set over the API)."""
    ok(staff["admin"].put(UNITS, {"packs": PACKS}), 200)
    return staff


def test_an_admin_sets_an_items_packs_and_doses_and_the_catalog_shows_them(staff: dict[str, Caller]) -> None:
    admin = staff["admin"]
    item = ok(admin.put(UNITS, {"packs": PACKS, "doses_per_unit": None}), 200)
    assert (item["sku"], item["packs"], item["pack_size"], item["doses_per_unit"]) == ("SYR-1ML", PACKS, 100, None)
    cases = {"packs": [{"name": "case", "units": 24}], "doses_per_unit": 2}
    kits = ok(admin.put("/api/v1/items/NALOX-4MG/units", cases), 200)
    assert (kits["packs"], kits["pack_size"], kits["doses_per_unit"]) == ([{"name": "case", "units": 24}], 24, 2)
    listed = {row["sku"]: row for row in ok(admin.get("/api/v1/items"), 200)}
    assert listed["SYR-1ML"]["packs"] == PACKS and listed["NALOX-4MG"]["doses_per_unit"] == 2
    # Only an admin; an item that does not exist is not found; packs that cannot be told apart are refused.
    assert staff["coordinator"].put(UNITS, {"packs": []}).status_code == 403
    assert error(admin.put("/api/v1/items/NOPE/units", {"packs": []}), 404)
    same = error(admin.put(UNITS, {"packs": [{"name": "box", "units": 100}, {"name": "BOX", "units": 10}]}), 422)
    assert "already a pack called 'BOX'" in same["fields"]["packs[1].name"][0]
    assert error(admin.put(UNITS, {"packs": [{"name": "box", "units": 1}]}), 422)["fields"]
    assert error(admin.put(UNITS, {"packs": [], "doses_per_unit": 11}), 422)["fields"]
    assert ok(admin.get("/api/v1/items"), 200)[-1]["packs"] == PACKS  # refused: unchanged


def test_a_receipt_in_boxes_is_recorded_in_syringes(flask_app: Flask, boxed: dict[str, Caller]) -> None:
    admin = boxed["admin"]
    recorded = ok(admin.post("/api/v1/receipts", receipt()))
    assert recorded["on_hand"] == 300 and [lot["quantity"] for lot in recorded["lots"]] == [300]
    assert on_hand(admin, "WH", "SYR-1ML") == 300
    store = flask_app.extensions["inventory"].store
    assert store.fetchall("SELECT quantity FROM stock_movements WHERE kind = 'received'") == [(300,)]
    # Without a pack (or null), in units as before.
    assert ok(admin.post("/api/v1/receipts", receipt(quantity=7, pack=None)))["on_hand"] == 307


def test_a_count_in_boxes_is_recorded_in_syringes(boxed: dict[str, Caller]) -> None:
    admin = boxed["admin"]
    ok(admin.post("/api/v1/receipts", receipt(quantity=250, pack=None)))
    counted = ok(admin.post("/api/v1/counts", {"site": "WH", "sku": "SYR-1ML", "lot": "S-1", "counted": 2,
                                                "pack": "box"}))  # fmt: skip
    assert counted["on_hand"] == 200 and counted["variance"] == -50
    assert on_hand(admin, "WH", "SYR-1ML") == 200


def test_a_pack_the_item_does_not_come_in_is_refused_naming_its_packs(
    flask_app: Flask, boxed: dict[str, Caller]
) -> None:
    admin = boxed["admin"]
    before = head(flask_app)
    refused = error(admin.post("/api/v1/receipts", receipt(pack="crate")), 422, "invalid_input")
    assert refused["fields"] == {"pack": [refused["message"]]}
    assert "boxes of 100 ('box') or cases of 1,000 ('case')" in refused["message"]
    kits = error(admin.post("/api/v1/receipts", receipt(sku="NALOX-4MG", expires_on="2030-01-31")), 422)
    assert "it has no packs, so enter the quantity in kits" in kits["fields"]["pack"][0]
    line = {"sku": "SYR-1ML", "quantity": 1, "pack": "pallet"}
    sent = error(admin.post("/api/v1/transfers", {"from_site": "WH", "to_site": "VAN-1", "lines": [line]}), 422)
    assert list(sent["fields"]) == ["lines[0].pack"]
    unknown = error(admin.post("/api/v1/receipts", receipt(sku="NOPE")), 422, "unknown_item")
    assert list(unknown["fields"]) == ["sku"]
    assert head(flask_app) == before


def test_a_transfer_an_order_and_its_receipt_in_packs_are_in_syringes(boxed: dict[str, Caller]) -> None:
    admin = boxed["admin"]
    ok(admin.post("/api/v1/receipts", receipt(quantity=500, pack=None)))
    boxes = [{"sku": "SYR-1ML", "quantity": 2, "pack": "box"}]
    sent = ok(admin.post("/api/v1/transfers", {"from_site": "WH", "to_site": "VAN-1", "lines": boxes}))
    assert [line["quantity"] for line in sent["lines"]] == [200]
    assert on_hand(admin, "WH", "SYR-1ML") == 300

    cases = [{"sku": "SYR-1ML", "quantity": 2, "pack": "case"}]
    drafted = {"supplier": "Matrix Supply", "site": "WH", "funding_source": "STATE", "lines": cases}
    order = ok(admin.post("/api/v1/purchase-orders", drafted))
    assert [line["quantity"] for line in order["lines"]] == [2_000]
    ok(admin.post(f"/api/v1/purchase-orders/{order['id']}/submit", {}), 200)
    received = ok(admin.post(f"/api/v1/purchase-orders/{order['id']}/receipts",
                             {"lines": [{"sku": "SYR-1ML", "lot": "S-PO", "quantity": 5, "pack": "box"}]}))  # fmt: skip
    assert [(line["received"], line["outstanding"]) for line in received["lines"]] == [(500, 1_500)]
    assert on_hand(admin, "WH", "SYR-1ML") == 800
