"""Turn `INVENTORY_DATABASE_URL` into the settings eventsourcing reads."""

from __future__ import annotations

import os
from pathlib import Path
from urllib.parse import parse_qs, unquote, urlparse

from inventory.domain.errors import InvalidInput

DEFAULT_INSTANCE = Path("instance")


def default_database_url(instance_path: Path | None = None) -> str:
    """The embedded default: a SQLite file under the instance folder."""
    folder = Path(instance_path or os.environ.get("INVENTORY_INSTANCE_PATH") or DEFAULT_INSTANCE).resolve()
    return f"sqlite:///{folder / 'inventory.db'}"


def persistence_env(url: str) -> dict[str, str]:
    """Map a database URL to eventsourcing's persistence settings."""
    parsed = urlparse(url)
    if parsed.scheme == "sqlite":
        # sqlite:///relative/file.db and sqlite:////absolute/file.db, as SQLAlchemy spells them.
        path = unquote(parsed.path)[1:]
        if not path:
            raise InvalidInput(
                "INVENTORY_DATABASE_URL sqlite:/// needs a file path, e.g. sqlite:///instance/inventory.db"
            )
        if path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        return {"PERSISTENCE_MODULE": "eventsourcing.sqlite", "SQLITE_DBNAME": path}
    if parsed.scheme in ("postgresql", "postgres"):
        query = parse_qs(parsed.query)
        env = {
            "PERSISTENCE_MODULE": "eventsourcing.postgres",
            "POSTGRES_DBNAME": parsed.path.lstrip("/") or "postgres",
            "POSTGRES_HOST": parsed.hostname or "127.0.0.1",
            "POSTGRES_PORT": str(parsed.port or 5432),
            "POSTGRES_USER": unquote(parsed.username or "postgres"),
            "POSTGRES_PASSWORD": unquote(parsed.password or ""),
            "POSTGRES_POOL_SIZE": query.get("pool_size", ["10"])[0],
            "POSTGRES_MAX_OVERFLOW": query.get("max_overflow", ["10"])[0],
            "POSTGRES_CONNECT_TIMEOUT": query.get("connect_timeout", ["5"])[0],
        }
        if "schema" in query:
            env["POSTGRES_SCHEMA"] = query["schema"][0]
        return env
    raise InvalidInput(
        f"INVENTORY_DATABASE_URL must start with sqlite:/// or postgresql:// (got {parsed.scheme or url!r})."
    )


def postgres_conninfo(env: dict[str, str]) -> str:
    """A libpq connection string from eventsourcing's POSTGRES_* settings."""
    return " ".join(
        f"{key}={env[name]!r}"
        for key, name in (
            ("host", "POSTGRES_HOST"),
            ("port", "POSTGRES_PORT"),
            ("dbname", "POSTGRES_DBNAME"),
            ("user", "POSTGRES_USER"),
            ("password", "POSTGRES_PASSWORD"),
            ("connect_timeout", "POSTGRES_CONNECT_TIMEOUT"),
        )
        if env.get(name)
    )


def store_namespace(env: dict[str, str]) -> str:
    """Names one PostgreSQL event store (database and schema), for its advisory locks."""
    return f"{env['POSTGRES_DBNAME']}/{env.get('POSTGRES_SCHEMA', 'public')}"


def pool_wait_seconds(env: dict[str, str]) -> float:
    """Seconds to wait for a pooled PostgreSQL connection: the connect timeout, as the event store's own
    pool does (the library passes POSTGRES_CONNECT_TIMEOUT to it as its timeout)."""
    return float(env.get("POSTGRES_CONNECT_TIMEOUT") or 5)
