"""A shift's hours as people give them: a date it started and two clock times; a night shift (ending at
or before the clock time it started) ends the next morning."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

# A first tally at a site, opened before this hour, is for the shift that started the evening before.
NIGHT_ENDS_BY = time(6, 0)


def shift_times(day: date, starts: time, ends: time, zone: ZoneInfo) -> tuple[datetime, datetime]:
    """When a shift that started on `day` began and ended, in the program's zone."""
    begins = datetime.combine(day, starts, tzinfo=zone)
    finishes = datetime.combine(day, ends, tzinfo=zone)
    if finishes <= begins:  # a night shift: it ends the next morning
        finishes = datetime.combine(day + timedelta(days=1), ends, tzinfo=zone)
    return begins, finishes


def likely_shift(now: datetime, usual: tuple[time, time] | None) -> tuple[date, time | None, time | None]:
    """The shift someone opening the tally page at `now` most likely means: its date and hours.

    With the site's usual hours (those of its last tally), the latest shift at those hours that has
    started by now: as usual if it has ended, or ending now if it is still going (a worker entering the
    tally on the way out). Without them, no hours, and the date the shift most likely started: the
    evening before when opened in the small hours.
    """
    if usual is None:
        day = now.date() - timedelta(days=1) if now.time() < NIGHT_ENDS_BY else now.date()
        return day, None, None
    starts, ends = usual
    zone = now.tzinfo if isinstance(now.tzinfo, ZoneInfo) else ZoneInfo("UTC")
    day = now.date()
    begins, finishes = shift_times(day, starts, ends, zone)
    if begins > now:
        day -= timedelta(days=1)
        begins, finishes = shift_times(day, starts, ends, zone)
    if finishes <= now:
        return day, starts, ends
    current = now.time().replace(second=0, microsecond=0)
    if current == starts:  # it is only just starting: the one before is the one to tally
        return day - timedelta(days=1), starts, ends
    return day, starts, current
