"""Requests are read strictly: JSON only where JSON is expected, within a size and a depth, dates within
the range the service takes, and a stored answer replayed only to a caller still allowed to see it
(defects 9, 10, 11, 14 and 15 of issue 16)."""

from __future__ import annotations

from typing import Any

import pytest
from flask import Flask

from inventory.web.requests import API_BODY_LIMIT, API_DEPTH_LIMIT
from inventory.web.security import HSTS
from tests.web.conftest import STAFF, Caller, error, ok

RECEIPT = {"site": "WH", "sku": "NALOX-4MG", "lot": "N-1", "quantity": 10, "expires_on": "2030-01-31",
           "funding_source": "STATE"}  # fmt: skip
# Every POST or PUT of the API, with a path that exists (ids the routes do not find still parse first).
WRITES = [
    ("POST", "/api/v1/tokens"),
    ("POST", "/api/v1/sites"),
    ("POST", "/api/v1/items"),
    ("PUT", "/api/v1/items/NALOX-4MG/units"),
    ("POST", "/api/v1/funding-sources"),
    ("PUT", "/api/v1/sites/WH/levels/NALOX-4MG"),
    ("POST", "/api/v1/receipts"),
    ("POST", "/api/v1/encounters"),
    ("POST", "/api/v1/tallies"),
    ("POST", "/api/v1/discarded-visits"),
    ("POST", "/api/v1/adjustments"),
    ("POST", "/api/v1/counts"),
    ("POST", "/api/v1/transfers"),
    ("POST", "/api/v1/transfers/7d1a3b4e-4f0a-4c6e-9d55-2a7f3c1b9e10/receive"),
    ("POST", "/api/v1/transfers/7d1a3b4e-4f0a-4c6e-9d55-2a7f3c1b9e10/cancel"),
    ("POST", "/api/v1/purchase-orders"),
    ("POST", "/api/v1/purchase-orders/7d1a3b4e-4f0a-4c6e-9d55-2a7f3c1b9e10/submit"),
    ("POST", "/api/v1/purchase-orders/7d1a3b4e-4f0a-4c6e-9d55-2a7f3c1b9e10/receipts"),
    ("DELETE", "/api/v1/tokens/0123456789abcdef"),
    ("POST", "/api/v1/encounters/7d1a3b4e-4f0a-4c6e-9d55-2a7f3c1b9e10/void"),
    ("POST", "/api/v1/tallies/7d1a3b4e-4f0a-4c6e-9d55-2a7f3c1b9e10/void"),
    ("POST", "/api/v1/transfers/7d1a3b4e-4f0a-4c6e-9d55-2a7f3c1b9e10/void"),
    ("POST", "/api/v1/receipts/1/void"),
    ("POST", "/api/v1/adjustments/1/void"),
    ("POST", "/api/v1/counts/1/void"),
    ("POST", "/api/v1/receipts/1/correction"),
    ("POST", "/api/v1/adjustments/1/correction"),
    ("POST", "/api/v1/counts/1/correction"),
    ("POST", "/api/v1/partners"),
    ("POST", "/api/v1/partner-issues"),
    ("POST", "/api/v1/partner-issues/7d1a3b4e-4f0a-4c6e-9d55-2a7f3c1b9e10/void"),
    ("POST", "/api/v1/partners/SHELTER-1/reports"),
    ("POST", "/api/v1/mail-orders"),
    ("POST", "/api/v1/mail-orders/7d1a3b4e-4f0a-4c6e-9d55-2a7f3c1b9e10/returned"),
    ("POST", "/api/v1/mail-orders/7d1a3b4e-4f0a-4c6e-9d55-2a7f3c1b9e10/void"),
    ("POST", "/api/v1/recipient-types"),
    ("POST", "/api/v1/holds"),
    ("POST", "/api/v1/holds/release"),
    ("POST", "/api/v1/holds/write-off"),
    ("POST", "/api/v1/recalls"),
    ("POST", "/api/v1/recalls/7d1a3b4e-4f0a-4c6e-9d55-2a7f3c1b9e10/close"),
    ("PUT", "/api/v1/items/NALOX-4MG/recipe"),
    ("POST", "/api/v1/kit-assemblies"),
    ("POST", "/api/v1/kit-assemblies/take-apart"),
]
DOCUMENTS_ONLY = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)


def send(caller: Caller, method: str, path: str, body: bytes, content_type: str) -> Any:
    headers = {**caller.headers("strict-request-0001"), "Content-Type": content_type}
    return caller.client.open(path, method=method, data=body, headers=headers)


def test_every_write_route_is_in_this_list(flask_app: Flask) -> None:
    """A new POST or PUT route must be added to WRITES, so the checks below cover it."""
    routes = {
        (method, rule.rule)
        for rule in flask_app.url_map.iter_rules()
        if rule.rule.startswith("/api/")
        for method in (rule.methods or set()) & {"POST", "PUT", "PATCH", "DELETE"}
    }
    listed = {(method, path) for method, path in WRITES}
    assert {(m, r) for m, r in routes if "<" not in r} <= listed
    assert len(routes) == len(WRITES), sorted(routes)


@DOCUMENTS_ONLY
@pytest.mark.parametrize(("method", "path"), WRITES)
def test_deeply_nested_json_is_refused_with_400_on_every_write_even_unauthenticated(
    flask_app: Flask, staff: dict[str, Caller], anonymous: Caller, method: str, path: str
) -> None:
    deep = b"[" * 100_000 + b"]" * 100_000
    for caller in (staff["admin"], anonymous):
        refused = error(send(caller, method, path, deep, "application/json"), 400, "bad_request")
        assert f"more than {API_DEPTH_LIMIT} deep" in refused["message"]
    # Brackets inside a string are text, not nesting.
    within_a_string = b'{"supplier": "' + b"[" * 1000 + b'"}'
    assert "deep" not in send(staff["admin"], method, path, within_a_string, "application/json").get_data(as_text=True)


@DOCUMENTS_ONLY
@pytest.mark.parametrize(("method", "path"), WRITES)
@pytest.mark.parametrize("content_type", ["text/plain", "application/x-www-form-urlencoded", "multipart/form-data"])
def test_a_body_that_is_not_json_is_refused_with_415_on_every_write(
    flask_app: Flask, staff: dict[str, Caller], method: str, path: str, content_type: str
) -> None:
    refused = error(send(staff["admin"], method, path, b'{"site": "WH"}', content_type), 415)
    assert "Content-Type: application/json" in refused["message"]


@DOCUMENTS_ONLY
def test_a_body_over_the_limit_is_refused_with_413(flask_app: Flask, staff: dict[str, Caller]) -> None:
    huge = b'{"site": "WH", "lines": [], "padding": "' + b"x" * API_BODY_LIMIT + b'"}'
    error(send(staff["admin"], "POST", "/api/v1/encounters", huge, "application/json"), 413)


def test_a_transfer_received_as_text_records_nothing_and_the_json_one_records_what_arrived(
    flask_app: Flask, staff: dict[str, Caller]
) -> None:
    root = staff["admin"]
    ok(root.post("/api/v1/receipts", RECEIPT))
    sent = [{"sku": "NALOX-4MG", "quantity": 10, "lot": "N-1"}]
    transfer = ok(root.post("/api/v1/transfers", {"from_site": "WH", "to_site": "VAN-1", "lines": sent}))
    arrived = b'{"received": [{"sku": "NALOX-4MG", "lot": "N-1", "quantity": 4}]}'
    path = f"/api/v1/transfers/{transfer['id']}/receive"
    error(send(root, "POST", path, arrived, "text/plain"), 415)
    assert ok(root.get(f"/api/v1/transfers/{transfer['id']}"), 200)["status"] == "in_transit"

    received = ok(send(root, "POST", path, arrived, "application/json"), 200)
    assert received["status"] == "received"
    van = ok(root.get("/api/v1/stock", site="VAN-1", sku="NALOX-4MG"), 200)
    assert [(row["lot"], row["quantity"]) for row in van] == [("N-1", 4)]


@pytest.mark.parametrize(
    ("path", "body", "field"),
    [
        ("/api/v1/tallies", {"site": "VAN-1", "shift_date": "9999-12-31", "starts_at": "21:00", "ends_at": "02:00",
                             "lines": [], "visits": 3}, "shift_date"),
        ("/api/v1/tallies", {"site": "VAN-1", "shift_date": "0001-01-01", "starts_at": "08:00", "ends_at": "16:00",
                             "lines": [], "visits": 3}, "shift_date"),
        ("/api/v1/tallies", {"site": "VAN-1", "shift_date": "1899-12-31", "starts_at": "08:00", "ends_at": "16:00",
                             "lines": [], "visits": 3}, "shift_date"),
        ("/api/v1/receipts", dict(RECEIPT, expires_on="9999-12-31"), "expires_on"),
        ("/api/v1/receipts", dict(RECEIPT, occurred_at="1999-12-31T23:00:00+00:00"), "occurred_at"),
        ("/api/v1/encounters", {"site": "VAN-1", "lines": [], "syringes_collected": 3,
                                "occurred_at": "0001-01-01T00:00:00+14:00"}, "occurred_at"),
    ],
)  # fmt: skip
def test_dates_outside_2000_to_2100_are_refused_with_422_naming_the_field(
    flask_app: Flask, staff: dict[str, Caller], path: str, body: dict[str, Any], field: str
) -> None:
    refused = error(staff["admin"].post(path, body, key="date-edges-0001"), 422, "invalid_input")
    assert field in refused["fields"], refused
    assert "2000-01-01 to 2100-12-31" in refused["fields"][field][0]


def test_a_stored_answer_is_replayed_only_to_a_caller_still_allowed_at_its_site(
    flask_app: Flask, staff: dict[str, Caller], inventory: Any
) -> None:
    root = staff["admin"]
    ok(root.post("/api/v1/receipts", dict(RECEIPT, site="VAN-1")))
    coordinator = staff["coordinator"]
    visit = {"site": "VAN-1", "lines": [{"sku": "NALOX-4MG", "quantity": 1}]}
    first = ok(coordinator.post("/api/v1/encounters", visit, key="replayed-visit-0001"))
    receipt = ok(coordinator.post("/api/v1/receipts", dict(RECEIPT, site="VAN-1", lot="N-2"), key="replayed-receipt-1"))
    again = coordinator.post("/api/v1/encounters", visit, key="replayed-visit-0001")
    assert ok(again) == first and again.headers["Idempotent-Replayed"] == "true"

    inventory.change_access(email=STAFF["coordinator"], role="coordinator", sites=["WH"], actor="admin@example.org")
    for path, body, key in (
        ("/api/v1/encounters", visit, "replayed-visit-0001"),
        ("/api/v1/receipts", dict(RECEIPT, site="VAN-1", lot="N-2"), "replayed-receipt-1"),
    ):
        refused = error(coordinator.post(path, body, key=key), 403, "forbidden")
        assert "at VAN-1" in refused["message"]
        assert (
            "N-2" not in str(refused) and first["id"] not in str(refused) and receipt["site"] not in refused["fields"]
        )


def test_production_answers_carry_strict_transport_security(database_url: str, tmp_path: Any) -> None:
    from inventory.web import create_app

    settings = {"INVENTORY_DATABASE_URL": database_url, "INVENTORY_SEAL_KEY": "strict-tests-seal-key",
                "INVENTORY_INSTANCE_PATH": str(tmp_path), "TESTING": True}  # fmt: skip
    production = create_app({**settings, "INVENTORY_ENV": "production"})
    development = create_app({**settings, "INVENTORY_ENV": "development"})
    try:
        for path in ("/healthz", "/sign-in", "/api/v1/sites"):
            assert production.test_client().get(path).headers["Strict-Transport-Security"] == HSTS
            assert "Strict-Transport-Security" not in development.test_client().get(path).headers
    finally:
        for app in (production, development):
            app.extensions["inventory"].close()
