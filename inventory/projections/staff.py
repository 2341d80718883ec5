"""Staff accounts as the admin pages list them: email, role, sites, active; and whose each API token is.

Never a password or token hash, nor a token's label.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from typing import Any

from inventory.domain.users import User
from inventory.projections.base import Projection, Recorded, to_json
from inventory.projections.store import ReadStore, Tx


class Staff(Projection):
    name = "staff"
    version = 3  # 2: staff_tokens; 3: a partner account's partner
    tables = ("staff", "staff_tokens")
    ddl = (
        """CREATE TABLE IF NOT EXISTS staff (
            id TEXT PRIMARY KEY, email TEXT NOT NULL, role TEXT NOT NULL, sites TEXT NOT NULL,
            active INTEGER NOT NULL DEFAULT 1, has_password INTEGER NOT NULL DEFAULT 0, partner TEXT)""",
        # Token ids are random and short: the key allows two users the same one.
        """CREATE TABLE IF NOT EXISTS staff_tokens (
            token_id TEXT NOT NULL, email TEXT NOT NULL, PRIMARY KEY (token_id, email))""",
    )

    def process(self, batch: Sequence[Recorded], tx: Tx) -> None:
        for recorded in batch:
            handler = _HANDLERS.get(type(recorded.event))
            if handler is not None:
                handler(recorded.event, tx)


def _registered(event: Any, tx: Tx) -> None:
    tx.execute(
        "INSERT INTO staff (id, email, role, sites, partner) VALUES (?, ?, ?, ?, ?)",
        (str(event.originator_id), event.email, event.role, to_json(sorted(event.sites)), event.partner),
    )


def _access_changed(event: Any, tx: Tx) -> None:
    tx.execute(
        "UPDATE staff SET role = ?, sites = ?, partner = ? WHERE id = ?",
        (event.role, to_json(sorted(event.sites)), event.partner, str(event.originator_id)),
    )


def _password_set(event: Any, tx: Tx) -> None:
    # Only that there is one: the hash itself stays in the log.
    tx.execute("UPDATE staff SET has_password = 1 WHERE id = ?", (str(event.originator_id),))


def _token_issued(event: Any, tx: Tx) -> None:
    tx.execute(
        "INSERT INTO staff_tokens (token_id, email) SELECT ?, email FROM staff WHERE id = ?",
        (event.token_id, str(event.originator_id)),
    )


def _active(active: int) -> Callable[[Any, Tx], None]:
    def handler(event: Any, tx: Tx) -> None:
        tx.execute("UPDATE staff SET active = ? WHERE id = ?", (active, str(event.originator_id)))

    return handler


_HANDLERS: dict[type, Callable[[Any, Tx], None]] = {
    User.Registered: _registered,
    User.AccessChanged: _access_changed,
    User.PasswordSet: _password_set,
    User.Deactivated: _active(0),
    User.Reactivated: _active(1),
    User.TokenIssued: _token_issued,
}


def accounts(store: ReadStore) -> list[dict[str, Any]]:
    """Every staff account (email, role, sites, partner, active, has a password), by email; never a secret."""
    rows = store.fetchall("SELECT email, role, sites, partner, active, has_password FROM staff ORDER BY email")
    return [
        {"email": e, "role": r, "sites": json.loads(s), "partner": o, "active": bool(a), "has_password": bool(p)}
        for e, r, s, o, a, p in rows
    ]


def token_owners(store: ReadStore, token_id: str) -> list[str]:
    """Whose API token has this id, revoked or not (one email, in practice; none if it was never issued)."""
    rows = store.fetchall("SELECT email FROM staff_tokens WHERE token_id = ? ORDER BY email", (token_id,))
    return [email for (email,) in rows]


def active_emails(store: ReadStore, role: str) -> list[str]:
    """The active accounts with this role, by email (who hears of alerts, of a stop)."""
    rows = store.fetchall("SELECT email FROM staff WHERE active = 1 AND role = ? ORDER BY email", (role,))
    return [str(row[0]) for row in rows]
