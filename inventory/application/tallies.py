"""Shift tallies: the totals of a shift too busy to record each visit, entered afterwards.

Stock falls as for visits (lots picked first-expiry-first-out, or as named), on the shift's date;
the visits, reversals and syringes collected are counted with the encounters in the read models,
which keep apart what came from tallies.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from uuid import UUID

from inventory.application import rules as check
from inventory.application.core import InventoryCore
from inventory.domain import ShiftTally, StockLedger, ledger_id, tally_id
from inventory.domain.calendar import check_day
from inventory.domain.errors import IdempotencyConflict, InvalidInput, NotFound
from inventory.domain.reach import channel_for_site
from inventory.domain.shifts import shift_times
from inventory.domain.text import clean_code
from inventory.domain.time_words import day_in_words, shift_in_words


def tally_view(tally: ShiftTally) -> dict[str, Any]:
    """A tally as recorded; the same for the first answer and every repeat."""
    return {
        "id": str(tally.id),
        "key": tally.key,
        "site": tally.site,
        "shift_date": tally.shift_date,
        "starts_at": tally.starts_at,
        "ends_at": tally.ends_at,
        "lines": [dict(line, lots=[dict(pick) for pick in line["lots"]]) for line in tally.lines],
        "visits": tally.visits,
        "reversals_reported": tally.reversals_reported,
        "syringes_collected": tally.syringes_collected,
        "recipient": tally.recipient,
        "for_others": tally.for_others,
        "channel": tally.channel,
        "actor": tally.actor,
        "occurred_at": tally.occurred_at,
        "recorded_at": tally.created_on,
    }


class TallyVerbs(InventoryCore):
    """Record a shift's totals."""

    def record_shift_tally(
        self,
        *,
        key: str,
        site: str,
        shift_date: date | str,
        starts_at: str,
        ends_at: str,
        lines: list[dict[str, Any]],
        visits: int,
        reversals_reported: int | None = 0,
        syringes_collected: int | None = 0,
        recipient: str | None = None,
        for_others: int | None = None,
        channel: str | None = None,
        actor: str,
        now: datetime | None = None,
    ) -> dict[str, Any]:
        """Record what a shift handed out, and its visits; a repeat of the same key returns the first result.

        `recipient`, `for_others` and `channel` as for a visit (the shift's usual recipient type)."""
        key = check.client_key(key)
        site_code = clean_code(site, "site")
        day = _day(shift_date)
        start, end = _clock(starts_at, "starts_at"), _clock(ends_at, "ends_at")
        if end == start:
            raise InvalidInput(
                "A shift must end after it starts (a night shift may end the next morning).", field="ends_at"
            )
        begins, finishes = shift_times(day, start, end, self.zone)
        current = now or datetime.now(UTC)
        if finishes > current + check.CLOCK_SKEW:
            raise InvalidInput(self._still_to_come(day, start, end, current), field="ends_at")
        count = check.reported(visits, "visits", check.SHIFT_VISITS)
        reversals = check.reported(reversals_reported, "reversals_reported", check.SHIFT_REVERSALS)
        collected = check.reported(syringes_collected, "syringes_collected", check.SHIFT_SYRINGES)
        parsed = check.issue_lines(lines) if lines or not (count or collected) else []
        who = self._recipient(recipient)
        others = check.for_others(for_others, check.SHIFT_FOR_OTHERS)
        if parsed and count == 0:
            raise InvalidInput("Enter how many visits the shift had: items were handed out.", field="visits")
        request: dict[str, Any] = {
            "site": site_code,
            "shift": [day.isoformat(), start.isoformat("minutes"), end.isoformat("minutes")],
            "lines": sorted((line.sku, line.lot or "", line.quantity) for line in parsed),
            "visits": count,
            "reversals": reversals,
            "collected": collected,
        }
        for name, given in (("recipient", recipient), ("for_others", for_others), ("channel", channel)):
            if given is not None:
                request[name] = given  # only when given: a tally sent again from an older form is the same
        digest = check.fingerprint(request)
        the_id = tally_id(actor, key)
        moment = begins.astimezone(UTC)  # stock leaves on the shift's date, from its start

        def attempt() -> dict[str, Any]:
            earlier = self._get(ShiftTally, the_id)
            if earlier is not None:
                if earlier.fingerprint != digest:
                    raise IdempotencyConflict(
                        "This request key was already used for a different tally. "
                        "Reload the form to get a new key and enter the tally again.",
                        field="key",
                    )
                return tally_view(earlier)
            place = self._site(site_code)
            way = check.channel(channel, channel_for_site(place.kind))

            def take(ledger: StockLedger, picks: list[dict[str, Any]]) -> None:
                ledger.hand_out_on_shift(tally_id=the_id, picks=picks, actor=actor, occurred_at=moment, zone=self.zone)

            ledgers, issued = self._issue_lines(place, parsed, moment, take)
            tally = ShiftTally(
                key=key,
                fingerprint=digest,
                site=place.code,
                shift_date=day,
                starts_at=start.isoformat("minutes"),
                ends_at=end.isoformat("minutes"),
                lines=issued,
                visits=count,
                reversals_reported=reversals,
                syringes_collected=collected,
                actor=actor,
                occurred_at=moment,
                recipient=who,
                for_others=others,
                channel=way,
            )
            self.save(tally, *ledgers)
            return tally_view(tally)

        ids: list[UUID] = [the_id, *(ledger_id(site_code, line.sku) for line in parsed)]
        return self._retrying(ids, attempt)

    def _still_to_come(self, day: date, start: time, end: time, now: datetime) -> str:
        """Why a shift that has not ended is refused, in words; and the night before, if that is what was meant."""
        begins, finishes = shift_times(day, start, end, self.zone)
        this_year = now.astimezone(self.zone).year
        said = (
            f"This shift, {shift_in_words(begins, finishes)} from {day_in_words(day, this_year)}, "
            "has not ended yet: record its tally after it ends."
        )
        earlier, ended = shift_times(day - timedelta(days=1), start, end, self.zone)
        if ended <= now + check.CLOCK_SKEW:
            said += (
                f" If it is the shift of {shift_in_words(earlier, ended)}, set the date to "
                f"{day_in_words(earlier.date(), this_year)}, the day it started."
            )
        return said

    def shift_tally(self, key: str, actor: str) -> dict[str, Any]:
        """A tally as recorded, by the client key of the person who recorded it."""
        found = self._get(ShiftTally, tally_id(actor, check.client_key(key)))
        if found is None:
            raise NotFound(f"No shift tally was recorded with key {key}.", field="key")
        return tally_view(found)


def _day(value: date | str) -> date:
    if not isinstance(value, date):
        try:
            value = date.fromisoformat(str(value))
        except ValueError:
            raise InvalidInput(f"shift_date {value!r} is not a date like 2026-03-01.", field="shift_date") from None
    return check_day(value, "shift_date")


def _clock(value: str, field: str) -> time:
    try:
        found = time.fromisoformat(str(value))
    except ValueError:
        raise InvalidInput(f"{field} {value!r} is not a time like 18:30.", field=field) from None
    return found.replace(second=0, microsecond=0, tzinfo=None)
