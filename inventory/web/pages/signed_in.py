"""What a person is signed in with: their sessions (devices) and API tokens, listed and ended.

Shared by the Account page (a person's own) and an account's admin page (anyone's).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from flask import abort
from flask_login import current_user

from inventory.web.pages.auth import sessions
from inventory.web.pages.common import moment_shown
from inventory.web.services import services


def _when(timestamp: float) -> str:
    return moment_shown(timestamp)


def _ago(timestamp: float) -> str:
    minutes = int((time.time() - timestamp) // 60)
    if minutes < 2:
        return "just now"
    if minutes < 120:
        return f"{minutes} minutes ago"
    return _when(timestamp)


def current_ref() -> str | None:
    """The ref of the session this request comes with."""
    record = getattr(current_user, "record", None)
    return getattr(record, "ref", None)


def devices(email: str, end_url: Callable[[str], str]) -> list[dict[str, Any]]:
    """The devices `email` is signed in on, the one in use first, then the most recently used, each
    with where to end it.

    Sessions left dead by a new password or a deactivation are forgotten here, not listed.
    """
    app = services().app
    live: dict[str, bool] = {}
    found, dead = [], []
    for record in sessions().of(email):
        if record.account not in live:
            live[record.account] = app.session_principal(record.account) is not None
        if not live[record.account]:
            dead.append(record.id_hash)
            continue
        this = record.ref == current_ref()
        found.append(
            {
                "ref": record.ref,
                "name": record.device.name,
                "this": record.device.this if this else None,
                "signed_in": _when(record.signed_in_at),
                "last_used": "now" if this else _ago(record.last_seen),
                "end_url": end_url(record.ref),
            }
        )
    sessions().end_hashes(dead)
    return sorted(found, key=lambda device: device["this"] is None)  # the one in use first


def _working_tokens(email: str) -> list[dict[str, Any]]:
    return [token for token in services().app.user(email)["tokens"] if not token["revoked"]]


def tokens(email: str, revoke_url: Callable[[str], str]) -> list[dict[str, Any]]:
    """The API tokens of `email` that still work, each with where to revoke it."""
    return [{**token, "revoke_url": revoke_url(token["id"])} for token in _working_tokens(email)]


def revoke(email: str, token_id: str, actor: str) -> str:
    """Revoke one of `email`'s working tokens (404 if they have no such token); what to tell the person."""
    found = next((token for token in _working_tokens(email) if token["id"] == token_id), None)
    if found is None:
        abort(404, description="There is no such working API token.")
    running = services()
    running.app.revoke_token(email=email, token_id=token_id, actor=actor)
    running.projector.read_your_writes()  # the audit log shows it at once
    named = f"“{found['label']}” ({token_id})" if found["label"] else token_id
    return f"API token {named} is revoked: anything using it is refused from now on."
