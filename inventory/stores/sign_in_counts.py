"""Sign-in attempts, counted so that passwords cannot be guessed quickly, however many web workers run.

Every attempt (a sign-in page or `POST /api/v1/tokens`) first reserves a place in three counters, in
one transaction of the read store, and only then is the password checked:

- one account from one address: `ACCOUNT_ADDRESS_LIMIT` failures;
- one account from every address together: `ACCOUNT_LIMIT` failures;
- one address, whatever the accounts: past `ADDRESS_LIMIT` failures, each account may fail only
  `BUSY_ADDRESS_ACCOUNT_LIMIT` times from that address. The address is never refused as such, so a
  person whose account has not been failing there still signs in (behind one office's network, or
  one proxy, many staff share an address).

An attempt that would go over a limit is refused without checking the password, and its place is
given back. A right password gives its places back too and clears that account's failures from that
address; a wrong one keeps them, so the places taken are the failures. Parallel attempts queue on the
counters' rows, so no more passwords are checked than the limits allow. Each count runs for `WINDOW`
seconds from its first failure. The counts are not events: they are about attackers, not stock.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass

from inventory.projections.store import ReadStore

WINDOW = 15 * 60
ACCOUNT_ADDRESS_LIMIT = 5
ACCOUNT_LIMIT = 10
ADDRESS_LIMIT = 20
BUSY_ADDRESS_ACCOUNT_LIMIT = 2
CLEAN_EVERY = 60  # seconds between sweeps of counts whose window has ended (per process)

DDL = """CREATE TABLE IF NOT EXISTS sign_in_failures (
    key TEXT PRIMARY KEY, failures INTEGER NOT NULL, window_start DOUBLE PRECISION NOT NULL)"""

# One statement per counter: take a place, restarting a window that has ended, and say where it stands.
_RESERVE = """INSERT INTO sign_in_failures (key, failures, window_start) VALUES (?, 1, ?)
    ON CONFLICT (key) DO UPDATE SET
        failures = CASE WHEN sign_in_failures.window_start <= ? THEN 1 ELSE sign_in_failures.failures + 1 END,
        window_start = CASE WHEN sign_in_failures.window_start <= ? THEN excluded.window_start
                            ELSE sign_in_failures.window_start END
    RETURNING failures, window_start"""
_GIVE_BACK = "UPDATE sign_in_failures SET failures = failures - 1 WHERE key = ? AND window_start = ? AND failures > 0"
_EMPTY = "DELETE FROM sign_in_failures WHERE key = ? AND failures <= 0"
_SWEEP = {
    "sqlite": "DELETE FROM sign_in_failures WHERE window_start <= ?",
    # Rows another attempt holds are left for the next sweep rather than waited for.
    "postgres": """DELETE FROM sign_in_failures WHERE key IN (
        SELECT key FROM sign_in_failures WHERE window_start <= ? FOR UPDATE SKIP LOCKED)""",
}


@dataclass(frozen=True)
class Reservation:
    """The places an attempt took (key, window start), or, when refused, the seconds to wait."""

    account_address: tuple[str, float] | None = None
    others: tuple[tuple[str, float], ...] = ()
    retry_after: int = 0

    @property
    def refused(self) -> bool:
        return self.retry_after > 0


class _Refused(Exception):
    def __init__(self, seconds: int) -> None:
        super().__init__(seconds)
        self.seconds = seconds


def _keys(email: str, address: str) -> tuple[str, str, str]:
    account = email.strip().lower()
    return f"account-address:{account} {address}", f"account:{account}", f"address:{address}"


class SignInThrottle:
    """The counters, in a table of the read store shared by every web worker."""

    def __init__(self, store: ReadStore) -> None:
        self.store = store  # its table is created with the others (inventory.bootstrap)
        self._swept = 0.0

    def reserve(self, email: str, address: str) -> Reservation:
        """Take a place for one password check by `email` from `address`, or say how long to wait."""
        now = time.time()
        self._sweep(now)
        pair, account, place = _keys(email, address)
        ended = now - WINDOW
        try:
            with self.store.transaction(projector_lock=False) as tx:
                counts: dict[str, tuple[int, float]] = {}
                # Always in the same order, so two attempts never wait for each other's rows.
                for key in sorted((pair, account, place)):
                    failures, start = tx.fetchall(_RESERVE, (key, now, ended, ended))[0]
                    counts[key] = (int(failures), float(start))
                wait = _wait(counts[pair], counts[account], counts[place], now)
                if wait:
                    raise _Refused(wait)  # rolls the places back: a refused attempt counts nowhere
        except _Refused as refused:
            return Reservation(retry_after=refused.seconds)
        return Reservation((pair, counts[pair][1]), ((account, counts[account][1]), (place, counts[place][1])))

    def succeeded(self, reservation: Reservation) -> None:
        """A right password: give the places back, and forget this account's failures from this address."""
        if reservation.account_address is None:
            return
        pair = reservation.account_address[0]
        with self.store.transaction(projector_lock=False) as tx:
            for key, start in sorted((reservation.account_address, *reservation.others)):
                if key == pair:
                    tx.execute("DELETE FROM sign_in_failures WHERE key = ?", (key,))
                else:
                    tx.execute(_GIVE_BACK, (key, start))
                    tx.execute(_EMPTY, (key,))

    def _sweep(self, now: float) -> None:
        if now - self._swept < CLEAN_EVERY:
            return
        self._swept = now
        with self.store.transaction(projector_lock=False) as tx:
            tx.execute(_SWEEP[self.store.dialect], (now - WINDOW,))


def _wait(pair: tuple[int, float], account: tuple[int, float], place: tuple[int, float], now: float) -> int:
    """Seconds until an attempt that took these places may be tried again; 0 when it may go ahead now."""
    ends = []
    if account[0] > ACCOUNT_LIMIT:
        ends.append(account[1] + WINDOW)
    if pair[0] > ACCOUNT_ADDRESS_LIMIT:
        ends.append(pair[1] + WINDOW)
    elif place[0] > ADDRESS_LIMIT and pair[0] > BUSY_ADDRESS_ACCOUNT_LIMIT:
        # Refused only because the address is busy: that ends with either window.
        ends.append(min(pair[1], place[1]) + WINDOW)
    return max(1, math.ceil(max(ends) - now)) if ends else 0
