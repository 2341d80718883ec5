"""Voids and corrections over the API: a visit at the wrong site, a receipt typed 1000 for 100.

The original stays in the log; the void or correction is a new event, the stock changes on the
original's own date, the reports count a voided visit nowhere, and the audit log says who and why.
Coordinators may do it at their own sites within the correction window; admins at any time.
"""

from __future__ import annotations

from typing import Any

from flask import Flask

from inventory.application.rules import CORRECTION_WINDOW
from inventory.projections import queries
from inventory.projections import report_queries as rq
from tests.clock import Clock
from tests.web.conftest import Caller, day, error, noon, ok


def stock(caller: Caller, sku: str = "NALOX-4MG") -> int:
    rows = ok(caller.get("/api/v1/stock", site="VAN-1", sku=sku), 200)
    return sum(row["quantity"] for row in rows)


def receipt(root: Caller, quantity: int, days_ago: int = 5) -> dict[str, Any]:
    return ok(root.post("/api/v1/receipts", {"site": "VAN-1", "sku": "NALOX-4MG", "lot": "N-1", "quantity": quantity,
                                             "expires_on": "2099-12-31", "funding_source": "STATE",
                                             "occurred_at": noon(days_ago)}))  # fmt: skip


def a_visit(caller: Caller, key: str, quantity: int = 2) -> dict[str, Any]:
    return ok(
        caller.post(
            "/api/v1/encounters",
            {"site": "VAN-1", "lines": [{"sku": "NALOX-4MG", "quantity": quantity}], "occurred_at": noon(1)},
            key=key,
        )
    )


def kept_position(store: Any, visit: dict[str, Any]) -> int:
    [(position,)] = store.fetchall("SELECT position FROM encounters WHERE id = ?", (visit["id"],))
    return int(position)


def test_a_visit_voided_gives_its_kits_back_on_its_own_day_and_no_report_counts_it(
    flask_app: Flask, staff: dict[str, Caller]
) -> None:
    root, coordinator = staff["admin"], staff["coordinator"]
    receipt(root, 20)
    kept = a_visit(coordinator, "visit-kept-0001", 3)
    wrong = a_visit(coordinator, "visit-wrong-0002", 2)
    assert stock(coordinator) == 15

    voided = ok(coordinator.post(f"/api/v1/encounters/{wrong['id']}/void", {"reason": "wrong_site"}))
    assert voided["voided"] == "wrong_site" and voided["id"] == wrong["id"]
    assert stock(coordinator) == 17
    # Sent again: the same answer, nothing more recorded.
    again = ok(coordinator.post(f"/api/v1/encounters/{wrong['id']}/void", {"reason": "wrong_site"}))
    assert again == voided and stock(coordinator) == 17

    store = flask_app.extensions["inventory"].store
    # The distribution counts only the visit that stands, on its day.
    [row] = [r for r in queries.daily_totals(store, day(1), day(1), "VAN-1") if r["sku"] == "NALOX-4MG"]
    assert (row["quantity"], row["encounters"]) == (3, 1)
    [visits] = queries.daily_encounters(store, day(1), day(1), "VAN-1")
    assert visits["encounters"] == 1
    # The distribution log lists the visit that stands, not the voided one.
    assert [e["position"] for e in rq.encounters(store, day(1), day(1))] == [kept_position(store, kept)]
    # The stock card puts the kits back on the visit's own date, as handed out (net 0 for the visit).
    card = queries.stock_card(store, "VAN-1", "NALOX-4MG", day(1), day(1))
    assert [(r["kind"], r["quantity"], r["reason"]) for r in card.rows] == [
        ("distributed", -3, None),
        ("distributed", -2, None),
        ("distributed", 2, "void:wrong_site"),
    ]
    assert rq.corrections(store, day(1), day(1))["Visits voided"] == 1
    # The audit log says what happened, by whom and why.
    summaries = [s for (s,) in store.fetchall("SELECT summary || ' by ' || actor FROM audit_log ORDER BY position")]
    assert any("Voided entry" in s and "Recorded at the wrong site" in s and "coord@" in s for s in summaries)
    assert any(s.startswith("Visit voided: Recorded at the wrong site") for s in summaries)


def test_a_receipt_typed_1000_for_100_is_corrected_and_a_later_count_is_restated(
    flask_app: Flask, staff: dict[str, Caller]
) -> None:
    root = staff["admin"]
    wrong = receipt(root, 1000, days_ago=5)
    count = ok(root.post("/api/v1/counts", {"site": "VAN-1", "sku": "NALOX-4MG", "lot": "N-1", "counted": 100,
                                            "occurred_at": noon(2)}))  # fmt: skip
    assert count["variance"] == -900

    fixed = ok(root.post(f"/api/v1/receipts/{wrong['position']}/correction",
                         {"quantity": 100, "reason": "wrong_quantity"}))  # fmt: skip
    assert fixed["corrected"] == wrong["position"] and fixed["on_hand"] == 100
    store = flask_app.extensions["inventory"].store
    movements = store.fetchall(
        "SELECT business_date, kind, quantity, reason, reference FROM stock_movements WHERE position > ? "
        "ORDER BY position, seq",
        (count["position"],),
    )
    assert movements == [
        (day(5).isoformat(), "received", -900, "corrected:wrong_quantity", "1000 to 100"),
        (day(2).isoformat(), "counted", 900, "count_restated", "-900 to +0"),
    ]
    # As of the receipt's day, there were 100.
    assert sum(r["quantity"] for r in queries.stock_as_of(store, day(5), "VAN-1", "NALOX-4MG")) == 100


def test_a_receipt_whose_stock_was_used_cannot_be_voided_and_says_why(staff: dict[str, Caller]) -> None:
    root, coordinator = staff["admin"], staff["coordinator"]
    first = receipt(root, 5)
    a_visit(coordinator, "visit-uses-it-0001", 4)

    refused = error(root.post(f"/api/v1/receipts/{first['position']}/void", {"reason": "entered_twice"}), 409)
    assert "used the stock it put in lot N-1" in refused["message"] and "4 kits short" in refused["message"]
    assert stock(root) == 1


def test_a_coordinator_may_change_an_entry_only_at_their_sites_and_within_the_window(
    clock: Clock, staff: dict[str, Caller]
) -> None:
    root, coordinator, grants = staff["admin"], staff["coordinator"], staff["grant_manager"]
    receipt(root, 20)
    visit = a_visit(coordinator, "visit-old-0001")
    assert error(grants.post(f"/api/v1/encounters/{visit['id']}/void", {"reason": "entered_twice"}), 403)
    assert error(coordinator.post(f"/api/v1/encounters/{visit['id']}/void", {"reason": "because"}), 422)

    clock.advance(days=CORRECTION_WINDOW.days, hours=1)
    late = error(coordinator.post(f"/api/v1/encounters/{visit['id']}/void", {"reason": "entered_twice"}), 409,
                 "past_correction_window")  # fmt: skip
    assert f"Coordinators can void or correct entries for {CORRECTION_WINDOW.days} days" in late["message"]
    assert stock(root) == 18
    ok(root.post(f"/api/v1/encounters/{visit['id']}/void", {"reason": "entered_twice"}))
    assert stock(root) == 20


def test_only_receipts_adjustments_and_counts_are_voided_by_position(staff: dict[str, Caller]) -> None:
    root = staff["admin"]
    first = receipt(root, 20)
    assert error(root.post(f"/api/v1/counts/{first['position']}/void", {"reason": "entered_twice"}), 404)
    assert error(root.post("/api/v1/receipts/999999/void", {"reason": "entered_twice"}), 404)
    ok(root.post(f"/api/v1/receipts/{first['position']}/void", {"reason": "entered_twice"}))
    assert stock(root) == 0
    assert error(root.post(f"/api/v1/receipts/{first['position']}/void", {"reason": "entered_twice"}), 409)


def test_an_id_that_names_something_else_is_not_found(staff: dict[str, Caller]) -> None:
    root, coordinator = staff["admin"], staff["coordinator"]
    receipt(root, 20)
    visit = a_visit(coordinator, "visit-not-a-tally-0001")
    # A visit's id is no tally's; a transfer's is no visit's.
    assert error(root.post(f"/api/v1/tallies/{visit['id']}/void", {"reason": "entered_twice"}), 404)
    sent = ok(root.post("/api/v1/transfers", {"from_site": "VAN-1", "to_site": "WH",
                                              "lines": [{"sku": "NALOX-4MG", "quantity": 1}]}))  # fmt: skip
    assert error(root.post(f"/api/v1/encounters/{sent['id']}/void", {"reason": "entered_twice"}), 404)
    assert stock(root) == 17


def test_a_transfer_to_the_wrong_site_is_voided_and_the_read_models_move_it_back_on_its_own_day(
    flask_app: Flask, staff: dict[str, Caller]
) -> None:
    root, coordinator = staff["admin"], staff["coordinator"]
    receipt(root, 20, days_ago=5)
    sent = ok(coordinator.post("/api/v1/transfers", {"from_site": "VAN-1", "to_site": "WH", "occurred_at": noon(3),
                                                     "lines": [{"sku": "NALOX-4MG", "quantity": 8}]}))  # fmt: skip
    ok(root.post(f"/api/v1/transfers/{sent['id']}/receive", {"occurred_at": noon(2)}), 200)
    store = flask_app.extensions["inventory"].store
    # Received at the warehouse: the coordinator (VAN-1 only) may not take it back out of WH.
    refused = error(coordinator.post(f"/api/v1/transfers/{sent['id']}/void", {"reason": "wrong_site"}), 403)
    assert "at WH" in refused["message"]
    assert error(root.post(f"/api/v1/transfers/{sent['id']}/void", {"reason": "because"}), 422)

    voided = ok(root.post(f"/api/v1/transfers/{sent['id']}/void", {"reason": "wrong_site"}))
    assert (voided["status"], voided["voided"]) == ("voided", "wrong_site")
    assert ok(root.post(f"/api/v1/transfers/{sent['id']}/void", {"reason": "wrong_site"})) == voided
    assert stock(root) == 20
    wh = ok(root.get("/api/v1/stock", site="WH", sku="NALOX-4MG"), 200)
    assert sum(row["quantity"] for row in wh) == 0
    # As of the day it was sent and the day it arrived, the kits never left the van.
    for days_ago in (3, 2):
        assert sum(r["quantity"] for r in queries.stock_as_of(store, day(days_ago), "VAN-1", "NALOX-4MG")) == 20
        assert sum(r["quantity"] for r in queries.stock_as_of(store, day(days_ago), "WH", "NALOX-4MG")) == 0
    card = queries.stock_card(store, "VAN-1", "NALOX-4MG", day(3), day(3))
    assert [(r["kind"], r["quantity"], r["reason"]) for r in card.rows] == [
        ("transfer_out", -8, None),
        ("transfer_out", 8, "void:wrong_site"),
    ]
    [(status,)] = store.fetchall("SELECT status FROM transfers WHERE id = ?", (sent["id"],))
    assert status == "voided"
    summaries = [s for (s,) in store.fetchall("SELECT summary FROM audit_log ORDER BY position")]
    assert "Transfer voided: Recorded at the wrong site" in summaries


def test_a_transfer_voided_on_its_way_is_no_longer_in_transit(flask_app: Flask, staff: dict[str, Caller]) -> None:
    root, coordinator = staff["admin"], staff["coordinator"]
    receipt(root, 20, days_ago=5)
    sent = ok(coordinator.post("/api/v1/transfers", {"from_site": "VAN-1", "to_site": "WH", "occurred_at": noon(1),
                                                     "lines": [{"sku": "NALOX-4MG", "quantity": 5}]}))  # fmt: skip
    store = flask_app.extensions["inventory"].store
    assert store.fetchall("SELECT in_transit FROM stock_pipeline WHERE site = 'WH'") == [(5,)]

    ok(coordinator.post(f"/api/v1/transfers/{sent['id']}/void", {"reason": "entered_by_mistake"}))

    assert store.fetchall("SELECT in_transit FROM stock_pipeline WHERE site = 'WH'") == []
    assert stock(coordinator) == 20
    assert error(root.post(f"/api/v1/transfers/{sent['id']}/receive", {}), 409)


def test_each_correction_takes_the_figures_its_kind_can_have_as_the_document_says(
    flask_app: Flask, staff: dict[str, Caller]
) -> None:
    root = staff["admin"]
    spec = ok(root.client.get("/api/v1/openapi.json"), 200)
    wrong = receipt(root, 40)
    count = ok(root.post("/api/v1/counts", {"site": "VAN-1", "sku": "NALOX-4MG", "lot": "N-1", "counted": 40,
                                            "occurred_at": noon(2)}))  # fmt: skip
    bounds = {}
    for kind in ("receipts", "adjustments", "counts"):
        path = spec["paths"][f"/api/v1/{kind}/{{position}}/correction"]
        post = path["post"]
        [position] = [p for p in path["parameters"] if p["name"] == "position"]
        assert position["schema"]["minimum"] == 1  # positions start at 1
        name = post["requestBody"]["content"]["application/json"]["schema"]["$ref"].rsplit("/", 1)[1]
        bounds[kind] = spec["components"]["schemas"][name]["properties"]["quantity"]["minimum"]
    assert bounds == {"receipts": 1, "adjustments": -10_000_000, "counts": 0}

    # A receipt corrected to 0 is refused at the door, naming the field (void it instead); nothing changes.
    refused = error(root.post(f"/api/v1/receipts/{wrong['position']}/correction",
                              {"quantity": 0, "reason": "wrong_quantity"}), 422)  # fmt: skip
    assert "quantity" in refused["fields"]
    assert stock(root) == 40
    # A count corrected to 0: the lot was found empty.
    emptied = ok(root.post(f"/api/v1/counts/{count['position']}/correction",
                           {"quantity": 0, "reason": "wrong_quantity"}))  # fmt: skip
    assert emptied["on_hand"] == 0 and stock(root) == 0
    # Position 0 names no entry.
    assert root.post("/api/v1/counts/0/correction", {"quantity": 0, "reason": "wrong_quantity"}).status_code == 404
