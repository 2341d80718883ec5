"""POST /api/v1/discarded-visits: a visit kept offline that the server refused, discarded with a reason.

The discard is recorded in the log (so an auditor sees a visit happened on a phone and why it is not
among the encounters), once per key, never for a visit that was recorded, and without the participant
code the phone kept.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from inventory.application import InventoryApplication
from inventory.domain import DiscardedVisit
from inventory.domain.errors import Conflict
from inventory.projections.audit_log import summarise
from tests.web.conftest import STAFF, Caller, error, noon, ok

KEY = "van-visit-0001"


def the_visit(**changes: Any) -> dict[str, Any]:
    """The visit as the phone kept it: 5 naloxone kits at VAN-1 at noon yesterday."""
    return {
        "site": "VAN-1",
        "lines": [{"sku": "NALOX-4MG", "quantity": 5}],
        "participant_code": "K7QX29",
        "occurred_at": noon(1),
        **changes,
    }


def discard(**changes: Any) -> dict[str, Any]:
    return {
        "site": "VAN-1",
        "lines": [{"sku": "NALOX-4MG", "quantity": 5}],
        "reason": "not_handed_out",
        "refused_because": "insufficient_stock",
        "occurred_at": noon(1),
        **changes,
    }


def receive(root: Caller, quantity: int) -> None:
    ok(
        root.post(
            "/api/v1/receipts",
            {"site": "VAN-1", "sku": "NALOX-4MG", "lot": "N-1", "quantity": quantity, "expires_on": "2099-12-31",
             "funding_source": "STATE", "occurred_at": noon(3)},
        )
    )  # fmt: skip


def events_of(root: Caller, type_name: str) -> list[dict[str, Any]]:
    found = ok(root.get("/api/v1/events", after=0, limit=1000), 200)["events"]
    return [event for event in found if event["type"] == type_name]


def test_a_refused_visit_discarded_with_a_reason_is_in_the_log_once_without_the_participant_code(
    staff: dict[str, Caller],
) -> None:
    root, coordinator = staff["admin"], staff["coordinator"]
    receive(root, 2)
    refused = error(coordinator.post("/api/v1/encounters", the_visit(), key=KEY), 409, "insufficient_stock")
    assert "Only 2" in refused["message"]

    first = ok(coordinator.post("/api/v1/discarded-visits", discard(refused_because=refused["code"]), key=KEY))
    assert (first["site"], first["reason"], first["refused_because"], first["actor"]) == (
        "VAN-1",
        "not_handed_out",
        "insufficient_stock",
        STAFF["coordinator"],
    )
    assert first["lines"] == [{"sku": "NALOX-4MG", "quantity": 5}]
    again = coordinator.post("/api/v1/discarded-visits", discard(), key=KEY)
    assert again.status_code == 201 and again.get_json() == first

    (event,) = events_of(root, "DiscardedVisit.Discarded")
    assert event["actor"] == STAFF["coordinator"]
    assert "K7QX29" not in str(event) and "participant" not in str(event)
    # Stock untouched: the 2 kits are still there.
    assert ok(root.get("/api/v1/stock", site="VAN-1"), 200)[0]["quantity"] == 2


def test_the_audit_log_says_in_words_what_was_discarded_and_why() -> None:
    visit = DiscardedVisit(
        key=KEY,
        fingerprint="x",
        site="VAN-1",
        lines=[{"sku": "NALOX-4MG", "quantity": 5}],
        reason="recorded_elsewhere",
        refused_because="item_retired",
        actor=STAFF["coordinator"],
        occurred_at=datetime(2026, 3, 1, 21, 5, tzinfo=UTC),
    )
    (event,) = visit.collect_events()
    assert summarise(event) == (
        "Visit kept offline at VAN-1 discarded, refused as item retired: "
        "It was recorded another way (paper, another device) (asked for NALOX-4MG x5)"
    )


def test_a_visit_recorded_after_all_cannot_be_discarded(
    staff: dict[str, Caller], inventory: InventoryApplication
) -> None:
    root, coordinator = staff["admin"], staff["coordinator"]
    receive(root, 10)
    ok(coordinator.post("/api/v1/encounters", the_visit(), key=KEY))
    # Over HTTP the key is already spent on the visit; below that, the application checks the log itself
    # (the API's record of keys is kept 45 days, the log for ever).
    error(coordinator.post("/api/v1/discarded-visits", discard(), key=KEY), 422)
    with pytest.raises(Conflict, match="recorded after all"):
        inventory.discard_offline_visit(
            key=KEY, actor=STAFF["coordinator"], **discard(occurred_at=datetime.fromisoformat(noon(1)))
        )
    assert events_of(root, "DiscardedVisit.Discarded") == []


def test_a_discard_names_a_reason_from_the_list_and_the_servers_error_code(staff: dict[str, Caller]) -> None:
    coordinator = staff["coordinator"]
    wrong = error(coordinator.post("/api/v1/discarded-visits", discard(reason="she left"), key=KEY), 422)
    assert list(wrong["fields"]) == ["reason"]
    wrong = error(
        coordinator.post("/api/v1/discarded-visits", discard(refused_because="Only 2 left, she said"), key=KEY), 422
    )
    assert wrong["fields"] == {"refused_because": ["Send the error code the server gave."]}
    missing = error(coordinator.post("/api/v1/discarded-visits", discard()), 400)
    assert "Idempotency-Key" in missing["message"]
    ok(coordinator.post("/api/v1/discarded-visits", discard(), key=KEY))
    changed = error(coordinator.post("/api/v1/discarded-visits", discard(reason="duplicate"), key=KEY), 422)
    assert "different request" in changed["message"]


def test_only_for_the_sites_a_person_records_at(staff: dict[str, Caller]) -> None:
    ok(staff["admin"].post("/api/v1/sites", {"code": "FIX-2", "name": "Fixed site", "kind": "fixed"}))
    error(staff["coordinator"].post("/api/v1/discarded-visits", discard(site="FIX-2"), key=KEY), 403)
    error(staff["auditor"].post("/api/v1/discarded-visits", discard(), key=KEY), 403)
