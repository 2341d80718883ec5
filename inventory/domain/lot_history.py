"""A lot's history in business time: what each entry did, and what each count saw.

A count is an observation: "at T this lot held N". Entries are kept in business-time order (when
they happened, then the order they were recorded), so an entry recorded late lands on its own time.
Walking the history from the start gives the balance after every entry; a count sets the balance
to what was seen, and its variance is what was seen minus what the entries before it left.

An entry recorded late, before a count, changes what that count expected: the count still saw N
(stock after it stays N), and its variance is restated. An entry is accepted when the balance it
meets, from its own time up to the next count, covers it; the same rule decides a count dated
before later entries, a void and a correction. Each is a change to the history, and
`consequences` says what the change does: the lowest balance it leads to (refused below zero) and
each count whose variance it restates.
"""

from __future__ import annotations

from bisect import insort
from dataclasses import dataclass
from datetime import datetime

# A lot's history keeps its latest HISTORY_KEEP entries; once it holds twice that, the older ones are
# folded into one opening balance, so that a busy lot's snapshot stays small. A change dated before
# what is kept (rare: an entry hundreds of entries late, a void of an old entry) raises HistoryFolded,
# and the application replays the ledger's full history from its events for it.
HISTORY_KEEP = 400


@dataclass
class Entry:
    """One entry's effect on one lot.

    `ref` is the ledger version of the event that made it (with `at`, its place in the history);
    `source` the visit, tally or transfer it belongs to ("" for a receipt, adjustment or count).
    A count has `counted` (what was seen) and no delta of its own. A voided entry keeps its place
    with no effect.
    """

    at: datetime
    ref: int
    delta: int
    counted: int | None = None
    source: str = ""
    kind: str = ""

    @property
    def is_count(self) -> bool:
        return self.counted is not None

    def sort_key(self) -> tuple[datetime, int]:
        return (self.at, self.ref)


class HistoryFolded(Exception):
    """The change reaches before the history a lot keeps: replay the ledger in full and try again."""


def fold(entries: list[Entry]) -> tuple[list[Entry], datetime | None]:
    """The history with all but its latest HISTORY_KEEP entries folded into one opening balance (once
    it holds twice that), and the time from which it is whole; unchanged (and None) otherwise."""
    if len(entries) <= 2 * HISTORY_KEEP:
        return entries, None
    cut = len(entries) - HISTORY_KEEP
    balances, _ = walk(entries[:cut])
    opening = Entry(entries[cut - 1].at, 0, balances[-1], None, "", "opening")
    return [opening, *entries[cut:]], entries[cut].at


@dataclass(frozen=True)
class Shortfall:
    """Where a change would leave the lot below zero: the first such entry's time and balance."""

    at: datetime
    balance: int


@dataclass(frozen=True)
class Restated:
    """A count whose variance a change restates."""

    entry: Entry
    before: int
    after: int


@dataclass(frozen=True)
class Consequences:
    shortfall: Shortfall | None
    restated: list[Restated]
    balance: int  # the lot's balance after its last entry


def walk(entries: list[Entry]) -> tuple[list[int], dict[int, int]]:
    """The balance after each entry, and each count's variance (by its entry's ref)."""
    balance = 0
    balances: list[int] = []
    variances: dict[int, int] = {}
    for entry in entries:
        if entry.counted is not None:
            variances[entry.ref] = entry.counted - balance
            balance = entry.counted
        else:
            balance += entry.delta
        balances.append(balance)
    return balances, variances


def insert(entries: list[Entry], entry: Entry) -> None:
    """Put an entry in its place in business time."""
    if not entries or entries[-1].sort_key() <= entry.sort_key():
        entries.append(entry)
    else:
        insort(entries, entry, key=Entry.sort_key)


def consequences(before: list[Entry], after: list[Entry]) -> Consequences:
    """What changing a lot's history from `before` to `after` does.

    The shortfall is looked for only where the two histories differ, so that a lot that was (in an
    old log) below zero somewhere else does not block an unrelated change.
    """
    old_balances, old_variances = walk(before)
    new_balances, new_variances = walk(after)
    first_change = next(
        (i for i, (a, b) in enumerate(zip(before, after, strict=False)) if a != b), min(len(before), len(after))
    )
    shortfall = None
    for index in range(first_change, len(after)):
        if new_balances[index] < 0 and (index >= len(old_balances) or new_balances[index] < old_balances[index]):
            shortfall = Shortfall(after[index].at, new_balances[index])
            break
    by_ref = {entry.ref: entry for entry in after if entry.is_count}
    restated = [
        Restated(by_ref[ref], old_variances[ref], variance)
        for ref, variance in new_variances.items()
        if ref in old_variances and old_variances[ref] != variance
    ]
    return Consequences(shortfall, restated, new_balances[-1] if new_balances else 0)


def available_at(entries: list[Entry], at: datetime, balance_now: int) -> int:
    """What an entry taking stock at `at` may take: the lowest balance from `at` to the next count."""
    if not entries or entries[-1].at <= at:
        return balance_now
    balances, _ = walk(entries)
    lowest: int | None = None
    before = 0
    for index, entry in enumerate(entries):
        if entry.at <= at:
            before = balances[index]
            continue
        if entry.is_count:
            break
        lowest = balances[index] if lowest is None else min(lowest, balances[index])
    return before if lowest is None else min(before, lowest)


def next_count_after(entries: list[Entry], at: datetime) -> Entry | None:
    """The first count dated after `at`, if any."""
    return next((entry for entry in entries if entry.at > at and entry.is_count), None)
