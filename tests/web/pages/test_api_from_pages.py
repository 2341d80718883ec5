"""The API called by this site's own pages: the session cookie identifies, the page's CSRF token is required.

The encounter page sends the visits it kept offline this way. Another site cannot make a signed-in
browser record anything (no CSRF token), a coordinator stays at their own sites, and a session that
ended answers 401 so that the page asks to sign in again.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from flask import Flask
from werkzeug.test import TestResponse

from inventory.application import InventoryApplication
from tests.web.conftest import ADMIN, STAFF, day, error, noon, ok
from tests.web.pages.conftest import HTTPS, Person, csrf_token

# These tests run from noon of a fixed day (tests/clock.py): the visit below was two days before.
pytestmark = pytest.mark.clock(datetime(2026, 11, 18, 12, 0, tzinfo=UTC))
ENCOUNTER = {
    "site": "VAN-1",
    "lines": [{"sku": "NALOX-4MG", "quantity": 2}],
    "occurred_at": "2026-11-16T12:00:00+00:00",
}


def send(person: Person, body: dict[str, Any], key: str, *, token: str | None) -> TestResponse:
    """A POST as the page's script makes it: same origin, JSON, the key, and the page's CSRF token."""
    headers = {"Idempotency-Key": key, "Referer": HTTPS + "/sites/VAN-1/encounters/new"}
    if token is not None:
        headers["X-CSRFToken"] = token
    return person.client.post("/api/v1/encounters", json=body, headers=headers, base_url=HTTPS)


def page_token(person: Person) -> str:
    return csrf_token(person.get("/sites/VAN-1/encounters/new").get_data(as_text=True))


@pytest.fixture
def stocked(flask_app: Flask, inventory: InventoryApplication, people: dict[str, Person]) -> dict[str, Person]:
    inventory.receive_stock(
        site="VAN-1",
        sku="NALOX-4MG",
        lot="N-1",
        quantity=20,
        expires_on=day(-365),
        funding_source="SOR",
        actor=ADMIN,
        occurred_at=datetime.fromisoformat(noon(5)),
    )
    flask_app.extensions["inventory"].projector.catch_up()
    return people


def encounters_at_van(inventory: InventoryApplication, flask_app: Flask) -> int:
    found = flask_app.extensions["inventory"]
    found.projector.catch_up()
    rows = found.store.fetchall("SELECT COUNT(*) FROM encounters WHERE site = 'VAN-1'")
    return int(rows[0][0])


def test_a_signed_in_page_records_a_visit_once_under_its_own_name_with_the_time_it_happened(
    flask_app: Flask, inventory: InventoryApplication, stocked: dict[str, Person]
) -> None:
    coordinator = stocked["coordinator"]
    token = page_token(coordinator)
    first = ok(send(coordinator, ENCOUNTER, "offline-visit-0001", token=token))
    assert first["actor"] == STAFF["coordinator"]
    assert first["occurred_at"].startswith(day(2).isoformat())
    again = send(coordinator, ENCOUNTER, "offline-visit-0001", token=token)
    assert again.status_code == 201 and again.headers.get("Idempotent-Replayed") == "true"
    assert again.get_json()["id"] == first["id"]
    assert encounters_at_van(inventory, flask_app) == 1
    # Sent days late, it lands on the stock card at the day it happened.
    card = coordinator.client.get(
        "/api/v1/stock-card",
        query_string={"site": "VAN-1", "sku": "NALOX-4MG", "from": day(4).isoformat(), "to": day(0).isoformat()},
        base_url=HTTPS,
    )
    issued = [(row["business_date"], row["quantity"]) for row in ok(card, 200)["rows"] if row["quantity"] < 0]
    assert issued == [(day(2).isoformat(), -2)]


def test_without_the_pages_csrf_token_nothing_is_recorded(
    flask_app: Flask, inventory: InventoryApplication, stocked: dict[str, Person]
) -> None:
    coordinator = stocked["coordinator"]
    found = error(send(coordinator, ENCOUNTER, "offline-visit-0002", token=None), 400)
    assert "CSRF" in found["message"]
    error(send(coordinator, ENCOUNTER, "offline-visit-0003", token="not-the-token"), 400)
    assert encounters_at_van(inventory, flask_app) == 0
    # The key was not used up: with the token, the same visit records.
    ok(send(coordinator, ENCOUNTER, "offline-visit-0002", token=page_token(coordinator)))
    assert encounters_at_van(inventory, flask_app) == 1


def test_a_coordinators_session_works_at_their_own_sites_only(stocked: dict[str, Person]) -> None:
    coordinator = stocked["coordinator"]
    token = page_token(coordinator)
    found = error(send(coordinator, {**ENCOUNTER, "site": "WH"}, "offline-visit-0004", token=token), 403)
    assert "WH" in found["message"]
    stock = coordinator.client.get("/api/v1/stock", base_url=HTTPS)
    assert stock.status_code == 200
    assert {row["site"] for row in stock.get_json()} == {"VAN-1"}


def test_a_session_that_ended_answers_401_and_records_nothing(
    flask_app: Flask, inventory: InventoryApplication, stocked: dict[str, Person]
) -> None:
    coordinator = stocked["coordinator"]
    token = page_token(coordinator)
    # A password change ends the person's sessions (as when an administrator resets it).
    inventory.set_password(email=STAFF["coordinator"], password="another-password-1", actor=ADMIN)
    error(send(coordinator, ENCOUNTER, "offline-visit-0005", token=token), 401)
    assert coordinator.client.get("/api/v1/stock", base_url=HTTPS).status_code == 401
    assert encounters_at_van(inventory, flask_app) == 0
