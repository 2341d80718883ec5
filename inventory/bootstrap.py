"""Everything a process needs, built in one place for the web, the CLI and the worker alike (none of
which needs Flask to get it): the settings, the application, the read store and the projector; and
the level alerts the projector raises as stock changes; and
the database's tables, created by `inventory init` (and by the development server), which a
production web worker only checks are there, answering 503 until they are.

Besides the event store's own tables and the read models, the service keeps four tables of its own in
the read store (inventory.stores): API idempotency claims, sign-in counts, signed-in sessions and
export jobs, so that every process shares them.
"""

from __future__ import annotations

from dataclasses import dataclass

from inventory.adapters.encryption import check_cipher_key
from inventory.adapters.settings import Settings, load_settings
from inventory.application import InventoryApplication
from inventory.projections import all_projections
from inventory.projections.runner import Projector
from inventory.projections.store import ReadStore, has_table, read_store_for
from inventory.stores.export_jobs import DDL as EXPORT_JOBS_DDL
from inventory.stores.idempotency import DDL as IDEMPOTENCY_DDL
from inventory.stores.sessions import DDL as SESSIONS_DDL
from inventory.stores.sign_in_counts import DDL as SIGN_IN_COUNTS_DDL

STORE_TABLES = {
    "api_idempotency": IDEMPOTENCY_DDL,
    "sign_in_failures": SIGN_IN_COUNTS_DDL,
    "staff_sessions": SESSIONS_DDL,
    "export_jobs": EXPORT_JOBS_DDL,
}


@dataclass
class Services:
    settings: Settings
    app: InventoryApplication
    store: ReadStore
    projector: Projector

    def close(self) -> None:
        self.app.close()
        self.store.close()


def build_services(settings: Settings | None = None, *, create_tables: bool = True) -> Services:
    """Build the application and its read models for these settings (default: the environment).

    `create_tables=False` (production web workers) leaves the event store's tables to `inventory init`.
    """
    settings = settings or load_settings()
    app = InventoryApplication(
        settings.database_url,
        timezone_name=settings.timezone,
        cipher_key=settings.cipher_key,
        env=None if create_tables else {"CREATE_TABLE": "n"},
        lock_wait=settings.lock_wait_seconds,
    )
    try:
        check_cipher_key(app, encrypted=settings.cipher_key is not None)
    except Exception:
        app.close()
        raise
    store = read_store_for(settings.database_url, lock_wait=settings.lock_wait_seconds)
    projector = Projector(app, store, all_projections(app.zone, settings.seal_key))
    # Level alerts follow the stock: raised or resolved as soon as a change is projected.
    projector.on_stock_changed = lambda changed: app.check_stock_alerts(changed, store=store)
    return Services(settings, app, store, projector)


def create_schema(services: Services) -> None:
    """Create every table the service needs (safe to run again; a changed read model is rebuilt)."""
    services.projector.setup()
    # Under the projector lock: two processes creating a table at once collide on PostgreSQL.
    with services.store.transaction(projector_lock=True) as tx:
        for ddl in STORE_TABLES.values():
            tx.execute(ddl)


def missing_schema(services: Services) -> str | None:
    """None when the tables exist at their current versions; otherwise what to do about it."""
    missing = services.projector.missing()
    missing += [table for table in STORE_TABLES if not has_table(services.store, table)]
    if missing:
        return (
            f"The database is not initialised or is out of date (missing: {', '.join(sorted(missing))}). "
            "Run `inventory init`, then try again."
        )
    return None
