"""Who may call the API: tokens, roles and sites, the error envelope, and the API's documents."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any
from urllib.parse import urlparse

import pytest
from click.testing import CliRunner
from flask import Flask
from flask.testing import FlaskClient

from inventory.application import InventoryApplication
from inventory.application.access import Action, Principal
from inventory.cli import main
from tests.clock import EDGES, Edge
from tests.web.conftest import (
    ADMIN,
    ADMIN_PASSWORD,
    COORDINATOR_SITE,
    SEAL_KEY,
    STAFF,
    Caller,
    check_alerts,
    day,
    error,
    ok,
)

# The API's documents and request parsing do not touch the database: one database is enough.
DOCUMENTS_ONLY = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)

RECEIPT = {
    "site": "VAN-1",
    "sku": "NALOX-4MG",
    "lot": "N-1",
    "quantity": 100,
    "expires_on": "2099-12-31",
    "funding_source": "STATE",
}


@pytest.fixture
def stocked(staff: dict[str, Caller], flask_app: Flask) -> dict[str, Caller]:
    """Naloxone at the warehouse and the van, both below their reorder points (alerts raised); staff of every role."""
    root = staff["admin"]
    ok(root.post("/api/v1/receipts", RECEIPT))
    ok(root.post("/api/v1/receipts", dict(RECEIPT, lot="C-1", quantity=50)))
    ok(root.post("/api/v1/receipts", dict(RECEIPT, site="WH", lot="W-1", quantity=70)))
    for site in ("VAN-1", "WH"):
        ok(
            root.put(
                f"/api/v1/sites/{site}/levels/NALOX-4MG", {"reorder_point": 500, "par_level": 900, "lead_time_days": 7}
            ),
            200,
        )
    check_alerts(flask_app)
    return staff


def events_of(caller: Caller, event_type: str) -> int:
    body = ok(caller.get("/api/v1/events", limit=1000), 200)
    return sum(1 for event in body["events"] if event["type"] == event_type)


# ----- tokens ------------------------------------------------------------------------------------


def test_the_cli_prints_a_token_that_works(
    database_url: str, flask_app: Flask, client: FlaskClient, root: Caller, monkeypatch: pytest.MonkeyPatch
) -> None:
    env = {"INVENTORY_DATABASE_URL": database_url, "INVENTORY_SEAL_KEY": SEAL_KEY}
    printed = CliRunner().invoke(main, ["users", "token", STAFF["admin"], "--label", "laptop"], env=env)
    unknown = CliRunner().invoke(main, ["users", "token", "nobody@example.org"], env=env)

    assert printed.exit_code == 0, printed.output
    token = printed.output.strip()
    assert re.fullmatch(r"inv_[0-9a-f]{32}_[0-9a-f]{16}_[A-Za-z0-9_-]{43}", token)
    assert ok(Caller(client, token).get("/api/v1/sites"), 200) == []
    assert unknown.exit_code == 1 and "There is no user nobody@example.org." in unknown.output


def test_a_password_exchanged_for_a_token_gives_a_working_token(client: FlaskClient, first_admin: str) -> None:
    body = ok(client.post("/api/v1/tokens", json={"email": "Admin@Example.org", "password": ADMIN_PASSWORD}))

    assert (body["email"], body["role"], body["sites"]) == (ADMIN, "admin", [])
    assert "password" not in body
    assert ok(Caller(client, body["token"]).get("/api/v1/events"), 200)["head"] == 3


def test_a_wrong_password_or_unknown_email_is_answered_401_in_the_envelope(
    client: FlaskClient, first_admin: str
) -> None:
    wrong = error(client.post("/api/v1/tokens", json={"email": ADMIN, "password": "not the password"}), 401)
    unknown = error(client.post("/api/v1/tokens", json={"email": "who@example.org", "password": ADMIN_PASSWORD}), 401)

    assert wrong == unknown  # nothing tells which emails exist
    assert wrong["code"] == "unauthorized" and "email or password" in wrong["message"]


def test_calls_without_a_usable_token_are_answered_401(anonymous: Caller, client: FlaskClient, root: Caller) -> None:
    assert root.token is not None
    missing = anonymous.get("/api/v1/stock")
    assert "Authorization: Bearer" in error(missing, 401, "unauthorized")["message"]
    assert missing.headers["WWW-Authenticate"] == "Bearer"
    for token in (
        "nonsense",
        root.token[:-1] + ("A" if root.token[-1] != "A" else "B"),
        root.token.replace("inv_", "xyz_"),
    ):
        answer = Caller(client, token).get("/api/v1/stock")
        assert error(answer, 401, "unauthorized")["message"] == "The token is unknown, revoked or its user deactivated."
        assert answer.headers["WWW-Authenticate"] == 'Bearer error="invalid_token"'
    basic = client.get("/api/v1/stock", headers={"Authorization": "Basic YWRtaW46YWRtaW4="})
    error(basic, 401, "unauthorized")


def test_a_revoked_token_is_answered_401_and_the_other_tokens_still_work(
    inventory: InventoryApplication, client: FlaskClient, root: Caller
) -> None:
    second = Caller(client, inventory.issue_token(email=STAFF["admin"], label="phone", actor=STAFF["admin"]))
    ok(second.get("/api/v1/sites"), 200)
    assert second.token is not None

    inventory.revoke_token(email=STAFF["admin"], token_id=second.token.split("_", 3)[2], actor=STAFF["admin"])

    error(second.get("/api/v1/sites"), 401, "unauthorized")
    error(second.post("/api/v1/sites", {"code": "X", "name": "X", "kind": "fixed"}), 401, "unauthorized")
    ok(root.get("/api/v1/sites"), 200)


def test_a_deactivated_users_token_and_password_are_answered_401(
    inventory: InventoryApplication, client: FlaskClient, first_admin: str, root: Caller
) -> None:
    signed_in = Caller(
        client, ok(client.post("/api/v1/tokens", json={"email": ADMIN, "password": ADMIN_PASSWORD}))["token"]
    )
    ok(signed_in.get("/api/v1/sites"), 200)

    inventory.deactivate_user(email=ADMIN, actor=STAFF["admin"])

    error(signed_in.get("/api/v1/sites"), 401, "unauthorized")
    error(client.post("/api/v1/tokens", json={"email": ADMIN, "password": ADMIN_PASSWORD}), 401, "unauthorized")
    ok(root.get("/api/v1/sites"), 200)


# ----- roles and sites ---------------------------------------------------------------------------


def _recorded(root: Caller, path: str, body: dict[str, Any], key: str | None = None) -> Any:
    """What the admin just recorded at VAN-1, for another caller to void or correct."""
    return ok(root.post(path, body, key=key))


def _requests(n: int, root: Caller) -> list[tuple[Action, str, Callable[[Caller], Any]]]:
    """One request per action the API offers, each valid, so only the caller's rights decide; and a void
    or a correction of what the admin just recorded, each under the action that records it."""
    code = f"R-{n}"
    visit = {"site": "VAN-1", "lines": [{"sku": "NALOX-4MG", "quantity": 1}]}
    tally = {
        "site": "VAN-1",
        # A night shift that ended yesterday morning: over, whatever the hour now.
        "shift_date": day(2).isoformat(),
        "starts_at": "21:00",
        "ends_at": "02:00",
        "lines": [],  # visits and no stock: a count made meanwhile cannot refuse it
        "visits": 3,
    }
    adjustment = {"site": "VAN-1", "sku": "NALOX-4MG", "lot": "N-1", "quantity": 1, "reason": "found"}
    count = {"site": "VAN-1", "sku": "NALOX-4MG", "lot": "C-1", "counted": 50}

    def a_receipt() -> int:
        # A lot of its own, used by nothing else (the visits take the lots that expire first).
        return int(_recorded(root, "/api/v1/receipts", dict(RECEIPT, lot=f"V-{n}", quantity=5))["position"])

    def an_adjustment() -> int:
        return int(_recorded(root, "/api/v1/adjustments", adjustment)["position"])

    def a_count() -> int:
        return int(_recorded(root, "/api/v1/counts", count)["position"])

    void = {"reason": "entered_twice"}
    return [
        (
            Action.MANAGE_CATALOG,
            "POST /sites",
            lambda c: c.post("/api/v1/sites", {"code": code, "name": "New", "kind": "fixed"}),
        ),
        (
            Action.MANAGE_CATALOG,
            "POST /items",
            lambda c: c.post(
                "/api/v1/items",
                {"sku": code, "name": "New", "category": "other", "unit": "each", "tracks_expiry": False},
            ),
        ),
        (
            Action.MANAGE_CATALOG,
            "POST /funding-sources",
            lambda c: c.post("/api/v1/funding-sources", {"code": code, "name": "New", "federal": False}),
        ),
        (
            Action.SET_LEVELS,
            "PUT /sites/VAN-1/levels/NALOX-4MG",
            lambda c: c.put(
                "/api/v1/sites/VAN-1/levels/NALOX-4MG", {"reorder_point": 500, "par_level": 900, "lead_time_days": 7}
            ),
        ),
        (
            Action.RECEIVE_STOCK,
            "POST /receipts",
            lambda c: c.post("/api/v1/receipts", dict(RECEIPT, lot=code, quantity=5)),
        ),
        (
            Action.RECEIVE_STOCK,
            "POST /receipts/{position}/void",
            lambda c: c.post(f"/api/v1/receipts/{a_receipt()}/void", void),
        ),
        (
            Action.RECEIVE_STOCK,
            "POST /receipts/{position}/correction",
            lambda c: c.post(f"/api/v1/receipts/{a_receipt()}/correction", {"quantity": 4, "reason": "wrong_quantity"}),
        ),
        (
            Action.RECORD_ENCOUNTER,
            "POST /encounters",
            lambda c: c.post(
                "/api/v1/encounters",
                {"site": "VAN-1", "lines": [{"sku": "NALOX-4MG", "quantity": 1}]},
                key=f"matrix-{code}",
            ),
        ),
        (
            Action.RECORD_ENCOUNTER,
            "POST /tallies",
            lambda c: c.post("/api/v1/tallies", tally, key=f"matrix-tally-{code}"),
        ),
        (
            Action.RECORD_ENCOUNTER,
            "POST /encounters/{visit_id}/void",
            lambda c: c.post(
                f"/api/v1/encounters/{_recorded(root, '/api/v1/encounters', visit, f'void-visit-{code}')['id']}/void",
                void,
            ),
        ),
        (
            Action.RECORD_ENCOUNTER,
            "POST /tallies/{tally_id}/void",
            lambda c: c.post(
                f"/api/v1/tallies/{_recorded(root, '/api/v1/tallies', tally, f'void-tally-{code}')['id']}/void", void
            ),
        ),
        (
            Action.TRANSFER,
            "POST /transfers",
            lambda c: c.post(
                "/api/v1/transfers",
                {"from_site": "VAN-1", "to_site": "WH", "lines": [{"sku": "NALOX-4MG", "quantity": 1, "lot": "N-1"}]},
            ),
        ),
        (
            Action.ADJUST_STOCK,
            "POST /adjustments",
            lambda c: c.post("/api/v1/adjustments", adjustment),
        ),
        (
            Action.ADJUST_STOCK,
            "POST /adjustments/{position}/void",
            lambda c: c.post(f"/api/v1/adjustments/{an_adjustment()}/void", void),
        ),
        (
            Action.ADJUST_STOCK,
            "POST /adjustments/{position}/correction",
            lambda c: c.post(
                f"/api/v1/adjustments/{an_adjustment()}/correction", {"quantity": 2, "reason": "wrong_quantity"}
            ),
        ),
        (
            Action.COUNT_STOCK,
            "POST /counts",
            lambda c: c.post("/api/v1/counts", count),
        ),
        (
            Action.COUNT_STOCK,
            "POST /counts/{position}/void",
            lambda c: c.post(f"/api/v1/counts/{a_count()}/void", void),
        ),
        (
            Action.COUNT_STOCK,
            "POST /counts/{position}/correction",
            lambda c: c.post(f"/api/v1/counts/{a_count()}/correction", {"quantity": 49, "reason": "wrong_quantity"}),
        ),
        (
            Action.PURCHASE,
            "POST /purchase-orders",
            lambda c: c.post(
                "/api/v1/purchase-orders",
                {
                    "supplier": "Acme",
                    "site": "VAN-1",
                    "funding_source": "STATE",
                    "lines": [{"sku": "NALOX-4MG", "quantity": 10}],
                },
            ),
        ),
        (Action.READ_STOCK, "GET /stock", lambda c: c.get("/api/v1/stock", site="VAN-1")),
        (
            Action.READ_STOCK,
            "GET /stock-card",
            lambda c: c.get(
                "/api/v1/stock-card", site="VAN-1", sku="NALOX-4MG", **{"from": "2020-01-01", "to": "2099-12-31"}
            ),
        ),
        (Action.READ_ALERTS, "GET /alerts", lambda c: c.get("/api/v1/alerts", site="VAN-1")),
        (Action.READ_AUDIT, "GET /events", lambda c: c.get("/api/v1/events")),
        (Action.READ_AUDIT, "GET /audit/verify", lambda c: c.get("/api/v1/audit/verify")),
    ]


@pytest.mark.parametrize("edge", [None, *EDGES[:2]], indirect=True, ids=lambda e: str(e or "now"))
def test_every_role_may_do_exactly_what_the_access_table_allows(edge: Edge | None, stocked: dict[str, Caller]) -> None:
    wrong = []
    for n, (role, caller) in enumerate(stocked.items()):
        principal = Principal(STAFF[role], role, frozenset([COORDINATOR_SITE] if role == "coordinator" else []))
        for action, name, send in _requests(n, stocked["admin"]):
            answer = send(caller)
            allowed = principal.can(action, "VAN-1")
            if allowed and answer.status_code not in (200, 201):
                wrong.append(f"{role} {name}: {answer.status_code} {answer.get_data(as_text=True)}")
            if not allowed:
                if answer.status_code != 403:
                    wrong.append(f"{role} {name}: {answer.status_code}, expected 403")
                else:
                    refusal = error(answer, 403, "forbidden")
                    said = f"A {role.replace('_', ' ')} may not {action.value.replace('_', ' ')}"
                    assert refusal["message"] in (f"{said}.", f"{said} at VAN-1."), refusal

    assert wrong == []


def test_a_grant_manager_may_not_record_a_receipt(stocked: dict[str, Caller]) -> None:
    refused = error(stocked["grant_manager"].post("/api/v1/receipts", dict(RECEIPT, lot="G-1")), 403, "forbidden")

    assert refused["message"] == "A grant manager may not receive stock."
    assert events_of(stocked["admin"], "StockLedger.Received") == 3


def test_an_auditor_reads_the_feed_and_the_seal_and_a_coordinator_may_not(stocked: dict[str, Caller]) -> None:
    auditor, coordinator = stocked["auditor"], stocked["coordinator"]

    feed = ok(auditor.get("/api/v1/events", limit=5), 200)
    seal = ok(auditor.get("/api/v1/audit/verify"), 200)

    assert [event["position"] for event in feed["events"]] == [1, 2, 3, 4, 5]
    assert seal["ok"] is True and seal["head_position"] == feed["head"]
    assert error(coordinator.get("/api/v1/events"), 403, "forbidden")["message"] == "A coordinator may not read audit."
    assert (
        error(coordinator.get("/api/v1/audit/verify"), 403, "forbidden")["message"]
        == "A coordinator may not read audit."
    )


def test_a_coordinator_may_not_record_at_another_site(stocked: dict[str, Caller]) -> None:
    coordinator = stocked["coordinator"]
    visit = {"site": "WH", "lines": [{"sku": "NALOX-4MG", "quantity": 1}]}
    attempts = {
        "receive stock": coordinator.post("/api/v1/receipts", dict(RECEIPT, site="WH", lot="W-2")),
        "record encounter": coordinator.post("/api/v1/encounters", visit, key="visit-at-wh-0001"),
        "record encounter (a shift tally)": coordinator.post(
            "/api/v1/tallies",
            {
                "site": "WH",
                "shift_date": day(1).isoformat(),
                "starts_at": "08:00",
                "ends_at": "16:00",
                "lines": [],
                "visits": 4,
            },
            key="tally-at-wh-0001",
        ),
        "transfer": coordinator.post(
            "/api/v1/transfers", {"from_site": "WH", "to_site": "VAN-1", "lines": [{"sku": "NALOX-4MG", "quantity": 1}]}
        ),
        "adjust stock": coordinator.post(
            "/api/v1/adjustments", {"site": "WH", "sku": "NALOX-4MG", "lot": "W-1", "quantity": -1, "reason": "lost"}
        ),
        "count stock": coordinator.post(
            "/api/v1/counts", {"site": "wh", "sku": "NALOX-4MG", "lot": "W-1", "counted": 1}
        ),
    }

    for verb, answer in attempts.items():
        action = verb.split(" (")[0]  # a shift tally is recording encounters too
        assert error(answer, 403, "forbidden")["message"] == f"A coordinator may not {action} at WH."
    assert ok(stocked["admin"].get("/api/v1/stock", site="WH"), 200) == [
        {
            "site": "WH",
            "sku": "NALOX-4MG",
            "lot": "W-1",
            "quantity": 70,
            "expires_on": "2099-12-31",
            "funding_source": "STATE",
        }
    ]
    assert events_of(stocked["admin"], "Encounter.Recorded") == 0


def test_a_coordinator_never_sees_another_sites_rows(stocked: dict[str, Caller]) -> None:
    coordinator, admin = stocked["coordinator"], stocked["admin"]

    assert {row["site"] for row in ok(admin.get("/api/v1/stock"), 200)} == {"VAN-1", "WH"}
    assert {row["site"] for row in ok(admin.get("/api/v1/alerts"), 200)} == {"VAN-1", "WH"}
    assert [(row["site"], row["lot"], row["quantity"]) for row in ok(coordinator.get("/api/v1/stock"), 200)] == [
        ("VAN-1", "C-1", 50),
        ("VAN-1", "N-1", 100),
    ]
    as_of = ok(coordinator.get("/api/v1/stock", as_of="2099-01-01"), 200)
    assert {row["site"] for row in as_of} == {"VAN-1"} and len(as_of) == 2
    assert [(a["kind"], a["site"]) for a in ok(coordinator.get("/api/v1/alerts"), 200)] == [
        ("below_reorder_point", "VAN-1")
    ]
    assert [site["code"] for site in ok(coordinator.get("/api/v1/sites"), 200)] == ["VAN-1"]
    for path, query in (
        ("/api/v1/stock", {"site": "WH"}),
        ("/api/v1/stock", {"site": "WH", "as_of": "2099-01-01"}),
        ("/api/v1/alerts", {"site": "WH"}),
        ("/api/v1/alerts", {"site": "wh"}),
        ("/api/v1/stock-card", {"site": "WH", "sku": "NALOX-4MG", "from": "2020-01-01", "to": "2099-12-31"}),
    ):
        assert error(coordinator.get(path, **query), 403, "forbidden")["message"].endswith(" at WH.")


# ----- the envelope, CSRF, and the documents -------------------------------------------------------


def test_every_error_is_the_json_envelope(stocked: dict[str, Caller], client: FlaskClient) -> None:
    admin = stocked["admin"]

    no_key = error(
        admin.post("/api/v1/encounters", {"site": "VAN-1", "lines": [{"sku": "NALOX-4MG", "quantity": 1}]}), 400
    )
    assert "Idempotency-Key" in no_key["message"]
    short_key = admin.post(
        "/api/v1/encounters", {"site": "VAN-1", "lines": [{"sku": "NALOX-4MG", "quantity": 1}]}, key="short"
    )
    assert "8 to 100" in error(short_key, 400)["message"]
    broken = client.post(
        "/api/v1/sites", data="{not json", headers=dict(admin.headers(), **{"Content-Type": "application/json"})
    )
    assert "json" in error(broken, 400, "bad_request")["message"].lower()
    error(admin.get("/api/v1/no-such-thing"), 404)
    error(admin.get("/api/v1/transfers/6f1c1f7e-0000-4000-8000-000000000000"), 404, "unknown_transfer")
    error(
        admin.put("/api/v1/sites/NOWHERE/levels/NALOX-4MG", {"reorder_point": 1, "par_level": 2, "lead_time_days": 3}),
        404,
    )
    error(client.delete("/api/v1/sites", headers=admin.headers()), 405)
    error(admin.post("/api/v1/sites", {"code": "VAN-1", "name": "Again", "kind": "mobile"}), 409, "already_exists")
    insufficient = admin.post(
        "/api/v1/encounters", {"site": "VAN-1", "lines": [{"sku": "NALOX-4MG", "quantity": 999}]}, key="too-many-0001"
    )
    error(insufficient, 409, "insufficient_stock")
    invalid = error(admin.get("/api/v1/events", limit=0, after=-1), 422, "invalid_input")
    assert set(invalid["fields"]) == {"limit", "after"}
    error(
        admin.get("/api/v1/stock-card", site="VAN-1", sku="NALOX-4MG", **{"from": "2025-02-01", "to": "2025-01-01"}),
        422,
    )


def test_api_posts_need_no_csrf_token(flask_app: Flask, root: Caller) -> None:
    flask_app.config["WTF_CSRF_ENABLED"] = True
    fresh = Caller(flask_app.test_client(use_cookies=False), root.token)

    created = ok(fresh.post("/api/v1/sites", {"code": "FIX-9", "name": "Drop-in", "kind": "fixed"}))

    assert created["code"] == "FIX-9"


# Every path of DESIGN.md's "public API, v1" table that exists (exports are not built yet).
DESIGNED_PATHS = {
    ("post", "/api/v1/sites"),
    ("post", "/api/v1/items"),
    ("post", "/api/v1/funding-sources"),
    ("put", "/api/v1/sites/{}/levels/{}"),
    ("post", "/api/v1/receipts"),
    ("post", "/api/v1/encounters"),
    ("post", "/api/v1/transfers"),
    ("post", "/api/v1/transfers/{}/receive"),
    ("post", "/api/v1/adjustments"),
    ("post", "/api/v1/counts"),
    ("post", "/api/v1/purchase-orders"),
    ("post", "/api/v1/purchase-orders/{}/receipts"),
    ("get", "/api/v1/stock"),
    ("get", "/api/v1/stock-card"),
    ("get", "/api/v1/alerts"),
    ("get", "/api/v1/events"),
    ("get", "/api/v1/audit/verify"),
    ("post", "/api/v1/tokens"),
    ("delete", "/api/v1/tokens/{}"),
}


@DOCUMENTS_ONLY
def test_the_openapi_document_lists_every_designed_path(anonymous: Caller) -> None:
    spec = ok(anonymous.get("/api/v1/openapi.json"), 200)

    operations = {
        (method, re.sub(r"\{[^}]+\}", "{}", path)): operation
        for path, item in spec["paths"].items()
        for method, operation in item.items()
        if method in ("get", "post", "put", "delete", "patch")
    }
    assert DESIGNED_PATHS - set(operations) == set()
    assert spec["components"]["securitySchemes"]["bearer"] == {"type": "http", "scheme": "bearer"}
    for key in DESIGNED_PATHS - {("post", "/api/v1/tokens")}:
        assert "401" in operations[key]["responses"], key
    assert "Idempotency-Key" in operations[("post", "/api/v1/encounters")]["summary"]
    revoke = operations[("delete", "/api/v1/tokens/{}")]["responses"]
    assert {"204", "401", "404"} <= set(revoke)
    assert revoke["404"]["content"]["application/json"]["schema"] == {"$ref": "#/components/schemas/ErrorResponse"}
    refused = operations[("post", "/api/v1/tokens")]["responses"]["429"]
    assert "Retry-After" in refused["headers"]


@DOCUMENTS_ONLY
def test_the_openapi_document_declares_the_idempotency_key_header(anonymous: Caller) -> None:
    spec = ok(anonymous.get("/api/v1/openapi.json"), 200)
    parameters = spec["paths"]["/api/v1/encounters"]["post"].get("parameters", [])

    assert {"in": "header", "name": "Idempotency-Key", "required": True} in [
        {k: p.get(k) for k in ("in", "name", "required")} for p in parameters
    ]


@DOCUMENTS_ONLY
def test_a_misspelt_query_parameter_is_refused_rather_than_ignored(stocked: dict[str, Caller]) -> None:
    refused = error(stocked["admin"].get("/api/v1/stock", site="VAN-1", asof="2020-01-01"), 422, "invalid_input")

    assert list(refused["fields"]) == ["asof"]


@DOCUMENTS_ONLY
def test_swagger_ui_is_served_from_local_assets_only(anonymous: Caller) -> None:
    page = anonymous.get("/api/v1/docs")
    assert page.status_code == 200 and page.mimetype == "text/html"
    html = page.get_data(as_text=True)

    outside = [url for url in re.findall(r"https?://[^\s\"'<>)]+", html) if urlparse(url).hostname != "localhost"]
    assert outside == []
    assets = re.findall(r"""(?:src|href)=["']([^"']+)["']""", html)
    assert any(a.endswith("/static/vendor/swagger-ui/swagger-ui-bundle.js") for a in assets)
    assert any(a.endswith("/static/vendor/swagger-ui/swagger-ui.css") for a in assets)
    for asset in assets:
        assert not asset.startswith("//"), asset
        with anonymous.get(asset) as fetched:  # files are streamed: close them
            assert fetched.status_code == 200, asset
            assert fetched.get_data(), asset
    spec = re.search(r'data-spec="([^"]+)"', html)
    assert spec is not None and spec.group(1) == "/api/v1/openapi.json"


@DOCUMENTS_ONLY
def test_swagger_ui_never_asks_an_outside_validator(anonymous: Caller) -> None:
    with anonymous.get("/static/js/api-docs.js") as script:
        assert script.status_code == 200
        text = script.get_data(as_text=True)

    assert re.search(r"""validatorUrl\s*:\s*(null|["']none["'])""", text)
