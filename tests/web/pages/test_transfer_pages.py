"""Transfers through the pages: load the van at one site, book it in at the other, call one off."""

from __future__ import annotations

import html
import re
import uuid
from typing import Any

import pytest
from flask import Flask

from inventory.application import InventoryApplication
from inventory.projections import queries, transfer_queries
from tests.web.conftest import ADMIN
from tests.web.pages.conftest import Person


def field_error(page: str, name: str) -> str:
    """The error shown under one field ('' if none), as a person reads it."""
    found = re.search(rf'<small id="{name}-error" class="field-error">(.*?)</small>', page, re.S)
    return html.unescape(found.group(1)) if found else ""


def on_hand(flask_app: Flask, site: str, sku: str) -> int:
    return sum(row["quantity"] for row in queries.stock_on_hand(flask_app.extensions["inventory"].store, site, sku))


def in_transit(flask_app: Flask, site: str, sku: str) -> int:
    rows = queries.stock_levels(flask_app.extensions["inventory"].store, site, sku)
    return int(rows[0]["in_transit"]) if rows else 0


@pytest.fixture
def stocked(flask_app: Flask, inventory: InventoryApplication, people: dict[str, Person]) -> dict[str, Person]:
    """40 naloxone kits and 500 syringes at the warehouse, in the read models; everyone signed in."""
    inventory.receive_stock(
        site="WH", sku="NALOX-4MG", lot="N-1", quantity=40, expires_on="2030-01-31", funding_source="STATE", actor=ADMIN
    )
    inventory.receive_stock(
        site="WH", sku="SYR-1ML", lot="S-1", quantity=500, expires_on=None, funding_source="STATE", actor=ADMIN
    )
    flask_app.extensions["inventory"].projector.catch_up()
    return people


# Lines are the items on hand at the sender, by SKU: NALOX-4MG, then SYR-1ML.
def load(naloxone: int, syringes: int = 0, **extra: Any) -> dict[str, Any]:
    return {
        "to_site": "VAN-1",
        "lines-0-sku": "NALOX-4MG",
        "lines-0-quantity": str(naloxone),
        "lines-0-lot": "",
        "lines-1-sku": "SYR-1ML",
        "lines-1-quantity": str(syringes),
        "lines-1-lot": "",
        **extra,
    }


def dispatch(admin: Person, naloxone: int, syringes: int = 0) -> str:
    """Send from WH to VAN-1 through the page; the new transfer's id."""
    response = admin.post("/sites/WH/transfers/new", load(naloxone, syringes))
    assert response.status_code == 302 and response.headers["Location"] == "/transfers"
    found = re.findall(r'data-transfer="([0-9a-f-]{36})"', admin.get("/transfers").get_data(as_text=True))
    assert len(found) == 1
    return found[0]


def test_admin_loads_the_van_and_the_coordinator_books_it_in_with_a_shortfall(
    flask_app: Flask, stocked: dict[str, Person]
) -> None:
    admin, coordinator = stocked["admin"], stocked["coordinator"]
    the_id = dispatch(admin, 10, 100)
    assert (on_hand(flask_app, "WH", "NALOX-4MG"), on_hand(flask_app, "WH", "SYR-1ML")) == (30, 400)
    assert (in_transit(flask_app, "VAN-1", "NALOX-4MG"), in_transit(flask_app, "VAN-1", "SYR-1ML")) == (10, 100)
    listed = coordinator.get("/transfers").get_data(as_text=True)
    assert f"/transfers/{the_id}/receive" in listed
    assert f"/transfers/{the_id}/cancel" not in listed  # the coordinator may not act at WH, the sender
    form = coordinator.get(f"/transfers/{the_id}/receive").get_data(as_text=True)
    assert 'name="lines-0-quantity"' in form and 'value="10"' in form and 'value="100"' in form  # default: as sent
    response = coordinator.post(
        f"/transfers/{the_id}/receive",
        {"lines-0-quantity": "8", "lines-1-quantity": "100", "note": "one box crushed"},
    )
    assert response.status_code == 302
    assert (on_hand(flask_app, "VAN-1", "NALOX-4MG"), on_hand(flask_app, "VAN-1", "SYR-1ML")) == (8, 100)
    assert (in_transit(flask_app, "VAN-1", "NALOX-4MG"), in_transit(flask_app, "VAN-1", "SYR-1ML")) == (0, 0)
    assert on_hand(flask_app, "WH", "NALOX-4MG") == 30  # the shortfall does not go back to the sender
    recorded = transfer_queries.transfer(flask_app.extensions["inventory"].store, the_id)
    assert recorded is not None and recorded["status"] == "received"
    assert [(r["sku"], r["lot"], r["quantity"]) for r in recorded["shortfall"]] == [("NALOX-4MG", "N-1", 2)]
    page = coordinator.get("/transfers").get_data(as_text=True)
    assert "Shortfall recorded (did not arrive): 2 kits of NALOX-4MG lot N-1." in page


def test_sending_more_than_is_on_hand_is_refused_next_to_the_line(flask_app: Flask, stocked: dict[str, Person]) -> None:
    response = stocked["admin"].post("/sites/WH/transfers/new", load(50, 20))
    assert response.status_code == 409
    page = response.get_data(as_text=True)
    assert field_error(page, "lines-0-quantity") == "Only 40 kits of NALOX-4MG left at WH; 50 requested."
    assert field_error(page, "lines-1-quantity") == ""
    assert 'value="50"' in page and 'value="20"' in page and '<option selected value="VAN-1">' in page
    assert on_hand(flask_app, "WH", "NALOX-4MG") == 40 and on_hand(flask_app, "WH", "SYR-1ML") == 500
    empty = stocked["admin"].post("/sites/WH/transfers/new", load(0, 0))
    assert empty.status_code == 422 and "Enter a quantity for at least one item to send." in empty.get_data(
        as_text=True
    )


def test_receiving_more_than_was_sent_is_refused_next_to_the_line(flask_app: Flask, stocked: dict[str, Person]) -> None:
    the_id = dispatch(stocked["admin"], 10)
    response = stocked["coordinator"].post(f"/transfers/{the_id}/receive", {"lines-0-quantity": "12"})
    assert response.status_code == 422
    assert field_error(response.get_data(as_text=True), "lines-0-quantity").startswith("Only 10 were sent.")
    assert on_hand(flask_app, "VAN-1", "NALOX-4MG") == 0 and in_transit(flask_app, "VAN-1", "NALOX-4MG") == 10


def test_the_sender_cancels_and_the_stock_is_back(flask_app: Flask, stocked: dict[str, Person]) -> None:
    admin = stocked["admin"]
    the_id = dispatch(admin, 10)
    assert admin.post(f"/transfers/{the_id}/cancel", {"reason": ""}).status_code == 422
    response = admin.post(f"/transfers/{the_id}/cancel", {"reason": "Trip called off"})
    assert response.status_code == 302
    assert on_hand(flask_app, "WH", "NALOX-4MG") == 40 and in_transit(flask_app, "VAN-1", "NALOX-4MG") == 0
    assert "back in stock at WH" in admin.get("/transfers").get_data(as_text=True)
    # Nothing is left to receive, and a second cancel is refused by the domain.
    assert "nothing left to receive" in admin.get(f"/transfers/{the_id}/receive").get_data(as_text=True)
    again = admin.post(f"/transfers/{the_id}/cancel", {"reason": "Trip called off"})
    assert again.status_code == 409 and "it cannot be cancelled" in again.get_data(as_text=True)


def test_who_may_send_receive_and_cancel_where(
    flask_app: Flask, inventory: InventoryApplication, stocked: dict[str, Person]
) -> None:
    coordinator = stocked["coordinator"]
    inventory.receive_stock(
        site="VAN-1",
        sku="NALOX-4MG",
        lot="V-1",
        quantity=5,
        expires_on="2030-01-31",
        funding_source="STATE",
        actor=ADMIN,
    )
    assert coordinator.get("/sites/WH/transfers/new").status_code == 403
    # Even with a valid form token from a page they may see, dispatching from WH is refused.
    refused = coordinator.post("/sites/WH/transfers/new", load(5), token_from="/transfers")
    assert refused.status_code == 403
    assert on_hand(flask_app, "WH", "NALOX-4MG") == 40
    the_id = dispatch(stocked["admin"], 10)
    assert coordinator.get(f"/transfers/{the_id}/cancel").status_code == 403  # WH's to call off
    assert (
        coordinator.post(
            f"/transfers/{the_id}/cancel", {"reason": "Trip called off"}, token_from="/transfers"
        ).status_code
        == 403
    )
    assert in_transit(flask_app, "VAN-1", "NALOX-4MG") == 10
    assert stocked["purchasing"].get("/transfers").status_code == 403
    # Stock going back from the van to the warehouse: WH books it in, not the van's coordinator.
    back = inventory.dispatch_transfer(
        from_site="VAN-1", to_site="WH", lines=[{"sku": "NALOX-4MG", "quantity": 3}], actor=ADMIN
    )["id"]
    flask_app.extensions["inventory"].projector.catch_up()
    assert coordinator.get(f"/transfers/{back}/receive").status_code == 403
    assert coordinator.post(f"/transfers/{back}/cancel", {"reason": "Wrong destination"}).status_code == 302
    assert on_hand(flask_app, "VAN-1", "NALOX-4MG") == 5
    assert coordinator.get(f"/transfers/{uuid.uuid4()}/receive").status_code == 404
    assert coordinator.get("/transfers/not-a-transfer/receive").status_code == 404


def test_a_transfer_received_at_the_wrong_van_is_voided_from_its_card(
    flask_app: Flask, stocked: dict[str, Person]
) -> None:
    admin, coordinator = stocked["admin"], stocked["coordinator"]
    the_id = dispatch(admin, 10, 100)
    assert coordinator.post(f"/transfers/{the_id}/receive", {"lines-0-quantity": "10", "lines-1-quantity": "100"})
    void_link = f"/transfers/{the_id}/void"
    # Received at VAN-1: voiding takes it back out of the van and into WH, so it needs both sites.
    assert void_link in admin.get("/transfers").get_data(as_text=True)
    assert void_link not in coordinator.get("/transfers").get_data(as_text=True)
    assert coordinator.get(void_link).status_code == 403
    form = admin.get(void_link).get_data(as_text=True)
    assert "comes out of VAN-1 as if it had never arrived" in form and 'name="reason"' in form
    assert admin.post(void_link, {"reason": ""}).status_code == 422

    done = admin.post(void_link, {"reason": "wrong_site"})

    assert done.status_code == 302 and done.headers["Location"] == "/transfers"
    listed = admin.get("/transfers").get_data(as_text=True)
    assert (
        "Transfer voided: the stock is back at WH as if it had never left, and out of VAN-1 as if it had never arrived."
        in listed
    )
    assert "Voided" in listed and void_link not in listed
    assert (on_hand(flask_app, "WH", "NALOX-4MG"), on_hand(flask_app, "WH", "SYR-1ML")) == (40, 500)
    assert (on_hand(flask_app, "VAN-1", "NALOX-4MG"), on_hand(flask_app, "VAN-1", "SYR-1ML")) == (0, 0)
    assert "This transfer is void already." in admin.get(void_link).get_data(as_text=True)


def test_a_transfer_still_on_its_way_is_voided_by_the_sender_and_a_cancelled_one_is_not(
    flask_app: Flask, stocked: dict[str, Person]
) -> None:
    admin = stocked["admin"]
    on_its_way = dispatch(admin, 10)
    assert "Entered by mistake? Void it" in admin.get("/transfers").get_data(as_text=True)
    assert admin.post(f"/transfers/{on_its_way}/void", {"reason": "entered_twice"}).status_code == 302
    assert on_hand(flask_app, "WH", "NALOX-4MG") == 40 and in_transit(flask_app, "VAN-1", "NALOX-4MG") == 0

    called_off = admin.post("/sites/WH/transfers/new", load(5))
    assert called_off.status_code == 302
    store = flask_app.extensions["inventory"].store
    [cancel_me] = [t["id"] for t in transfer_queries.transfers_in_transit(store)]
    assert admin.post(f"/transfers/{cancel_me}/cancel", {"reason": "Trip called off"}).status_code == 302
    refused = admin.post(f"/transfers/{cancel_me}/void", {"reason": "wrong_site"})
    assert refused.status_code == 409 and "there is nothing to void" in refused.get_data(as_text=True)
    assert stocked["coordinator"].get(f"/transfers/{uuid.uuid4()}/void").status_code == 404
