"""The optional anonymous participant code: short, random or self-chosen, never a birth date."""

from __future__ import annotations

import re
from datetime import date

from inventory.domain.errors import InvalidInput

CODE_PATTERN = re.compile(r"^[A-Z0-9]{4,12}$")

# Digit runs that read as a date (YYYYMMDD, DDMMYYYY, MMDDYYYY, YYMMDD, DDMMYY, MMDDYY).
_DATE_SHAPES = (
    ("%Y%m%d", 8),
    ("%d%m%Y", 8),
    ("%m%d%Y", 8),
    ("%y%m%d", 6),
    ("%d%m%y", 6),
    ("%m%d%y", 6),
)


MONTHS = ("JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC")
# A month's name (or its first three letters) with a number beside it: 12JAN, JAN12, 1985JAN12, MARCH1985.
_MONTH_WITH_NUMBER = re.compile(
    r"(\d+)?(JANUARY|FEBRUARY|MARCH|APRIL|MAY|JUNE|JULY|AUGUST|SEPTEMBER|SEPT|OCTOBER|NOVEMBER|DECEMBER|"
    + "|".join(MONTHS)
    + r")(\d+)?"
)


def _names_a_month_and_day_or_year(code: str) -> bool:
    """True when a month's name stands beside a day (1-31) or a year (1900-2100): 12JAN, JAN12, 1985JAN12."""
    for match in _MONTH_WITH_NUMBER.finditer(code):
        before, after = match.group(1) or "", match.group(3) or ""
        # The digits nearest the month: the end of the number before it, the start of the one after.
        nearest = [before[-n:] for n in (1, 2, 4) if len(before) >= n] + [
            after[:n] for n in (1, 2, 4) if len(after) >= n
        ]
        for digits in nearest:
            value = int(digits)
            if (len(digits) <= 2 and 1 <= value <= 31) or (len(digits) == 4 and 1900 <= value <= 2100):
                return True
    return False


def _looks_like_date(digits: str) -> bool:
    from datetime import datetime

    for fmt, width in _DATE_SHAPES:
        for start in range(len(digits) - width + 1):
            chunk = digits[start : start + width]
            try:
                parsed = datetime.strptime(chunk, fmt).date()
            except ValueError:
                continue
            if date(1900, 1, 1) <= parsed <= date(2100, 12, 31):
                return True
    return False


def check_participant_code(raw: str | None, pattern: re.Pattern[str] = CODE_PATTERN) -> str | None:
    """Normalise an optional participant code, refusing anything that could identify a person."""
    if raw is None:
        return None
    code = raw.strip().upper()
    if not code:
        return None
    if not pattern.match(code):
        raise InvalidInput(
            "Participant code must be 4 to 12 letters and digits, with no spaces or symbols.",
            field="participant_code",
        )
    if _names_a_month_and_day_or_year(code) or any(_looks_like_date(run) for run in re.findall(r"\d{6,}", code)):
        raise InvalidInput(
            "Participant code must not contain a date. Use a random code instead.", field="participant_code"
        )
    return code
