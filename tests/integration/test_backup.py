"""Backups of a live database and restoring them elsewhere, on SQLite and on PostgreSQL.

A backup is taken while another thread keeps recording visits. Restored into another database, the
log holds exactly the first N events of the source (N = the backup's last position, from its
manifest), the read models caught up from the backup match a rebuild, and the seal verifies with
the head hash it had when the backup was taken. A restore with the wrong encryption key, or over a
database that holds events, is refused before anything is written.
"""

from __future__ import annotations

import base64
import os
import threading
import uuid
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

import psycopg
import pytest
from click.testing import CliRunner

from inventory.adapters.backup import check_restored, read_manifest, restore_backup, take_backup
from inventory.adapters.settings import Settings, load_settings
from inventory.bootstrap import Services, build_services
from inventory.cli import main
from inventory.domain.errors import InvalidInput
from tests.conftest import ADMIN, POSTGRES_URL, read_model_rows, seed_catalog

KEY = base64.b64encode(os.urandom(32)).decode()


def settings_for(url: str, cipher_key: str | None = KEY) -> Settings:
    values = {"INVENTORY_DATABASE_URL": url, "INVENTORY_ENV": "development", "INVENTORY_SEAL_KEY": "backup-seal-key"}
    if cipher_key:
        values["INVENTORY_CIPHER_KEY"] = cipher_key
    return load_settings(values)


@pytest.fixture
def elsewhere(database_url: str, tmp_path: Path) -> Iterator[str]:
    """Another, empty database of the same kind to restore into (PostgreSQL: same schema name)."""
    if database_url.startswith("sqlite"):
        yield f"sqlite:///{tmp_path}/restored/inventory.db"
        return
    name = f"restore_{uuid.uuid4().hex[:10]}"
    base = POSTGRES_URL.split("?")[0]
    with psycopg.connect(base, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        yield f"{base.rsplit('/', 1)[0]}/{name}?{database_url.split('?', 1)[1]}"
    finally:
        with psycopg.connect(base, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE "{name}" WITH (FORCE)')


def stock_up(found: Services) -> None:
    seed_catalog(found.app)
    found.app.receive_stock(
        site="VAN-1",
        sku="NALOX-4MG",
        lot="N-1",
        quantity=100_000,
        expires_on=date(2031, 1, 31),
        funding_source="STATE",
        actor=ADMIN,
    )
    found.projector.catch_up()


def log_rows(found: Services, until: int) -> list[tuple[Any, ...]]:
    """The stored events up to a position, as stored (encrypted states included)."""
    rows = found.app.recorder.select_notifications(start=1, limit=until + 1, stop=until)
    return [(n.id, n.originator_id, n.originator_version, n.topic, bytes(n.state)) for n in rows]


def test_a_backup_taken_while_visits_are_recorded_restores_elsewhere_to_the_same_state(
    database_url: str, elsewhere: str, tmp_path: Path
) -> None:
    source = build_services(settings_for(database_url))
    stop = threading.Event()
    recorded: list[str] = []
    errors: list[BaseException] = []

    def visits() -> None:
        try:
            while not stop.is_set():
                key = f"visit-{len(recorded):05d}"
                source.app.record_encounter(
                    key=key, site="VAN-1", lines=[{"sku": "NALOX-4MG", "quantity": 1}], actor=ADMIN
                )
                recorded.append(key)
        except BaseException as error:
            errors.append(error)

    try:
        stock_up(source)
        worker = threading.Thread(target=visits)
        worker.start()
        while len(recorded) < 20:
            threading.Event().wait(0.01)
        source.projector.catch_up()
        manifest = take_backup(source.settings, tmp_path / "backup")
        more = len(recorded)
        while len(recorded) < more + 20:  # the service goes on after the backup
            threading.Event().wait(0.01)
        stop.set()
        worker.join(timeout=30)
        assert errors == []
        source_head = source.projector.head()
        assert 0 < manifest.head < source_head
        assert manifest.seal_position > 0 and manifest.key_fingerprint

        target_settings = settings_for(elsewhere)
        assert restore_backup(target_settings, tmp_path / "backup") == manifest
        restored = build_services(target_settings)
        try:
            check = check_restored(restored, manifest)
            assert check.head == manifest.head
            assert check.seal.ok and check.seal.head_position == manifest.head
            # The seal still shows the hash it showed at the moment of the backup.
            [(digest,)] = restored.store.fetchall(
                "SELECT digest FROM seal_chain WHERE position = ?", [manifest.seal_position]
            )
            assert digest == manifest.seal_hash
            # The same events, byte for byte, up to the backup's last position.
            assert log_rows(restored, manifest.head) == log_rows(source, manifest.head)
            # Read models caught up from the backup's copy equal a rebuild from the restored log.
            caught_up = read_model_rows(restored.projector)
            restored.projector.rebuild()
            assert read_model_rows(restored.projector) == caught_up
            visits_restored = restored.store.fetchall("SELECT COUNT(*) FROM encounters")[0][0]
            assert 20 <= visits_restored < len(recorded)
        finally:
            restored.close()
    finally:
        stop.set()
        source.close()


def test_a_restore_with_the_wrong_key_or_over_a_database_with_events_is_refused_writing_nothing(
    database_url: str, elsewhere: str, tmp_path: Path
) -> None:
    source = build_services(settings_for(database_url))
    try:
        stock_up(source)
        take_backup(source.settings, tmp_path / "backup")
    finally:
        source.close()

    other_key = base64.b64encode(os.urandom(32)).decode()
    for wrong in (settings_for(elsewhere, other_key), settings_for(elsewhere, None)):
        with pytest.raises(InvalidInput, match=r"This backup was taken with .*nothing has been restored"):
            restore_backup(wrong, tmp_path / "backup")
    if elsewhere.startswith("sqlite"):
        assert not Path(elsewhere.removeprefix("sqlite:///")).exists()

    # The right key restores; doing it again over the now non-empty database needs --replace.
    restore_backup(settings_for(elsewhere), tmp_path / "backup")
    with pytest.raises(InvalidInput, match="already holds events; nothing has been restored"):
        restore_backup(settings_for(elsewhere), tmp_path / "backup")
    manifest = restore_backup(settings_for(elsewhere), tmp_path / "backup", replace=True)
    again = build_services(settings_for(elsewhere))
    try:
        assert check_restored(again, manifest).seal.ok
    finally:
        again.close()


def test_the_commands_back_up_and_restore_a_sqlite_database(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    url = f"sqlite:///{tmp_path}/live/inventory.db"
    source = build_services(settings_for(url))
    try:
        stock_up(source)
    finally:
        source.close()
    monkeypatch.setenv("INVENTORY_ENV", "development")
    monkeypatch.setenv("INVENTORY_SEAL_KEY", "backup-seal-key")
    monkeypatch.setenv("INVENTORY_CIPHER_KEY", KEY)
    monkeypatch.setenv("INVENTORY_DATABASE_URL", url)
    runner = CliRunner()

    taken = runner.invoke(main, ["backup", str(tmp_path / "nightly")])
    assert taken.exit_code == 0, taken.output
    head = read_manifest(tmp_path / "nightly").head
    assert f"the log up to position {head};" in taken.output
    refused = runner.invoke(main, ["backup", str(tmp_path / "nightly")])
    assert refused.exit_code == 1 and "is not empty: give a new folder" in refused.output

    monkeypatch.setenv("INVENTORY_DATABASE_URL", f"sqlite:///{tmp_path}/new/inventory.db")
    restored = runner.invoke(main, ["restore", str(tmp_path / "nightly")])
    assert restored.exit_code == 0, restored.output
    assert f"Restored the log up to position {head}" in restored.output
    assert f"the seal verifies: head {head} " in restored.output
    monkeypatch.setenv("INVENTORY_CIPHER_KEY", base64.b64encode(os.urandom(32)).decode())
    wrong = runner.invoke(main, ["restore", "--replace", str(tmp_path / "nightly")])
    assert wrong.exit_code == 1 and "different INVENTORY_CIPHER_KEY" in wrong.output
