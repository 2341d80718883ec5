"""The held stock page (hold a lot, write it off, release it) and the recall pages (record a recall, follow
its units, download its workbook), as a coordinator, purchasing and an auditor."""

from __future__ import annotations

import io
import re

import pytest
from flask import Flask
from openpyxl import load_workbook

from inventory.application import InventoryApplication
from tests.web.conftest import ADMIN
from tests.web.pages.conftest import Person


@pytest.fixture
def stocked(flask_app: Flask, inventory: InventoryApplication, people: dict[str, Person]) -> dict[str, Person]:
    """The van: 10 kits of N-SOON (the maker's lot 23A45) and 30 of N-LATE; WH: 50 more of 23A45 as N-WH."""
    for site, lot, quantity, expires in (("VAN-1", "N-SOON", 10, "2098-06-30"), ("VAN-1", "N-LATE", 30, "2099-12-31"),
                                         ("WH", "N-WH", 50, "2098-06-30")):  # fmt: skip
        inventory.receive_stock(site=site, sku="NALOX-4MG", lot=lot, quantity=quantity, expires_on=expires,
                                funding_source="STATE", actor=ADMIN, manufacturer="Emergent",
                                manufacturer_lot="23A45" if lot != "N-LATE" else "24B01")  # fmt: skip
    flask_app.extensions["inventory"].projector.catch_up()
    return people


def html(response: object) -> str:
    return response.get_data(as_text=True)  # type: ignore[attr-defined, no-any-return]


def test_a_coordinator_holds_a_damaged_lot_writes_some_off_and_releases_the_rest(
    stocked: dict[str, Person], inventory: InventoryApplication
) -> None:
    coordinator = stocked["coordinator"]
    page = coordinator.get("/sites/VAN-1/held?sku=NALOX-4MG&lot=N-SOON")
    assert page.status_code == 200 and "No lot is held at VAN-1." in html(page)
    assert 'selected value="NALOX-4MG|N-SOON"' in html(page)
    held = coordinator.post("/sites/VAN-1/held", {"lot": "NALOX-4MG|N-SOON", "reason": "damaged"},
                            token_from="/sites/VAN-1/held")  # fmt: skip
    assert held.status_code == 302
    page = html(coordinator.get("/sites/VAN-1/held"))
    assert "Lot N-SOON of NALOX-4MG is held at VAN-1" in page and "Damaged" in page
    assert "Held: damaged" in html(coordinator.get("/sites/VAN-1/stock"))

    # A visit skips the held lot (first expiry first out takes N-LATE), and naming it is refused in words.
    visit = inventory.record_encounter(key="held-visit-0001", site="VAN-1", lines=[{"sku": "NALOX-4MG", "quantity": 2}],
                                       actor=ADMIN)  # fmt: skip
    assert [pick["lot"] for pick in visit["lines"][0]["lots"]] == ["N-LATE"]

    # 4 are destroyed; more than what is left is refused; the rest go back on the shelf.
    destroyed = {"sku": "NALOX-4MG", "lot": "N-SOON", "quantity": "4", "disposition": "destroyed"}
    gone = coordinator.post("/sites/VAN-1/held/write-off", destroyed, token_from="/sites/VAN-1/held")
    assert gone.status_code == 302
    page = html(coordinator.get("/sites/VAN-1/held"))
    assert "4 kits of lot N-SOON recorded as destroyed; 6 kits of it left here." in page
    too_many = coordinator.post("/sites/VAN-1/held/write-off", dict(destroyed, quantity="7"),
                                token_from="/sites/VAN-1/held")  # fmt: skip
    assert too_many.status_code == 302 and "Only 6 kits" in html(coordinator.get("/sites/VAN-1/held"))
    back = coordinator.post("/sites/VAN-1/held/release", {"sku": "NALOX-4MG", "lot": "N-SOON"},
                            token_from="/sites/VAN-1/held")  # fmt: skip
    assert back.status_code == 302
    assert "Lot N-SOON of NALOX-4MG is back on the shelf at VAN-1." in html(coordinator.get("/sites/VAN-1/held"))
    assert inventory.stock("VAN-1", "NALOX-4MG")["on_hand"] == 34  # 40 - 2 handed out - 4 destroyed
    # Another site's held stock is not the van coordinator's.
    assert coordinator.get("/sites/WH/held").status_code == 403


def test_purchasing_records_a_recall_and_the_auditor_follows_every_unit(
    flask_app: Flask, stocked: dict[str, Person], inventory: InventoryApplication
) -> None:
    buyer, auditor, coordinator = stocked["purchasing"], stocked["auditor"], stocked["coordinator"]
    assert coordinator.get("/recalls").status_code == 403  # every site's stock: not a coordinator's page
    form = buyer.get("/recalls")
    assert form.status_code == 200 and "Record a recall" in html(form) and "Emergent" in html(form)
    missing = buyer.post("/recalls/new", {"manufacturer": "Emergent", "manufacturer_lot": ""}, token_from="/recalls")
    assert missing.status_code == 422 and "Enter the lot number the recall names." in html(missing)
    done = buyer.post("/recalls/new", {"manufacturer": "Emergent", "manufacturer_lot": "23a45", "notice": "FDA-118"},
                      token_from="/recalls")  # fmt: skip
    assert done.status_code == 302
    where = done.headers["Location"]
    page = html(buyer.get(where))
    assert "NALOX-4MG lot N-SOON, NALOX-4MG lot N-WH held at every site that has it" in page
    assert 'data-figure="on-shelves">60<' in page and 'data-figure="held">60<' in page
    assert auditor.get("/recalls").status_code == 200 and "Record a recall" not in html(auditor.get("/recalls"))

    # The van's coordinator has an alert that leads to the held stock page, which says what to do.
    flask_app.extensions["inventory"].projector.catch_up()
    alerts = html(coordinator.get("/alerts"))
    assert "Recalled: pull it" in alerts and "/sites/VAN-1/held" in alerts
    held = html(coordinator.get("/sites/VAN-1/held"))
    assert "Emergent recalled its lot 23A45 (notice FDA-118)" in held
    assert "Lot N-SOON is fine" not in held  # a recalled lot is not released from here

    workbook = auditor.get(where + "/workbook")
    assert workbook.status_code == 200 and workbook.mimetype.endswith("spreadsheetml.sheet")
    book = load_workbook(io.BytesIO(workbook.get_data()))
    assert book.sheetnames == ["Recall", "Sites", "Movements", "Provenance"]
    sites = {row[0]: row[3] for row in book["Sites"].iter_rows(min_row=2, values_only=True) if row[0] != "Total"}
    assert sites == {"VAN-1": 10, "WH": 50}
    assert re.search(r"recall-23A45\.xlsx", workbook.headers["Content-Disposition"])


def test_the_auditor_traces_a_lot_forward_and_a_visit_back_to_its_receipt_and_funder(
    flask_app: Flask, stocked: dict[str, Person], inventory: InventoryApplication
) -> None:
    auditor = stocked["auditor"]
    order = inventory.raise_purchase_order(supplier="Naloxone Co", site="WH", funding_source="STATE", number="PO-77",
                                           lines=[{"sku": "NALOX-4MG", "quantity": 20, "unit_cost": "41.00"}],
                                           actor=ADMIN)  # fmt: skip
    inventory.submit_purchase_order(order_id=order["id"], actor=ADMIN)
    inventory.receive_purchase_order(order_id=order["id"], actor=ADMIN, lines=[
        {"sku": "NALOX-4MG", "lot": "N-PO", "quantity": 20, "expires_on": "2097-01-31", "manufacturer": "Emergent",
         "manufacturer_lot": "22Z99"}])  # fmt: skip
    sent = inventory.dispatch_transfer(from_site="WH", to_site="VAN-1", actor=ADMIN,
                                       lines=[{"sku": "NALOX-4MG", "quantity": 8, "lot": "N-PO"}])  # fmt: skip
    inventory.receive_transfer(transfer_id=sent["id"], actor=ADMIN)
    visit = inventory.record_encounter(key="traced-visit-01", site="VAN-1", actor=ADMIN, participant_code="K7QX",
                                       lines=[{"sku": "NALOX-4MG", "quantity": 3, "lot": "N-PO"}])  # fmt: skip
    flask_app.extensions["inventory"].projector.catch_up()

    back = auditor.get(f"/audit/visits/{visit['id']}")
    assert back.status_code == 200
    page = html(back)
    assert "3 from lot" in page and "N-PO" in page and "paid by STATE" in page
    assert "PO-77" in page and "Emergent lot 22Z99" in page
    assert "K7QX" not in page  # nothing about the person

    forward = html(auditor.get("/audit/lots/NALOX-4MG/N-PO"))
    assert "Emergent lot 22Z99" in forward and "PO-77" in forward
    for words in ("Sent", "Arrived", "Handed out"):
        assert words in forward
    assert f"/audit/visits/{visit['id']}" in forward
    order_page = html(auditor.get(f"/audit/orders/{order['id']}"))
    assert "Handed out 3" in order_page and "on the shelves now 17 (VAN-1 5, WH 12)" in order_page
    assert stocked["coordinator"].get("/audit/lots/NALOX-4MG/N-PO").status_code == 403
    assert auditor.get("/audit/lots/NALOX-4MG/NO-SUCH").status_code == 404
