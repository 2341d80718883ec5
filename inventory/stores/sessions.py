"""Signed-in browsers: one record each in the read store, so a session can be ended for good.

Signing in makes a record; signing out, "End this session" (the Account page) or an admin deletes it,
and a cookie whose record is gone is refused, however well it is signed. The cookie (Flask's signed
session) carries a random session id; the table keeps only its SHA-256, so a copy of the table lets
no one in. Each record also names the account with the password stamp it signed in under
(`UserVerbs.session_id`), so a new password or a deactivation still ends every session at once.

A session unused for the cookie's lifetime ends too. `last_seen` is written at most once a minute.
Like the sign-in counts, these records are security state, not stock: they are not events.
"""

from __future__ import annotations

import hashlib
import secrets
import time
from dataclasses import dataclass
from typing import Any

from inventory.projections.store import ReadStore
from inventory.stores.devices import Device, describe

TOUCH_EVERY = 60  # seconds: how stale `last_seen` may be

DDL = """CREATE TABLE IF NOT EXISTS staff_sessions (
    id_hash TEXT PRIMARY KEY, ref TEXT NOT NULL UNIQUE, email TEXT NOT NULL, account TEXT NOT NULL,
    device TEXT NOT NULL, kind TEXT NOT NULL, signed_in_at DOUBLE PRECISION NOT NULL,
    last_seen DOUBLE PRECISION NOT NULL)"""
_COLUMNS = "id_hash, ref, email, account, device, kind, signed_in_at, last_seen"


@dataclass(frozen=True)
class StaffSession:
    """One signed-in browser. `ref` names it in pages and forms; the session id itself is never shown."""

    id_hash: str
    ref: str
    email: str
    account: str
    device: Device
    signed_in_at: float
    last_seen: float


def _hash(session_id: str) -> str:
    return hashlib.sha256(session_id.encode()).hexdigest()


def _session(row: tuple[Any, ...]) -> StaffSession:
    id_hash, ref, email, account, device, kind, signed_in_at, last_seen = row
    return StaffSession(id_hash, ref, email, account, Device(device, kind), float(signed_in_at), float(last_seen))


class SessionStore:
    """The `staff_sessions` table (created with the web's other tables, inventory.bootstrap)."""

    def __init__(self, store: ReadStore, idle_seconds: float) -> None:
        self.store = store
        self.idle_seconds = idle_seconds

    def start(self, *, email: str, account: str, user_agent: str | None) -> tuple[str, StaffSession]:
        """A new session for `email`: its id (for the cookie only) and its record."""
        session_id = secrets.token_urlsafe(32)
        now = time.time()
        found = StaffSession(_hash(session_id), secrets.token_hex(8), email, account, describe(user_agent), now, now)
        with self.store.transaction(projector_lock=False) as tx:
            # Sign-ins are rare: a good moment to forget sessions nobody has used for too long.
            tx.execute("DELETE FROM staff_sessions WHERE last_seen < ?", (now - self.idle_seconds,))
            tx.execute(
                f"INSERT INTO staff_sessions ({_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                (found.id_hash, found.ref, email, account, found.device.name, found.device.kind, now, now),
            )
        return session_id, found

    def find(self, session_id: str) -> StaffSession | None:
        """The session with this id, while it has a record and has not been idle too long."""
        rows = self.store.fetchall(f"SELECT {_COLUMNS} FROM staff_sessions WHERE id_hash = ?", (_hash(session_id),))
        if not rows:
            return None
        found = _session(rows[0])
        now = time.time()
        if now - found.last_seen > self.idle_seconds:
            self._delete("id_hash = ?", (found.id_hash,))
            return None
        if now - found.last_seen >= TOUCH_EVERY:
            with self.store.transaction(projector_lock=False) as tx:
                tx.execute("UPDATE staff_sessions SET last_seen = ? WHERE id_hash = ?", (now, found.id_hash))
        return found

    def of(self, email: str) -> list[StaffSession]:
        """A person's sessions, the most recently used first."""
        rows = self.store.fetchall(
            f"SELECT {_COLUMNS} FROM staff_sessions WHERE email = ? AND last_seen >= ? ORDER BY last_seen DESC",
            (email, time.time() - self.idle_seconds),
        )
        return [_session(row) for row in rows]

    def end(self, session_id: str) -> None:
        """Sign out: the record goes, so the cookie is refused from now on, wherever it was copied to."""
        self._delete("id_hash = ?", (_hash(session_id),))

    def end_ref(self, email: str, ref: str) -> bool:
        """End one of `email`'s sessions by its ref; False if they have no such session."""
        return self._delete("email = ? AND ref = ?", (email, ref)) > 0

    def end_all(self, email: str, *, keep: str | None = None) -> int:
        """End every session of `email` but the one whose hash is `keep`; how many there were."""
        if keep is None:
            return self._delete("email = ?", (email,))
        return self._delete("email = ? AND id_hash <> ?", (email, keep))

    def end_hashes(self, id_hashes: list[str]) -> None:
        """Forget sessions found dead (the password changed, the account was deactivated)."""
        for id_hash in id_hashes:
            self._delete("id_hash = ?", (id_hash,))

    def _delete(self, where: str, params: tuple[str, ...]) -> int:
        with self.store.transaction(projector_lock=False) as tx:
            return len(tx.fetchall(f"DELETE FROM staff_sessions WHERE {where} RETURNING id_hash", params))
