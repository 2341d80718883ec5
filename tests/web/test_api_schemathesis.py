"""Schemathesis against the API's own OpenAPI document: generated requests, valid and invalid.

Every operation in /api/v1/openapi.json that takes input gets at least 200 generated cases
(Hypothesis fuzzing in both positive and negative modes, plus Schemathesis's coverage phase of
boundary values); the four that take none (GET /sites, /items, /funding-sources, /audit/verify)
get the handful there are. All are sent as the admin with a bearer token to the Flask app
in-process (WSGI, no network). Each response must
not be a server error, must use a status code the document declares for the operation, and must
match the declared content type and schema.

SQLite only: this runs on every CI job and must stay fast and need no services. The PostgreSQL
paths of the same views are covered by the integration and web tests that run on both databases.

Reproducible: Hypothesis is derandomized and Schemathesis's seed is fixed, so CI sends the same
cases on every run. To reproduce a failure locally, run this file alone; the report shows a curl.
"""

from __future__ import annotations

import json
import shutil
import tempfile
import zlib
from collections import Counter, defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, timedelta
from random import Random
from typing import Any

import pytest
import schemathesis
from argon2 import PasswordHasher
from flask import Flask
from schemathesis import APIOperation, Case, GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.core.result import Ok
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from inventory.web import create_app
from inventory.web.requests import API_BODY_LIMIT
from tests.web.any_text import AWKWARD

SEED = 20_240_601
MAX_EXAMPLES = 200
ADMIN = "schemathesis@example.org"
PASSWORD = "a long enough password"
SEAL_KEY = "k"
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]


def _flask_app(directory: str) -> Flask:
    # SQLite only (see the module docstring).
    return create_app(
        {
            "INVENTORY_DATABASE_URL": f"sqlite:///{directory}/inventory.db",
            "INVENTORY_SEAL_KEY": SEAL_KEY,
            "TESTING": True,
        }
    )


def _openapi_document() -> dict[str, Any]:
    """The document as the app serves it. Fetched at collection (pytest needs the operations to make
    one test per operation) from a throwaway app; the tests then run against a seeded one.
    (schemathesis.pytest.from_fixture would avoid this, but fails under pytest 9 in schemathesis
    4.32: "'Function' object has no attribute '_nodeid'".)"""
    directory = tempfile.mkdtemp(prefix="inventory-openapi-")
    try:
        app = _flask_app(directory)
        try:
            response = app.test_client().get("/api/v1/openapi.json")
            assert response.status_code == 200, response.get_data(as_text=True)
            document: dict[str, Any] = response.get_json()
        finally:
            app.extensions["inventory"].close()
    finally:
        shutil.rmtree(directory, ignore_errors=True)
    return document


CONFIG = schemathesis.Config.from_dict(
    {
        "seed": SEED,
        "generation": {
            "mode": "all",  # positive and negative (invalid) data
            "max-examples": MAX_EXAMPLES,
            "deterministic": True,  # Hypothesis derandomize: the same cases on every run
            "database": "none",  # no example database: nothing carried over between runs
            "with-security-parameters": False,  # every case carries the token (see test_every_operation_needs_a_token)
        },
    }
)
schema = schemathesis.openapi.from_dict(_openapi_document(), config=CONFIG)


# ----- the seeded program the cases run against --------------------------------------------------


@dataclass
class Seeded:
    app: Flask
    token: str
    sites: list[str]
    skus: list[str]
    funding_sources: list[str]
    lots: list[str]
    transfers: list[str]
    orders: list[str]
    visits: list[str]
    tallies: list[str]
    partners: list[str]
    issues: list[str]
    parcels: list[str]
    recalls: list[str]
    # The log positions of receipts, adjustments and counts, by kind and verb ("receipts/void").
    positions: dict[str, list[int]]
    cases: dict[str, Counter[str]] = field(default_factory=lambda: defaultdict(Counter))


@pytest.fixture(scope="module")
def seeded(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Seeded]:
    """An admin with a token; two sites, two items, two funding sources, stock, transfers in transit,
    drafted and submitted purchase orders, visits, shift tallies, receipts, adjustments and counts to
    void or correct: enough that valid cases can also succeed."""
    app = _flask_app(str(tmp_path_factory.mktemp("schemathesis")))
    found = app.extensions["inventory"]
    inventory = found.app
    # Every POST /tokens hashes or verifies a password (even for an unknown email, so timing tells
    # nothing). With argon2's production cost that is most of this file's runtime, so this app
    # instance gets the cheapest parameters; hashing itself is unchanged.
    inventory.hasher = PasswordHasher(time_cost=1, memory_cost=8, parallelism=1)
    actor = "setup"
    inventory.register_user(email=ADMIN, role="admin", password=PASSWORD, actor=actor)
    token = inventory.issue_token(email=ADMIN, label="schemathesis", actor=actor)
    inventory.register_site(code="WH", name="Central warehouse", kind="warehouse", actor=actor)
    inventory.register_site(code="VAN-1", name="Outreach van", kind="mobile", actor=actor)
    inventory.register_item(
        sku="NALOX-4MG", name="Naloxone 4 mg nasal", category="naloxone", unit="kit", tracks_expiry=True, actor=actor
    )
    inventory.register_item(
        sku="SYR-1ML", name="Syringe 1 mL", category="syringe", unit="syringe", tracks_expiry=False, actor=actor
    )
    inventory.register_funding_source(
        code="SOR",
        name="State Opioid Response (federal)",
        federal=True,
        restrictions=[{"category": "syringe", "starts_on": "2018-01-01"}],
        actor=actor,
    )
    inventory.register_funding_source(code="STATE", name="State harm reduction fund", federal=False, actor=actor)
    expires = date.today() + timedelta(days=400)
    for site in ("WH", "VAN-1"):
        inventory.receive_stock(
            site=site, sku="NALOX-4MG", lot="N1", quantity=500, expires_on=expires, funding_source="SOR", actor=actor
        )
        inventory.receive_stock(
            site=site, sku="SYR-1ML", lot="S1", quantity=5000, expires_on=None, funding_source="STATE", actor=actor
        )
        inventory.set_stock_level(
            site=site, sku="NALOX-4MG", reorder_point=50, par_level=200, lead_time_days=7, actor=actor
        )
    transfers = [
        inventory.dispatch_transfer(
            from_site="WH", to_site="VAN-1", lines=[{"sku": "NALOX-4MG", "quantity": 5}], actor=actor
        )["id"]
        for _ in range(3)
    ]
    orders = []
    for submitted in (False, True, True):
        order = inventory.raise_purchase_order(
            supplier="Harm reduction supply co-op",
            site="WH",
            funding_source="STATE",
            lines=[{"sku": "SYR-1ML", "quantity": 1000, "unit_cost": "0.12"}],
            actor=actor,
        )
        if submitted:
            inventory.submit_purchase_order(order_id=order["id"], actor=actor)
        orders.append(order["id"])
    # Things to void or correct, three of each: a case that voids one leaves the others (and a
    # ledger entry voided again is refused 409, as documented; a visit or a tally answers 201 again).
    visits = [
        inventory.record_encounter(
            key=f"seeded-visit-{n:04d}", site="VAN-1", lines=[{"sku": "NALOX-4MG", "quantity": 1}], actor=actor
        )["id"]
        for n in range(3)
    ]
    tallies = [
        inventory.record_shift_tally(
            key=f"seeded-tally-{n:04d}",
            site="VAN-1",
            shift_date=date.today() - timedelta(days=n + 2),
            starts_at="08:00",
            ends_at="16:00",
            lines=[],  # visits and no stock: a shift before the seeded receipts
            visits=3,
            actor=actor,
        )["id"]
        for n in range(3)
    ]
    # Voids and corrections of each kind get entries of their own (a void entry is not corrected).
    positions: dict[str, list[int]] = defaultdict(list)
    for n in range(6):
        verb = ("void", "correction")[n % 2]
        receipt = inventory.receive_stock(
            site="VAN-1", sku="SYR-1ML", lot=f"R{n}", quantity=100, expires_on=None, funding_source="STATE", actor=actor
        )
        adjustment = inventory.adjust_stock(
            site="WH", sku="SYR-1ML", lot="S1", quantity=10, reason="found", actor=actor
        )
        count = inventory.count_stock(site="WH", sku="SYR-1ML", lot="S1", counted=5100 + n, actor=actor)
        for kind, entry in (("receipts", receipt), ("adjustments", adjustment), ("counts", count)):
            positions[f"{kind}/{verb}"].append(entry["position"])
    # A partner, issues to it and parcels to void or see come back (three of each, as above).
    inventory.register_partner(code="SHELTER-1", name="Harbour Shelter", kind="shelter", contact_role="Manager",
                               actor=actor)  # fmt: skip
    issues = [
        inventory.issue_to_partner(
            key=f"seeded-issue-{n:04d}",
            site="WH",
            partner="SHELTER-1",
            lines=[{"sku": "SYR-1ML", "quantity": 10}],
            actor=actor,
        )["id"]
        for n in range(3)
    ]
    parcels = [
        inventory.send_mail_order(
            key=f"seeded-parcel-{n:04d}",
            site="WH",
            lines=[{"sku": "SYR-1ML", "quantity": 10}],
            carrier="Post",
            tracking=f"RR12345678{n}CA",
            actor=actor,
        )["id"]
        for n in range(3)
    ]
    # Recalls of makers' lots no receipt names: they hold nothing, so every other case is as before.
    recalls = [
        inventory.announce_recall(
            manufacturer="Seeded Pharma",
            manufacturer_lot=f"SP-{n}",
            notice="",
            lots=[],
            sites=["WH", "VAN-1"],
            actor=actor,
        )["id"]
        for n in range(3)
    ]
    found.projector.catch_up()
    yield Seeded(
        app=app,
        token=token,
        sites=["WH", "VAN-1"],
        skus=["NALOX-4MG", "SYR-1ML"],
        funding_sources=["SOR", "STATE"],
        lots=["N1", "S1"],
        transfers=[str(t) for t in transfers],
        orders=[str(o) for o in orders],
        visits=[str(v) for v in visits],
        tallies=[str(t) for t in tallies],
        partners=["SHELTER-1"],
        issues=[str(i) for i in issues],
        parcels=[str(p) for p in parcels],
        recalls=[str(r) for r in recalls],
        positions=positions,
    )
    found.close()


# ----- valid cases that name things that exist ----------------------------------------------------

# Random codes almost never name a seeded site, item or funding source, so valid cases would only
# ever be refused. Three in four valid cases are pointed at seeded names instead; which ones is
# decided from the case's own content, so the choice is as reproducible as the case.
NAMES = {
    "site": "sites",
    "from_site": "sites",
    "to_site": "sites",
    "code": "sites",
    "sku": "skus",
    "funding_source": "funding_sources",
    "lot": "lots",
    "transfer_id": "transfers",
    "order_id": "orders",
    "visit_id": "visits",
    "tally_id": "tallies",
    "partner": "partners",
    "issue_id": "issues",
    "mail_order_id": "parcels",
    "recall_id": "recalls",
}


def _entry(path: str) -> str:
    """Which seeded entries a /{kind}/{position}/{verb} path names: "receipts/void", "counts/correction"."""
    parts = path.split("/")
    return f"{parts[3]}/{parts[5]}"


def _point_at_seeded(case: Case[Any], seeded: Seeded) -> None:
    # (No `default=str`: an absent body is an object whose repr holds its address.)
    content = json.dumps(
        [case.path_parameters, case.query, case.body], sort_keys=True, default=lambda value: type(value).__name__
    )
    rng = Random(zlib.crc32(content.encode()))
    if rng.random() < 0.25:
        return

    def rename(values: object) -> None:
        if not isinstance(values, dict):
            return
        for key, value in values.items():
            if key in NAMES and isinstance(value, str):
                values[key] = rng.choice(getattr(seeded, NAMES[key]))
            elif isinstance(value, list):
                for entry in value:
                    rename(entry)

    rename(case.path_parameters)
    # A log position is a number: one of a seeded entry of the kind the path names (/receipts/{position}/void).
    if case.path_parameters and isinstance(case.path_parameters.get("position"), int):
        case.path_parameters["position"] = rng.choice(seeded.positions[_entry(case.operation.path)])
    rename(case.query)
    rename(case.body)
    body = case.body
    if isinstance(body, dict):
        if isinstance(body.get("from_site"), str) and body.get("from_site") == body.get("to_site"):
            body["to_site"] = next(site for site in seeded.sites if site != body["from_site"])
        if case.operation.path.endswith("/tokens") and isinstance(body.get("email"), str):
            body["email"], body["password"] = ADMIN, PASSWORD


# ----- awkward text in valid cases ----------------------------------------------------------------

# One valid case in three has one of its text values (body, query or path) replaced by awkward text
# (tests/web/any_text.py): surrogates, NUL, noncharacters, controls, marks, 10,000 characters. The
# answer must still be documented and never a server error; a refusal is a 422 in the envelope.
AWKWARD_TEXTS = (*AWKWARD, "N-1\x00", "\ud800N", "N\ufffe1", "\u0301" * 10_000, "A" * 10_000, "\U0001f489" * 300)


def _awkward_text(case: Case[Any]) -> None:
    content = json.dumps([case.path_parameters, case.query, case.body], sort_keys=True, default=repr)
    rng = Random(zlib.crc32(b"awkward" + content.encode()))
    if rng.random() >= 1 / 3:
        return
    places: list[tuple[Any, Any]] = []

    def collect(values: object) -> None:
        if isinstance(values, dict):
            for key, value in values.items():
                if isinstance(value, str):
                    places.append((values, key))
                else:
                    collect(value)
        elif isinstance(values, list):
            for entry in values:
                collect(entry)

    collect(case.body)
    in_body = len(places)
    collect(case.query)
    collect(case.path_parameters)
    if places:
        index = rng.randrange(len(places))
        container, key = places[index]
        # A URL carries bytes: a lone surrogate can only come in a JSON body (as an escape).
        choices = AWKWARD_TEXTS if index < in_body else [t for t in AWKWARD_TEXTS if not _has_surrogate(t)]
        container[key] = rng.choice(choices)


def _has_surrogate(text: str) -> bool:
    return any(0xD800 <= ord(char) <= 0xDFFF for char in text)


@schema.parametrize()
def test_api_conforms_to_its_openapi_document(case: Case[Any], seeded: Seeded) -> None:
    headers = {"Authorization": f"Bearer {seeded.token}"}
    mode = case.meta.generation.mode if case.meta is not None else GenerationMode.POSITIVE
    if mode == GenerationMode.POSITIVE:
        _point_at_seeded(case, seeded)
        _awkward_text(case)
        if case.operation.path.endswith(("/encounters", "/partner-issues", "/mail-orders")):
            # A new visit key for each valid case: generated keys repeat (Hypothesis favours
            # "00000000"), and a key reused with another body is refused, so no visit would record.
            headers["Idempotency-Key"] = f"schemathesis-{sum(seeded.cases[case.operation.label].values()):06d}"
    seeded.cases[case.operation.label][mode.value] += 1
    case.call_and_validate(app=seeded.app, headers=headers, checks=CHECKS)


def _operations() -> list[APIOperation[Any, Any, Any, Any]]:
    return [result.ok() for result in schema.get_all_operations() if isinstance(result, Ok)]


def _has_inputs(label: str) -> bool:
    """Whether the operation takes path or query parameters or a body (some take nothing at all)."""
    method, path = label.split(" ", 1)
    operation = schema[path][method]
    return bool(operation.path_parameters or operation.query or operation.body)


def test_every_operation_got_enough_cases(seeded: Seeded) -> None:
    """The bargain this file makes: 200+ cases, invalid ones included, for each operation that takes
    input (the rest have little to vary). Runs after the test above, in file order, and judges the
    operations it exercised in this process."""
    if not seeded.cases:
        pytest.skip("the Schemathesis test did not run in this process")
    short = {
        label: dict(counts)
        for label, counts in sorted(seeded.cases.items())
        if _has_inputs(label) and (sum(counts.values()) < MAX_EXAMPLES or not counts[GenerationMode.NEGATIVE.value])
    }
    assert not short, f"operations with fewer than {MAX_EXAMPLES} cases or no invalid ones: {short}"


# ----- what the generated cases leave out ---------------------------------------------------------


@pytest.mark.parametrize(
    "label", sorted(operation.label for operation in _operations() if operation.path != "/api/v1/tokens")
)
def test_every_operation_needs_a_token(label: str, seeded: Seeded) -> None:
    """The generated cases all carry the token; without one, each operation answers 401, as documented."""
    method, path = label.split(" ", 1)
    operation = schema[path][method]
    names = {
        "code": "WH",
        "sku": "NALOX-4MG",
        "transfer_id": seeded.transfers[0],
        "order_id": seeded.orders[0],
        "token_id": "0123456789abcdef",
        "visit_id": seeded.visits[0],
        "tally_id": seeded.tallies[0],
        "partner": seeded.partners[0],
        "issue_id": seeded.issues[0],
        "mail_order_id": seeded.parcels[0],
        "recall_id": seeded.recalls[0],
        "position": seeded.positions[_entry(path)][0] if "{position}" in path else 0,
    }
    path_parameters = {parameter.name: names[parameter.name] for parameter in operation.path_parameters}
    # Queries are read before the token is checked, so send valid ones (only /stock-card requires any).
    values = {"site": "WH", "sku": "NALOX-4MG", "from": "2024-01-01", "to": "2024-01-31"}
    query = {parameter.name: values[parameter.name] for parameter in operation.query if parameter.is_required}
    body: dict[str, Any] = {"body": {}, "media_type": "application/json"} if operation.body else {}
    case = operation.Case(path_parameters=path_parameters, query=query, **body)
    response = case.call_and_validate(app=seeded.app, headers={}, checks=CHECKS)
    assert response.status_code == 401, response.text
    assert response.headers.get("www-authenticate") == ["Bearer"], response.headers
    assert set(json.loads(response.text)["error"]) == {"code", "message", "fields"}


@pytest.mark.parametrize("path", ["/api/v1/sites", "/api/v1/items", "/api/v1/funding-sources", "/api/v1/stock"])
def test_reads_answer_before_the_projector_first_ran(path: str, tmp_path_factory: pytest.TempPathFactory) -> None:
    """A fresh install, no command recorded through the web yet: reads answer, not 500 "no such table"."""
    app = _flask_app(str(tmp_path_factory.mktemp("fresh")))
    try:
        inventory = app.extensions["inventory"].app
        inventory.hasher = PasswordHasher(time_cost=1, memory_cost=8, parallelism=1)
        inventory.register_user(email=ADMIN, role="admin", password=PASSWORD, actor="setup")
        token = inventory.issue_token(email=ADMIN, label="fresh", actor="setup")
        response = app.test_client().get(path, headers={"Authorization": f"Bearer {token}"})
        assert response.status_code == 200, response.get_data(as_text=True)
        assert response.get_json() == []
    finally:
        app.extensions["inventory"].close()


# ----- bodies the API must refuse before reading them ---------------------------------------------


def _with_body(label: str, seeded: Seeded) -> tuple[Any, dict[str, Any]]:
    method, path = label.split(" ", 1)
    operation = schema[path][method]
    names = {
        "code": "WH",
        "sku": "NALOX-4MG",
        "transfer_id": seeded.transfers[0],
        "order_id": seeded.orders[0],
        "visit_id": seeded.visits[0],
        "tally_id": seeded.tallies[0],
        "partner": seeded.partners[0],
        "issue_id": seeded.issues[0],
        "mail_order_id": seeded.parcels[0],
        "recall_id": seeded.recalls[0],
        "position": seeded.positions[_entry(path)][0] if "{position}" in path else 0,
    }
    return operation, {parameter.name: names[parameter.name] for parameter in operation.path_parameters}


BODIES = sorted(operation.label for operation in _operations() if operation.body)


@pytest.mark.parametrize("label", BODIES)
@pytest.mark.parametrize(
    ("what", "body", "media_type", "status"),
    [
        ("text", b'{"site": "WH"}', "text/plain", 415),
        ("a form", b"site=WH", "application/x-www-form-urlencoded", 415),
        ("too big", b'{"padding": "' + b"x" * (API_BODY_LIMIT + 1) + b'"}', "application/json", 413),
        ("too deep", b"[" * 50_000 + b"]" * 50_000, "application/json", 400),
    ],
)
def test_every_operation_refuses_bodies_it_cannot_read_as_documented(
    label: str, what: str, body: bytes, media_type: str, status: int, seeded: Seeded
) -> None:
    operation, path_parameters = _with_body(label, seeded)
    case = operation.Case(path_parameters=path_parameters, body=body, media_type=media_type)
    headers = {"Authorization": f"Bearer {seeded.token}", "Content-Type": media_type}
    response = case.call_and_validate(app=seeded.app, headers=headers, checks=[not_a_server_error])
    assert response.status_code == status, (what, response.text[:300])
    assert set(json.loads(response.text)["error"]) == {"code", "message", "fields"}
