"""The database's tables: created by `inventory init` (and by the development server); a production
web worker only checks they are there, and answers 503 until they are.

Besides the event store's own tables and the read models, the web keeps four tables of its own in
the read store: API idempotency claims, sign-in counts, signed-in sessions and export jobs (so every
worker shares them).
"""

from __future__ import annotations

from inventory.projections.store import has_table
from inventory.services import Services
from inventory.web.api.idempotency import DDL as IDEMPOTENCY_DDL
from inventory.web.export_jobs import DDL as EXPORT_JOBS_DDL
from inventory.web.sessions import DDL as SESSIONS_DDL
from inventory.web.throttle import DDL as THROTTLE_DDL

WEB_TABLES = {
    "api_idempotency": IDEMPOTENCY_DDL,
    "sign_in_failures": THROTTLE_DDL,
    "staff_sessions": SESSIONS_DDL,
    "export_jobs": EXPORT_JOBS_DDL,
}


def create_schema(services: Services) -> None:
    """Create every table the service needs (safe to run again; a changed read model is rebuilt)."""
    services.projector.setup()
    # Under the projector lock: two processes creating a table at once collide on PostgreSQL.
    with services.store.transaction(projector_lock=True) as tx:
        for ddl in WEB_TABLES.values():
            tx.execute(ddl)


def missing_schema(services: Services) -> str | None:
    """None when the tables exist at their current versions; otherwise what to do about it."""
    missing = services.projector.missing()
    missing += [table for table in WEB_TABLES if not has_table(services.store, table)]
    if missing:
        return (
            f"The database is not initialised or is out of date (missing: {', '.join(sorted(missing))}). "
            "Run `inventory init`, then try again."
        )
    return None
