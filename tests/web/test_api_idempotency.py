"""Idempotency-Key: a request sent again, in sequence or all at once, is recorded once."""

from __future__ import annotations

import contextlib
import http.client
import json
import threading
from collections.abc import Iterator
from typing import Any

import pytest
from flask import Flask
from werkzeug.serving import make_server

from inventory.application import InventoryApplication
from inventory.web.api.commands import idempotency
from tests.web.conftest import STAFF, Caller, error, ok

ADMIN = STAFF["admin"]

ENCOUNTERS = "/api/v1/encounters"
RECEIPTS = "/api/v1/receipts"
VISIT = {"site": "VAN-1", "lines": [{"sku": "NALOX-4MG", "quantity": 2}], "reversals_reported": 1}


def receipt(quantity: int, lot: str = "N-1") -> dict[str, Any]:
    return {
        "site": "VAN-1",
        "sku": "NALOX-4MG",
        "lot": lot,
        "quantity": quantity,
        "expires_on": "2099-12-31",
        "funding_source": "STATE",
    }


@pytest.fixture
def stocked(staff: dict[str, Caller]) -> Caller:
    """100 naloxone kits at VAN-1; the admin's caller."""
    ok(staff["admin"].post(RECEIPTS, receipt(100)))
    return staff["admin"]


def on_hand(caller: Caller) -> int:
    rows = ok(caller.get("/api/v1/stock", site="VAN-1", sku="NALOX-4MG"), 200)
    return sum(row["quantity"] for row in rows)


def logged(caller: Caller, event_type: str) -> list[dict[str, Any]]:
    """The events of one type in the audit feed."""
    body = ok(caller.get("/api/v1/events", limit=1000), 200)
    assert body["head"] == body["next_after"], "the log outgrew one page"
    return [event for event in body["events"] if event["type"] == event_type]


def encounters_in_read_model(flask_app: Flask) -> int:
    [(count,)] = flask_app.extensions["inventory"].store.fetchall("SELECT COUNT(*) FROM encounters")
    return int(count)


@pytest.fixture
def server(flask_app: Flask) -> Iterator[tuple[str, int]]:
    """The app behind a real threaded HTTP server on a free local port."""
    httpd = make_server("127.0.0.1", 0, flask_app, threaded=True)
    thread = threading.Thread(target=httpd.serve_forever, name="test-server", daemon=True)
    thread.start()
    try:
        yield "127.0.0.1", httpd.server_port
    finally:
        httpd.shutdown()
        thread.join(timeout=10)
        httpd.server_close()


def post_over_http(
    address: tuple[str, int], path: str, body: Any, token: str, key: str
) -> tuple[int, Any, dict[str, str]]:
    connection = http.client.HTTPConnection(*address, timeout=60)
    try:
        connection.request(
            "POST",
            path,
            body=json.dumps(body),
            headers={"Authorization": f"Bearer {token}", "Idempotency-Key": key, "Content-Type": "application/json"},
        )
        response = connection.getresponse()
        return response.status, json.loads(response.read()), dict(response.getheaders())
    finally:
        connection.close()


def test_the_same_key_sent_fifty_times_in_sequence_records_one_encounter_and_answers_alike(
    stocked: Caller, flask_app: Flask
) -> None:
    answers = [stocked.post(ENCOUNTERS, VISIT, key="visit-0000-0001") for _ in range(50)]

    assert {answer.status_code for answer in answers} == {201}
    first = answers[0].get_json()
    assert all(answer.get_json() == first for answer in answers)
    assert "Idempotent-Replayed" not in answers[0].headers
    assert all(answer.headers["Idempotent-Replayed"] == "true" for answer in answers[1:])
    assert on_hand(stocked) == 98
    assert len(logged(stocked, "Encounter.Recorded")) == 1
    assert len(logged(stocked, "StockLedger.Distributed")) == 1
    assert encounters_in_read_model(flask_app) == 1


def test_the_same_key_sent_twenty_times_at_once_records_one_encounter_and_answers_alike(
    stocked: Caller, flask_app: Flask, server: tuple[str, int]
) -> None:
    assert stocked.token is not None
    token = stocked.token
    barrier = threading.Barrier(20)
    answers: list[tuple[int, Any, dict[str, str]]] = []
    failures: list[BaseException] = []
    lock = threading.Lock()

    def send() -> None:
        try:
            barrier.wait(timeout=30)
            answer = post_over_http(server, ENCOUNTERS, VISIT, token, "visit-0000-0020")
            with lock:
                answers.append(answer)
        except BaseException as failure:  # reported below
            failures.append(failure)

    threads = [threading.Thread(target=send) for _ in range(20)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert failures == [] and len(answers) == 20
    created = [body for status, body, _ in answers if status == 201]
    still_running = [(body, headers) for status, body, headers in answers if status == 409]
    assert len(created) + len(still_running) == 20, [status for status, _, _ in answers]
    assert created, "at least the first request is answered"
    assert all(body == created[0] for body in created)
    for body, headers in still_running:
        assert body["error"]["code"] == "conflict" and "still being processed" in body["error"]["message"]
        assert headers["Retry-After"] == "1"
    # Once it has finished, a retry is given the stored answer.
    status, body, headers = post_over_http(server, ENCOUNTERS, VISIT, token, "visit-0000-0020")
    assert (status, body, headers["Idempotent-Replayed"]) == (201, created[0], "true")

    assert on_hand(stocked) == 98
    assert len(logged(stocked, "Encounter.Recorded")) == 1
    assert encounters_in_read_model(flask_app) == 1


class HeldLookups:
    """The idempotency table's store, holding each look-up of a key until `parties` requests have looked."""

    def __init__(self, store: Any, parties: int) -> None:
        self.store = store
        self.barrier = threading.Barrier(parties, timeout=3)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.store, name)

    @contextlib.contextmanager
    def transaction(self, *args: Any, **kwargs: Any) -> Iterator[Any]:
        with self.store.transaction(*args, **kwargs) as tx:
            yield HeldTx(tx, self.barrier)


class HeldTx:
    def __init__(self, tx: Any, barrier: threading.Barrier) -> None:
        self.tx, self.barrier = tx, barrier

    def __getattr__(self, name: str) -> Any:
        return getattr(self.tx, name)

    def fetchall(self, sql: str, params: Any = ()) -> Any:
        rows = self.tx.fetchall(sql, params)
        if "FROM api_idempotency" in sql:
            with contextlib.suppress(threading.BrokenBarrierError):  # a claim that looks only once goes on
                self.barrier.wait()
        return rows


@pytest.mark.parametrize("database_url", ["postgres"], indirect=True)  # SQLite's BEGIN IMMEDIATE serialises claims
def test_two_requests_that_look_up_a_key_at_the_same_moment_are_recorded_once(
    stocked: Caller, flask_app: Flask, monkeypatch: pytest.MonkeyPatch
) -> None:
    with flask_app.app_context():
        keys = idempotency()
    monkeypatch.setattr(keys, "store", HeldLookups(keys.store, parties=2))
    answers: list[Any] = []

    def send() -> None:
        answers.append(Caller(flask_app.test_client(), stocked.token).post(ENCOUNTERS, VISIT, key="visit-race-0001"))

    threads = [threading.Thread(target=send) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)

    assert sorted(answer.status_code for answer in answers) in ([201, 201], [201, 409])
    assert on_hand(stocked) == 98
    assert len(logged(stocked, "Encounter.Recorded")) == 1


def test_a_retry_while_the_first_is_still_running_is_refused_with_409_and_records_nothing(
    stocked: Caller, flask_app: Flask, inventory: InventoryApplication, monkeypatch: pytest.MonkeyPatch
) -> None:
    started, release = threading.Event(), threading.Event()
    record = inventory.record_encounter

    def slow_record(**kwargs: Any) -> Any:
        started.set()
        assert release.wait(timeout=30)
        return record(**kwargs)

    monkeypatch.setattr(inventory, "record_encounter", slow_record)
    first: list[Any] = []
    own_client = Caller(flask_app.test_client(), stocked.token)
    worker = threading.Thread(target=lambda: first.append(own_client.post(ENCOUNTERS, VISIT, key="visit-slow-0001")))
    worker.start()
    try:
        assert started.wait(timeout=30)
        retry = stocked.post(ENCOUNTERS, VISIT, key="visit-slow-0001")
        refused = error(retry, 409, "conflict")
        assert "still being processed" in refused["message"]
        assert retry.headers["Retry-After"] == "1"
    finally:
        release.set()
        worker.join(timeout=30)

    assert first[0].status_code == 201
    replayed = stocked.post(ENCOUNTERS, VISIT, key="visit-slow-0001")
    assert ok(replayed) == first[0].get_json() and replayed.headers["Idempotent-Replayed"] == "true"
    assert on_hand(stocked) == 98
    assert len(logged(stocked, "Encounter.Recorded")) == 1


def test_the_same_key_with_a_different_body_is_refused_with_422(stocked: Caller) -> None:
    ok(stocked.post(ENCOUNTERS, VISIT, key="visit-0000-0002"))

    other = dict(VISIT, lines=[{"sku": "NALOX-4MG", "quantity": 3}])
    refused = error(stocked.post(ENCOUNTERS, other, key="visit-0000-0002"), 422, "invalid_input")

    assert refused["fields"] == {"Idempotency-Key": ["already used for a different request"]}
    assert on_hand(stocked) == 98
    assert len(logged(stocked, "Encounter.Recorded")) == 1


def test_the_refusal_of_a_reused_key_says_to_use_a_new_key(stocked: Caller) -> None:
    ok(stocked.post(ENCOUNTERS, VISIT, key="visit-0000-0005"))

    other = dict(VISIT, lines=[{"sku": "NALOX-4MG", "quantity": 3}])
    refused = error(stocked.post(ENCOUNTERS, other, key="visit-0000-0005"), 422, "invalid_input")

    assert refused["message"] == "This Idempotency-Key was used before with a different request. Use a new key."


def test_the_same_body_with_its_fields_in_another_order_is_the_same_request(stocked: Caller) -> None:
    first = ok(stocked.post(ENCOUNTERS, VISIT, key="visit-0000-0003"))
    reordered = dict(reversed(list(VISIT.items())))

    again = stocked.post(ENCOUNTERS, reordered, key="visit-0000-0003")

    assert ok(again) == first and again.headers["Idempotent-Replayed"] == "true"
    assert on_hand(stocked) == 98


def test_a_receipt_sent_twice_with_one_key_is_recorded_once(stocked: Caller) -> None:
    first = stocked.post(RECEIPTS, receipt(40, "N-2"), key="receipt-0000-0001")
    second = stocked.post(RECEIPTS, receipt(40, "N-2"), key="receipt-0000-0001")

    assert ok(first) == ok(second)
    assert second.headers["Idempotent-Replayed"] == "true"
    assert on_hand(stocked) == 140
    assert [event["data"]["quantity"] for event in logged(stocked, "StockLedger.Received")] == [100, 40]


def test_receipts_with_the_same_key_from_two_callers_are_both_recorded(
    stocked: Caller, staff: dict[str, Caller]
) -> None:
    coordinator = staff["coordinator"]

    mine = ok(stocked.post(RECEIPTS, receipt(10, "N-2"), key="shared-key-0001"))
    theirs = coordinator.post(RECEIPTS, receipt(20, "N-3"), key="shared-key-0001")

    assert mine["on_hand"] == 110
    assert ok(theirs)["on_hand"] == 130 and "Idempotent-Replayed" not in theirs.headers
    assert on_hand(stocked) == 130
    received = logged(stocked, "StockLedger.Received")
    assert [(event["actor"], event["data"]["quantity"]) for event in received] == [
        (ADMIN, 100),
        (ADMIN, 10),
        (STAFF["coordinator"], 20),
    ]


def test_encounters_with_the_same_key_from_two_callers_are_both_recorded(
    stocked: Caller, staff: dict[str, Caller], flask_app: Flask
) -> None:
    coordinator = staff["coordinator"]

    mine = ok(stocked.post(ENCOUNTERS, VISIT, key="shared-key-0002"))
    theirs = ok(coordinator.post(ENCOUNTERS, dict(VISIT, reversals_reported=0), key="shared-key-0002"))

    assert mine["actor"] == ADMIN and theirs["actor"] == STAFF["coordinator"]
    assert mine["id"] != theirs["id"]
    assert on_hand(stocked) == 96
    assert len(logged(stocked, "Encounter.Recorded")) == 2
    assert encounters_in_read_model(flask_app) == 2


def test_a_refused_request_does_not_use_up_its_key(stocked: Caller) -> None:
    too_many = dict(VISIT, lines=[{"sku": "NALOX-4MG", "quantity": 150}])

    refused = error(stocked.post(ENCOUNTERS, too_many, key="visit-0000-0004"), 409, "insufficient_stock")
    assert refused["message"] == "Only 100 kits of NALOX-4MG left at VAN-1; 150 requested."
    ok(stocked.post(RECEIPTS, receipt(100, "N-2")))
    recorded = stocked.post(ENCOUNTERS, too_many, key="visit-0000-0004")

    assert ok(recorded)["lines"][0]["quantity"] == 150 and "Idempotent-Replayed" not in recorded.headers
    assert on_hand(stocked) == 50
    assert len(logged(stocked, "Encounter.Recorded")) == 1


def left_running(flask_app: Flask, path: str, body: dict[str, Any], key: str, seconds_ago: int) -> None:
    """A claim whose request died (killed, or the database went away) `seconds_ago`, without answering."""
    from datetime import UTC, datetime, timedelta

    from inventory.stores.idempotency import body_hash

    digest = body_hash("POST", path, json.dumps(body).encode())
    started = (datetime.now(UTC) - timedelta(seconds=seconds_ago)).isoformat()
    with flask_app.extensions["inventory"].store.transaction(projector_lock=False) as tx:
        tx.execute(
            """INSERT INTO api_idempotency (principal, key, method, path, body_hash, state, created_at, claimed_by)
               VALUES (?, ?, 'POST', ?, ?, 'running', ?, 'a-dead-request')""",
            (ADMIN, key, path, digest, started),
        )


def test_a_visit_whose_request_died_is_recorded_once_when_sent_again_after_a_minute(
    flask_app: Flask, stocked: Caller
) -> None:
    left_running(flask_app, ENCOUNTERS, VISIT, "died-visit-0001", seconds_ago=5)
    assert error(stocked.post(ENCOUNTERS, VISIT, key="died-visit-0001"), 409)["message"].startswith(
        "A request with this key is still being processed"
    )
    left_running(flask_app, ENCOUNTERS, VISIT, "died-visit-0002", seconds_ago=120)
    first = ok(stocked.post(ENCOUNTERS, VISIT, key="died-visit-0002"))
    again = ok(stocked.post(ENCOUNTERS, VISIT, key="died-visit-0002"))
    assert again == first and on_hand(stocked) == 98
    assert [e["data"]["key"] for e in logged(stocked, "Encounter.Recorded")] == ["died-visit-0002"]


def test_a_receipt_whose_request_died_is_never_taken_over_it_might_be_recorded_already(
    flask_app: Flask, stocked: Caller
) -> None:
    left_running(flask_app, RECEIPTS, receipt(5, lot="N-2"), "died-receipt-0001", seconds_ago=3600)
    refused = error(stocked.post(RECEIPTS, receipt(5, lot="N-2"), key="died-receipt-0001"), 409)
    assert "Check whether it was recorded" in refused["message"]
    assert on_hand(stocked) == 100
