"""The shift someone opening the tally page most likely means, and shifts and times in words."""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from zoneinfo import ZoneInfo

import pytest

from inventory.domain.shifts import likely_shift, shift_times
from inventory.domain.time_words import day_in_words, moment_in_words, shift_in_words

NIGHT = (time(21, 0), time(2, 0))
UTCZ = ZoneInfo("UTC")
WEDNESDAY = date(2026, 12, 2)
TUESDAY = date(2026, 12, 1)


@pytest.mark.parametrize(
    ("at", "usual", "expected"),
    [
        # After midnight, during the night shift that started yesterday evening: that shift, ending now.
        (time(1, 5), NIGHT, (TUESDAY, time(21, 0), time(1, 5))),
        # The next morning: last night's shift, as usual.
        (time(10, 0), NIGHT, (TUESDAY, time(21, 0), time(2, 0))),
        # 02:00 exactly: it has just ended.
        (time(2, 0), NIGHT, (TUESDAY, time(21, 0), time(2, 0))),
        # Tonight's shift has started: that one, ending now.
        (time(22, 0), NIGHT, (WEDNESDAY, time(21, 0), time(22, 0))),
        # In its very first minute it is no shift to tally yet: last night's.
        (time(21, 0, 30), NIGHT, (TUESDAY, time(21, 0), time(2, 0))),
        # A day shift, after it ended and while it runs.
        (time(18, 0), (time(9, 0), time(17, 0)), (WEDNESDAY, time(9, 0), time(17, 0))),
        (time(8, 0), (time(9, 0), time(17, 0)), (TUESDAY, time(9, 0), time(17, 0))),
        # No tally here yet: no hours, and the small hours belong to the evening before.
        (time(1, 5), None, (TUESDAY, None, None)),
        (time(9, 0), None, (WEDNESDAY, None, None)),
    ],
)
def test_the_shift_most_likely_meant(at: time, usual: tuple[time, time] | None, expected: tuple[object, ...]) -> None:
    assert likely_shift(datetime.combine(WEDNESDAY, at, tzinfo=UTCZ), usual) == expected


def test_a_night_shift_ends_the_next_morning_even_across_a_dst_change() -> None:
    new_york = ZoneInfo("America/New_York")
    # Clocks spring forward at 02:00 on Sunday 8 March 2026: the night from Saturday is an hour shorter.
    begins, finishes = shift_times(date(2026, 3, 7), time(21, 0), time(4, 0), new_york)
    assert (finishes.astimezone(UTC) - begins.astimezone(UTC)).total_seconds() == 6 * 3600
    assert shift_in_words(begins, finishes) == "Saturday 21:00 to Sunday 04:00"
    # And fall back on Sunday 1 November: an hour longer.
    begins, finishes = shift_times(date(2026, 10, 31), time(21, 0), time(4, 0), new_york)
    assert (finishes.astimezone(UTC) - begins.astimezone(UTC)).total_seconds() == 8 * 3600


def test_times_in_words_are_in_the_programs_zone_without_offsets() -> None:
    moment = datetime(2026, 12, 2, 1, 8, tzinfo=UTC)
    assert moment_in_words(moment, UTCZ, 2026) == "Wed 2 Dec, 01:08"
    assert moment_in_words(moment, ZoneInfo("Pacific/Pago_Pago"), 2026) == "Tue 1 Dec, 14:08"
    assert moment_in_words(moment, UTCZ, 2027) == "Wed 2 Dec 2026, 01:08"
    assert day_in_words(TUESDAY, 2026) == "Tue 1 Dec"
    begins, finishes = shift_times(TUESDAY, time(21, 0), time(2, 0), UTCZ)
    assert shift_in_words(begins, finishes) == "Tuesday 21:00 to Wednesday 02:00"
    begins, finishes = shift_times(TUESDAY, time(9, 0), time(17, 0), UTCZ)
    assert shift_in_words(begins, finishes) == "Tuesday 09:00 to 17:00"
