"""Undo on the visit's confirmation, and Void or correct from the stock card, as a coordinator works.

Each change is recorded beside the entry, which stays in the history; the stock changes on the
entry's own date, and the pages say so in a coordinator's words.
"""

from __future__ import annotations

import html
import re
from datetime import UTC, datetime, timedelta

from flask import Flask

from inventory.application import InventoryApplication
from inventory.projections import queries
from tests.clock import Clock
from tests.web.pages.conftest import Person

ADMIN = "root@example.org"


def stock_of(flask_app: Flask, sku: str = "NALOX-4MG") -> int:
    found = flask_app.extensions["inventory"]
    found.projector.catch_up()
    return sum(r["quantity"] for r in queries.stock_on_hand(found.store, "VAN-1") if r["sku"] == sku)


def stocked(flask_app: Flask, inventory: InventoryApplication, quantity: int = 20) -> int:
    answer = inventory.receive_stock(site="VAN-1", sku="NALOX-4MG", lot="V-1", quantity=quantity,
                                     expires_on="2030-01-31", funding_source="STATE", actor=ADMIN,
                                     occurred_at=datetime.now(UTC) - timedelta(days=2))  # fmt: skip
    flask_app.extensions["inventory"].projector.catch_up()
    return int(answer["position"])


def test_a_visit_recorded_by_mistake_is_undone_from_its_confirmation(
    flask_app: Flask, inventory: InventoryApplication, people: dict[str, Person]
) -> None:
    stocked(flask_app, inventory)
    flask_app.extensions["inventory"].projector.catch_up()
    coordinator = people["coordinator"]
    form = coordinator.get("/sites/VAN-1/encounters/new").get_data(as_text=True)
    key = re.search(r'name="key" type="hidden" value="([^"]+)"', form) or re.search(
        r'id="key" name="key"[^>]*value="([^"]+)"', form
    )
    assert key is not None
    recorded = coordinator.post("/sites/VAN-1/encounters/new", {"key": key.group(1), "qty_NALOX-4MG": "2"})
    assert recorded.status_code == 302 and "recorded=" in recorded.headers["Location"]
    assert stock_of(flask_app) == 18

    confirmation = html.unescape(coordinator.get(recorded.headers["Location"]).get_data(as_text=True))
    assert "Visit recorded" in confirmation
    [undo] = re.findall(r'href="(/visits/[^"]+/undo)">Undo this visit', confirmation)
    page = html.unescape(coordinator.get(undo).get_data(as_text=True))
    assert "Undo a visit" in page and "2 NALOX-4MG" in page and "Entered by mistake" in page

    done = coordinator.post(undo, {"reason": "entered_by_mistake"})
    assert done.status_code == 302 and done.headers["Location"] == "/sites/VAN-1/encounters/new"
    assert "Visit undone" in html.unescape(coordinator.get("/sites/VAN-1/encounters/new").get_data(as_text=True))
    assert stock_of(flask_app) == 20
    # Undone, the confirmation no longer offers it.
    assert "Undo this visit" not in coordinator.get(recorded.headers["Location"]).get_data(as_text=True)


def test_a_receipt_typed_wrong_is_corrected_from_the_stock_card(
    flask_app: Flask, inventory: InventoryApplication, people: dict[str, Person]
) -> None:
    position = stocked(flask_app, inventory, 200)
    coordinator = people["coordinator"]
    card = html.unescape(coordinator.get("/sites/VAN-1/stock/NALOX-4MG").get_data(as_text=True))
    assert f'href="/entries/{position}">Void or correct' in card

    page = coordinator.get(f"/entries/{position}").get_data(as_text=True)
    assert "Void or correct a receipt" in page
    refused = coordinator.post(f"/entries/{position}", {"do": "correct", "quantity": "", "reason": "wrong_quantity"})
    assert refused.status_code == 422 and "Enter the right figure." in refused.get_data(as_text=True)
    fixed = coordinator.post(f"/entries/{position}", {"do": "correct", "quantity": "20", "reason": "wrong_quantity"})
    assert fixed.status_code == 302 and fixed.headers["Location"] == "/sites/VAN-1/stock/NALOX-4MG"
    assert stock_of(flask_app) == 20

    card = html.unescape(coordinator.get("/sites/VAN-1/stock/NALOX-4MG").get_data(as_text=True))
    assert "The receipt is corrected to 20, on its own date." in card
    assert "Correction (200 → 20): Wrong quantity" in card and "entered later" in card


def test_past_the_window_a_coordinator_is_told_to_ask_an_admin(
    clock: Clock, flask_app: Flask, inventory: InventoryApplication, people: dict[str, Person]
) -> None:
    position = stocked(flask_app, inventory, 50)
    clock.advance(days=8)
    for who in ("coordinator", "admin"):  # signed in again: a session does not last a week
        people[who].sign_in()
    refused = people["coordinator"].post(f"/entries/{position}", {"do": "void", "reason": "entered_twice"})
    assert refused.status_code == 409
    assert "ask an admin" in html.unescape(refused.get_data(as_text=True))
    assert stock_of(flask_app) == 50
    assert people["admin"].post(f"/entries/{position}", {"do": "void", "reason": "entered_twice"}).status_code == 302
    assert stock_of(flask_app) == 0


def test_a_receipt_against_an_order_says_how_to_put_it_right_instead_of_not_found(
    flask_app: Flask, inventory: InventoryApplication, people: dict[str, Person]
) -> None:
    order = inventory.raise_purchase_order(
        supplier="Supply Co", site="WH", funding_source="STATE", lines=[{"sku": "SYR-1ML", "quantity": 100}],
        actor="root@example.org",
    )  # fmt: skip
    inventory.submit_purchase_order(order_id=order["id"], actor="root@example.org")
    inventory.receive_purchase_order(
        order_id=order["id"], lines=[{"sku": "SYR-1ML", "lot": "S-9", "quantity": 100, "expires_on": None}],
        actor="root@example.org",
    )  # fmt: skip
    flask_app.extensions["inventory"].projector.catch_up()
    [(position,)] = flask_app.extensions["inventory"].store.fetchall(
        "SELECT position FROM stock_movements WHERE kind = 'received' AND lot = 'S-9'"
    )
    page = people["admin"].get(f"/entries/{position}")
    assert page.status_code == 422  # not "not found": it is there, and is put right another way
    assert "Record the difference as an adjustment instead" in html.unescape(page.get_data(as_text=True))
