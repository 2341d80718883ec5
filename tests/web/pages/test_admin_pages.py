"""The admin pages: sites, items, funding rules, stock levels and staff accounts, through HTTP."""

from __future__ import annotations

import html
import re
from datetime import date
from typing import Any

import pytest
from flask import Flask

from inventory.application import InventoryApplication
from inventory.projections import queries, staff
from tests.web.conftest import STAFF
from tests.web.pages.conftest import PASSWORD, Person, csrf_token, person

NEW_PASSWORD = "night-van-password"


def field_error(page: str, field_id: str) -> str:
    """The error shown under one field ('' if none), as a person reads it."""
    found = re.search(rf'<small id="{re.escape(field_id)}-error" class="field-error">(.*?)</small>', page, re.S)
    return html.unescape(found.group(1)) if found else ""


def store(flask_app: Flask) -> Any:
    return flask_app.extensions["inventory"].store


def levels(flask_app: Flask, site: str, sku: str) -> tuple[Any, Any, Any]:
    row = queries.stock_levels(store(flask_app), site, sku)[0]
    return row["reorder_point"], row["par_level"], row["lead_time_days"]


@pytest.fixture
def people(people: dict[str, Person], flask_app: Flask) -> dict[str, Person]:
    """Everyone signed in, and the read models caught up with the accounts made for them."""
    flask_app.extensions["inventory"].projector.catch_up()
    return people


def post_from_home(who: Person, path: str, data: dict[str, Any] | None = None) -> Any:
    """A POST with a valid CSRF token from the dashboard (for routes a person may not open)."""
    token = csrf_token(who.get("/").get_data(as_text=True))
    return who.post_raw(path, {**(data or {}), "csrf_token": token})


def test_admin_sets_up_a_site_an_item_a_funding_rule_and_levels(
    flask_app: Flask, people: dict[str, Person], inventory: InventoryApplication
) -> None:
    admin = people["admin"]
    response = admin.post("/admin/sites/new", {"code": "van-2", "name": "Night van", "kind": "mobile"})
    assert response.status_code == 302 and response.headers["Location"] == "/admin/sites"
    page = admin.get("/admin/sites").get_data(as_text=True)
    assert "Site VAN-2 (Night van) registered." in page and 'data-code="VAN-2"' in page
    assert inventory.site("VAN-2")["kind"] == "mobile"

    item = {"sku": "FTS", "name": "Fentanyl test strip", "category": "test_strip", "unit": "strip"}
    packs = {"packs-0-name": "box", "packs-0-units": "100", "packs-1-name": "case", "packs-1-units": "2000"}
    response = admin.post("/admin/items/new", {**item, "tracks_expiry": "y", **packs})
    assert response.status_code == 302 and response.headers["Location"] == "/admin/items"
    assert inventory.item("FTS") | {"id": None} == {
        **item,
        "id": None,
        "tracks_expiry": True,
        "pack_size": 100,
        "packs": [{"name": "box", "units": 100}, {"name": "case", "units": 2000}],
        "doses_per_unit": None,
        "retired": False,
    }
    assert "box of 100 · case of 2,000" in admin.get("/admin/items").get_data(as_text=True)

    rule = {"restrictions-0-category": "syringe", "restrictions-0-starts_on": "2024-01-01"}
    response = admin.post("/admin/funding/new", {"code": "fed", "name": "Federal grant", "federal": "y", **rule})
    assert response.status_code == 302 and response.headers["Location"] == "/admin/funding"
    source = inventory.funding_source("FED")
    assert source["federal"] is True
    assert source["restrictions"] == [{"category": "syringe", "starts_on": date(2024, 1, 1), "ends_on": None}]
    assert "No syringes from 2024-01-01, no end date" in admin.get("/admin/funding").get_data(as_text=True)

    response = admin.post("/admin/levels/VAN-2/FTS", {"reorder_point": "20", "par_level": "100", "lead_time_days": "3"})
    assert response.status_code == 302 and response.headers["Location"] == "/admin/levels#site-VAN-2"
    assert levels(flask_app, "VAN-2", "FTS") == (20, 100, 3)
    page = admin.get("/admin/levels").get_data(as_text=True)
    assert "Levels for FTS at VAN-2 saved: reorder at 20, par 100, lead time 3 days." in page
    row = re.search(r'<tr data-site="VAN-2" data-sku="FTS">(.*?)</tr>', page, re.S)
    assert row and re.findall(r'<td class="num[^"]*">([\d,]+)</td>', row.group(1)) == ["0", "20", "100", "3"]


def test_admin_adds_a_coordinator_who_signs_in_and_then_changes_their_sites(
    flask_app: Flask, people: dict[str, Person], inventory: InventoryApplication
) -> None:
    admin = people["admin"]
    response = admin.post(
        "/admin/users/new",
        {
            "email": "Night@Example.org",
            "role": "coordinator",
            "sites": ["VAN-1"],
            "password": NEW_PASSWORD,
            "again": NEW_PASSWORD,
        },
    )
    assert response.status_code == 302 and response.headers["Location"] == "/admin/users"
    assert inventory.user("night@example.org")["sites"] == ["VAN-1"]

    night = person(flask_app, "night@example.org", signed_in=False)
    assert night.sign_in(NEW_PASSWORD).status_code == 302
    assert "(coordinator: VAN-1)" in night.get("/").get_data(as_text=True)

    response = admin.post("/admin/users/night@example.org", {"role": "coordinator", "sites": ["VAN-1", "WH"]})
    assert response.status_code == 302
    assert inventory.user("night@example.org")["sites"] == ["VAN-1", "WH"]
    listing = admin.get("/admin/users").get_data(as_text=True)
    assert "night@example.org is now site coordinator (VAN-1, WH)." in listing
    card = re.search(r'data-email="night@example.org">(.*?)</li>', listing, re.S)
    assert card and "Site coordinator · VAN-1, WH" in card.group(1)
    # Another role covers every site: the ticked sites are not kept.
    admin.post("/admin/users/night@example.org", {"role": "auditor", "sites": ["WH"]})
    assert inventory.user("night@example.org") | {"id": None, "tokens": []} == {
        "id": None,
        "email": "night@example.org",
        "role": "auditor",
        "sites": [],
        "partner": None,
        "active": True,
        "has_password": True,
        "tokens": [],
    }


def test_refused_inputs_show_next_to_their_field_keep_the_values_and_record_nothing(
    flask_app: Flask, people: dict[str, Person]
) -> None:
    admin = people["admin"]
    duplicate = admin.post("/admin/sites/new", {"code": "wh", "name": "Second warehouse", "kind": "warehouse"})
    assert duplicate.status_code == 409
    page = duplicate.get_data(as_text=True)
    assert field_error(page, "code") == "A site with code WH is already registered."
    assert 'value="wh"' in page and 'value="Second warehouse"' in page
    assert [s["code"] for s in queries.sites(store(flask_app))] == ["VAN-1", "WH"]

    staff_before = staff.accounts(store(flask_app))
    user = {"role": "coordinator", "sites": ["VAN-1"], "password": NEW_PASSWORD, "again": NEW_PASSWORD}
    bad_email = admin.post("/admin/users/new", {**user, "email": "night.example.org"})
    assert bad_email.status_code == 422
    page = bad_email.get_data(as_text=True)
    assert field_error(page, "email") == "Enter a valid email address, like name@example.org."
    assert 'value="night.example.org"' in page
    assert re.search(r'checked[^>]*value="VAN-1"|value="VAN-1"[^>]*checked', page)
    assert '<option selected value="coordinator">' in page

    # Every mistake on the form at once, not one per attempt.
    several = admin.post("/admin/users/new", {**user, "email": "night@", "sites": [], "again": "something else"})
    assert several.status_code == 422
    page = several.get_data(as_text=True)
    assert field_error(page, "email") == "Enter a valid email address, like name@example.org."
    assert field_error(page, "sites") == "A coordinator needs at least one site."
    assert field_error(page, "again") == "The two passwords differ."
    assert 'value="night@"' in page and "checked" not in page

    # The verb refuses what the form lets through (an email taken by another account).
    taken = admin.post("/admin/users/new", {**user, "email": STAFF["auditor"].upper()})
    assert taken.status_code == 409
    assert (
        field_error(taken.get_data(as_text=True), "email")
        == f"A user with email {STAFF['auditor']} is already registered."
    )
    assert staff.accounts(store(flask_app)) == staff_before

    above_par = admin.post(
        "/admin/levels/VAN-1/NALOX-4MG", {"reorder_point": "50", "par_level": "10", "lead_time_days": "3"}
    )
    assert above_par.status_code == 422
    page = above_par.get_data(as_text=True)
    # The domain's message, in the words of the form's labels.
    assert field_error(page, "par_level") == "Par level (10) must be at least the reorder point (50)."
    assert 'value="50"' in page and 'value="10"' in page
    assert queries.stock_levels(store(flask_app), "VAN-1", "NALOX-4MG") == []

    no_start = admin.post(
        "/admin/funding/new",
        {
            "code": "FED",
            "name": "Federal grant",
            "restrictions-1-category": "syringe",
            "restrictions-1-ends_on": "2030-01-01",
        },
    )
    assert no_start.status_code == 422
    page = no_start.get_data(as_text=True)
    assert field_error(page, "restrictions-1-starts_on") == "Enter the date this rule starts."
    assert 'value="2030-01-01"' in page and 'value="FED"' in page
    assert [f["code"] for f in queries.funding_sources(store(flask_app))] == ["SOR", "STATE"]


def test_sites_close_and_reopen_items_retire_and_funding_rules_change(
    flask_app: Flask, people: dict[str, Person], inventory: InventoryApplication
) -> None:
    admin = people["admin"]
    response = admin.post("/admin/sites/VAN-1/close", {}, token_from="/admin/sites")
    assert response.status_code == 302 and inventory.site("VAN-1")["open"] is False
    assert "Site VAN-1 closed" in admin.get("/admin/sites").get_data(as_text=True)
    admin.post("/admin/sites/VAN-1/reopen", {}, token_from="/admin/sites")
    assert inventory.site("VAN-1")["open"] is True
    assert admin.post("/admin/sites/NOPE/close", {}, token_from="/admin/sites").status_code == 404

    # A stray POST without the confirmation changes nothing; the confirmed one retires.
    assert admin.post("/admin/items/SYR-1ML/retire", {}).status_code == 422
    assert inventory.item("SYR-1ML")["retired"] is False
    assert admin.post("/admin/items/SYR-1ML/retire", {"confirm": "yes"}).status_code == 302
    assert inventory.item("SYR-1ML")["retired"] is True
    assert "Retired" in admin.get("/admin/items").get_data(as_text=True)

    form = admin.get("/admin/funding/SOR/rules").get_data(as_text=True)
    assert '<option selected value="syringe">' in form and 'value="2018-01-01"' in form
    response = admin.post(
        "/admin/funding/SOR/rules",
        {
            "restrictions-0-category": "",
            "restrictions-1-category": "test_strip",
            "restrictions-1-starts_on": "2025-01-01",
            "restrictions-1-ends_on": "2025-12-31",
        },
    )
    assert response.status_code == 302
    assert inventory.funding_source("SOR")["restrictions"] == [
        {"category": "test_strip", "starts_on": date(2025, 1, 1), "ends_on": date(2025, 12, 31)}
    ]
    assert "No test strips from 2025-01-01 to 2025-12-31" in admin.get("/admin/funding").get_data(as_text=True)


def test_admin_resets_a_password_and_deactivates_an_account_but_not_their_own(
    flask_app: Flask, people: dict[str, Person], inventory: InventoryApplication
) -> None:
    admin = people["admin"]
    listing = admin.get("/admin/users").get_data(as_text=True)
    assert all(email in listing for email in STAFF.values())
    assert "$argon2" not in listing and "secret" not in listing

    auditor = STAFF["auditor"]
    response = admin.post(f"/admin/users/{auditor}/password", {"password": NEW_PASSWORD, "again": NEW_PASSWORD})
    assert response.status_code == 302 and response.headers["Location"] == f"/admin/users/{auditor}"
    assert person(flask_app, auditor, signed_in=False).sign_in(PASSWORD).status_code == 401
    assert person(flask_app, auditor, signed_in=False).sign_in(NEW_PASSWORD).status_code == 302

    assert admin.post(f"/admin/users/{auditor}/deactivate", {}).status_code == 422
    assert inventory.user(auditor)["active"] is True
    assert admin.post(f"/admin/users/{auditor}/deactivate", {"confirm": "yes"}).status_code == 302
    assert inventory.user(auditor)["active"] is False
    assert person(flask_app, auditor, signed_in=False).sign_in(NEW_PASSWORD).status_code == 401
    card = re.search(rf'data-email="{auditor}">(.*?)</li>', admin.get("/admin/users").get_data(as_text=True), re.S)
    assert card and "Deactivated" in card.group(1)

    me = STAFF["admin"]
    assert post_from_home(admin, f"/admin/users/{me}/deactivate", {"confirm": "yes"}).status_code == 409
    demote = admin.post(f"/admin/users/{me}", {"role": "purchasing"})
    assert demote.status_code == 422
    assert "You cannot take the admin role from yourself" in field_error(demote.get_data(as_text=True), "role")
    assert inventory.user(me)["role"] == "admin" and inventory.user(me)["active"] is True


def test_admin_reactivates_an_account_with_a_new_password_and_nothing_old_comes_back(
    flask_app: Flask, people: dict[str, Person], inventory: InventoryApplication
) -> None:
    admin, auditor = people["admin"], STAFF["auditor"]
    left_signed_in = person(flask_app, auditor)  # a browser the auditor never signed out of
    token = inventory.issue_token(email=auditor, label="laptop", actor=auditor)
    assert inventory.check_token(token) is not None
    assert "Reactivate" not in admin.get(f"/admin/users/{auditor}").get_data(as_text=True)
    refused = admin.post(
        f"/admin/users/{auditor}/reactivate", {"password": "back-in-the-van", "again": "back-in-the-van"}
    )
    assert refused.status_code == 409 and f"The account {auditor} is already active." in refused.get_data(as_text=True)

    assert admin.post(f"/admin/users/{auditor}/deactivate", {"confirm": "yes"}).status_code == 302
    assert left_signed_in.get("/").status_code == 302 and inventory.check_token(token) is None
    page = admin.get(f"/admin/users/{auditor}").get_data(as_text=True)
    assert f'href="/admin/users/{auditor}/reactivate"' in page and "/deactivate" not in page

    mismatch = admin.post(
        f"/admin/users/{auditor}/reactivate", {"password": "back-in-the-van", "again": "back-in-a-van"}
    )
    assert mismatch.status_code == 422 and inventory.user(auditor)["active"] is False
    short = admin.post(f"/admin/users/{auditor}/reactivate", {"password": "short", "again": "short"})
    assert short.status_code == 422 and inventory.user(auditor)["active"] is False

    back = admin.post(f"/admin/users/{auditor}/reactivate", {"password": "back-in-the-van", "again": "back-in-the-van"})
    assert back.status_code == 302 and back.headers["Location"] == f"/admin/users/{auditor}"
    account = inventory.user(auditor)
    assert account["active"] is True and len(account["tokens"]) >= 2 and all(t["revoked"] for t in account["tokens"])
    # Nothing from before comes back: the old password, the old browser, the old token.
    assert person(flask_app, auditor, signed_in=False).sign_in(PASSWORD).status_code == 401
    assert left_signed_in.get("/").status_code == 302
    assert inventory.check_token(token) is None
    assert person(flask_app, auditor, signed_in=False).sign_in("back-in-the-van").status_code == 302
    card = re.search(rf'data-email="{auditor}">(.*?)</li>', admin.get("/admin/users").get_data(as_text=True), re.S)
    assert card and "Deactivated" not in card.group(1)

    # The audit log says it in words, and no secret is in it.
    found = flask_app.extensions["inventory"]
    found.projector.catch_up()
    rows = found.store.fetchall(
        "SELECT actor, summary FROM audit_log WHERE aggregate_id = ? ORDER BY position", (account["id"],)
    )
    assert rows[0][1] == f"Account {auditor} added: auditor (all sites)"
    revoked = [(STAFF["admin"], f"API token {t['id']} revoked") for t in account["tokens"]]
    assert rows[-(len(revoked) + 3) :] == [
        (STAFF["admin"], "Account deactivated: signed out, API tokens refused"),
        *revoked,
        (STAFF["admin"], "Password set (everyone signed in with the old one is signed out)"),
        (STAFF["admin"], "Account reactivated"),
    ]
    assert not any("$argon2" in summary for _, summary in rows)


def test_purchasing_sets_levels_but_may_not_manage_sites_items_or_users(
    flask_app: Flask, people: dict[str, Person]
) -> None:
    buyer = people["purchasing"]
    assert buyer.get("/admin/levels").status_code == 200
    response = buyer.post(
        "/admin/levels/WH/SYR-1ML", {"reorder_point": "500", "par_level": "2000", "lead_time_days": "14"}
    )
    assert response.status_code == 302
    assert levels(flask_app, "WH", "SYR-1ML") == (500, 2000, 14)
    for path in ("/admin", "/admin/sites", "/admin/sites/new", "/admin/items", "/admin/items/new", "/admin/funding"):
        assert buyer.get(path).status_code == 403, path
    for path in ("/admin/users", "/admin/users/new", f"/admin/users/{STAFF['auditor']}"):
        assert buyer.get(path).status_code == 403, path
    assert post_from_home(buyer, "/admin/sites/new", {"code": "X", "name": "X", "kind": "fixed"}).status_code == 403
    assert post_from_home(buyer, "/admin/sites/WH/close").status_code == 403
    assert [s["code"] for s in queries.sites(store(flask_app))] == ["VAN-1", "WH"]
    assert inventory_open(flask_app, "WH")


def inventory_open(flask_app: Flask, code: str) -> bool:
    return next(s["is_open"] for s in queries.sites(store(flask_app)) if s["code"] == code)


def test_coordinator_grant_manager_and_auditor_are_refused_every_admin_route(
    flask_app: Flask, people: dict[str, Person]
) -> None:
    values = {"code": "VAN-1", "sku": "NALOX-4MG", "email": STAFF["coordinator"], "ref": "0" * 16, "token_id": "0" * 16}
    rules = [rule for rule in flask_app.url_map.iter_rules() if rule.endpoint.startswith("admin.")]
    assert len(rules) >= 15
    for role in ("coordinator", "grant_manager", "auditor"):
        who = people[role]
        for rule in rules:
            url = rule.build({name: values[name] for name in rule.arguments}, append_unknown=False)[1]  # type: ignore[index]
            if "GET" in (rule.methods or ()):
                assert who.get(url).status_code == 403, (role, url)
            if "POST" in (rule.methods or ()):
                assert post_from_home(who, url, {"confirm": "yes"}).status_code == 403, (role, url)
    assert staff.accounts(store(flask_app))[1]["active"] is True  # nothing was deactivated on the way
