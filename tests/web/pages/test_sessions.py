"""Sessions are records on the server: signing out ends one for good, wherever its cookie was copied
to; every sign-in starts a new one, with a new CSRF token; a cookie without a record lets no one in."""

from __future__ import annotations

from typing import Any

from flask import Flask
from flask.testing import FlaskClient

from inventory.application import InventoryApplication
from tests.clock import Clock
from tests.web.conftest import STAFF
from tests.web.pages.conftest import HTTPS, Person, csrf_token, person

COORDINATOR = STAFF["coordinator"]


def cookie(who: Person) -> str:
    found = who.client.get_cookie("session")
    assert found is not None, "no session cookie"
    return found.value


def contents(app: Flask, value: str) -> dict[str, Any]:
    """What a session cookie holds (it is signed, not encrypted)."""
    serializer = app.session_interface.get_signing_serializer(app)  # type: ignore[attr-defined]
    found: dict[str, Any] = serializer.loads(value)
    return found


def with_cookie(app: Flask, value: str) -> FlaskClient:
    """Another browser, anywhere, holding a copy of a session cookie."""
    client = app.test_client()
    client.set_cookie("session", value)
    return client


def test_a_cookie_copied_before_sign_out_is_refused_after_it(flask_app: Flask, people: dict[str, Person]) -> None:
    coordinator = people["coordinator"]
    copy = with_cookie(flask_app, cookie(coordinator))
    assert copy.get("/", base_url=HTTPS).status_code == 200  # the copy works while the session lasts
    assert copy.get("/api/v1/sites", base_url=HTTPS).status_code == 200

    assert coordinator.post("/sign-out", {}, token_from="/").status_code == 302

    refused = copy.get("/", base_url=HTTPS)
    assert refused.status_code == 302 and refused.headers["Location"].startswith("/sign-in")
    assert copy.get("/api/v1/sites", base_url=HTTPS).status_code == 401
    assert coordinator.get("/").status_code == 302


def test_each_sign_in_starts_a_new_session_with_a_new_csrf_token(flask_app: Flask, people: dict[str, Person]) -> None:
    visitor = person(flask_app, COORDINATOR, signed_in=False)
    before_token = csrf_token(visitor.get("/sign-in").get_data(as_text=True))
    before = contents(flask_app, cookie(visitor))

    assert (
        visitor.post_raw(
            "/sign-in", {"email": COORDINATOR, "password": "pages-test-password", "csrf_token": before_token}
        ).headers["Location"]
        == "/"
    )
    after_token = csrf_token(visitor.get("/").get_data(as_text=True))
    first = contents(flask_app, cookie(visitor))

    assert first["csrf_token"] != before["csrf_token"]
    # The token of the sign-in page, seen or planted before sign-in, is refused after it.
    assert visitor.post_raw("/sign-out", {"csrf_token": before_token}, referer="/").status_code == 400
    assert visitor.get("/").status_code == 200
    # Signing in again, or on another browser, gives another session id: none is ever reused.
    assert visitor.post_raw("/sign-out", {"csrf_token": after_token}, referer="/").status_code == 302
    again = person(flask_app, COORDINATOR)
    assert visitor.sign_in().status_code == 302
    ids = {
        first["_user_id"],
        contents(flask_app, cookie(visitor))["_user_id"],
        contents(flask_app, cookie(again))["_user_id"],
    }
    assert len(ids) == 3
    assert not any(STAFF["coordinator"] in session_id or "." in session_id for session_id in ids)


def test_a_well_signed_cookie_without_a_session_record_is_refused(
    flask_app: Flask, inventory: InventoryApplication, people: dict[str, Person]
) -> None:
    """Such as one signed with the secret key before the upgrade, naming the user and password stamp."""
    serializer = flask_app.session_interface.get_signing_serializer(flask_app)  # type: ignore[attr-defined]
    for session_id in (inventory.session_id(COORDINATOR), "a-session-id-nobody-was-given"):
        forged = serializer.dumps({"_user_id": session_id, "_fresh": True})
        client = with_cookie(flask_app, forged)
        assert client.get("/", base_url=HTTPS).status_code == 302, session_id
        assert client.get("/api/v1/sites", base_url=HTTPS).status_code == 401, session_id


def test_last_seen_is_written_at_most_once_a_minute(flask_app: Flask, people: dict[str, Person], clock: Clock) -> None:
    records = flask_app.extensions["staff_sessions"]

    def last_seen() -> float:
        (found,) = records.of(COORDINATOR)
        return float(found.last_seen)

    signed_in = last_seen()
    assert people["coordinator"].get("/").status_code == 200
    assert last_seen() == signed_in
    clock.advance(seconds=61)
    assert people["coordinator"].get("/").status_code == 200
    assert last_seen() > signed_in + 60
