"""When a lot is expired, and when its expiry is near: the one rule the ledger, the pages and the alerts use.

A lot may be handed out up to and including its expiry date; it is expired from the day after. Read
models keep the date as ISO text (2027-06-30), so each function takes a date or that text.
"""

from __future__ import annotations

from datetime import date, timedelta

# How far ahead an expiry is worth a warning: the dashboard's "expiring soon" and the alert.
SOON_DAYS = 60


def _day(expires_on: date | str) -> date:
    return expires_on if isinstance(expires_on, date) else date.fromisoformat(expires_on)


def expired_on(expires_on: date | str | None, day: date) -> bool:
    """Whether a lot with this expiry date is expired on `day` (a lot without one never is)."""
    if not expires_on:
        return False
    return day > _day(expires_on)


def expires_soon(expires_on: date | str | None, day: date, within_days: int = SOON_DAYS) -> bool:
    """Whether a lot not yet expired on `day` expires within `within_days` of it."""
    if not expires_on or expired_on(expires_on, day):
        return False
    return _day(expires_on) <= day + timedelta(days=within_days)
