"""Dates and times as people read them, in the program's time zone: "Tue 2 Dec, 01:08", never an ISO
string with an offset. English names, whatever the server's locale."""

from __future__ import annotations

from datetime import date, datetime, tzinfo

DAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


def day_in_words(day: date, this_year: int | None = None) -> str:
    """Tue 2 Dec, with the year when it is not `this_year` (Tue 2 Dec 2025)."""
    words = f"{DAYS[day.weekday()][:3]} {day.day} {MONTHS[day.month - 1]}"
    return words if day.year == this_year else f"{words} {day.year}"


def moment_in_words(moment: datetime, zone: tzinfo, this_year: int | None = None, seconds: bool = False) -> str:
    """Tue 2 Dec, 01:08 in the program's zone (the year shown as for day_in_words; 01:08:12 with seconds,
    for the audit log)."""
    local = moment.astimezone(zone)
    return (
        f"{day_in_words(local.date(), this_year)}, {local:%H:%M:%S}"
        if seconds
        else f"{day_in_words(local.date(), this_year)}, {local:%H:%M}"
    )


def shift_in_words(begins: datetime, finishes: datetime) -> str:
    """Tuesday 21:00 to Wednesday 02:00, or Saturday 09:00 to 17:00 for a shift within one day."""
    start = f"{DAYS[begins.weekday()]} {begins:%H:%M}"
    if finishes.date() == begins.date():
        return f"{start} to {finishes:%H:%M}"
    return f"{start} to {DAYS[finishes.weekday()]} {finishes:%H:%M}"
