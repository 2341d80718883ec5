"""Settings from the environment (and an optional `.env` file in the working folder)."""

from __future__ import annotations

import base64
import binascii
import logging
import os
from dataclasses import dataclass
from datetime import time
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from dotenv import load_dotenv

from inventory.adapters.locks import LOCK_WAIT_SECONDS
from inventory.adapters.persistence import default_database_url
from inventory.domain.errors import InvalidInput
from inventory.domain.money import DEFAULT_CURRENCY, check_currency

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Settings:
    database_url: str
    timezone: str
    instance_path: Path
    secret_key: str
    seal_key: bytes
    # Base64 AES key: events and snapshots are encrypted at rest (AES-GCM) when it is set.
    cipher_key: str | None = None
    # "development" (the built-in server on http://localhost) or "production" (cookies Secure).
    environment: str = "production"
    # Alert delivery and the worker's schedule (inventory.notify, inventory.adapters.scheduler).
    smtp_host: str | None = None  # no host: alerts are not emailed
    smtp_port: int = 587
    smtp_security: str = "starttls"  # none, starttls or tls
    smtp_user: str | None = None
    smtp_password: str | None = None
    smtp_from: str = "inventory@localhost"
    alert_webhook_url: str | None = None
    base_url: str = "http://localhost:5000"
    alert_check_minutes: int = 5
    delivery_seconds: int = 30
    digest_time: str = "07:00"  # local time, in `timezone`
    # GET /readyz answers 503 when a read model is more events than this behind the log.
    ready_max_lag: int = 1000
    # How long a command waits for its locks before answering 503 "try again" (inventory.adapters.locks).
    lock_wait_seconds: int = LOCK_WAIT_SECONDS
    # Whether the distribution log export carries the optional anonymous participant code.
    export_participant_codes: bool = True
    # How many proxies in front of the web workers to believe about the client's address and scheme.
    trusted_proxies: int = 0
    # The program's currency (ISO 4217): unit costs, order totals and report values are in it.
    currency: str = DEFAULT_CURRENCY

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
    environment = _environment(values.get("INVENTORY_ENV") or "production")
    if environment == "production":
        _keys_are_set(values)
    return Settings(
        database_url=values.get("INVENTORY_DATABASE_URL") or default_database_url(instance),
        timezone=zone,
        instance_path=instance,
        secret_key=values.get("INVENTORY_SECRET_KEY") or "dev-only-not-secret",
        seal_key=(values.get("INVENTORY_SEAL_KEY") or "dev-only-seal-key").encode(),
        cipher_key=_cipher_key(values.get("INVENTORY_CIPHER_KEY")),
        environment=environment,
        ready_max_lag=_number(values, "INVENTORY_READY_MAX_LAG", 1000),
        lock_wait_seconds=_number(values, "INVENTORY_LOCK_WAIT_SECONDS", LOCK_WAIT_SECONDS),
        export_participant_codes=_yes_no(values, "INVENTORY_EXPORT_PARTICIPANT_CODES", True),
        trusted_proxies=_proxies(values.get("INVENTORY_TRUSTED_PROXIES")),
        currency=check_currency(values.get("INVENTORY_CURRENCY") or DEFAULT_CURRENCY),
        **_notify(values),
    )


_SMTP_PORTS = {"none": 25, "starttls": 587, "tls": 465}


def _notify(values: dict[str, str]) -> dict[str, Any]:
    """INVENTORY_SMTP_*, INVENTORY_ALERT_* and INVENTORY_DIGEST_TIME, checked at start-up."""
    security = (values.get("INVENTORY_SMTP_SECURITY") or "starttls").lower()
    if security not in _SMTP_PORTS:
        raise InvalidInput(f"INVENTORY_SMTP_SECURITY {security!r} must be none, starttls or tls.")
    port = _number(values, "INVENTORY_SMTP_PORT", _SMTP_PORTS[security])
    minutes = _number(values, "INVENTORY_ALERT_CHECK_MINUTES", 5)
    seconds = _number(values, "INVENTORY_DELIVERY_SECONDS", 30)
    digest = values.get("INVENTORY_DIGEST_TIME") or "07:00"
    try:
        time.fromisoformat(digest)
    except ValueError:
        raise InvalidInput(f"INVENTORY_DIGEST_TIME {digest!r} must be a local time like 07:00.") from None
    return {
        "smtp_host": values.get("INVENTORY_SMTP_HOST") or None,
        "smtp_port": port,
        "smtp_security": security,
        "smtp_user": values.get("INVENTORY_SMTP_USER") or None,
        "smtp_password": values.get("INVENTORY_SMTP_PASSWORD") or None,
        "smtp_from": values.get("INVENTORY_SMTP_FROM") or "inventory@localhost",
        "alert_webhook_url": values.get("INVENTORY_ALERT_WEBHOOK_URL") or None,
        "base_url": (values.get("INVENTORY_BASE_URL") or "http://localhost:5000").rstrip("/"),
        "alert_check_minutes": minutes,
        "delivery_seconds": seconds,
        "digest_time": digest,
    }


def _number(values: dict[str, str], name: str, default: int) -> int:
    text = values.get(name) or str(default)
    if not text.isdigit() or int(text) < 1:
        raise InvalidInput(f"{name} {text!r} must be a whole number above zero.")
    return int(text)


def _proxies(value: str | None) -> int:
    """INVENTORY_TRUSTED_PROXIES: 0 (the default, nothing in front) to 5 proxies."""
    text = (value or "0").strip()
    if not text.isdigit() or int(text) > 5:
        raise InvalidInput(
            f"INVENTORY_TRUSTED_PROXIES {text!r} must be the number of proxies in front of the service, "
            "from 0 to 5 (1 for one HTTPS proxy such as nginx)."
        )
    return int(text)


def _yes_no(values: dict[str, str], name: str, default: bool) -> bool:
    text = (values.get(name) or ("yes" if default else "no")).strip().lower()
    if text not in ("yes", "no", "true", "false", "1", "0"):
        raise InvalidInput(f"{name} {text!r} must be yes or no.")
    return text in ("yes", "true", "1")


MIN_KEY_LENGTH = 16
KEY_HELP = "`inventory keys` prints new random keys."


def _keys_are_set(values: dict[str, str]) -> None:
    """Production never runs on the demo's keys: each one must be set (and should be long and random)."""
    problems = []
    for name, use in (
        ("INVENTORY_SECRET_KEY", "signs session cookies and CSRF tokens"),
        ("INVENTORY_SEAL_KEY", "keys the audit seal's hash chain"),
    ):
        value = values.get(name) or ""
        if not value:
            problems.append(f"{name} is not set (it {use}).")
        elif value.startswith("dev-only"):
            problems.append(f"{name} is the demo's key; set a random one (it {use}).")
        elif len(value) < MIN_KEY_LENGTH:
            log.warning("%s is shorter than %s characters: use a long random value.", name, MIN_KEY_LENGTH)
    if problems:
        raise InvalidInput(
            "INVENTORY_ENV is production (the default), so these settings must be set: "
            + " ".join(problems)
            + f" {KEY_HELP} For a local demo, set INVENTORY_ENV=development."
        )


def _cipher_key(value: str | None) -> str | None:
    """The AES key for events at rest, or None (not encrypted): base64 of 16, 24 or 32 bytes."""
    if not value:
        return None
    try:
        size = len(base64.b64decode(value, validate=True))
    except (binascii.Error, ValueError):
        size = -1
    if size not in (16, 24, 32):
        raise InvalidInput(
            "INVENTORY_CIPHER_KEY must be a base64-encoded AES key of 16, 24 or 32 bytes "
            f"(44 characters for 32 bytes). {KEY_HELP}"
        )
    return value


def _environment(value: str) -> str:
    if value not in ("development", "production"):
        raise InvalidInput(f"INVENTORY_ENV {value!r} must be development or production.")
    return value
