"""The kit pages: an admin says what goes into one kit; a coordinator makes kits from the van's shelf and
takes some apart; a lot number that cannot be one is refused beside its field, and nothing is taken."""

from __future__ import annotations

import pytest
from flask import Flask

from inventory.application import InventoryApplication
from tests.web.conftest import ADMIN
from tests.web.pages.conftest import Person


@pytest.fixture
def shelved(flask_app: Flask, inventory: InventoryApplication, people: dict[str, Person]) -> dict[str, Person]:
    """At the van: 10 naloxone kits and 200 syringes (the state's); an overdose response kit with no recipe yet."""
    inventory.receive_stock(site="VAN-1", sku="NALOX-4MG", lot="N-1", quantity=10, expires_on="2098-06-30",
                            funding_source="STATE", actor=ADMIN)  # fmt: skip
    inventory.receive_stock(site="VAN-1", sku="SYR-1ML", lot="S-1", quantity=200, expires_on=None,
                            funding_source="STATE", actor=ADMIN)  # fmt: skip
    inventory.register_item(sku="KIT-OR", name="Overdose response kit", category="kit", unit="kit",
                            tracks_expiry=True, actor=ADMIN)  # fmt: skip
    flask_app.extensions["inventory"].projector.catch_up()
    return people


def html(response: object) -> str:
    return response.get_data(as_text=True)  # type: ignore[attr-defined, no-any-return]


def test_an_admin_sets_a_recipe_and_a_coordinator_makes_kits_and_takes_one_apart(
    shelved: dict[str, Person], inventory: InventoryApplication
) -> None:
    admin, coordinator = shelved["admin"], shelved["coordinator"]
    assert "no recipe yet" in html(coordinator.get("/sites/VAN-1/kits"))
    form = {"effective_from": "2026-01-01", "parts-0-sku": "NALOX-4MG", "parts-0-quantity": "1",
            "parts-1-sku": "SYR-1ML", "parts-1-quantity": "10"}  # fmt: skip
    saved = admin.post("/admin/kits/KIT-OR", form, token_from="/admin/kits/KIT-OR")
    assert saved.status_code == 302
    assert "1 Naloxone 4 mg" in html(admin.get("/admin/kits/KIT-OR"))
    assert admin.get("/admin/kits/NALOX-4MG").status_code == 404  # not a kit

    page = html(coordinator.get("/sites/VAN-1/kits"))
    assert "the shelf makes 10 now" in page
    bad = coordinator.post("/sites/VAN-1/kits", {"kit": "KIT-OR", "quantity": "4", "lot": "OR\x00-1"},
                           token_from="/sites/VAN-1/kits")  # fmt: skip
    assert bad.status_code == 422 and inventory.stock("VAN-1", "NALOX-4MG")["on_hand"] == 10
    too_many = coordinator.post(
        "/sites/VAN-1/kits", {"kit": "KIT-OR", "quantity": "11"}, token_from="/sites/VAN-1/kits"
    )
    assert too_many.status_code == 409 and "Only 10 kits of NALOX-4MG left at VAN-1" in html(too_many)
    made = coordinator.post("/sites/VAN-1/kits", {"kit": "KIT-OR", "quantity": "4", "lot": "OR-1"},
                            token_from="/sites/VAN-1/kits")  # fmt: skip
    assert made.status_code == 302
    page = html(coordinator.get("/sites/VAN-1/kits"))
    assert "Made 4 kits of KIT-OR at VAN-1: lot OR-1 (4)." in page and "the shelf makes 6 now" in page
    assert inventory.stock("VAN-1", "SYR-1ML")["on_hand"] == 160

    apart = coordinator.post("/sites/VAN-1/kits/apart", {"apart-lot": "KIT-OR|OR-1", "apart-quantity": "1"},
                             token_from="/sites/VAN-1/kits")  # fmt: skip
    assert apart.status_code == 302
    assert "Took 1 kit of lot OR-1 apart: 1 NALOX-4MG to lot N-1, 10 SYR-1ML to lot S-1." in html(
        coordinator.get("/sites/VAN-1/kits")
    )
    assert inventory.stock("VAN-1", "KIT-OR")["on_hand"] == 3 and inventory.stock("VAN-1", "SYR-1ML")["on_hand"] == 170
    # The kits show on the van's stock like any item, and on the visit page.
    assert "OR-1" in html(coordinator.get("/sites/VAN-1/stock"))
    assert "Overdose response kit" in html(coordinator.get("/sites/VAN-1/encounters/new"))
    assert coordinator.get("/admin/kits/KIT-OR").status_code == 403
