"""Fixtures for the pages: staff who sign in with a password, and a browser-like client per person.

The client keeps cookies, speaks HTTPS (session cookies are Secure outside development) and sends
forms the way a browser does: it fetches the page, takes the CSRF token from the form, and posts.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

import pytest
from argon2 import PasswordHasher
from flask import Flask
from flask.testing import FlaskClient
from werkzeug.test import TestResponse

from inventory.application import InventoryApplication
from inventory.application.users import UserVerbs
from tests.web.conftest import ADMIN, STAFF, Caller, check_alerts

PASSWORD = "pages-test-password"
HTTPS = "https://localhost"
CSRF_INPUT = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"|value="([^"]+)"[^>]*name="csrf_token"')


@pytest.fixture(autouse=True)
def quick_hashing(monkeypatch: pytest.MonkeyPatch) -> None:
    """Real argon2id, with the cheapest parameters: the default ones take half a second per hash.

    Rehash-on-sign-in is tested on its own with the real parameters.
    """
    monkeypatch.setattr(UserVerbs, "hasher", PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1))


def csrf_token(html: str) -> str:
    found = CSRF_INPUT.search(html)
    assert found, "no csrf_token input on the page"
    return found.group(1) or found.group(2)


@dataclass
class Person:
    """One member of staff at a browser: their own cookies, signing in with their password."""

    email: str
    client: FlaskClient

    def get(self, path: str, **query: Any) -> TestResponse:
        return self.client.get(path, query_string=query or None, base_url=HTTPS)

    def post(self, path: str, data: dict[str, Any], *, token_from: str | None = None) -> TestResponse:
        """Post a form as a browser would: with the CSRF token of the page it came from."""
        page = self.get(token_from or path)
        assert page.status_code == 200, (page.status_code, page.get_data(as_text=True)[:500])
        token = csrf_token(page.get_data(as_text=True))
        return self.post_raw(path, {**data, "csrf_token": token}, referer=token_from or path)

    def post_raw(self, path: str, data: dict[str, Any], referer: str | None = None) -> TestResponse:
        """Post exactly this form data (no CSRF token added), from `referer` on this site as browsers say.

        Over HTTPS, Flask-WTF also checks that the Referer is this site.
        """
        return self.client.post(path, data=data, base_url=HTTPS, headers={"Referer": HTTPS + (referer or path)})

    def sign_in(self, password: str = PASSWORD) -> TestResponse:
        return self.post("/sign-in", {"email": self.email, "password": password})


def person(app: Flask, email: str, *, signed_in: bool = True) -> Person:
    found = Person(email, app.test_client())
    if signed_in:
        response = found.sign_in()
        assert response.status_code == 302, response.get_data(as_text=True)[:500]
    return found


@pytest.fixture
def people(flask_app: Flask, inventory: InventoryApplication, staff: dict[str, Caller]) -> dict[str, Person]:
    """Everyone in `staff` (the coordinator works at VAN-1 only), given a password and signed in."""
    for email in STAFF.values():
        inventory.set_password(email=email, password=PASSWORD, actor="cli")
    return {role: person(flask_app, email) for role, email in STAFF.items()}


@pytest.fixture
def alerting(flask_app: Flask, inventory: InventoryApplication, people: dict[str, Person]) -> dict[str, Person]:
    """3 kits at the van against a reorder point of 10; syringe levels at WH and no syringes."""
    inventory.set_stock_level(
        site="VAN-1", sku="NALOX-4MG", reorder_point=10, par_level=30, lead_time_days=3, actor=ADMIN
    )
    inventory.set_stock_level(
        site="WH", sku="SYR-1ML", reorder_point=200, par_level=900, lead_time_days=14, actor=ADMIN
    )
    inventory.receive_stock(
        site="VAN-1",
        sku="NALOX-4MG",
        lot="VANLOT-3",
        quantity=3,
        expires_on=date.today() + timedelta(days=300),
        funding_source="STATE",
        actor=ADMIN,
    )
    check_alerts(flask_app)
    return people
