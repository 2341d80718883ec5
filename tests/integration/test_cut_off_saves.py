"""A save the database cuts off leaves no gap in a ledger's history.

A command applies its events to the cached ledger before they are stored. When the insert then
failed (a killed connection, a locked database), the cache kept the ledger at a version the log
did not hold, and the next command saved after it: a history with a version missing, which can
never be loaded again (every later command on that stock answered 500). Now the next command
reloads the ledger from the log and continues from what it holds.
"""

from __future__ import annotations

import sqlite3
from contextlib import closing
from datetime import date

import pytest

from inventory.application import InventoryApplication
from inventory.domain import StockLedger, ledger_id
from inventory.web.errors import DATABASE_UNAVAILABLE
from tests.conftest import ADMIN, seed_catalog

WH_NALOXONE = ledger_id("WH", "NALOX-4MG")


def receive(app: InventoryApplication, lot: str) -> None:
    app.receive_stock(
        site="WH",
        sku="NALOX-4MG",
        lot=lot,
        quantity=5,
        expires_on=date(2031, 1, 31),
        funding_source="STATE",
        actor=ADMIN,
    )


def test_a_receipt_whose_save_the_database_refused_leaves_no_gap_and_the_next_one_is_stored_after_the_last(
    sqlite_url: str,
) -> None:
    # Another connection holding SQLite's write lock makes the insert give up after a second.
    app = InventoryApplication(sqlite_url, env={"SQLITE_LOCK_TIMEOUT": "1"})
    try:
        seed_catalog(app)
        receive(app, "L-1")
        with closing(sqlite3.connect(sqlite_url.removeprefix("sqlite:///"), isolation_level=None)) as other:
            other.execute("BEGIN IMMEDIATE")
            with pytest.raises(DATABASE_UNAVAILABLE):
                receive(app, "L-2")
            other.execute("ROLLBACK")
        receive(app, "L-3")
    finally:
        app.close()

    fresh = InventoryApplication(sqlite_url)
    try:
        versions = [event.originator_version for event in fresh.events.get(WH_NALOXONE)]
        assert versions == list(range(1, len(versions) + 1)), versions
        ledger = fresh.repository.get(WH_NALOXONE)
        assert isinstance(ledger, StockLedger)
        assert ledger.on_hand == 10 and {lot.code for lot in ledger.lots.values()} == {"L-1", "L-3"}
    finally:
        fresh.close()
