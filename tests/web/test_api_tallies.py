"""POST /api/v1/tallies: a shift's totals over the API, recorded once per key, refused with what to fix."""

from __future__ import annotations

from typing import Any

from tests.web.conftest import Caller, day, error, noon, ok


def night(**changes: Any) -> dict[str, Any]:
    return {
        "site": "VAN-1",
        "shift_date": day(2).isoformat(),
        "starts_at": "21:00",
        "ends_at": "02:30",
        "lines": [{"sku": "NALOX-4MG", "quantity": 4}],
        "visits": 9,
        "reversals_reported": 1,
        "syringes_collected": 60,
        **changes,
    }


def test_a_tally_is_recorded_once_and_answers_the_same_when_sent_again(staff: dict[str, Caller]) -> None:
    root, coordinator = staff["admin"], staff["coordinator"]
    ok(
        root.post(
            "/api/v1/receipts",
            {"site": "VAN-1", "sku": "NALOX-4MG", "lot": "N-1", "quantity": 20, "expires_on": "2099-12-31",
             "funding_source": "STATE", "occurred_at": noon(5)},
        )
    )  # fmt: skip
    first = ok(coordinator.post("/api/v1/tallies", night(), key="night-0001"))
    assert (first["site"], first["shift_date"], first["starts_at"], first["ends_at"]) == (
        "VAN-1",
        day(2).isoformat(),
        "21:00",
        "02:30",
    )
    assert first["visits"] == 9 and [(p["lot"], p["quantity"]) for p in first["lines"][0]["lots"]] == [("N-1", 4)]
    again = coordinator.post("/api/v1/tallies", night(), key="night-0001")
    assert again.status_code == 201 and again.get_json() == first
    assert ok(root.get("/api/v1/stock", site="VAN-1"), 200)[0]["quantity"] == 16

    refused = error(coordinator.post("/api/v1/tallies", night(ends_at="9pm"), key="night-0002"), 422)
    assert refused["fields"] == {"ends_at": ["Enter a time like 21:30."]}
    late = error(coordinator.post("/api/v1/tallies", night(visits=0), key="night-0003"), 422)
    assert late["fields"] == {"visits": ["Enter how many visits the shift had: items were handed out."]}
    assert ok(root.get("/api/v1/stock", site="VAN-1"), 200)[0]["quantity"] == 16
