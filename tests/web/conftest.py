"""Fixtures for the HTTP API: a Flask app on each database, staff of every role, a client per caller."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from werkzeug.test import TestResponse

from inventory.application import InventoryApplication
from inventory.web import create_app

SEAL_KEY = "web-tests-seal-key"
ADMIN = "admin@example.org"
ADMIN_PASSWORD = "correct horse battery staple"
STAFF = {
    "admin": "root@example.org",
    "coordinator": "coord@example.org",
    "purchasing": "buyer@example.org",
    "grant_manager": "grants@example.org",
    "auditor": "auditor@example.org",
}
COORDINATOR_SITE = "VAN-1"


def day(days_ago: int) -> date:
    """A business date (UTC, the default time zone) this many days before today."""
    return datetime.now(UTC).date() - timedelta(days=days_ago)


def noon(days_ago: int, hour: int = 12) -> str:
    """An occurred_at on a past business day, as the API takes it (ISO 8601 with a zone)."""
    return datetime.combine(day(days_ago), time(hour), UTC).isoformat()


@dataclass
class Caller:
    """A test client speaking for one bearer token."""

    client: FlaskClient
    token: str | None

    def headers(self, key: str | None = None) -> dict[str, str]:
        headers = {"Authorization": f"Bearer {self.token}"} if self.token else {}
        if key is not None:
            headers["Idempotency-Key"] = key
        return headers

    def get(self, path: str, **query: Any) -> TestResponse:
        return self.client.get(path, query_string=query, headers=self.headers())

    def post(self, path: str, body: Any, key: str | None = None) -> TestResponse:
        return self.client.post(path, json=body, headers=self.headers(key))

    def put(self, path: str, body: Any) -> TestResponse:
        return self.client.put(path, json=body, headers=self.headers())


def ok(response: TestResponse, status: int = 201) -> Any:
    """The JSON body of a response that must have this status (the error envelope shown if not)."""
    assert response.status_code == status, (response.status_code, response.get_data(as_text=True))
    return response.get_json()


def error(response: TestResponse, status: int, code: str | None = None) -> dict[str, Any]:
    """The error of a response that must be the envelope with this status (and code)."""
    assert response.status_code == status, (response.status_code, response.get_data(as_text=True))
    body = response.get_json()
    assert set(body) == {"error"}, body
    assert set(body["error"]) == {"code", "message", "fields"}, body
    assert isinstance(body["error"]["message"], str) and body["error"]["message"]
    assert isinstance(body["error"]["fields"], dict)
    if code is not None:
        assert body["error"]["code"] == code, body
    found: dict[str, Any] = body["error"]
    return found


def check_alerts(flask_app: Flask) -> None:
    """Run the worker's alert check now, as `inventory worker` does every few minutes."""
    found = flask_app.extensions["inventory"]
    now = datetime.now(UTC)
    found.projector.catch_up()
    found.app.check_alerts(found.app.business_day(now), now, store=found.store)
    found.projector.catch_up()


@pytest.fixture
def flask_app(database_url: str, tmp_path: Path) -> Iterator[Flask]:
    """The web application over a fresh SQLite file or PostgreSQL schema (exports kept in tmp_path)."""
    app = create_app(
        {
            "INVENTORY_DATABASE_URL": database_url,
            "INVENTORY_SEAL_KEY": SEAL_KEY,
            "INVENTORY_INSTANCE_PATH": str(tmp_path / "instance"),
            "TESTING": True,
        }
    )
    app.extensions["inventory"].projector.setup()
    try:
        yield app
    finally:
        exports = app.extensions.get("export_jobs")
        if exports is not None:
            assert exports.drain(timeout=60), "an export was still running when the test ended"
        app.extensions["inventory"].close()


@pytest.fixture
def inventory(flask_app: Flask) -> InventoryApplication:
    """The application object behind the web app (for bootstrapping only)."""
    found: InventoryApplication = flask_app.extensions["inventory"].app
    return found


@pytest.fixture
def client(flask_app: Flask) -> FlaskClient:
    return flask_app.test_client()


@pytest.fixture
def anonymous(client: FlaskClient) -> Caller:
    return Caller(client, None)


@pytest.fixture
def first_admin(inventory: InventoryApplication) -> str:
    """The one account bootstrapped through the application, as `inventory users create` would."""
    inventory.register_user(email=ADMIN, role="admin", password=ADMIN_PASSWORD, actor="cli")
    return ADMIN


@pytest.fixture
def root(inventory: InventoryApplication, client: FlaskClient) -> Caller:
    """An admin holding a token issued by the application (no password: hashing one takes 0.5 s)."""
    inventory.register_user(email=STAFF["admin"], role="admin", actor="cli")
    return Caller(client, inventory.issue_token(email=STAFF["admin"], label="tests", actor="cli"))


@pytest.fixture
def catalog(root: Caller) -> None:
    """Two sites, two items and two funding sources (one federal, barred from syringes), via the API."""
    ok(root.post("/api/v1/sites", {"code": "WH", "name": "Central warehouse", "kind": "warehouse"}))
    ok(root.post("/api/v1/sites", {"code": "VAN-1", "name": "Outreach van", "kind": "mobile"}))
    ok(
        root.post(
            "/api/v1/items",
            {"sku": "NALOX-4MG", "name": "Naloxone 4 mg", "category": "naloxone", "unit": "kit", "tracks_expiry": True},
        )
    )
    ok(
        root.post(
            "/api/v1/items",
            {
                "sku": "SYR-1ML",
                "name": "Syringe 1 mL",
                "category": "syringe",
                "unit": "syringe",
                "tracks_expiry": False,
            },
        )
    )
    ok(
        root.post(
            "/api/v1/funding-sources",
            {
                "code": "SOR",
                "name": "State Opioid Response",
                "federal": True,
                "restrictions": [{"category": "syringe", "starts_on": "2018-01-01"}],
            },
        )
    )
    ok(root.post("/api/v1/funding-sources", {"code": "STATE", "name": "State fund", "federal": False}))


@pytest.fixture
def staff(inventory: InventoryApplication, client: FlaskClient, root: Caller, catalog: None) -> dict[str, Caller]:
    """One user of every role (the coordinator works at VAN-1 only), each with a token.

    They have no password (hashing one takes half a second); tests that sign in make their own.
    """
    callers = {"admin": root}
    for role, email in STAFF.items():
        if role == "admin":
            continue
        sites = [COORDINATOR_SITE] if role == "coordinator" else []
        inventory.register_user(email=email, role=role, sites=sites, actor=ADMIN)
        callers[role] = Caller(client, inventory.issue_token(email=email, label="tests", actor=ADMIN))
    return callers
