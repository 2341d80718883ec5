"""Any text in any text field of any API command never breaks the service (issue 16, must-show 2).

Hypothesis sends generated text (tests/web/any_text.py) to every text field of every POST and PUT
the OpenAPI document describes, body fields and path values alike, on a real SQLite file and a
real PostgreSQL schema, starting from a request that succeeds as it is. The text fields are read
from the document, so a new field or a new command is fuzzed without touching this test; a new
command needs a request that succeeds in VALID, or this test says so.

Every answer: never a 5xx. Text the rule refuses: a 422 naming the field. Any refusal: nothing
added to the log. After the run: every ledger's versions run 1..n without a gap, and every read
model equals a rebuild from the log.
"""

from __future__ import annotations

import copy
import json
import re
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import quote

import pytest
from flask import Flask
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from inventory.domain import StockLedger
from tests.conftest import read_model_rows
from tests.web.any_text import names, refusable, texts
from tests.web.conftest import STAFF, Caller, day, noon, ok

Ids = dict[str, str]
LINE = {"sku": "NALOX-4MG", "quantity": 1}


def yesterday() -> str:
    """A moment a day ago, read when a request is made (never when this module is imported)."""
    return (datetime.now(UTC) - timedelta(days=1)).isoformat()


# A request that succeeds as it is, for every POST and PUT (path as the document writes it).
VALID: dict[tuple[str, str], Callable[[Ids], dict[str, Any]]] = {
    ("post", "/api/v1/tokens"): lambda ids: {"email": STAFF["purchasing"], "password": ids["password"], "label": "x"},
    ("post", "/api/v1/sites"): lambda ids: {"code": f"S-{ids['n']}", "name": "A site", "kind": "fixed"},
    ("post", "/api/v1/items"): lambda ids: {"sku": f"I-{ids['n']}", "name": "An item", "category": "other",
                                            "unit": "box", "tracks_expiry": False},
    ("put", "/api/v1/items/{sku}/units"): lambda ids: {"packs": [{"name": "case", "units": 24}], "doses_per_unit": 2},
    ("post", "/api/v1/funding-sources"): lambda ids: {"code": f"F-{ids['n']}", "name": "A fund", "federal": False,
                                                      "restrictions": []},
    ("put", "/api/v1/sites/{code}/levels/{sku}"): lambda ids: {"reorder_point": 5, "par_level": 10,
                                                               "lead_time_days": 3},
    ("post", "/api/v1/receipts"): lambda ids: {"site": "WH", "sku": "NALOX-4MG", "lot": f"L-{ids['n']}", "quantity": 2,
                                               "expires_on": "2030-01-31", "funding_source": "STATE",
                                               "purchase_order": "PO-1"},
    ("post", "/api/v1/encounters"): lambda ids: {"site": "VAN-1", "lines": [dict(LINE, lot="N-VAN")],
                                                 "participant_code": "K7QX", "refill_reason": "lost"},
    ("post", "/api/v1/tallies"): lambda ids: {"site": "VAN-1", "shift_date": day(2).isoformat(), "starts_at": "08:00",
                                              "ends_at": "16:00", "lines": [dict(LINE, lot="N-VAN")], "visits": 2},
    ("post", "/api/v1/discarded-visits"): lambda ids: {"site": "VAN-1", "lines": [LINE], "reason": "entered_by_mistake",
                                                       "refused_because": "insufficient_stock",
                                                       "occurred_at": yesterday()},
    ("post", "/api/v1/adjustments"): lambda ids: {"site": "WH", "sku": "NALOX-4MG", "lot": "N-WH", "quantity": 1,
                                                  "reason": "found", "note": "on the shelf"},
    ("post", "/api/v1/counts"): lambda ids: {"site": "WH", "sku": "NALOX-4MG", "lot": "N-WH", "counted": 1000},
    ("post", "/api/v1/transfers"): lambda ids: {"from_site": "WH", "to_site": "VAN-1",
                                                "lines": [dict(LINE, lot="N-WH")]},
    ("post", "/api/v1/transfers/{transfer_id}/receive"): lambda ids: {
        "received": [{"sku": "NALOX-4MG", "lot": "N-WH", "quantity": 1}], "note": "all there"},
    ("post", "/api/v1/transfers/{transfer_id}/cancel"): lambda ids: {"reason": "sent by mistake"},
    ("post", "/api/v1/transfers/{transfer_id}/void"): lambda ids: {"reason": "wrong_site"},
    ("post", "/api/v1/purchase-orders"): lambda ids: {"supplier": "Matrix Supply", "site": "WH",
                                                      "funding_source": "STATE", "number": f"PO-{ids['n']}",
                                                      "lines": [{"sku": "NALOX-4MG", "quantity": 5}]},
    ("post", "/api/v1/purchase-orders/{order_id}/submit"): lambda ids: {},
    ("delete", "/api/v1/tokens/{token_id}"): lambda ids: {},
    ("post", "/api/v1/purchase-orders/{order_id}/receipts"): lambda ids: {
        "lines": [{"sku": "NALOX-4MG", "lot": f"R-{ids['n']}", "quantity": 1, "expires_on": "2030-01-31"}]},
    # Each names a fresh visit, tally or entry of its own (made by `send`, see `fresh`).
    ("post", "/api/v1/encounters/{visit_id}/void"): lambda ids: {"reason": "entered_by_mistake"},
    ("post", "/api/v1/tallies/{tally_id}/void"): lambda ids: {"reason": "entered_twice"},
    ("post", "/api/v1/receipts/{position}/void"): lambda ids: {"reason": "entered_twice"},
    ("post", "/api/v1/adjustments/{position}/void"): lambda ids: {"reason": "did_not_happen"},
    ("post", "/api/v1/counts/{position}/void"): lambda ids: {"reason": "wrong_time"},
    ("post", "/api/v1/receipts/{position}/correction"): lambda ids: {"quantity": 1, "reason": "wrong_quantity"},
    ("post", "/api/v1/adjustments/{position}/correction"): lambda ids: {"quantity": -1, "reason": "wrong_quantity"},
    ("post", "/api/v1/counts/{position}/correction"): lambda ids: {"quantity": 999, "reason": "wrong_quantity"},
    # Who it went to: partners, what they are issued and report back, parcels, recipient types.
    ("post", "/api/v1/partners"): lambda ids: {"code": f"P-{ids['n']}", "name": "A shelter", "kind": "shelter",
                                               "contact_role": "Shelter manager"},
    ("post", "/api/v1/partner-issues"): lambda ids: {"site": "VAN-1", "partner": "SHELTER-1",
                                                     "lines": [dict(LINE, lot="N-VAN")]},
    ("post", "/api/v1/partner-issues/{issue_id}/void"): lambda ids: {"reason": "wrong_site"},
    ("post", "/api/v1/partners/{partner}/reports"): lambda ids: {"starts_on": day(30).isoformat(),
                                                                 "ends_on": day(2).isoformat(), "kits_distributed": 4},
    ("post", "/api/v1/mail-orders"): lambda ids: {"site": "VAN-1", "lines": [dict(LINE, lot="N-VAN")],
                                                  "carrier": "Canada Post", "tracking": "RR123456789CA",
                                                  "recipient": "person_who_uses_drugs"},
    ("post", "/api/v1/mail-orders/{mail_order_id}/returned"): lambda ids: {},
    ("post", "/api/v1/mail-orders/{mail_order_id}/void"): lambda ids: {"reason": "did_not_happen"},
    ("post", "/api/v1/recipient-types"): lambda ids: {"code": "t_" + re.sub(r"\W", "_", ids["n"]).lower(),
                                                      "name": "A kind of recipient"},
    # Held lots and recalls: each names a lot of its own, received (and held) by `fresh`.
    ("post", "/api/v1/holds"): lambda ids: {"site": "WH", "sku": "NALOX-4MG", "lot": f"H-{ids['n']}",
                                            "reason": "quality_check"},
    ("post", "/api/v1/holds/release"): lambda ids: {"site": "WH", "sku": "NALOX-4MG", "lot": f"H-{ids['n']}"},
    ("post", "/api/v1/holds/write-off"): lambda ids: {"site": "WH", "sku": "NALOX-4MG", "lot": f"H-{ids['n']}",
                                                      "quantity": 1, "disposition": "destroyed"},
    ("post", "/api/v1/recalls"): lambda ids: {"manufacturer": "Fuzz Pharma", "manufacturer_lot": f"FZ-{ids['n']}",
                                              "notice": "FDA-1"},
    ("post", "/api/v1/recalls/{recall_id}/close"): lambda ids: {},
    # Kits: each a kit of its own (made by `fresh`): one naloxone kit in each.
    ("put", "/api/v1/items/{sku}/recipe"): lambda ids: {"effective_from": "2026-01-01",
                                                        "components": [{"sku": "NALOX-4MG", "quantity": 1}]},
    ("post", "/api/v1/kit-assemblies"): lambda ids: {"site": "WH", "kit_sku": f"KA-{ids['n']}", "quantity": 1},
    ("post", "/api/v1/kit-assemblies/take-apart"): lambda ids: {"site": "WH", "kit_sku": f"KA-{ids['n']}",
                                                                "lot": f"KL-{ids['n']}", "quantity": 1},
}  # fmt: skip
KEYED = ("/api/v1/encounters", "/api/v1/tallies", "/api/v1/discarded-visits", "/api/v1/partner-issues",
         "/api/v1/mail-orders")  # fmt: skip
LEDGER_EVENTS = [name for name, value in vars(StockLedger).items() if isinstance(value, type)]
SECRET_FIELDS = {"password"}  # anything goes but what cannot be encoded: never stored, never shown


def resolve(spec: dict[str, Any], schema: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in schema:
        schema = spec["components"]["schemas"][schema["$ref"].rsplit("/", 1)[1]]
    return schema


def text_fields(spec: dict[str, Any], schema: dict[str, Any], body: Any, prefix: str = "") -> list[str]:
    """Paths of the free-text and code fields in `body` ("lot", "lines[0].lot"), as the document types them."""
    schema = resolve(spec, schema)
    found: list[str] = []
    for name, prop in (schema.get("properties") or {}).items():
        prop = resolve(spec, prop)
        path = f"{prefix}.{name}" if prefix else name
        if prop.get("type") == "string" and "enum" not in prop and prop.get("format", "email") == "email":
            found.append(path)
        elif prop.get("type") == "array" and isinstance(body, dict) and body.get(name):
            found += text_fields(spec, prop["items"], body[name][0], f"{path}[0]")
    return found


def operations(spec: dict[str, Any]) -> list[tuple[str, str, list[str], list[str]]]:
    """(method, path, body text fields, path text values) for every POST and PUT."""
    found = []
    for path, methods in spec["paths"].items():
        for method, operation in methods.items():
            if method not in ("post", "put", "patch", "delete"):
                continue
            assert (method, path) in VALID, f"{method.upper()} {path} is new: give it a request that succeeds in VALID"
            schema = operation.get("requestBody", {}).get("content", {}).get("application/json", {}).get("schema", {})
            body = VALID[(method, path)]({"n": "0", "password": ""})
            parameters = [*methods.get("parameters", []), *operation.get("parameters", [])]
            in_path = [p["name"] for p in parameters if p["in"] == "path" and
                       p.get("schema", {}).get("type") == "string" and "format" not in p.get("schema", {})]  # fmt: skip
            found.append((method, path, text_fields(spec, schema, body) if schema else [], in_path))
    return sorted(found)


def put_text(body: dict[str, Any], path: str, text: str) -> dict[str, Any]:
    changed = copy.deepcopy(body)
    target: Any = changed
    parts = re.findall(r"[^.\[\]]+", path)
    for part in parts[:-1]:
        target = target[int(part)] if part.isdigit() else target[part]
    target[parts[-1]] = text
    return changed


@pytest.fixture
def program(flask_app: Flask, staff: dict[str, Caller], inventory: Any) -> Ids:
    """Stock at both sites, a transfer in transit, a submitted purchase order, and the ids they need."""
    root = staff["admin"]
    for site, lot in (("WH", "N-WH"), ("VAN-1", "N-VAN")):
        ok(root.post("/api/v1/receipts", {"site": site, "sku": "NALOX-4MG", "lot": lot, "quantity": 100_000,
                                          "expires_on": "2030-01-31", "funding_source": "STATE",
                                          # before any entry dated in the past (a tally two days ago)
                                          "occurred_at": noon(60)}))  # fmt: skip
    order = ok(root.post("/api/v1/purchase-orders", VALID[("post", "/api/v1/purchase-orders")]({"n": "X"})))
    ok(root.post("/api/v1/partners", {"code": "SHELTER-1", "name": "Harbour Shelter", "kind": "shelter",
                                      "contact_role": "Shelter manager"}))  # fmt: skip
    ok(root.post(f"/api/v1/purchase-orders/{order['id']}/submit", {}), 200)
    inventory.set_password(email=STAFF["purchasing"], password="a password for the fuzzer", actor="tests")
    return {"order_id": order["id"], "password": "a password for the fuzzer"}


def a_token(inventory: Any) -> str:
    """The id of a new token of the purchasing account's, for the admin to revoke."""
    token = inventory.issue_token(email=STAFF["purchasing"], label="to revoke", actor="tests")
    return str(token.split("_")[2])


def a_transfer(root: Caller) -> str:
    sent = ok(
        root.post("/api/v1/transfers", {"from_site": "WH", "to_site": "VAN-1", "lines": [dict(LINE, lot="N-WH")]})
    )
    return str(sent["id"])


def fresh(root: Caller, template: str, n: str) -> dict[str, str]:
    """The path values a void, a correction or a submit needs: a visit, a tally, an entry or a draft order
    of its own, recorded now."""
    if "{visit_id}" in template:
        visit = {"site": "VAN-1", "lines": [dict(LINE, lot="N-VAN")]}
        return {"visit_id": ok(root.post("/api/v1/encounters", visit, key=f"fresh-visit-{n:0>6}"))["id"]}
    if "{issue_id}" in template:
        issue = VALID[("post", "/api/v1/partner-issues")]({"n": n})
        return {"issue_id": ok(root.post("/api/v1/partner-issues", issue, key=f"fresh-issue-{n:0>6}"))["id"]}
    if "{mail_order_id}" in template:
        parcel = VALID[("post", "/api/v1/mail-orders")]({"n": n})
        return {"mail_order_id": ok(root.post("/api/v1/mail-orders", parcel, key=f"fresh-parcel-{n:0>6}"))["id"]}
    if "{tally_id}" in template:
        tally = VALID[("post", "/api/v1/tallies")]({"n": n})
        return {"tally_id": ok(root.post("/api/v1/tallies", tally, key=f"fresh-tally-{n:0>6}"))["id"]}
    if template.startswith("/api/v1/holds"):
        lot = {"site": "WH", "sku": "NALOX-4MG", "lot": f"H-{n}", "quantity": 5, "expires_on": "2030-01-31",
               "funding_source": "STATE"}  # fmt: skip
        ok(root.post("/api/v1/receipts", lot))
        if template != "/api/v1/holds":
            ok(root.post("/api/v1/holds", VALID[("post", "/api/v1/holds")]({"n": n})))
        return {}
    if template == "/api/v1/items/{sku}/recipe":
        kit = {"sku": f"KR-{n}", "name": "A kit", "category": "kit", "unit": "kit", "tracks_expiry": True}
        return {"sku": ok(root.post("/api/v1/items", kit))["sku"]}
    if template.startswith("/api/v1/kit-assemblies"):
        kit = {"sku": f"KA-{n}", "name": "A kit", "category": "kit", "unit": "kit", "tracks_expiry": True}
        ok(root.post("/api/v1/items", kit))
        ok(root.put(f"/api/v1/items/KA-{n}/recipe", VALID[("put", "/api/v1/items/{sku}/recipe")]({"n": n})), 200)
        if template.endswith("/take-apart"):
            made = {"site": "WH", "kit_sku": f"KA-{n}", "quantity": 2, "lot": f"KL-{n}"}
            ok(root.post("/api/v1/kit-assemblies", made))
        return {}
    if "{recall_id}" in template:
        recall = {"manufacturer": "Fuzz Pharma", "manufacturer_lot": f"FC-{n}"}
        return {"recall_id": ok(root.post("/api/v1/recalls", recall))["id"]}
    if template.endswith("/submit"):  # the program's order is submitted already: a draft of its own
        order = VALID[("post", "/api/v1/purchase-orders")]({"n": f"S-{n}"})
        return {"order_id": ok(root.post("/api/v1/purchase-orders", order))["id"]}
    if "{position}" in template:
        kind = template.split("/")[3]  # receipts, adjustments or counts
        # A receipt against a purchase order is neither voided nor corrected: record one without.
        recorded = {
            k: v for k, v in VALID[("post", f"/api/v1/{kind}")]({"n": f"V-{n}"}).items() if k != "purchase_order"
        }
        return {"position": str(ok(root.post(f"/api/v1/{kind}", recorded))["position"])}
    return {}


def valid_request(
    root: Caller, inventory: Any, program: Ids, method: str, template: str, n: str
) -> tuple[dict[str, str], dict[str, Any], dict[str, str]]:
    """The path values, body and headers of VALID's request for (method, template), the n-th sent."""
    body = VALID[(method, template)]({"n": n, "password": program["password"]})
    values = {"code": "WH", "sku": "NALOX-4MG", "order_id": program["order_id"], "partner": "SHELTER-1"}
    if "{transfer_id}" in template:
        values["transfer_id"] = a_transfer(root)
    if "{token_id}" in template:
        values["token_id"] = a_token(inventory)
    values.update(fresh(root, template, n))
    headers = {"Content-Type": "application/json"}
    if not template.endswith("/tokens"):
        headers["Authorization"] = f"Bearer {root.token}"
    if template in KEYED:
        headers["Idempotency-Key"] = f"fuzz-{n:0>6}"
    return values, body, headers


def ledgers_are_gapless(flask_app: Flask) -> None:
    app = flask_app.extensions["inventory"].app
    head = flask_app.extensions["inventory"].projector.head()
    versions: dict[Any, list[int]] = {}
    for notification in app.recorder.select_notifications(start=1, limit=head + 1, stop=head):
        if notification.topic.endswith(tuple(f"StockLedger.{name}" for name in LEDGER_EVENTS)):
            versions.setdefault(notification.originator_id, []).append(notification.originator_version)
    assert versions, "the run recorded no stock"
    for ledger, found in versions.items():
        assert found == list(range(1, len(found) + 1)), (ledger, found)
        assert app.repository.get(ledger).version == len(found)


def test_any_text_in_any_text_field_of_any_command_is_taken_or_refused_by_field(
    flask_app: Flask, staff: dict[str, Caller], program: Ids, inventory: Any
) -> None:
    root = staff["admin"]
    client = root.client
    spec = ok(client.get("/api/v1/openapi.json"), 200)
    # Every (command, field) pair, so that each is drawn as often as any other.
    pairs = [(m, p, f) for m, p, body, values in operations(spec) for f in [*body, *(f"path:{v}" for v in values)]]
    projector = flask_app.extensions["inventory"].projector
    seen: dict[tuple[str, str, str], int] = {}
    counter = iter(range(1, 10**9))

    @settings(max_examples=300, deadline=None, derandomize=True, database=None,
              suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])  # fmt: skip
    @given(st.sampled_from(pairs), texts)
    def fuzz(pair: tuple[str, str, str], text: str) -> None:
        send(*pair, text)

    def send(method: str, template: str, field: str, text: str) -> None:
        n = str(next(counter))
        values, body, headers = valid_request(root, inventory, program, method, template, n)
        if field.startswith("path:"):
            values[field[5:]] = quote(text.encode("utf-8", "surrogatepass"), safe="")
        else:
            body = put_text(body, field, text)
        path = template.format(**values)
        head = projector.head()

        answer = client.open(path, method=method.upper(), data=json.dumps(body), headers=headers)

        status = answer.status_code
        seen[(method, template, field)] = seen.get((method, template, field), 0) + 1
        assert status < 500, (method, path, field, text[:80], answer.get_data(as_text=True)[:500])
        if refusable(text) and field.rsplit(".", 1)[-1] not in SECRET_FIELDS and not field.startswith("path:"):
            assert status == 422, (method, path, field, repr(text[:80]), status, answer.get_data(as_text=True)[:300])
            assert names(answer.get_json()["error"]["fields"], field), (field, answer.get_json())
        if status >= 400:
            # A refusal records nothing (a transfer made for the request does not count).
            assert projector.head() == head, (method, path, field, repr(text[:80]), status)

    for pair in pairs:  # each pair with the worst of the awkward characters, then at random
        for text in ("\ud800", "N\x00", "\ufffe", "\x1b[2J", "\u0301" * 10_000):
            send(*pair, text)
    fuzz()

    assert set(seen) == set(pairs) and len(pairs) >= 50
    ledgers_are_gapless(flask_app)
    projector.catch_up()
    caught_up = read_model_rows(projector)
    projector.rebuild()
    assert read_model_rows(projector) == caught_up


def test_every_command_in_valid_succeeds_as_it_is(
    flask_app: Flask, staff: dict[str, Caller], program: Ids, inventory: Any
) -> None:
    """The fuzzer starts from VALID: each request there, sent unchanged, is taken (a void or a correction
    of the fresh visit, tally or entry `fresh` records for it)."""
    root = staff["admin"]
    spec = ok(root.client.get("/api/v1/openapi.json"), 200)
    refused = []
    for n, (method, template, _, _) in enumerate(operations(spec), start=1):
        values, body, headers = valid_request(root, inventory, program, method, template, f"ok-{n}")
        answer = root.client.open(template.format(**values), method=method.upper(), data=json.dumps(body),
                                  headers=headers)  # fmt: skip
        if answer.status_code not in (200, 201, 204):
            refused.append((method, template, answer.status_code, answer.get_data(as_text=True)[:300]))
    assert refused == []
