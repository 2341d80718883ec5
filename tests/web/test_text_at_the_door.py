"""Text that cannot be stored or shown is refused at the door, naming the field and the character,
and a save that fails for any reason leaves the ledger as it was (defects 1, 2 and 6 of issue 16)."""

from __future__ import annotations

from typing import Any

import pytest
from flask import Flask

from inventory.domain import ledger_id
from tests.web.conftest import Caller, error, ok

RECEIPT = {"site": "WH", "sku": "NALOX-4MG", "quantity": 10, "expires_on": "2030-01-31", "funding_source": "STATE"}


def versions(flask_app: Flask, site: str, sku: str) -> list[int]:
    """The stored versions of a ledger, read from the log itself (not the cache)."""
    app = flask_app.extensions["inventory"].app
    return [event.originator_version for event in app.events.get(ledger_id(site, sku))]


def receipts_in_log(root: Caller) -> int:
    events = ok(root.get("/api/v1/events", limit=1000), 200)["events"]
    return sum(1 for event in events if event["type"] == "StockLedger.Received")


@pytest.mark.parametrize(
    ("lot", "position", "code_point"),
    [
        ("\ud800", 1, "U+D800"),  # a lone surrogate, sent as the JSON escape
        ("A\x00B", 2, "U+0000"),  # NUL: PostgreSQL cannot store it
        ("N-1\ufffe", 4, "U+FFFE"),  # a noncharacter: a workbook holding it cannot be opened
        ("N-\uffff9", 3, "U+FFFF"),
    ],
)
def test_a_lot_that_cannot_be_stored_is_refused_by_field_and_position_and_the_ledger_goes_on(
    flask_app: Flask, staff: dict[str, Caller], lot: str, position: int, code_point: str
) -> None:
    root = staff["admin"]
    ok(root.post("/api/v1/receipts", dict(RECEIPT, lot="N-1")))
    before = versions(flask_app, "WH", "NALOX-4MG")

    refused = error(root.post("/api/v1/receipts", dict(RECEIPT, lot=lot)), 422, "invalid_input")
    [message] = refused["fields"]["lot"]
    assert f"character {position} is {code_point}" in message and "Remove it" in message

    # Nothing was stored, and the next receipt on the same ledger is the next version.
    assert versions(flask_app, "WH", "NALOX-4MG") == before
    ok(root.post("/api/v1/receipts", dict(RECEIPT, lot="N-2")))
    assert versions(flask_app, "WH", "NALOX-4MG") == [*before, before[-1] + 1]
    stock = ok(root.get("/api/v1/stock", site="WH", sku="NALOX-4MG"), 200)
    assert sorted((row["lot"], row["quantity"]) for row in stock) == [("N-1", 10), ("N-2", 10)]
    assert receipts_in_log(root) == 2


@pytest.mark.parametrize(
    ("path", "body", "field"),
    [
        ("/api/v1/adjustments", {"site": "WH", "sku": "NALOX-4MG", "lot": "N-1", "quantity": -1, "reason": "damaged",
                                 "note": "box \ud800 crushed"}, "note"),
        ("/api/v1/adjustments", {"site": "WH", "sku": "NALOX-4MG", "lot": "N\x001", "quantity": 1, "reason": "found"},
         "lot"),
        ("/api/v1/purchase-orders", {"supplier": "Matrix \x00 Supply", "site": "WH", "funding_source": "STATE",
                                     "lines": [{"sku": "NALOX-4MG", "quantity": 5}]}, "supplier"),
        ("/api/v1/purchase-orders", {"supplier": "Matrix", "site": "WH", "funding_source": "STATE",
                                     "number": "PO\ud800", "lines": [{"sku": "NALOX-4MG", "quantity": 5}]}, "number"),
        ("/api/v1/encounters", {"site": "WH", "lines": [{"sku": "NALOX-4MG", "quantity": 1, "lot": "N-1\ufffe"}]},
         "lines[0].lot"),
        ("/api/v1/sites", {"code": "VAN-9", "name": "Van \u0007 nine", "kind": "mobile"}, "name"),
        ("/api/v1/transfers", {"from_site": "WH", "to_site": "VAN-1", "lines": [{"sku": "NALOX-4MG", "quantity": 1,
                                                                                  "lot": "\ud83d"}]}, "lines[0].lot"),
    ],
)  # fmt: skip
def test_every_command_refuses_such_text_in_any_of_its_fields_and_records_nothing(
    flask_app: Flask, staff: dict[str, Caller], path: str, body: dict[str, Any], field: str
) -> None:
    root = staff["admin"]
    ok(root.post("/api/v1/receipts", dict(RECEIPT, lot="N-1")))
    head = flask_app.extensions["inventory"].projector.head()
    before = versions(flask_app, "WH", "NALOX-4MG")

    refused = error(root.post(path, body, key="text-at-the-door-1"), 422, "invalid_input")

    assert field in refused["fields"], refused
    assert "character" in refused["fields"][field][0] and "U+" in refused["fields"][field][0]
    assert flask_app.extensions["inventory"].projector.head() == head
    # The same ledger takes the next command as usual.
    ok(root.post("/api/v1/receipts", dict(RECEIPT, lot="N-3")))
    assert versions(flask_app, "WH", "NALOX-4MG") == [*before, before[-1] + 1]


def test_a_save_that_fails_after_the_command_ran_leaves_the_ledger_as_it_was(
    flask_app: Flask, staff: dict[str, Caller], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Whatever breaks between the command and the commit (here the database refuses the insert once),
    the cached ledger is dropped: the next receipt is version 2 of the log, not version 3 of a cache."""
    root = staff["admin"]
    ok(root.post("/api/v1/receipts", dict(RECEIPT, lot="N-1")))
    app = flask_app.extensions["inventory"].app
    insert = app.recorder.insert_events
    failures = iter([RuntimeError("the disk is full")])

    def failing_once(*args: Any, **kwargs: Any) -> Any:
        for failure in failures:
            raise failure
        return insert(*args, **kwargs)

    before = versions(flask_app, "WH", "NALOX-4MG")
    monkeypatch.setattr(app.recorder, "insert_events", failing_once)
    assert root.post("/api/v1/receipts", dict(RECEIPT, lot="N-2")).status_code == 500

    ok(root.post("/api/v1/receipts", dict(RECEIPT, lot="N-3")))
    ok(
        root.post(
            "/api/v1/encounters", {"site": "WH", "lines": [{"sku": "NALOX-4MG", "quantity": 1}]}, key="visit-0001"
        )
    )
    last = before[-1]
    assert versions(flask_app, "WH", "NALOX-4MG") == [*before, last + 1, last + 2]
    assert app.ledger_aggregate("WH", "NALOX-4MG").version == last + 2
    stock = ok(root.get("/api/v1/stock", site="WH", sku="NALOX-4MG"), 200)
    assert sorted((row["lot"], row["quantity"]) for row in stock) == [("N-1", 9), ("N-3", 10)]


def test_text_is_stored_in_one_normal_form(flask_app: Flask, staff: dict[str, Caller]) -> None:
    """'é' typed as one character or as 'e' and a combining accent is the same supplier."""
    root = staff["admin"]
    line = [{"sku": "NALOX-4MG", "quantity": 5}]
    composed = ok(root.post("/api/v1/purchase-orders", {"supplier": "Pharmacie Médicale", "site": "WH",
                                                         "funding_source": "STATE", "lines": line}))  # fmt: skip
    decomposed = ok(root.post("/api/v1/purchase-orders", {"supplier": "Pharmacie Me\u0301dicale", "site": "WH",
                                                           "funding_source": "STATE", "lines": line}))  # fmt: skip
    assert composed["supplier"] == decomposed["supplier"] == "Pharmacie M\u00e9dicale"


def test_the_openapi_document_states_the_longest_text_each_field_takes(flask_app: Flask, anonymous: Caller) -> None:
    spec = ok(anonymous.get("/api/v1/openapi.json"), 200)
    schemas = spec["components"]["schemas"]
    assert schemas["ReceiptIn"]["properties"]["lot"]["maxLength"] == 60
    assert schemas["AdjustmentIn"]["properties"]["note"]["maxLength"] == 200
    assert schemas["PurchaseOrderIn"]["properties"]["supplier"]["maxLength"] == 80
    assert schemas["SiteIn"]["properties"]["code"]["maxLength"] == 40
