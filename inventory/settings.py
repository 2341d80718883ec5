"""Settings from the environment (and an optional `.env` file in the working folder)."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from dotenv import load_dotenv

from inventory.config import default_database_url
from inventory.domain.errors import InvalidInput


@dataclass(frozen=True)
class Settings:
    database_url: str
    timezone: str
    instance_path: Path
    secret_key: str
    seal_key: bytes
    # "development" (the built-in server on http://localhost) or "production" (cookies Secure).
    environment: str = "production"

    @property
    def development(self) -> bool:
        return self.environment == "development"


def load_settings(overrides: dict[str, str] | None = None) -> Settings:
    """Read INVENTORY_* settings; `overrides` (tests) win over the environment."""
    load_dotenv(Path.cwd() / ".env", override=False)
    values = {**os.environ, **(overrides or {})}
    instance = Path(values.get("INVENTORY_INSTANCE_PATH") or Path.cwd() / "instance").resolve()
    zone = values.get("INVENTORY_TIMEZONE") or "UTC"
    try:
        ZoneInfo(zone)
    except (ZoneInfoNotFoundError, ValueError):
        raise InvalidInput(
            f"INVENTORY_TIMEZONE {zone!r} is not a time zone name; use one like America/New_York."
        ) from None
    return Settings(
        database_url=values.get("INVENTORY_DATABASE_URL") or default_database_url(instance),
        timezone=zone,
        instance_path=instance,
        secret_key=values.get("INVENTORY_SECRET_KEY") or "dev-only-not-secret",
        seal_key=(values.get("INVENTORY_SEAL_KEY") or "dev-only-seal-key").encode(),
        environment=_environment(values.get("INVENTORY_ENV") or "production"),
    )


def _environment(value: str) -> str:
    if value not in ("development", "production"):
        raise InvalidInput(f"INVENTORY_ENV {value!r} must be development or production.")
    return value
