"""Idempotency-Key: the first answer to a POST is kept and given again for the same key and body.

A key belongs to the caller who sent it. The first request claims it (a row marked running); a
repeat while it runs gets 409; a repeat after it gets the stored answer; the same key with another
body gets 422. Answers are kept for at least RETENTION_DAYS. A claim whose request died without
answering (the process was killed) stays running: a repeat is refused with 409 rather than risk
recording twice.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from inventory.projections.store import ReadStore

RETENTION_DAYS = 45
DDL = """CREATE TABLE IF NOT EXISTS api_idempotency (
    principal TEXT NOT NULL, key TEXT NOT NULL, method TEXT NOT NULL, path TEXT NOT NULL,
    body_hash TEXT NOT NULL, state TEXT NOT NULL, status INTEGER, body TEXT, created_at TEXT NOT NULL,
    claimed_by TEXT NOT NULL, PRIMARY KEY (principal, key))"""


@dataclass(frozen=True)
class Claim:
    """What a key stands for: `new` (go ahead), `running`, `done` (replay `status`/`body`) or `mismatch`."""

    state: str
    status: int | None = None
    body: Any = None


def body_hash(method: str, path: str, body: bytes) -> str:
    canonical = body
    with contextlib.suppress(ValueError):
        canonical = json.dumps(json.loads(body or b"null"), sort_keys=True, separators=(",", ":")).encode()
    return hashlib.sha256(method.encode() + b" " + path.encode() + b"\n" + canonical).hexdigest()


class IdempotencyStore:
    def __init__(self, store: ReadStore) -> None:
        self.store = store  # its table is created with the others (inventory.web.schema)

    def claim(self, principal: str, key: str, method: str, path: str, digest: str) -> Claim:
        """Claim `key` for this request, or say what it already stands for.

        The insert either claims the key or does nothing; reading the row back then tells which,
        so two requests arriving together cannot both claim it.
        """
        now = datetime.now(UTC).isoformat()
        mine = secrets.token_hex(8)
        with self.store.transaction(projector_lock=False) as tx:
            tx.execute(
                """INSERT INTO api_idempotency (principal, key, method, path, body_hash, state, created_at, claimed_by)
                   VALUES (?, ?, ?, ?, ?, 'running', ?, ?) ON CONFLICT (principal, key) DO NOTHING""",
                (principal, key, method, path, digest, now, mine),
            )
            rows = tx.fetchall(
                """SELECT body_hash, state, status, body, claimed_by FROM api_idempotency
                   WHERE principal = ? AND key = ?""",
                (principal, key),
            )
        stored_hash, state, status, body, claimed_by = rows[0]
        if claimed_by == mine:
            return Claim("new")
        if stored_hash != digest:
            return Claim("mismatch")
        if state == "running":
            return Claim("running")
        return Claim("done", int(status), json.loads(body))

    def finish(self, principal: str, key: str, status: int, body: Any) -> None:
        """Keep the answer for repeats."""
        with self.store.transaction(projector_lock=False) as tx:
            tx.execute(
                "UPDATE api_idempotency SET state = 'done', status = ?, body = ? WHERE principal = ? AND key = ?",
                (status, json.dumps(body), principal, key),
            )

    def release(self, principal: str, key: str) -> None:
        """Forget a claim whose request failed in a way worth retrying (the server was unavailable)."""
        with self.store.transaction(projector_lock=False) as tx:
            tx.execute("DELETE FROM api_idempotency WHERE principal = ? AND key = ?", (principal, key))

    def forget_old(self) -> None:
        cutoff = datetime.now(UTC) - timedelta(days=RETENTION_DAYS)
        with self.store.transaction(projector_lock=False) as tx:
            tx.execute("DELETE FROM api_idempotency WHERE created_at < ? AND state = 'done'", (cutoff.isoformat(),))
