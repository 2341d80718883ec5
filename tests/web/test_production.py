"""What a production web worker does: it creates no tables and says so until `inventory init` ran;
/healthz and /readyz for the load balancer; a request id on every answer and every log line, and no
participant data in any log; a database that goes away answers 503 with a retry hint, never 500.
"""

from __future__ import annotations

import json
import logging
import sqlite3
import uuid
from contextlib import closing
from datetime import date
from pathlib import Path

import psycopg
import pytest
from flask import Flask

from inventory.adapters.logs import JsonFormatter, RequestIdFilter
from inventory.web import create_app
from tests.conftest import ADMIN, POSTGRES_URL, seed_catalog

SECRETS = {"INVENTORY_SEAL_KEY": "production-tests-seal-key"}


def web_worker(database_url: str, **settings: str) -> Flask:
    return create_app({"INVENTORY_DATABASE_URL": database_url, **SECRETS, **settings, "TESTING": True}, web_only=True)


def tables_in(database_url: str) -> list[str]:
    """Every table in the database (SQLite: both files), however it was created."""
    if database_url.startswith("sqlite"):
        path = Path(database_url.removeprefix("sqlite:///"))
        found = []
        for file in (path, path.with_name(f"{path.stem}.readmodels{path.suffix}")):
            if file.exists():
                with closing(sqlite3.connect(file)) as db:
                    found += [name for (name,) in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")]
        return sorted(found)
    schema = database_url.split("schema=")[1].split("&")[0]
    with psycopg.connect(POSTGRES_URL.split("?")[0]) as conn:
        rows = conn.execute("SELECT table_name FROM information_schema.tables WHERE table_schema = %s", (schema,))
        return sorted(str(name) for (name,) in rows.fetchall())


def test_a_web_worker_creates_no_tables_and_answers_503_until_init_has_run(database_url: str) -> None:
    worker = web_worker(database_url)
    client = worker.test_client()
    try:
        assert client.get("/healthz").get_json() == {"status": "ok"}
        ready = client.get("/readyz")
        assert ready.status_code == 503 and ready.headers["Retry-After"]
        assert "Run `inventory init`" in ready.get_json()["reason"]
        api = client.get("/api/v1/sites")
        assert api.status_code == 503 and api.headers["Retry-After"] == "30"
        assert api.get_json()["error"]["code"] == "not_initialised"
        page = client.get("/sign-in")
        assert page.status_code == 503 and "inventory init" in page.get_data(as_text=True)
        assert tables_in(database_url) == []

        # `inventory init` (any non-web process) creates them; the same worker then serves.
        init = create_app({"INVENTORY_DATABASE_URL": database_url, **SECRETS})
        init.test_client().get("/healthz")
        with init.app_context():
            from inventory.bootstrap import create_schema

            create_schema(init.extensions["inventory"])
        init.extensions["inventory"].close()
        assert "api_idempotency" in tables_in(database_url) and "sign_in_failures" in tables_in(database_url)
        ready = client.get("/readyz")
        assert ready.status_code == 200, ready.get_json()
        assert ready.get_json() == {"status": "ready", "head": 0, "lag": 0, "max_lag": 1000}
        assert client.get("/api/v1/sites").status_code == 401  # serving: it now asks who you are
    finally:
        worker.extensions["inventory"].close()


def test_readyz_is_not_ready_while_the_read_models_lag_the_log_beyond_the_limit(database_url: str) -> None:
    app = create_app({"INVENTORY_DATABASE_URL": database_url, **SECRETS, "INVENTORY_READY_MAX_LAG": "5"})
    client = app.test_client()
    services = app.extensions["inventory"]
    try:
        client.get("/sign-in")  # outside a web worker, the first request creates the tables
        assert client.get("/readyz").status_code == 200
        seed_catalog(services.app)  # 6 events the projector has not seen yet
        head = services.app.recorder.max_notification_id()
        lagging = client.get("/readyz")
        assert lagging.status_code == 503
        body = lagging.get_json()
        assert body["lag"] == head and body["head"] == head and "is `inventory worker` running?" in body["reason"]
        services.projector.catch_up()
        assert client.get("/readyz").get_json() == {"status": "ready", "head": head, "lag": 0, "max_lag": 5}
    finally:
        services.close()


def test_every_answer_and_log_line_carries_a_request_id_and_no_log_holds_participant_data(
    sqlite_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    app = create_app({"INVENTORY_DATABASE_URL": sqlite_url, **SECRETS, "TESTING": True})
    services = app.extensions["inventory"]
    client = app.test_client()
    try:
        client.get("/healthz")
        seed_catalog(services.app)
        services.app.receive_stock(
            site="VAN-1",
            sku="NALOX-4MG",
            lot="N-1",
            quantity=10,
            expires_on=date(2031, 1, 31),
            funding_source="STATE",
            actor=ADMIN,
        )
        services.app.register_user(email="van@example.org", role="coordinator", sites=["VAN-1"], actor=ADMIN)
        token = services.app.issue_token(email="van@example.org", label="tests", actor=ADMIN)
        handler_filter = RequestIdFilter()
        caplog.handler.addFilter(handler_filter)
        caplog.set_level(logging.INFO)
        visit = {"site": "VAN-1", "lines": [{"sku": "NALOX-4MG", "quantity": 1}], "participant_code": "ZQX7RW42"}
        headers = {"Authorization": f"Bearer {token}", "Idempotency-Key": "visit-0001", "X-Request-ID": "van-1-abc"}
        answer = client.post("/api/v1/encounters?participant_code=ZQX7RW42", json=visit, headers=headers)
        assert answer.status_code == 201, answer.get_json()
        assert answer.headers["X-Request-ID"] == "van-1-abc"
        # A request id that is not a plain token is replaced, not echoed.
        odd = client.get("/healthz", headers={"X-Request-ID": "bad id; with spaces {and braces}"})
        replaced = odd.headers["X-Request-ID"]
        assert replaced != "bad id; with spaces {and braces}" and len(replaced) == 16
        refused = client.post(
            "/api/v1/encounters",
            json={**visit, "site": "NOWHERE"},
            headers=headers | {"Idempotency-Key": "visit-0002", "X-Request-ID": "van-1-def"},
        )
        assert refused.status_code in (403, 422)
    finally:
        caplog.handler.removeFilter(handler_filter)
        services.close()

    access = [r for r in caplog.records if r.name == "inventory.application.access"]
    assert [(r.method, r.path, r.status, r.request_id) for r in access if r.request_id.startswith("van-1")] == [
        ("POST", "/api/v1/encounters", 201, "van-1-abc"),
        ("POST", "/api/v1/encounters", refused.status_code, "van-1-def"),
    ]
    lines = [JsonFormatter().format(record) for record in caplog.records]
    assert all(json.loads(line)["request_id"] for line in lines)
    assert json.loads(lines[-1])["path"] == "/api/v1/encounters"
    everything = "\n".join(lines) + caplog.text
    assert "ZQX7RW42" not in everything and "participant_code" not in everything


@pytest.mark.postgres
def test_killing_the_database_connections_answers_503_with_a_retry_hint_and_then_recovers(
    postgres_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    name = f"inventory-kill-{uuid.uuid4().hex[:8]}"
    monkeypatch.setenv("PGAPPNAME", name)  # libpq names this test's connections, so only they are killed
    app = create_app({"INVENTORY_DATABASE_URL": postgres_url, **SECRETS, "TESTING": True})
    services = app.extensions["inventory"]
    client = app.test_client()
    try:
        seed_catalog(services.app)
        services.app.register_user(email="root@example.org", role="admin", actor=ADMIN)
        token = services.app.issue_token(email="root@example.org", label="tests", actor=ADMIN)
        headers = {"Authorization": f"Bearer {token}"}
        assert client.get("/api/v1/stock", headers=headers).status_code == 200
        statuses = []
        for _ in range(3):
            with psycopg.connect(POSTGRES_URL.split("?")[0], autocommit=True) as admin:
                admin.execute(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                    "WHERE application_name = %s AND pid <> pg_backend_pid()",
                    (name,),
                )
            for path in ("/api/v1/stock", "/api/v1/sites", "/readyz"):
                answer = client.get(path, headers=headers)
                statuses.append(answer.status_code)
                assert answer.status_code in (200, 503), (path, answer.status_code, answer.get_data(as_text=True))
                if answer.status_code == 503:
                    assert answer.headers["Retry-After"]
        # It comes back by itself: the pools open new connections.
        assert client.get("/api/v1/stock", headers=headers).status_code == 200
        assert client.get("/readyz").status_code == 200
    finally:
        services.close()
