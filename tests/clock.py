"""The suite's clock: a test says what time it is, and the product's clock (datetime, time.time) agrees.

No test reads the clock when its module is imported: a run that crosses midnight would then hold
yesterday's date. A test that needs "now" asks the `clock` fixture, which moves the whole process
(every thread) to a chosen moment and lets it tick from there, so sleeps and timeouts still work
(time.monotonic is never moved).

`EDGES` are the moments the house rules name: just after midnight UTC, a minute before it, a day
that is already tomorrow in the far east or still yesterday in the far west, and both daylight
saving changes of a zone that has them.
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta, tzinfo
from pathlib import Path

import time_machine


@dataclass(frozen=True)
class Edge:
    """A moment at which something that assumes "today is today everywhere" would break."""

    name: str
    moment: datetime  # aware, in UTC
    zone: str  # the program's time zone (INVENTORY_TIMEZONE) to test with

    def __str__(self) -> str:
        return self.name


EDGES = (
    Edge("00:30 UTC", datetime(2026, 12, 2, 0, 30, tzinfo=UTC), "UTC"),
    Edge("23:59 UTC", datetime(2026, 12, 1, 23, 59, tzinfo=UTC), "UTC"),
    # 14 hours ahead: 10:30 UTC is already the next day there.
    Edge("far east", datetime(2026, 12, 1, 10, 30, tzinfo=UTC), "Pacific/Kiritimati"),
    # 11 hours behind: 09:30 UTC is still the day before there.
    Edge("far west", datetime(2026, 12, 2, 9, 30, tzinfo=UTC), "Pacific/Pago_Pago"),
    # New York springs forward at 02:00 on 8 March 2026 (07:00 UTC) and falls back at 02:00 on
    # 1 November 2026 (06:00 UTC): a day of 23 hours and one of 25.
    Edge("spring forward", datetime(2026, 3, 8, 7, 30, tzinfo=UTC), "America/New_York"),
    Edge("fall back", datetime(2026, 11, 1, 5, 30, tzinfo=UTC), "America/New_York"),
)


@dataclass
class Clock:
    """The moment the process lives at; `at` and `advance` move it, and it keeps ticking."""

    _traveller: time_machine.travel | None = field(default=None, repr=False)

    def at(self, moment: datetime | str, *, tick: bool = True) -> datetime:
        """Move to `moment` (aware, or an ISO string with an offset) and return it in UTC."""
        when = datetime.fromisoformat(moment) if isinstance(moment, str) else moment
        if when.tzinfo is None:
            raise ValueError("give the clock an aware moment (with its UTC offset)")
        self.stop()
        self._traveller = time_machine.travel(when, tick=tick)
        self._traveller.start()
        return when.astimezone(UTC)

    def advance(self, **delta: float) -> datetime:
        """Move forward (or back, with negative values) by a timedelta's worth, e.g. advance(hours=2)."""
        return self.at(self.now() + timedelta(**delta))

    def now(self, zone: tzinfo = UTC) -> datetime:
        return datetime.now(zone)

    def today(self, zone: tzinfo = UTC) -> date:
        return self.now(zone).date()

    def stop(self) -> None:
        if self._traveller is not None:
            self._traveller.stop()
            self._traveller = None


def clock_fixture() -> Iterator[Clock]:
    """Yields a Clock; whatever moment the test chose is undone afterwards."""
    found = Clock()
    try:
        yield found
    finally:
        found.stop()


# The folder whose sitecustomize.py moves the clock of every Python process the suite starts.
CLOCK_SITE = Path(__file__).resolve().parent / "clock_site"
# Not INVENTORY_*: the tests that start the service from a clean environment drop those, and must keep this.
OFFSET = "SUPPLY_TESTS_CLOCK_OFFSET"


def start_session_clock(moment: str) -> None:
    """Run the rest of this process, and every Python process it starts, from `moment` on (ticking).

    The processes are moved by the same offset from the real clock, through `clock_site`'s
    sitecustomize (found on PYTHONPATH), so a worker and the test that started it agree on the time.
    """
    when = datetime.fromisoformat(moment)
    if when.tzinfo is None:
        raise ValueError(f"--clock-at needs a UTC offset, e.g. {moment}+00:00")
    offset = when.timestamp() - time.time()
    os.environ[OFFSET] = repr(offset)
    os.environ["PYTHONPATH"] = os.pathsep.join(filter(None, [str(CLOCK_SITE), os.environ.get("PYTHONPATH")]))
    time_machine.travel(when, tick=True).start()
