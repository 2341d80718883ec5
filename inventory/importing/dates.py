"""Dates as people type them in a spreadsheet, read by one rule that never guesses.

The rule: a date cell, 2026-03-01, or a date with the month in words (1 Mar 2026, March 1, 2026)
is taken as it is. A date of numbers with slashes, dots or dashes (03/25/2026, 25.03.2026) is taken
only when it can be read one way: one of the first two numbers is over 12 (it is the day), or both
are the same. 03/01/2026 could be 1 March or 3 January, so it is refused with a request to type
2026-03-01 instead.
"""

from __future__ import annotations

import re
from datetime import date, datetime

MONTHS = {
    name: number
    for number, names in enumerate(
        (
            ("jan", "january"),
            ("feb", "february"),
            ("mar", "march"),
            ("apr", "april"),
            ("may",),
            ("jun", "june"),
            ("jul", "july"),
            ("aug", "august"),
            ("sep", "sept", "september"),
            ("oct", "october"),
            ("nov", "november"),
            ("dec", "december"),
        ),
        start=1,
    )
    for name in names
}
NUMBERS = re.compile(r"^(\d{1,2})[/.-](\d{1,2})[/.-](\d{4})$")
DAY_MONTH = re.compile(r"^(\d{1,2})(?:st|nd|rd|th)?[ -]([a-z]+)\.?,?[ -](\d{4})$")
MONTH_DAY = re.compile(r"^([a-z]+)\.? (\d{1,2})(?:st|nd|rd|th)?,? (\d{4})$")


class DateRefused(ValueError):
    """A cell that is not a date, or a date that can be read two ways: the message says what to type."""


def read_date(value: object) -> date:
    """The date a cell holds, or DateRefused saying what to type instead."""
    if isinstance(value, datetime):
        if value.time() != datetime.min.time():
            raise DateRefused(f"{value.isoformat(sep=' ')} has a time of day: enter the date only, like 2026-03-01.")
        return value.date()
    if isinstance(value, date):
        return value
    text = " ".join(str(value).strip().lower().split())
    try:
        return date.fromisoformat(text)
    except ValueError:
        pass
    if found := NUMBERS.match(text):
        return _numbers(text, int(found.group(1)), int(found.group(2)), int(found.group(3)))
    found = DAY_MONTH.match(text)
    if found:
        return _build(text, int(found.group(3)), MONTHS.get(found.group(2)), int(found.group(1)))
    found = MONTH_DAY.match(text)
    if found:
        return _build(text, int(found.group(3)), MONTHS.get(found.group(1)), int(found.group(2)))
    raise DateRefused(f"{str(value).strip()!r} is not a date: enter it like 2026-03-01.")


def _numbers(text: str, first: int, second: int, year: int) -> date:
    if first > 12 and second <= 12:
        return _build(text, year, second, first)
    if second > 12 and first <= 12:
        return _build(text, year, first, second)
    if first == second:
        return _build(text, year, first, first)
    if first > 12 and second > 12:
        raise DateRefused(f"{text!r} is not a date: enter it like 2026-03-01.")
    us, other = f"{year:04d}-{first:02d}-{second:02d}", f"{year:04d}-{second:02d}-{first:02d}"
    raise DateRefused(f"{text!r} could be read two ways ({us} or {other}): enter it as year-month-day, like {us}.")


def _build(text: str, year: int, month: int | None, day: int) -> date:
    try:
        if month is None:
            raise ValueError
        return date(year, month, day)
    except ValueError:
        raise DateRefused(f"{text!r} is not a date: enter it like 2026-03-01.") from None
