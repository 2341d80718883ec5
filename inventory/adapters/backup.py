"""Backups of a live database, and restoring one: `inventory backup DIR` and `inventory restore DIR`.

A backup is a folder: the data, and `manifest.json` saying what it holds (the log's last position,
the seal's head at that moment, when it was taken, the product version, and a fingerprint of the
encryption key it needs, so a restore with the wrong key is refused before anything is touched).

- SQLite: the read models' file, then the events' file, each copied with SQLite's online backup API
  (a consistent copy while the service keeps writing). The read models are copied first, so they
  never run ahead of the copied log; after a restore the projector catches them up.
- PostgreSQL: `pg_dump --format=custom` of the schema (or the whole database), taken in a snapshot
  exported by a transaction that reads the manifest's figures, so the dump and its manifest agree;
  restored with `pg_restore`.

After restoring, the read models are caught up and the seal is verified against the restored log.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import shutil
import sqlite3
import subprocess
import tempfile
from contextlib import closing
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from inventory import __version__
from inventory.adapters.persistence import persistence_env, postgres_conninfo
from inventory.adapters.settings import Settings
from inventory.domain.errors import InvalidInput, InvalidState
from inventory.projections.seal import SealCheck, seal_head, verify
from inventory.projections.store import SqliteReadStore, read_store_for

MANIFEST = "manifest.json"
SQLITE_EVENTS = "events.db"
SQLITE_READ_MODELS = "readmodels.db"
PG_DUMP = "inventory.pgdump"
PG_EVENTS_TABLE = "inventoryapplication_events"  # eventsourcing's name for the application's events


class BackupError(InvalidState):
    code = "backup_failed"


@dataclass(frozen=True)
class Manifest:
    database: str  # sqlite or postgresql
    head: int  # the last log position the backup holds
    seal_position: int
    seal_hash: str
    taken_at: str
    product_version: str
    key_fingerprint: str  # "" when the events are not encrypted
    schema: str | None = None  # PostgreSQL: the schema dumped (None: the whole database)


@dataclass(frozen=True)
class Restored:
    manifest: Manifest
    head: int
    seal: SealCheck


def key_fingerprint(cipher_key: str | None) -> str:
    """A one-way fingerprint of the encryption key (it reveals nothing about the key itself)."""
    if not cipher_key:
        return ""
    return hmac.new(cipher_key.encode(), b"inventory backup key check", hashlib.sha256).hexdigest()[:16]


def take_backup(settings: Settings, target: Path) -> Manifest:
    """Back up the database `settings` name into the new folder `target`."""
    if target.exists() and any(target.iterdir()):
        raise InvalidInput(f"{target} is not empty: give a new folder for the backup.", field="target")
    target.mkdir(parents=True, exist_ok=True)
    env = persistence_env(settings.database_url)
    if env["PERSISTENCE_MODULE"] == "eventsourcing.sqlite":
        manifest = _backup_sqlite(settings, env["SQLITE_DBNAME"], target)
    else:
        manifest = _backup_postgres(settings, env, target)
    (target / MANIFEST).write_text(json.dumps(asdict(manifest), indent=2) + "\n")
    return manifest


def read_manifest(source: Path) -> Manifest:
    try:
        data: dict[str, Any] = json.loads((source / MANIFEST).read_text())
        return Manifest(**data)
    except FileNotFoundError:
        raise InvalidInput(f"{source} holds no {MANIFEST}: it is not a backup made by `inventory backup`.") from None
    except (ValueError, TypeError) as error:
        raise InvalidInput(f"{source / MANIFEST} is damaged ({error}).") from None


def restore_backup(settings: Settings, source: Path, *, replace: bool = False) -> Manifest:
    """Put a backup in place of the database `settings` name (empty, unless `replace`).

    Refused before anything is written when the backup needs another encryption key, or when the
    target already holds events and `replace` was not asked for.
    """
    manifest = read_manifest(source)
    if key_fingerprint(settings.cipher_key) != manifest.key_fingerprint:
        needs = "a different INVENTORY_CIPHER_KEY" if manifest.key_fingerprint else "no INVENTORY_CIPHER_KEY"
        has = "this one" if settings.cipher_key else "none set"
        raise InvalidInput(
            f"This backup was taken with {needs} than the one configured ({has}). Set INVENTORY_CIPHER_KEY to "
            "the key the backup's events were written with; nothing has been restored."
        )
    env = persistence_env(settings.database_url)
    kind = "sqlite" if env["PERSISTENCE_MODULE"] == "eventsourcing.sqlite" else "postgresql"
    if kind != manifest.database:
        raise InvalidInput(
            f"This is a {manifest.database} backup; INVENTORY_DATABASE_URL names a {kind} database. "
            "Restore it into the same kind of database."
        )
    if not replace and _head(settings) > 0:
        raise InvalidInput(
            "The database INVENTORY_DATABASE_URL names already holds events; nothing has been restored. "
            "Restore into an empty database, or add --replace to overwrite it."
        )
    if kind == "sqlite":
        _restore_sqlite(env["SQLITE_DBNAME"], source)
    else:
        _restore_postgres(env, source, manifest, replace)
    return manifest


# ----- SQLite ---------------------------------------------------------------------------------


def _copy_sqlite(source: str, target: str) -> None:
    """A consistent copy of a live SQLite file (the online backup API), in one step: a read transaction
    in WAL mode, so writers go on meanwhile (copied in steps, the copy would restart at every write)."""
    with closing(sqlite3.connect(source)) as src, closing(sqlite3.connect(target)) as dst:
        src.backup(dst)


def _backup_sqlite(settings: Settings, events_path: str, target: Path) -> Manifest:
    if not Path(events_path).exists():
        raise InvalidInput(f"There is no database at {events_path} to back up.")
    read_models = read_store_for(settings.database_url)
    assert isinstance(read_models, SqliteReadStore)
    read_models_path = read_models.path
    read_models.close()
    if Path(read_models_path).exists():
        _copy_sqlite(read_models_path, str(target / SQLITE_READ_MODELS))
    _copy_sqlite(events_path, str(target / SQLITE_EVENTS))
    with closing(sqlite3.connect(target / SQLITE_EVENTS)) as db:
        (head,) = db.execute("SELECT COALESCE(MAX(rowid), 0) FROM stored_events").fetchone()
    position, digest = 0, ""
    if (target / SQLITE_READ_MODELS).exists():
        copied = SqliteReadStore(str(target / SQLITE_READ_MODELS))
        try:
            position, digest = seal_head(copied)
        finally:
            copied.close()
    return _manifest("sqlite", settings, int(head), position, digest)


def _restore_sqlite(events_path: str, source: Path) -> None:
    events = Path(events_path)
    read_models = events.with_name(f"{events.stem}.readmodels{events.suffix or '.db'}")
    events.parent.mkdir(parents=True, exist_ok=True)
    # Copy next to the target, then swap in: a failed copy leaves the old database as it was.
    with tempfile.TemporaryDirectory(dir=events.parent, prefix=".restore-") as staging:
        staged_events = Path(staging) / events.name
        _copy_sqlite(str(source / SQLITE_EVENTS), str(staged_events))
        staged_models = Path(staging) / read_models.name
        if (source / SQLITE_READ_MODELS).exists():
            _copy_sqlite(str(source / SQLITE_READ_MODELS), str(staged_models))
        for path in (events, read_models):
            for leftover in (path, Path(f"{path}-wal"), Path(f"{path}-shm")):
                leftover.unlink(missing_ok=True)
        os.replace(staged_events, events)
        if staged_models.exists():
            os.replace(staged_models, read_models)


# ----- PostgreSQL -----------------------------------------------------------------------------


def _pg_env(env: dict[str, str]) -> dict[str, str]:
    """libpq's environment for pg_dump and pg_restore (the password never goes on a command line)."""
    found = dict(os.environ)
    found.update(
        PGHOST=env["POSTGRES_HOST"],
        PGPORT=env["POSTGRES_PORT"],
        PGDATABASE=env["POSTGRES_DBNAME"],
        PGUSER=env["POSTGRES_USER"],
    )
    if env.get("POSTGRES_PASSWORD"):
        found["PGPASSWORD"] = env["POSTGRES_PASSWORD"]
    return found


def _tool(name: str) -> str:
    found = shutil.which(name)
    if found is None:
        raise BackupError(f"{name} is not installed: install PostgreSQL's client tools (Debian: postgresql-client).")
    return found


def _run(command: list[str], env: dict[str, str]) -> None:
    done = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise BackupError(f"{Path(command[0]).name} failed: {done.stderr.strip() or done.stdout.strip()}")


def _backup_postgres(settings: Settings, env: dict[str, str], target: Path) -> Manifest:
    import psycopg

    schema = env.get("POSTGRES_SCHEMA")
    prefix = f'"{schema}".' if schema else ""
    with psycopg.connect(postgres_conninfo(env), autocommit=True) as conn:
        if not _has_table(conn, schema, PG_EVENTS_TABLE):
            raise InvalidInput("There is no event store in that database to back up (run `inventory init` first).")
        # One snapshot for the manifest's figures and for pg_dump: they describe the same moment.
        conn.execute("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")
        row = conn.execute("SELECT pg_export_snapshot()").fetchone()
        assert row is not None
        snapshot = str(row[0])
        head_row = conn.execute(f"SELECT COALESCE(MAX(notification_id), 0) FROM {prefix}{PG_EVENTS_TABLE}").fetchone()
        head = int(head_row[0]) if head_row else 0
        position, digest = 0, ""
        if _has_table(conn, schema, "seal_chain"):
            sealed = conn.execute(
                f"SELECT position, digest FROM {prefix}seal_chain ORDER BY position DESC LIMIT 1"
            ).fetchone()
            if sealed:
                position, digest = int(sealed[0]), str(sealed[1])
        command = [_tool("pg_dump"), "--format=custom", f"--snapshot={snapshot}", "-f", str(target / PG_DUMP)]
        if schema:
            command.append(f"--schema={schema}")
        _run(command, _pg_env(env))
        conn.execute("COMMIT")
    return _manifest("postgresql", settings, head, position, digest, schema)


def _has_table(conn: Any, schema: str | None, table: str) -> bool:
    row = conn.execute(
        "SELECT 1 FROM information_schema.tables WHERE table_schema = %s AND table_name = %s",
        (schema or "public", table),
    ).fetchone()
    return row is not None


def _restore_postgres(env: dict[str, str], source: Path, manifest: Manifest, replace: bool) -> None:
    schema = env.get("POSTGRES_SCHEMA")
    if schema != manifest.schema:
        raise InvalidInput(
            f"This backup holds schema {manifest.schema or 'public'}; INVENTORY_DATABASE_URL names schema "
            f"{schema or 'public'}. Restore it under the same schema name (in another database if need be)."
        )
    command = [_tool("pg_restore"), "--no-owner", "--exit-on-error", "--single-transaction"]
    if replace:
        command += ["--clean", "--if-exists"]
    command += ["-d", env["POSTGRES_DBNAME"], str(source / PG_DUMP)]
    _run(command, _pg_env(env))


# ----- both -----------------------------------------------------------------------------------


def _manifest(
    database: str, settings: Settings, head: int, position: int, digest: str, schema: str | None = None
) -> Manifest:
    return Manifest(
        database=database,
        head=head,
        seal_position=position,
        seal_hash=digest,
        taken_at=datetime.now(UTC).isoformat(timespec="seconds"),
        product_version=__version__,
        key_fingerprint=key_fingerprint(settings.cipher_key),
        schema=schema,
    )


def _head(settings: Settings) -> int:
    """How many events the target holds (0 for a database not created yet)."""
    env = persistence_env(settings.database_url)
    if env["PERSISTENCE_MODULE"] == "eventsourcing.sqlite":
        path = Path(env["SQLITE_DBNAME"])
        if not path.exists():
            return 0
        with closing(sqlite3.connect(path)) as db:
            try:
                (head,) = db.execute("SELECT COALESCE(MAX(rowid), 0) FROM stored_events").fetchone()
            except sqlite3.OperationalError:
                return 0
        return int(head)
    import psycopg

    schema = env.get("POSTGRES_SCHEMA")
    with psycopg.connect(postgres_conninfo(env), autocommit=True) as conn:
        if not _has_table(conn, schema, PG_EVENTS_TABLE):
            return 0
        prefix = f'"{schema}".' if schema else ""
        row = conn.execute(f"SELECT COALESCE(MAX(notification_id), 0) FROM {prefix}{PG_EVENTS_TABLE}").fetchone()
        return int(row[0]) if row else 0


def check_restored(services: Any, manifest: Manifest) -> Restored:
    """Catch the restored read models up with the restored log and verify the seal over it.

    The log must hold exactly what the backup held, and the seal must still show the head hash it
    showed when the backup was taken (an outside party may hold that hash).
    """
    services.projector.catch_up()
    head = services.projector.head()
    if head != manifest.head:
        raise BackupError(f"The restored log ends at position {head}; the backup's manifest says {manifest.head}.")
    seal = verify(services.app.recorder, services.store, services.settings.seal_key)
    return Restored(manifest=manifest, head=head, seal=seal)
