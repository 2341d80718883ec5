"""A command whose stock another process holds for longer than INVENTORY_LOCK_WAIT_SECONDS answers 503
with Retry-After and says so in plain words, having recorded nothing; the same request with the same
Idempotency-Key, sent again once the stock is free, is recorded once."""

from __future__ import annotations

import threading

import pytest

from inventory.application import InventoryApplication
from inventory.domain import ledger_id
from tests.threads import Worker
from tests.web.conftest import Caller, error, ok

RECEIPTS = "/api/v1/receipts"
WAIT = 1  # INVENTORY_LOCK_WAIT_SECONDS
ENOUGH = 10.0  # seconds within which an answer that does not hang has long come
RECEIPT = {
    "site": "VAN-1",
    "sku": "NALOX-4MG",
    "lot": "N-1",
    "quantity": 5,
    "expires_on": "2099-12-31",
    "funding_source": "STATE",
}


@pytest.fixture(autouse=True)
def short_lock_wait(monkeypatch: pytest.MonkeyPatch) -> None:
    """Set before the web app is built (autouse fixtures come first), which reads it from the environment."""
    monkeypatch.setenv("INVENTORY_LOCK_WAIT_SECONDS", str(WAIT))


def on_hand(caller: Caller) -> int:
    rows = ok(caller.get("/api/v1/stock", site="VAN-1", sku="NALOX-4MG"), 200)
    return sum(row["quantity"] for row in rows)


def test_a_receipt_for_stock_held_elsewhere_too_long_answers_503_try_again_and_is_recorded_when_sent_again(
    database_url: str, staff: dict[str, Caller]
) -> None:
    admin = staff["admin"]
    other = InventoryApplication(database_url)  # another process: same lock files, same advisory locks
    let_go, holding = threading.Event(), threading.Event()
    holder, client = Worker("holder"), Worker("client")

    def hold() -> None:
        with other.locks.holding([ledger_id("VAN-1", "NALOX-4MG")]):
            holding.set()
            let_go.wait(60)

    try:
        holder.submit(hold)
        assert holding.wait(ENOUGH)
        answer = client.run(lambda: admin.post(RECEIPTS, RECEIPT, key="receipt-held-0001"), WAIT + ENOUGH)
        found = error(answer, 503, "busy")
        assert found["message"] == (
            "Others are recording the same stock right now; nothing was recorded. Try again in a moment."
        )
        assert answer.headers["Retry-After"] == "1"

        let_go.set()
        ok(client.run(lambda: admin.post(RECEIPTS, RECEIPT, key="receipt-held-0001"), ENOUGH))
    finally:
        let_go.set()
        holder.close()
        client.close()
        other.close()
    assert on_hand(admin) == 5
