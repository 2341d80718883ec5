"""The dates the service accepts, wherever a date is entered: from 2000-01-01 to 2100-12-31.

A year typed as 0026 or 9999 is a typing slip, not a delivery; refusing it at the door keeps
every business day, expiry, shift and report period inside a range the rest of the code (time
zones, week numbers, spreadsheets) handles without overflowing.
"""

from __future__ import annotations

from datetime import UTC, date, datetime

from inventory.domain.errors import InvalidInput

FIRST_DAY = date(2000, 1, 1)
LAST_DAY = date(2100, 12, 31)
RANGE_IN_WORDS = f"from {FIRST_DAY.isoformat()} to {LAST_DAY.isoformat()}"


def in_range(day: date) -> bool:
    return FIRST_DAY <= day <= LAST_DAY


def check_day(day: date, field: str) -> date:
    """`day` if it is within the accepted range, else a refusal naming the field and the range."""
    if not in_range(day):
        raise InvalidInput(f"{field} must be a date {RANGE_IN_WORDS} (got {day.isoformat()}).", field=field)
    return day


def check_moment(moment: datetime, field: str) -> datetime:
    """An aware moment whose UTC date is within the accepted range."""
    try:
        day = moment.astimezone(UTC).date()
    except OverflowError:
        day = moment.date()
    if not in_range(day) or not in_range(moment.date()):
        raise InvalidInput(
            f"{field} must be a time {RANGE_IN_WORDS} (got {moment.isoformat(timespec='minutes')}).", field=field
        )
    return moment
