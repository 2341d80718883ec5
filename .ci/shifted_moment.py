#!/usr/bin/env python3
"""Print a moment for CI to run the suite from, different on every run (tests/clock.py moves the clock).

The suite's time-sensitive tests pin their own moments (tests.clock.EDGES); the rest run once from
the moment printed here, so over many runs they meet midnight, far zones' dates and daylight saving
changes. Replay a failure with `INVENTORY_TEST_CLOCK_AT=<the moment> .ci/run`.
"""

from __future__ import annotations

import random
from datetime import UTC, date, datetime, time, timedelta


def shifted_moment(chooser: random.Random) -> datetime:
    """A moment within two years of today, at an hour chosen to be hard."""
    today = datetime.now(UTC).date()
    day = today + timedelta(days=chooser.randint(-365, 365))
    kind = chooser.choice(("before midnight UTC", "after midnight UTC", "daylight saving", "any time"))
    if kind == "before midnight UTC":
        at = datetime.combine(day, time(23, 59), UTC) - timedelta(minutes=chooser.randint(0, 20))
    elif kind == "after midnight UTC":
        at = datetime.combine(day, time(0, 0), UTC) + timedelta(minutes=chooser.randint(0, 150))
    elif kind == "daylight saving":
        # New York changes at 07:00 UTC on the second Sunday of March and 06:00 on the first of November.
        year = day.year
        march = date(year, 3, 8) + timedelta(days=(6 - date(year, 3, 8).weekday()) % 7)
        november = date(year, 11, 1) + timedelta(days=(6 - date(year, 11, 1).weekday()) % 7)
        change = chooser.choice((datetime.combine(march, time(7), UTC), datetime.combine(november, time(6), UTC)))
        at = change - timedelta(minutes=chooser.randint(0, 30))
    else:
        at = datetime.combine(day, time(0), UTC) + timedelta(minutes=chooser.randint(0, 24 * 60 - 1))
    return at


if __name__ == "__main__":
    print(shifted_moment(random.Random()).isoformat(timespec="seconds"))
