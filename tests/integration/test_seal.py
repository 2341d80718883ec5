"""The seal: a keyed hash chain over the log that names the first event anyone changed behind our back.

The tampering tests edit the SQLite event file directly, the way someone with access to the disk
(not to the application) would, after the seal projection has sealed the log.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Iterator
from contextlib import closing
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from inventory.adapters.persistence import persistence_env
from inventory.application import InventoryApplication
from inventory.cli import main
from inventory.domain import StockLedger
from inventory.projections import all_projections
from inventory.projections.runner import Projector
from inventory.projections.seal import GENESIS, seal_head, verify
from inventory.projections.store import ReadStore, read_store_for
from inventory.web import create_app
from tests.conftest import ADMIN, seed_catalog

KEY = b"seal-key-for-tests"
OUTREACH = "outreach@example.org"
EXPIRY = date(2031, 1, 31)


@dataclass
class Sealed:
    """An application whose log has been sealed, its read store, and where its events live."""

    app: InventoryApplication
    store: ReadStore
    projector: Projector
    url: str

    @property
    def events_file(self) -> str:
        return persistence_env(self.url)["SQLITE_DBNAME"]

    def head(self) -> int:
        return int(self.app.recorder.max_notification_id() or 0)

    def check(self, key: bytes = KEY) -> Any:
        return verify(self.app.recorder, self.store, key)


def record_a_week(app: InventoryApplication) -> None:
    """A small program's first week: deliveries, two visits and a transfer to the van."""
    seed_catalog(app)
    app.receive_stock(
        site="WH", sku="NALOX-4MG", lot="N-1", quantity=40, expires_on=EXPIRY, funding_source="SOR", actor=ADMIN
    )
    app.receive_stock(
        site="WH", sku="SYR-1ML", lot="S-1", quantity=500, expires_on=None, funding_source="STATE", actor=ADMIN
    )
    app.receive_stock(
        site="VAN-1", sku="NALOX-4MG", lot="N-2", quantity=12, expires_on=EXPIRY, funding_source="STATE", actor=ADMIN
    )
    app.record_encounter(
        key="seal-visit-0001", site="VAN-1", lines=[{"sku": "NALOX-4MG", "quantity": 2}], actor=OUTREACH
    )
    app.dispatch_transfer(from_site="WH", to_site="VAN-1", lines=[{"sku": "SYR-1ML", "quantity": 100}], actor=ADMIN)
    app.record_encounter(
        key="seal-visit-0002", site="VAN-1", lines=[{"sku": "NALOX-4MG", "quantity": 1}], actor=OUTREACH
    )


def seal(app: InventoryApplication, url: str) -> Iterator[Sealed]:
    store = read_store_for(url)
    projector = Projector(app, store, all_projections(app.zone, KEY))
    try:
        record_a_week(app)
        projector.catch_up()
        yield Sealed(app, store, projector, url)
    finally:
        store.close()


@pytest.fixture
def sealed(sqlite_app: InventoryApplication, sqlite_url: str) -> Iterator[Sealed]:
    """A week of activity on a SQLite file, sealed."""
    yield from seal(sqlite_app, sqlite_url)


@pytest.fixture
def sealed_anywhere(app: InventoryApplication, database_url: str) -> Iterator[Sealed]:
    """A week of activity, sealed, on SQLite and on PostgreSQL."""
    yield from seal(app, database_url)


# ----- editing the event file behind the application's back ---------------------------------


def tamper(sealed: Sealed, *statements: tuple[str, tuple[Any, ...]]) -> None:
    """Run SQL on the event file in one transaction, as someone with the file (and no key) could."""
    with closing(sqlite3.connect(sealed.events_file, isolation_level=None)) as db:
        db.execute("BEGIN IMMEDIATE")
        for sql, params in statements:
            db.execute(sql, params)
        db.execute("COMMIT")


# A space after the JSON: the event still decodes to the same values, but its bytes differ. (The cast
# keeps the value a BLOB: SQLite's || on its own would store TEXT.)
APPEND_A_SPACE = "UPDATE stored_events SET state = CAST(state || x'20' AS BLOB) WHERE %s"


def event_rows(sealed: Sealed) -> list[tuple[int, str, int, str, bytes]]:
    """(position, originator id, version, topic, state) of every stored event, in log order."""
    with closing(sqlite3.connect(sealed.events_file)) as db:
        return db.execute(
            "SELECT rowid, originator_id, originator_version, topic, state FROM stored_events ORDER BY rowid"
        ).fetchall()


def position_of(sealed: Sealed, wanted: Callable[[Any], bool]) -> int:
    """The position of the first event in the log that `wanted` picks."""
    for notification in sealed.app.recorder.select_notifications(start=1, limit=10_000):
        if wanted(sealed.app.mapper.to_domain_event(notification)):
            return int(notification.id)
    raise AssertionError("no such event in the log")


def receipt_of(sku: str, lot: str) -> Callable[[Any], bool]:
    return lambda event: isinstance(event, StockLedger.Received) and event.sku == sku and event.lot == lot


def assert_tampered_at(sealed: Sealed, position: int) -> None:
    check = sealed.check()
    assert not check.ok
    assert check.first_bad_position == position
    assert check.describe().startswith(f"TAMPERED: position {position}: ")
    # The check vouches for everything before the first bad event, and for nothing after it.
    assert check.head_position == position - 1


# ----- the schema the tests edit ---------------------------------------------------------------


def test_the_sqlite_event_store_keeps_events_in_one_table_whose_rowid_is_the_log_position(sealed: Sealed) -> None:
    with closing(sqlite3.connect(sealed.events_file)) as db:
        [(ddl,)] = db.execute("SELECT sql FROM sqlite_master WHERE name = 'stored_events'").fetchall()
    assert "originator_id" in ddl and "state BLOB" in ddl
    positions = [row[0] for row in event_rows(sealed)]
    assert positions == list(range(1, sealed.head() + 1))
    assert [n.id for n in sealed.app.recorder.select_notifications(start=1, limit=10_000)] == positions


# ----- an untouched log ----------------------------------------------------------------------


def test_an_untouched_log_verifies_up_to_its_head_with_the_sealed_hash(sealed_anywhere: Sealed) -> None:
    check = sealed_anywhere.check()

    assert check.ok
    assert check.head_position == sealed_anywhere.head()
    assert (check.head_position, check.head_hash) == seal_head(sealed_anywhere.store)
    assert check.head_hash != GENESIS.hex()
    assert check.first_bad_position is None and check.problem is None
    assert check.unsealed == 0
    assert check.describe() == f"OK: the log verifies up to position {check.head_position}, hash {check.head_hash}."


def test_an_empty_log_verifies_with_the_genesis_hash(database_url: str, app: InventoryApplication) -> None:
    store = read_store_for(database_url)
    try:
        Projector(app, store, all_projections(app.zone, KEY)).catch_up()
        check = verify(app.recorder, store, KEY)
    finally:
        store.close()
    assert (check.ok, check.head_position, check.head_hash, check.unsealed) == (True, 0, GENESIS.hex(), 0)


def test_events_recorded_after_sealing_are_reported_unsealed_without_failing(sealed_anywhere: Sealed) -> None:
    sealed_at = sealed_anywhere.head()
    hash_at = seal_head(sealed_anywhere.store)[1]
    sealed_anywhere.app.record_encounter(
        key="seal-visit-0003", site="VAN-1", lines=[{"sku": "NALOX-4MG", "quantity": 1}], actor=OUTREACH
    )  # two events: the ledger's issue and the encounter
    sealed_anywhere.app.receive_stock(
        site="WH", sku="SYR-1ML", lot="S-1", quantity=50, expires_on=None, funding_source="STATE", actor=ADMIN
    )

    check = sealed_anywhere.check()

    assert check.ok
    assert (check.head_position, check.head_hash) == (sealed_at, hash_at)
    assert check.unsealed == 3 == sealed_anywhere.head() - sealed_at
    assert check.describe().endswith("; 3 newer events not sealed yet.")

    sealed_anywhere.projector.catch_up()
    caught_up = sealed_anywhere.check()
    assert (caught_up.ok, caught_up.head_position, caught_up.unsealed) == (True, sealed_anywhere.head(), 0)


def test_a_different_key_fails_at_the_first_event(sealed_anywhere: Sealed) -> None:
    check = sealed_anywhere.check(b"somebody-elses-key")

    assert not check.ok
    assert check.first_bad_position == 1
    assert check.head_position == 0
    assert check.problem == "the event differs from the one sealed"


# ----- tampering with a sealed SQLite log ------------------------------------------------------


def test_changing_the_quantity_inside_one_events_state_is_detected_at_that_event(sealed: Sealed) -> None:
    position = position_of(sealed, receipt_of("NALOX-4MG", "N-1"))
    [state] = [row[4] for row in event_rows(sealed) if row[0] == position]
    assert b'"quantity":40' in state

    tamper(
        sealed,
        (
            "UPDATE stored_events SET state = ? WHERE rowid = ?",
            (state.replace(b'"quantity":40', b'"quantity":4'), position),
        ),
    )

    assert_tampered_at(sealed, position)
    assert sealed.check().problem == "the event differs from the one sealed"


def test_when_two_events_are_changed_the_first_one_is_named(sealed: Sealed) -> None:
    first = position_of(sealed, receipt_of("SYR-1ML", "S-1"))
    later = position_of(sealed, receipt_of("NALOX-4MG", "N-2"))
    assert first < later
    tamper(
        sealed,
        (APPEND_A_SPACE % "rowid = ?", (later,)),
        (APPEND_A_SPACE % "rowid = ?", (first,)),
    )

    assert_tampered_at(sealed, first)


def test_deleting_one_event_is_detected_at_its_position(sealed: Sealed) -> None:
    position = position_of(sealed, receipt_of("SYR-1ML", "S-1"))

    tamper(sealed, ("DELETE FROM stored_events WHERE rowid = ?", (position,)))

    assert_tampered_at(sealed, position)
    assert sealed.check().problem == "a sealed event is missing from the log"


def test_deleting_the_newest_sealed_event_is_detected_too(sealed: Sealed) -> None:
    last = sealed.head()

    tamper(sealed, ("DELETE FROM stored_events WHERE rowid = ?", (last,)))

    assert_tampered_at(sealed, last)
    assert sealed.check().problem == "a sealed event is missing from the log"


def test_swapping_the_states_of_two_events_is_detected_at_the_earlier_one(sealed: Sealed) -> None:
    earlier = position_of(sealed, receipt_of("NALOX-4MG", "N-1"))
    later = position_of(sealed, receipt_of("NALOX-4MG", "N-2"))
    rows = {row[0]: row[4] for row in event_rows(sealed)}

    tamper(
        sealed,
        ("UPDATE stored_events SET state = ? WHERE rowid = ?", (rows[later], earlier)),
        ("UPDATE stored_events SET state = ? WHERE rowid = ?", (rows[earlier], later)),
    )

    assert_tampered_at(sealed, earlier)


def test_reordering_two_events_is_detected_at_the_earlier_position(sealed: Sealed) -> None:
    earlier = position_of(sealed, receipt_of("SYR-1ML", "S-1"))
    later = position_of(sealed, receipt_of("NALOX-4MG", "N-2"))
    before = {row[0]: row[1:] for row in event_rows(sealed)}

    tamper(
        sealed,
        ("UPDATE stored_events SET rowid = -1 WHERE rowid = ?", (earlier,)),
        ("UPDATE stored_events SET rowid = ? WHERE rowid = ?", (earlier, later)),
        ("UPDATE stored_events SET rowid = ? WHERE rowid = -1", (later,)),
    )

    after = {row[0]: row[1:] for row in event_rows(sealed)}
    assert (after[earlier], after[later]) == (before[later], before[earlier])
    assert_tampered_at(sealed, earlier)


def test_inserting_a_forged_event_into_the_middle_of_the_log_is_detected_where_it_was_put(sealed: Sealed) -> None:
    """A copy of a receipt (with a free version number) slipped in, everything after it moved up one."""
    position = position_of(sealed, receipt_of("NALOX-4MG", "N-2"))
    copied = position_of(sealed, receipt_of("NALOX-4MG", "N-1"))
    count = len(event_rows(sealed))

    tamper(
        sealed,
        ("UPDATE stored_events SET rowid = -rowid WHERE rowid >= ?", (position,)),
        ("UPDATE stored_events SET rowid = 1 - rowid WHERE rowid < 0", ()),
        (
            """INSERT INTO stored_events (rowid, originator_id, originator_version, topic, state)
               SELECT ?, originator_id, 1000, topic, state FROM stored_events WHERE rowid = ?""",
            (position, copied),
        ),
    )

    rows = event_rows(sealed)
    assert len(rows) == count + 1
    assert [row[0] for row in rows] == list(range(1, count + 2))
    assert_tampered_at(sealed, position)


def test_an_event_whose_state_was_rewritten_as_text_is_reported_as_tampered_not_a_crash(sealed: Sealed) -> None:
    position = position_of(sealed, receipt_of("NALOX-4MG", "N-1"))

    tamper(sealed, ("UPDATE stored_events SET state = CAST(state AS TEXT) WHERE rowid = ?", (position,)))

    assert_tampered_at(sealed, position)


def test_tampering_after_the_sealed_head_is_not_reported_as_tampering(sealed: Sealed) -> None:
    """What is not sealed yet has no seal to break; it shows as unsealed until the seal catches up."""
    sealed_head = sealed.head()
    sealed.app.receive_stock(
        site="WH", sku="SYR-1ML", lot="S-1", quantity=50, expires_on=None, funding_source="STATE", actor=ADMIN
    )
    tamper(sealed, (APPEND_A_SPACE % "rowid > ?", (sealed_head,)))

    check = sealed.check()

    assert (check.ok, check.head_position, check.unsealed) == (True, sealed_head, 1)


# ----- what an auditor runs ------------------------------------------------------------------


def run_cli(args: list[str], url: str, instance: Path, key: bytes = KEY) -> Any:
    """Run the `inventory` command as a shell would, with the settings in the environment."""
    env = {
        "INVENTORY_DATABASE_URL": url,
        "INVENTORY_INSTANCE_PATH": str(instance),
        "INVENTORY_SEAL_KEY": key.decode(),
    }
    return CliRunner().invoke(main, args, env=env, catch_exceptions=False)


def test_audit_verify_exits_0_on_a_sealed_log_and_1_naming_the_position_once_tampered(
    sealed: Sealed, tmp_path: Path
) -> None:
    untouched = run_cli(["audit", "verify"], sealed.url, tmp_path / "instance")
    assert untouched.exit_code == 0, untouched.output
    head_position, head_hash = seal_head(sealed.store)
    assert untouched.output == f"OK: the log verifies up to position {head_position}, hash {head_hash}.\n"

    position = position_of(sealed, receipt_of("SYR-1ML", "S-1"))
    tamper(sealed, ("DELETE FROM stored_events WHERE rowid = ?", (position,)))
    tampered = run_cli(["audit", "verify"], sealed.url, tmp_path / "instance")

    assert tampered.exit_code == 1
    assert tampered.output == f"TAMPERED: position {position}: a sealed event is missing from the log.\n"


def test_audit_verify_with_the_wrong_key_exits_1(sealed: Sealed, tmp_path: Path) -> None:
    result = run_cli(["audit", "verify"], sealed.url, tmp_path / "instance", key=b"not-the-key")

    assert result.exit_code == 1
    assert result.output.startswith("TAMPERED: position 1: ")


def test_the_verify_endpoint_answers_ok_then_names_the_first_bad_position(sealed: Sealed) -> None:
    web = create_app({"INVENTORY_DATABASE_URL": sealed.url, "INVENTORY_SEAL_KEY": KEY.decode(), "TESTING": True})
    try:
        client = web.test_client()
        services = web.extensions["inventory"]
        services.app.register_user(email="auditor@example.org", role="auditor", actor=ADMIN)
        token = services.app.issue_token(email="auditor@example.org", actor=ADMIN)
        services.projector.catch_up()
        auditor = {"Authorization": f"Bearer {token}"}
        head_position, head_hash = seal_head(sealed.store)

        assert client.get("/api/v1/audit/verify").status_code == 401
        untouched = client.get("/api/v1/audit/verify", headers=auditor)
        assert untouched.status_code == 200
        assert untouched.get_json() == {
            "ok": True,
            "head_position": head_position,
            "head_hash": head_hash,
            "first_bad_position": None,
            "problem": None,
            "unsealed": 0,
        }

        position = position_of(sealed, receipt_of("NALOX-4MG", "N-2"))
        tamper(sealed, (APPEND_A_SPACE % "rowid = ?", (position,)))
        tampered = client.get("/api/v1/audit/verify", headers=auditor).get_json()

        assert tampered["ok"] is False
        assert tampered["first_bad_position"] == position
        assert tampered["head_position"] == position - 1
        assert tampered["problem"] == "the event differs from the one sealed"
    finally:
        web.extensions["inventory"].close()
