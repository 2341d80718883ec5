"""The API's partners, issues to them, reports back, mail orders and recipient types: each recorded once per
key, each refused in words, a partner's own token limited to its own reports."""

from __future__ import annotations

import pytest
from click.testing import CliRunner
from flask.testing import FlaskClient

from inventory.application import InventoryApplication
from inventory.cli import main
from tests.web.conftest import ADMIN, SEAL_KEY, Caller, day, error, noon, ok

SHELTER = {"code": "SHELTER-1", "name": "Harbour Shelter", "kind": "shelter", "contact_role": "Shelter manager"}


@pytest.fixture
def supplied(staff: dict[str, Caller], inventory: InventoryApplication, client: FlaskClient) -> dict[str, Caller]:
    """40 kits at the van; two partners; the shelter's own token."""
    root = staff["admin"]
    receipt = {"site": "VAN-1", "sku": "NALOX-4MG", "lot": "N-1", "quantity": 40, "expires_on": "2099-12-31",
               "funding_source": "STATE", "occurred_at": noon(5)}  # fmt: skip
    ok(root.post("/api/v1/receipts", receipt))
    ok(root.post("/api/v1/partners", SHELTER))
    ok(root.post("/api/v1/partners", dict(SHELTER, code="CLINIC-2", name="Eastside Clinic", kind="clinic")))
    inventory.register_user(email="shelter@example.org", role="partner", partner="SHELTER-1", actor=ADMIN)
    token = inventory.issue_token(email="shelter@example.org", label="tests", actor=ADMIN)
    return dict(staff, shelter=Caller(client, token))


def test_an_issue_to_a_partner_is_recorded_once_and_can_be_voided(supplied: dict[str, Caller]) -> None:
    coordinator = supplied["coordinator"]
    body = {"site": "VAN-1", "partner": "shelter-1", "lines": [{"sku": "NALOX-4MG", "quantity": 25}]}
    first = ok(coordinator.post("/api/v1/partner-issues", body, key="issue-00001"))
    assert first["partner"] == "SHELTER-1" and first["lines"][0]["lots"][0]["quantity"] == 25
    assert ok(coordinator.post("/api/v1/partner-issues", body, key="issue-00001")) == first
    other = dict(body, lines=[{"sku": "NALOX-4MG", "quantity": 2}])
    reused = error(coordinator.post("/api/v1/partner-issues", other, key="issue-00001"), 422)
    assert reused["fields"] == {"Idempotency-Key": ["already used for a different request"]}
    short = error(coordinator.post("/api/v1/partner-issues", dict(body, lines=[{"sku": "NALOX-4MG", "quantity": 16}]),
                                   key="issue-00002"), 409)  # fmt: skip
    assert "Only 15 kits of NALOX-4MG left at VAN-1" in short["message"]
    assert "Send an Idempotency-Key header" in error(coordinator.post("/api/v1/partner-issues", body), 400)["message"]
    voided = ok(coordinator.post(f"/api/v1/partner-issues/{first['id']}/void", {"reason": "wrong_site"}))
    assert voided["voided"] == "wrong_site"
    assert ok(supplied["admin"].get("/api/v1/stock", site="VAN-1"), 200)[0]["quantity"] == 40
    assert error(supplied["grant_manager"].post("/api/v1/partner-issues", body, key="issue-00003"), 403)


def test_a_partner_token_reports_for_its_own_partner_only(supplied: dict[str, Caller]) -> None:
    shelter = supplied["shelter"]
    report = {"starts_on": day(40).isoformat(), "ends_on": day(10).isoformat(), "kits_distributed": 12,
              "reversals_reported": 1}  # fmt: skip
    sent = ok(shelter.post("/api/v1/partners/SHELTER-1/reports", report))
    assert sent == {"partner": "SHELTER-1", "starts_on": day(40).isoformat(), "ends_on": day(10).isoformat(),
                    "kits_distributed": 12, "reversals_reported": 1, "kits_remaining": None}  # fmt: skip
    assert [r["kits_distributed"] for r in ok(shelter.get("/api/v1/partners/SHELTER-1/reports"), 200)] == [12]
    assert error(shelter.post("/api/v1/partners/CLINIC-2/reports", report), 403, "forbidden")
    assert error(shelter.get("/api/v1/partners"), 403, "forbidden")
    assert error(shelter.get("/api/v1/stock"), 403, "forbidden")
    overlapping = dict(report, starts_on=day(20).isoformat(), ends_on=day(5).isoformat())
    assert "overlaps" in error(shelter.post("/api/v1/partners/SHELTER-1/reports", overlapping), 409)["message"]
    assert error(supplied["coordinator"].post("/api/v1/partners/NOBODY/reports", report), 404)


def test_a_mail_order_is_sent_comes_back_and_takes_no_address(supplied: dict[str, Caller]) -> None:
    coordinator = supplied["coordinator"]
    parcel = {"site": "VAN-1", "lines": [{"sku": "NALOX-4MG", "quantity": 2}], "carrier": "Canada Post",
              "tracking": "RR 123 456 789 CA", "recipient": "friend_or_family", "for_others": 1}  # fmt: skip
    sent = ok(coordinator.post("/api/v1/mail-orders", parcel, key="parcel-00001"))
    assert (sent["tracking"], sent["recipient"], sent["returned_at"]) == ("RR123456789CA", "friend_or_family", None)
    assert error(coordinator.post("/api/v1/mail-orders", dict(parcel, address="12 Harbour St"), key="parcel-00002"),
                 422)["fields"] == {"address": ["Unknown field."]}  # fmt: skip
    assert (
        "Never an address"
        in error(
            coordinator.post("/api/v1/mail-orders", dict(parcel, tracking="12 Harbour St"), key="parcel-00003"), 422
        )["message"]
    )
    back = ok(coordinator.post(f"/api/v1/mail-orders/{sent['id']}/returned", {}))
    assert back["returned_at"] is not None
    assert ok(supplied["admin"].get("/api/v1/stock", site="VAN-1"), 200)[0]["quantity"] == 40


def test_an_admin_adds_a_recipient_type_that_visits_may_then_name(supplied: dict[str, Caller]) -> None:
    root = supplied["admin"]
    ok(root.post("/api/v1/recipient-types", {"code": "peer_worker", "name": "Peer worker"}))
    assert {"code": "peer_worker", "name": "Peer worker"} in ok(root.get("/api/v1/recipient-types"), 200)
    asked = {"site": "VAN-1", "recipient": "peer_worker", "lines": [{"sku": "NALOX-4MG", "quantity": 1}]}
    visit = ok(supplied["coordinator"].post("/api/v1/encounters", asked, key="visit-peer-1"))
    assert (visit["recipient"], visit["channel"], visit["for_others"]) == ("peer_worker", "mobile_van", None)
    assert error(supplied["coordinator"].post("/api/v1/recipient-types", {"code": "x_y", "name": "X"}), 403)


def test_the_cli_creates_a_partner_account_that_reports_for_its_partner(
    supplied: dict[str, Caller], database_url: str, client: FlaskClient
) -> None:
    env = {"INVENTORY_DATABASE_URL": database_url, "INVENTORY_SEAL_KEY": SEAL_KEY}
    made = CliRunner().invoke(main, ["users", "create", "clinic@example.org", "--role", "partner", "--partner",
                                     "CLINIC-2", "--password", "a long pass phrase"], env=env)  # fmt: skip
    assert made.exit_code == 0, made.output
    assert "Created clinic@example.org (partner for partner CLINIC-2)." in made.output
    refused = CliRunner().invoke(main, ["users", "create", "x@example.org", "--role", "partner"], env=env)
    assert refused.exit_code != 0 and "Choose the partner organisation" in refused.output
    token = CliRunner().invoke(main, ["users", "token", "clinic@example.org"], env=env).output.strip()
    clinic = Caller(client, token)
    report = {"starts_on": day(30).isoformat(), "ends_on": day(1).isoformat(), "kits_distributed": 3}
    assert ok(clinic.post("/api/v1/partners/CLINIC-2/reports", report))["kits_distributed"] == 3
    assert error(clinic.post("/api/v1/partners/SHELTER-1/reports", report), 403)
