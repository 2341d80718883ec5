"""Dates typed as text are read by one rule, and a date that reads two ways is refused, not guessed."""

from __future__ import annotations

from datetime import date, datetime

import pytest

from inventory.importing.dates import DateRefused, read_date


@pytest.mark.parametrize(
    ("typed", "meant"),
    [
        ("2026-03-01", date(2026, 3, 1)),
        ("1 Mar 2026", date(2026, 3, 1)),
        ("1 March 2026", date(2026, 3, 1)),
        ("March 1, 2026", date(2026, 3, 1)),
        ("01-mar-2026", date(2026, 3, 1)),
        ("03/25/2026", date(2026, 3, 25)),
        ("25/03/2026", date(2026, 3, 25)),
        ("25.03.2026", date(2026, 3, 25)),
        ("05/05/2026", date(2026, 5, 5)),
        (datetime(2026, 3, 1), date(2026, 3, 1)),
        (date(2026, 3, 1), date(2026, 3, 1)),
    ],
)
def test_a_date_that_reads_one_way_is_taken(typed: object, meant: date) -> None:
    assert read_date(typed) == meant


def test_a_date_that_reads_two_ways_is_refused_with_what_to_type() -> None:
    with pytest.raises(DateRefused, match=r"could be read two ways \(2026-03-01 or 2026-01-03\).*like 2026-03-01"):
        read_date("03/01/2026")


@pytest.mark.parametrize("typed", ["31/31/2026", "30 Feb 2026", "soon", "2026-13-01", "1 Smarch 2026"])
def test_something_that_is_not_a_date_is_refused(typed: str) -> None:
    with pytest.raises(DateRefused, match="enter it like 2026-03-01"):
        read_date(typed)


def test_a_date_with_a_time_of_day_is_refused() -> None:
    with pytest.raises(DateRefused, match="date only"):
        read_date(datetime(2026, 3, 1, 14, 30))
