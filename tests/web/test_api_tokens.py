"""Revoking one API token: `DELETE /api/v1/tokens/{id}` (your own, or anyone's for an admin) and
`inventory users revoke-token TOKEN_ID`; the other tokens go on working, and the audit log says who."""

from __future__ import annotations

import pytest
from click.testing import CliRunner
from flask import Flask
from flask.testing import FlaskClient

from inventory.application import InventoryApplication
from inventory.cli import main
from tests.web.conftest import SEAL_KEY, STAFF, Caller, error, ok

COORDINATOR = STAFF["coordinator"]


def token_id(caller: Caller) -> str:
    assert caller.token is not None
    return caller.token.split("_")[2]


def another(client: FlaskClient, inventory: InventoryApplication, email: str, label: str) -> Caller:
    return Caller(client, inventory.issue_token(email=email, label=label, actor=email))


def delete(caller: Caller, token: str) -> int:
    response = caller.client.delete(f"/api/v1/tokens/{token}", headers=caller.headers())
    if response.status_code != 204:
        error(response, response.status_code)  # every refusal is the envelope
    return response.status_code


def test_a_person_revokes_one_of_their_tokens_and_the_others_go_on(
    client: FlaskClient, inventory: InventoryApplication, staff: dict[str, Caller]
) -> None:
    coordinator = staff["coordinator"]
    laptop = another(client, inventory, COORDINATOR, "laptop")

    assert delete(coordinator, token_id(laptop)) == 204

    assert error(laptop.get("/api/v1/sites"), 401, "unauthorized")
    ok(coordinator.get("/api/v1/sites"), 200)
    assert delete(coordinator, token_id(laptop)) == 204  # already revoked: still revoked
    # A token may revoke itself.
    assert delete(coordinator, token_id(coordinator)) == 204
    error(coordinator.get("/api/v1/sites"), 401)


def test_an_admin_revokes_anyones_token_and_no_one_else_may(
    client: FlaskClient, inventory: InventoryApplication, staff: dict[str, Caller]
) -> None:
    coordinator, admin = staff["coordinator"], staff["admin"]
    laptop = another(client, inventory, COORDINATOR, "laptop")
    for role in ("auditor", "grant_manager", "purchasing"):
        # Another person's token is not shown to exist.
        assert delete(staff[role], token_id(laptop)) == 404, role
    ok(laptop.get("/api/v1/sites"), 200)

    assert delete(admin, token_id(laptop)) == 204

    error(laptop.get("/api/v1/sites"), 401)
    ok(coordinator.get("/api/v1/sites"), 200)
    assert delete(admin, "0123456789abcdef") == 404
    assert client.delete("/api/v1/tokens/too-short", headers=admin.headers()).status_code == 404
    revoked = [
        event
        for event in ok(admin.get("/api/v1/events", limit=1000), 200)["events"]
        if event["type"] == "User.TokenRevoked"
    ]
    assert [(e["actor"], e["data"]["token_id"]) for e in revoked] == [(STAFF["admin"], token_id(laptop))]


def test_the_page_session_revokes_with_its_csrf_token_only(
    flask_app: Flask, client: FlaskClient, inventory: InventoryApplication, staff: dict[str, Caller]
) -> None:
    laptop = another(client, inventory, STAFF["admin"], "laptop")
    inventory.set_password(email=STAFF["admin"], password="pages-test-password", actor="cli")
    browser = flask_app.test_client()
    page = browser.get("/sign-in", base_url="https://localhost").get_data(as_text=True)
    form = page.split('name="csrf_token" type="hidden" value="')[1].split('"')[0]
    signed_in = browser.post(
        "/sign-in",
        data={"email": STAFF["admin"], "password": "pages-test-password", "csrf_token": form},
        base_url="https://localhost",
        headers={"Referer": "https://localhost/sign-in"},
    )
    assert signed_in.status_code == 302
    path = f"/api/v1/tokens/{token_id(laptop)}"

    error(browser.delete(path, base_url="https://localhost"), 400)
    ok(laptop.get("/api/v1/sites"), 200)


@pytest.fixture
def cli(database_url: str, monkeypatch: pytest.MonkeyPatch) -> CliRunner:
    monkeypatch.setenv("INVENTORY_DATABASE_URL", database_url)
    monkeypatch.setenv("INVENTORY_SEAL_KEY", SEAL_KEY)
    return CliRunner()


def test_the_cli_revokes_one_token_by_its_id(
    cli: CliRunner, client: FlaskClient, inventory: InventoryApplication, staff: dict[str, Caller]
) -> None:
    laptop = another(client, inventory, COORDINATOR, "laptop")
    revoked = cli.invoke(main, ["users", "revoke-token", token_id(laptop)])
    unknown = cli.invoke(main, ["users", "revoke-token", "0123456789abcdef"])

    assert revoked.exit_code == 0, revoked.output
    assert revoked.output.strip() == f"Revoked API token {token_id(laptop)} of {COORDINATOR}."
    error(laptop.get("/api/v1/sites"), 401)
    ok(staff["coordinator"].get("/api/v1/sites"), 200)
    assert unknown.exit_code == 1 and "There is no API token 0123456789abcdef." in unknown.output
