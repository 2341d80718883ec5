"""Idempotency-Key: the first answer to a POST is kept and given again for the same key and body.

A key belongs to the caller who sent it. The first request claims it (a row marked running); a
repeat while it runs gets 409; a repeat after it gets the stored answer; the same key with another
body gets 422. Answers are kept for at least RETENTION_DAYS. A claim whose request died without
answering (the process was killed, the database went away) stays running: a repeat is refused with
409 rather than risk recording twice, unless the command is itself named by the key (a visit, a shift
tally: recording it again answers the first recording) and the claim is older than STALE: then the
repeat takes the claim over and runs.
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
STALE = timedelta(seconds=60)  # longer than any request may run (gunicorn's timeout is 30 s)
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
        self.store = store  # its table is created with the others (inventory.bootstrap)

    def take_over(self, principal: str, key: str, digest: str) -> bool:
        """Claim a key whose request died mid-way (running, older than STALE, same body); False if it is not."""
        now = datetime.now(UTC)
        mine = secrets.token_hex(8)
        with self.store.transaction(projector_lock=False) as tx:
            tx.execute(
                """UPDATE api_idempotency SET claimed_by = ?, created_at = ?
                   WHERE principal = ? AND key = ? AND state = 'running' AND body_hash = ? AND created_at < ?""",
                (mine, now.isoformat(), principal, key, digest, (now - STALE).isoformat()),
            )
            rows = tx.fetchall(
                "SELECT claimed_by FROM api_idempotency WHERE principal = ? AND key = ?", (principal, key)
            )
        return bool(rows) and rows[0][0] == mine

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
