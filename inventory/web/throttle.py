"""Failed sign-ins, counted per account and per address, so passwords cannot be guessed quickly.

Counts live in the read store (shared by every web worker), not in the event log: they are
about attackers, not about stock. A window starts at the first failure; after `ACCOUNT_LIMIT`
failures for one email or `ADDRESS_LIMIT` from one address within `WINDOW` seconds, sign-in is
refused for the rest of that window, even with the right password.
"""

from __future__ import annotations

import time

from inventory.projections.store import ReadStore

ACCOUNT_LIMIT = 5
ADDRESS_LIMIT = 20
WINDOW = 15 * 60

DDL = """CREATE TABLE IF NOT EXISTS sign_in_failures (
    key TEXT PRIMARY KEY, failures INTEGER NOT NULL, window_start DOUBLE PRECISION NOT NULL)"""

# One statement, so two failures at once are both counted: a window older than WINDOW restarts.
_FAILED = """INSERT INTO sign_in_failures (key, failures, window_start) VALUES (?, 1, ?)
    ON CONFLICT (key) DO UPDATE SET
        failures = CASE WHEN ? - sign_in_failures.window_start > ? THEN 1
                        ELSE sign_in_failures.failures + 1 END,
        window_start = CASE WHEN ? - sign_in_failures.window_start > ? THEN ?
                            ELSE sign_in_failures.window_start END"""


class SignInThrottle:
    def __init__(self, store: ReadStore) -> None:
        self.store = store
        self._now = time.time  # its table is created with the others (inventory.web.schema)

    @staticmethod
    def _keys(email: str, address: str) -> list[tuple[str, int]]:
        return [(f"account:{email.strip().lower()}", ACCOUNT_LIMIT), (f"address:{address}", ADDRESS_LIMIT)]

    def wait(self, email: str, address: str) -> int:
        """Seconds until this email may try again from this address (0: go ahead)."""
        now = self._now()
        longest = 0.0
        for key, limit in self._keys(email, address):
            rows = self.store.fetchall("SELECT failures, window_start FROM sign_in_failures WHERE key = ?", (key,))
            if rows and rows[0][0] >= limit and now - rows[0][1] < WINDOW:
                longest = max(longest, WINDOW - (now - rows[0][1]))
        return int(longest + 0.999)

    def failed(self, email: str, address: str) -> None:
        now = self._now()
        with self.store.transaction(projector_lock=False) as tx:
            for key, _ in self._keys(email, address):
                tx.execute(_FAILED, (key, now, now, WINDOW, now, WINDOW, now))

    def succeeded(self, email: str) -> None:
        """A right password clears the account's count (not the address's)."""
        with self.store.transaction(projector_lock=False) as tx:
            tx.execute("DELETE FROM sign_in_failures WHERE key = ?", (f"account:{email.strip().lower()}",))
