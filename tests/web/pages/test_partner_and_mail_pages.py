"""The partner pages (the list, a partner's page with its report form, an issue of supplies) and the mail
order page, as staff and as a partner organisation's own account."""

from __future__ import annotations

import re
from datetime import date, timedelta

import pytest
from flask import Flask

from inventory.application import InventoryApplication
from tests.web.conftest import ADMIN
from tests.web.pages.conftest import PASSWORD, Person, person


@pytest.fixture
def partnered(flask_app: Flask, inventory: InventoryApplication, people: dict[str, Person]) -> dict[str, Person]:
    """40 kits at the van; a shelter and a clinic as partners; the shelter's own account, signed in."""
    inventory.receive_stock(site="VAN-1", sku="NALOX-4MG", lot="N-1", quantity=40, expires_on="2099-12-31",
                            funding_source="STATE", actor=ADMIN)  # fmt: skip
    inventory.register_partner(code="SHELTER-1", name="Harbour Shelter", kind="shelter",
                               contact_role="Shelter manager", actor=ADMIN)  # fmt: skip
    inventory.register_partner(code="CLINIC-2", name="Eastside Clinic", kind="clinic", contact_role="Nurse lead",
                               actor=ADMIN)  # fmt: skip
    inventory.register_user(email="shelter@example.org", role="partner", partner="SHELTER-1", password=PASSWORD,
                            actor=ADMIN)  # fmt: skip
    flask_app.extensions["inventory"].projector.catch_up()
    return dict(people, shelter=person(flask_app, "shelter@example.org"))


def html(response: object) -> str:
    return response.get_data(as_text=True)  # type: ignore[attr-defined, no-any-return]


def test_a_coordinator_issues_kits_to_a_partner_and_they_leave_the_van(partnered: dict[str, Person]) -> None:
    coordinator = partnered["coordinator"]
    listed = coordinator.get("/partners")
    assert listed.status_code == 200 and "Harbour Shelter" in html(listed) and "No report back yet" in html(listed)
    form = coordinator.get("/sites/VAN-1/partner-issues/new?partner=SHELTER-1")
    assert form.status_code == 200
    assert 'selected value="SHELTER-1"' in html(form)
    key = re.search(r'name="key" type="hidden" value="([^"]+)"', html(form)) or re.search(
        r'name="key" value="([^"]+)"', html(form)
    )
    assert key is not None
    data = {"key": key.group(1), "partner": "SHELTER-1", "lines-0-sku": "NALOX-4MG", "lines-0-quantity": "25"}
    done = coordinator.post("/sites/VAN-1/partner-issues/new", data, token_from="/sites/VAN-1/partner-issues/new")
    assert done.status_code == 302 and done.headers["Location"].endswith("/partners/SHELTER-1")
    page = coordinator.get("/partners/SHELTER-1")
    assert "25 Naloxone 4 mg" in html(page)
    undo = re.search(r'action="(/sites/VAN-1/partner-issues/[0-9a-f-]+/void)"', html(page))
    assert undo is not None and "Recorded by mistake?" in html(page)
    stock = coordinator.get("/sites/VAN-1/stock")
    assert ">15<" in html(stock).replace(" ", "")
    # More than the van holds is refused in words, and nothing leaves.
    more = dict(data, key="another-key-1", **{"lines-0-quantity": "16"})
    again = coordinator.post("/sites/VAN-1/partner-issues/new", more, token_from="/sites/VAN-1/partner-issues/new")
    assert again.status_code == 409 and "Only 15 kits of NALOX-4MG left at VAN-1" in html(again)
    # Issued to the wrong partner: undone, the 25 kits are back at the van.
    undone = coordinator.post(undo.group(1), {"reason": "wrong_site"}, token_from="/partners/SHELTER-1")
    assert undone.status_code == 302
    assert "The issue to SHELTER-1 is undone" in html(coordinator.get("/partners/SHELTER-1"))
    assert ">40<" in html(coordinator.get("/sites/VAN-1/stock")).replace(" ", "")


def test_a_partner_account_sees_only_its_own_page_and_reports_back(partnered: dict[str, Person]) -> None:
    shelter = partnered["shelter"]
    home = shelter.get("/")
    assert home.status_code == 302 and home.headers["Location"].endswith("/partners/SHELTER-1")
    own = shelter.get("/partners/SHELTER-1")
    assert own.status_code == 200 and "Report back" in html(own)
    assert "Signed in as shelter@example.org (for partner SHELTER-1)" in html(own)
    assert "Issue supplies" not in html(own) and "All partners" not in html(own)
    for elsewhere in ("/partners/CLINIC-2", "/partners", "/stock", "/sites/VAN-1/stock", "/encounters", "/audit",
                      "/sites/VAN-1/partner-issues/new", "/sites/VAN-1/mail-orders", "/exports"):  # fmt: skip
        assert shelter.get(elsewhere).status_code in (403, 404), elsewhere
    # The menu offers it nothing but its account.
    assert 'href="/stock"' not in html(own) and 'href="/partners"' not in html(own)

    last_month_end = date.today().replace(day=1) - timedelta(days=1)
    report = {
        "starts_on": last_month_end.replace(day=1).isoformat(),
        "ends_on": last_month_end.isoformat(),
        "kits_distributed": "12",
        "reversals_reported": "1",
        "kits_remaining": "",
    }
    sent = shelter.post("/partners/SHELTER-1", report, token_from="/partners/SHELTER-1")
    assert sent.status_code == 302
    shown = html(shelter.get("/partners/SHELTER-1"))
    assert "Report for Harbour Shelter recorded" in shown and "<td>12</td>" in shown
    # A report that runs into the future is refused next to its field, with what was typed kept.
    future = dict(report, ends_on=(date.today() + timedelta(days=3)).isoformat(), kits_distributed="7")
    refused = shelter.post("/partners/SHELTER-1", future, token_from="/partners/SHELTER-1")
    assert refused.status_code == 422 and "is in the future" in html(refused) and 'value="7"' in html(refused)
    assert partnered["coordinator"].get("/partners").status_code == 200
    assert "12 kits handed out onward" in html(partnered["coordinator"].get("/partners"))


def test_a_parcel_is_sent_without_an_address_and_comes_back(partnered: dict[str, Person]) -> None:
    coordinator = partnered["coordinator"]
    form = coordinator.get("/sites/VAN-1/mail-orders")
    assert form.status_code == 200 and "No name or address is kept here" in html(form)
    assert not re.search(r'name="[^"]*(address|street|postcode|zip|phone|name)"', html(form))
    key = re.search(r'name="key" type="hidden" value="([^"]+)"', html(form)) or re.search(
        r'name="key" value="([^"]+)"', html(form)
    )
    assert key is not None
    parcel = {"key": key.group(1), "lines-0-sku": "NALOX-4MG", "lines-0-quantity": "2", "carrier": "Canada Post",
              "tracking": "RR 123 456 789 CA", "recipient": "person_who_uses_drugs", "for_others": "0"}  # fmt: skip
    wrong = coordinator.post("/sites/VAN-1/mail-orders", dict(parcel, tracking="12 Harbour St"),
                             token_from="/sites/VAN-1/mail-orders")  # fmt: skip
    assert wrong.status_code == 422 and "Never an address or a name" in html(wrong)
    sent = coordinator.post("/sites/VAN-1/mail-orders", parcel, token_from="/sites/VAN-1/mail-orders")
    assert sent.status_code == 302
    page = html(coordinator.get("/sites/VAN-1/mail-orders"))
    assert "Parcel RR123456789CA recorded as sent" in page
    action = re.search(r'action="(/sites/VAN-1/mail-orders/[0-9a-f-]+/returned)"', page)
    assert action is not None
    back = coordinator.post(action.group(1), {}, token_from="/sites/VAN-1/mail-orders")
    assert back.status_code == 302
    page = html(coordinator.get("/sites/VAN-1/mail-orders"))
    assert "is back: its supplies are on the shelf at VAN-1 again" in page and "came back" in page
    # Another parcel, recorded by mistake: undone with a reason, its supplies back as if never packed.
    form = coordinator.get("/sites/VAN-1/mail-orders")
    key = re.search(r'name="key" type="hidden" value="([^"]+)"', html(form))
    assert key is not None
    coordinator.post("/sites/VAN-1/mail-orders", dict(parcel, key=key.group(1), tracking="RR 999 456 789 CA"),
                     token_from="/sites/VAN-1/mail-orders")  # fmt: skip
    page = html(coordinator.get("/sites/VAN-1/mail-orders"))
    undo = re.findall(r'action="(/sites/VAN-1/mail-orders/[0-9a-f-]+/void)"', page)
    assert len(undo) == 2  # the returned parcel can be undone too, the new one
    before = html(coordinator.get("/sites/VAN-1/stock"))
    refused = coordinator.post(undo[0], {"reason": ""}, token_from="/sites/VAN-1/mail-orders")
    assert refused.status_code == 302 and "Choose why" in html(coordinator.get("/sites/VAN-1/mail-orders"))
    done = coordinator.post(undo[0], {"reason": "entered_by_mistake"}, token_from="/sites/VAN-1/mail-orders")
    assert done.status_code == 302
    page = html(coordinator.get("/sites/VAN-1/mail-orders"))
    assert "Parcel RR999456789CA is undone" in page and "· undone" in page
    assert html(coordinator.get("/sites/VAN-1/stock")) != before
