"""Signing in and out: sessions, throttling, cookie flags, security headers, safe redirects."""

from __future__ import annotations

from argon2 import PasswordHasher
from flask import Flask

from inventory.application import InventoryApplication
from inventory.application.users import UserVerbs
from inventory.stores import sign_in_counts as throttle
from tests.web.conftest import STAFF, Caller
from tests.web.pages.conftest import PASSWORD, Person, person


def test_pages_need_a_signed_in_user(flask_app: Flask) -> None:
    visitor = person(flask_app, "nobody@example.org", signed_in=False)
    response = visitor.get("/")
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/sign-in?next=")


def test_sign_in_then_dashboard_then_sign_out(flask_app: Flask, people: dict[str, Person]) -> None:
    coordinator = people["coordinator"]
    page = coordinator.get("/")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "Dashboard" in html and "coord@example.org" in html
    response = coordinator.post("/sign-out", {}, token_from="/")
    assert response.status_code == 302
    assert coordinator.get("/").status_code == 302


def test_session_cookie_is_secure_httponly_samesite(flask_app: Flask, staff: dict[str, Caller]) -> None:
    inventory: InventoryApplication = flask_app.extensions["inventory"].app
    inventory.set_password(email=STAFF["auditor"], password=PASSWORD, actor="cli")
    auditor = person(flask_app, STAFF["auditor"], signed_in=False)
    response = auditor.sign_in()
    cookie = next(h for h in response.headers.getlist("Set-Cookie") if h.startswith("session="))
    assert "Secure" in cookie and "HttpOnly" in cookie and "SameSite=Lax" in cookie


def test_security_headers_on_pages(flask_app: Flask) -> None:
    response = person(flask_app, "x@example.org", signed_in=False).get("/sign-in")
    policy = response.headers["Content-Security-Policy"]
    assert "unsafe-inline" not in policy and "unsafe-eval" not in policy
    assert "frame-ancestors 'none'" in policy and "script-src 'self'" in policy
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert "<script>" not in response.get_data(as_text=True)  # nothing inline that the policy would block


def test_wrong_password_is_refused_and_says_nothing_about_the_account(
    flask_app: Flask, people: dict[str, Person]
) -> None:
    visitor = person(flask_app, STAFF["auditor"], signed_in=False)
    wrong = visitor.sign_in("not the password")
    assert wrong.status_code == 401
    unknown = person(flask_app, "ghost@example.org", signed_in=False).sign_in()
    assert unknown.status_code == 401
    message = "That email and password do not match an active account."
    assert message in wrong.get_data(as_text=True) and message in unknown.get_data(as_text=True)
    # The email typed is kept in the form.
    assert f'value="{STAFF["auditor"]}"' in wrong.get_data(as_text=True)


def test_failed_sign_ins_are_throttled_per_account(flask_app: Flask, people: dict[str, Person]) -> None:
    attacker = person(flask_app, STAFF["grant_manager"], signed_in=False)
    for _ in range(throttle.ACCOUNT_ADDRESS_LIMIT):
        assert attacker.sign_in("guess").status_code == 401
    # Now even the right password is refused for a while, with a message saying so.
    refused = attacker.sign_in(PASSWORD)
    assert refused.status_code == 429
    assert "Too many failed sign-ins. Try again in 15 minutes, at " in refused.get_data(as_text=True)
    # Other accounts are not affected.
    assert person(flask_app, STAFF["auditor"], signed_in=False).sign_in().status_code == 302


def test_changing_the_password_ends_other_sessions(flask_app: Flask, people: dict[str, Person]) -> None:
    auditor = people["auditor"]
    assert auditor.get("/").status_code == 200
    inventory: InventoryApplication = flask_app.extensions["inventory"].app
    inventory.set_password(email=STAFF["auditor"], password="a brand new password", actor="admin")
    inventory._loaded_at.clear()  # the 2 s reference cache: another process would see it then
    assert auditor.get("/").status_code == 302


def test_deactivated_user_is_signed_out(flask_app: Flask, people: dict[str, Person]) -> None:
    inventory: InventoryApplication = flask_app.extensions["inventory"].app
    inventory.deactivate_user(email=STAFF["grant_manager"], actor="admin")
    inventory._loaded_at.clear()
    assert people["grant_manager"].get("/").status_code == 302


def test_next_only_goes_to_this_site(flask_app: Flask, people: dict[str, Person]) -> None:
    visitor = person(flask_app, STAFF["auditor"], signed_in=False)
    response = visitor.post("/sign-in?next=//evil.example.org/", {"email": STAFF["auditor"], "password": PASSWORD})
    assert response.status_code == 302
    assert response.headers["Location"] == "/"


def test_outdated_password_hash_is_replaced_at_sign_in(flask_app: Flask, staff: dict[str, Caller]) -> None:
    inventory: InventoryApplication = flask_app.extensions["inventory"].app
    inventory.set_password(email=STAFF["auditor"], password=PASSWORD, actor="cli")  # the cheap test parameters
    before = inventory._user(STAFF["auditor"]).password_hash
    UserVerbs.hasher = PasswordHasher(time_cost=2, memory_cost=2048, parallelism=1)  # undone by quick_hashing
    assert person(flask_app, STAFF["auditor"], signed_in=False).sign_in().status_code == 302
    after = inventory._user(STAFF["auditor"]).password_hash
    assert after != before and "m=2048,t=2" in after
