"""Every state-changing page route refuses a form without a valid CSRF token, and records nothing."""

from __future__ import annotations

from flask import Flask

from inventory.application import InventoryApplication
from tests.web.conftest import STAFF
from tests.web.pages.conftest import Person, csrf_token, person
from tests.web.pages.test_authorization_matrix import program, url_for_rule

STATE_CHANGING = {"POST", "PUT", "PATCH", "DELETE"}


def test_every_form_route_refuses_a_missing_or_foreign_csrf_token(
    flask_app: Flask, inventory: InventoryApplication, people: dict[str, Person], program: dict[str, str]
) -> None:
    admin = people["admin"]
    # A token from another person's session is no good either.
    foreign = csrf_token(person(flask_app, STAFF["auditor"], signed_in=False).get("/sign-in").get_data(as_text=True))
    rules = [
        r
        for r in flask_app.url_map.iter_rules()
        if not r.rule.startswith("/api/") and (r.methods or set()) & STATE_CHANGING
    ]
    assert {r.endpoint for r in rules} >= {"auth.sign_in", "auth.sign_out"}
    head = inventory.recorder.max_notification_id()
    for rule in rules:
        url = url_for_rule(rule, "VAN-1", program)
        for data in ({}, {"csrf_token": "forged"}, {"csrf_token": foreign}):
            response = admin.post_raw(url, data)
            assert response.status_code == 400, (rule.endpoint, data, response.status_code)
            assert "nothing was recorded" in response.get_data(as_text=True)
    assert inventory.recorder.max_notification_id() == head
    # Still signed in: the refused sign-out did not sign the admin out.
    assert admin.get("/").status_code == 200


__all__ = ["program"]  # the fixture, shared with the authorization matrix
