"""Counts and adjustments through the pages: on hand becomes the count; corrections carry a reason."""

from __future__ import annotations

import html
import re
from typing import Any

import pytest
from flask import Flask

from inventory.application import InventoryApplication
from inventory.projections import queries
from tests.web.conftest import ADMIN
from tests.web.pages.conftest import Person


def field_error(page: str, name: str) -> str:
    """The error shown under one field ('' if none), as a person reads it."""
    found = re.search(rf'<small id="{name}-error" class="field-error">(.*?)</small>', page, re.S)
    return html.unescape(found.group(1)) if found else ""


def lots(flask_app: Flask, site: str, sku: str) -> dict[str, int]:
    store = flask_app.extensions["inventory"].store
    return {row["lot"]: row["quantity"] for row in queries.stock_on_hand(store, site, sku)}


@pytest.fixture
def van(flask_app: Flask, inventory: InventoryApplication, people: dict[str, Person]) -> dict[str, Person]:
    """40 naloxone kits (lot V-1) and 200 syringes (lot VS-1) in the van; 10 kits at WH; everyone signed in."""
    for site, sku, lot, quantity, expiry in (
        ("VAN-1", "NALOX-4MG", "V-1", 40, "2030-01-31"),
        ("VAN-1", "SYR-1ML", "VS-1", 200, None),
        ("WH", "NALOX-4MG", "W-1", 10, "2030-01-31"),
    ):
        inventory.receive_stock(
            site=site, sku=sku, lot=lot, quantity=quantity, expires_on=expiry, funding_source="STATE", actor=ADMIN
        )
    flask_app.extensions["inventory"].projector.catch_up()
    return people


# The count form lists the lots on hand by item: NALOX-4MG lot V-1, then SYR-1ML lot VS-1.
def counted(naloxone: str, syringes: str = "") -> dict[str, str]:
    return {
        "lines-0-sku": "NALOX-4MG",
        "lines-0-lot": "V-1",
        "lines-0-counted": naloxone,
        "lines-1-sku": "SYR-1ML",
        "lines-1-lot": "VS-1",
        "lines-1-counted": syringes,
    }


def adjustment(**changes: Any) -> dict[str, Any]:
    return {"sku": "NALOX-4MG", "lot": "V-1", "reason": "damaged", "quantity": "2", "note": "", **changes}


def test_a_count_with_a_difference_makes_on_hand_the_count_and_shows_the_difference(
    flask_app: Flask, van: dict[str, Person]
) -> None:
    coordinator = van["coordinator"]
    form = coordinator.get("/sites/VAN-1/count").get_data(as_text=True)
    # A blind count: each lot asks for its count in its unit, never says what the record holds.
    assert "Count the kits" in form and "Count the syringes" in form
    assert "Expected" not in form and not re.search(r"\b(40|200)\b", re.sub(r"<[^>]+>", " ", form))
    response = coordinator.post("/sites/VAN-1/count", counted("37"))
    assert response.status_code == 302 and response.headers["Location"] == "/sites/VAN-1/count"
    assert lots(flask_app, "VAN-1", "NALOX-4MG") == {"V-1": 37}
    assert lots(flask_app, "VAN-1", "SYR-1ML") == {"VS-1": 200}  # left empty: not counted
    page = coordinator.get("/sites/VAN-1/count").get_data(as_text=True)
    assert "Count recorded at VAN-1: 1 lot, 1 different from the stock on record" in page
    row = re.search(r'<li data-lot="V-1">(.*?)</li>', page, re.S)
    assert row is not None
    said = re.sub(r"\s+", " ", re.sub(r"<[^>]+>", "", row.group(1))).strip()
    assert said == "Naloxone 4 mg lot V-1 Expected 40 · counted 37 · \u22123 fewer"
    assert 'data-lot="V-1"' not in coordinator.get("/sites/VAN-1/count").get_data(as_text=True)  # shown once
    # A count that matches records no difference.
    assert coordinator.post("/sites/VAN-1/count", counted("", "200")).status_code == 302
    assert "1 lot, all as expected" in coordinator.get("/sites/VAN-1/count").get_data(as_text=True)


def test_a_count_needs_whole_numbers_and_at_least_one_lot(flask_app: Flask, van: dict[str, Person]) -> None:
    coordinator = van["coordinator"]
    nothing = coordinator.post("/sites/VAN-1/count", counted(""))
    assert nothing.status_code == 422
    assert "Enter the count for at least one lot" in nothing.get_data(as_text=True)
    wrong = coordinator.post("/sites/VAN-1/count", counted("-1", "about 200"))
    assert wrong.status_code == 422
    page = wrong.get_data(as_text=True)
    assert field_error(page, "lines-0-counted") == "Enter a whole number from 0 to 10,000,000."
    assert field_error(page, "lines-1-counted") == "Enter a whole number, like 12."
    assert 'value="about 200"' in page
    assert "Some counts need fixing: see the lots marked below." in page
    assert lots(flask_app, "VAN-1", "NALOX-4MG") == {"V-1": 40}


def test_an_adjustment_with_a_reason_changes_on_hand(flask_app: Flask, van: dict[str, Person]) -> None:
    coordinator = van["coordinator"]
    response = coordinator.post("/sites/VAN-1/adjust", adjustment(note="box soaked"))
    assert response.status_code == 302
    assert lots(flask_app, "VAN-1", "NALOX-4MG") == {"V-1": 38}
    page = coordinator.get("/sites/VAN-1/adjust").get_data(as_text=True)
    assert "Adjusted Naloxone 4 mg lot V-1 at VAN-1 by \u22122 (damaged). That lot now holds 38 kits." in page
    assert "Note (no names or personal details)" in page
    assert coordinator.post("/sites/VAN-1/adjust", adjustment(reason="found", quantity="5")).status_code == 302
    assert lots(flask_app, "VAN-1", "NALOX-4MG") == {"V-1": 43}


def test_taking_out_more_than_the_lot_holds_is_refused_next_to_the_quantity(
    flask_app: Flask, van: dict[str, Person]
) -> None:
    response = van["coordinator"].post("/sites/VAN-1/adjust", adjustment(reason="lost", quantity="50"))
    assert response.status_code == 409
    page = response.get_data(as_text=True)
    assert field_error(page, "quantity") == "Only 40 kits of NALOX-4MG left at VAN-1 in lot V-1; 50 requested."
    assert 'value="50"' in page and '<option selected value="lost">' in page
    assert lots(flask_app, "VAN-1", "NALOX-4MG") == {"V-1": 40}


def test_an_adjustment_goes_out_or_in_by_choice_never_by_a_typed_sign(flask_app: Flask, van: dict[str, Person]) -> None:
    """A phone's number pad may have no minus sign: the person chooses Out or In, and types how many."""
    coordinator = van["coordinator"]
    wrong_way = coordinator.post("/sites/VAN-1/adjust", adjustment(direction="in", quantity="3"))
    assert wrong_way.status_code == 422
    assert field_error(wrong_way.get_data(as_text=True), "direction") == "Damaged stock goes out: choose Out."
    either = coordinator.post("/sites/VAN-1/adjust", adjustment(reason="returned", quantity="3"))
    assert field_error(either.get_data(as_text=True), "direction") == "Returned can go either way: choose Out or In."
    signed = coordinator.post("/sites/VAN-1/adjust", adjustment(quantity="-2"))
    assert field_error(signed.get_data(as_text=True), "quantity") == "Enter a whole number from 1 to 10,000,000."
    form = coordinator.get("/sites/VAN-1/adjust").get_data(as_text=True)
    assert 'value="out"' in form and 'value="in"' in form and "negative" not in form.lower()
    assert lots(flask_app, "VAN-1", "NALOX-4MG") == {"V-1": 40}
    assert (
        coordinator.post("/sites/VAN-1/adjust", adjustment(reason="returned", direction="in", quantity="3")).status_code
        == 302
    )
    assert (
        coordinator.post(
            "/sites/VAN-1/adjust", adjustment(reason="correction", direction="out", quantity="1")
        ).status_code
        == 302
    )
    assert lots(flask_app, "VAN-1", "NALOX-4MG") == {"V-1": 42}


def test_an_adjustment_checks_its_lot(flask_app: Flask, van: dict[str, Person]) -> None:
    coordinator = van["coordinator"]
    # A lot of another item is not this item's lot (it would open a new lot under the wrong item).
    mixed = coordinator.post("/sites/VAN-1/adjust", adjustment(sku="SYR-1ML", lot="V-1", reason="found", quantity="3"))
    assert mixed.status_code == 422
    assert "Lot V-1 of SYR-1ML is not on hand here" in field_error(mixed.get_data(as_text=True), "lot")
    assert lots(flask_app, "VAN-1", "NALOX-4MG") == {"V-1": 40} and lots(flask_app, "VAN-1", "SYR-1ML") == {"VS-1": 200}


def test_stock_found_in_a_new_lot_needs_its_expiry_and_funding(flask_app: Flask, van: dict[str, Person]) -> None:
    coordinator = van["coordinator"]
    found = adjustment(lot="", new_lot="V-9", reason="found", quantity="6", funding_source="STATE")
    no_expiry = coordinator.post("/sites/VAN-1/adjust", found)
    assert no_expiry.status_code == 422
    assert "NALOX-4MG tracks expiry" in field_error(no_expiry.get_data(as_text=True), "expires_on")
    assert coordinator.post("/sites/VAN-1/adjust", {**found, "expires_on": "2029-05-31"}).status_code == 302
    assert lots(flask_app, "VAN-1", "NALOX-4MG") == {"V-1": 40, "V-9": 6}


def test_who_may_count_and_adjust_where(flask_app: Flask, van: dict[str, Person]) -> None:
    coordinator = van["coordinator"]
    choose = coordinator.get("/count")
    assert choose.status_code == 302 and choose.headers["Location"] == "/sites/VAN-1/count"
    assert coordinator.get("/sites/WH/count").status_code == 403
    assert coordinator.get("/sites/WH/adjust").status_code == 403
    token_page = "/sites/VAN-1/adjust"
    assert coordinator.post("/sites/WH/adjust", adjustment(lot="W-1"), token_from=token_page).status_code == 403
    assert coordinator.post("/sites/WH/count", {}, token_from=token_page).status_code == 403
    assert lots(flask_app, "WH", "NALOX-4MG") == {"W-1": 10}
    assert van["purchasing"].get("/count").status_code == 403
    both = van["admin"].get("/count").get_data(as_text=True)
    assert "/sites/WH/count" in both and "/sites/VAN-1/adjust" in both
