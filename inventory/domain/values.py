"""Small value types shared by the aggregates: categories, lots, lines and restrictions."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from enum import Enum, StrEnum

from inventory.domain.errors import InvalidInput
from inventory.domain.expiry import expired_on
from inventory.domain.holds import Hold
from inventory.domain.lot_history import Entry, HistoryFolded, insert
from inventory.domain.time_words import day_in_words


class Category(StrEnum):
    NALOXONE = "naloxone"
    SYRINGE = "syringe"
    TEST_STRIP = "test_strip"
    SHARPS = "sharps"
    WOUND_CARE = "wound_care"
    SAFER_SMOKING = "safer_smoking"
    KIT = "kit"  # assembled here from other items (inventory.domain.kits)
    OTHER = "other"


class SiteKind(StrEnum):
    WAREHOUSE = "warehouse"
    FIXED = "fixed"
    MOBILE = "mobile"
    VENDING_MACHINE = "vending_machine"


class AdjustmentReason(StrEnum):
    DAMAGED = "damaged"
    LOST = "lost"
    EXPIRED = "expired"
    FOUND = "found"
    RETURNED = "returned"
    CORRECTION = "correction"


class VoidReason(StrEnum):
    """Why an entry is voided or corrected (a list, never free text: nothing about a person)."""

    ENTERED_BY_MISTAKE = "entered_by_mistake"
    ENTERED_TWICE = "entered_twice"
    WRONG_SITE = "wrong_site"
    WRONG_QUANTITY = "wrong_quantity"
    WRONG_ITEM = "wrong_item"
    WRONG_TIME = "wrong_time"
    DID_NOT_HAPPEN = "did_not_happen"


# The reasons in a coordinator's words, as the pages, the audit log and the reports show them.
VOID_REASONS: dict[str, str] = {
    VoidReason.ENTERED_BY_MISTAKE: "Entered by mistake",
    VoidReason.ENTERED_TWICE: "Entered twice",
    VoidReason.WRONG_SITE: "Recorded at the wrong site",
    VoidReason.WRONG_QUANTITY: "Wrong quantity",
    VoidReason.WRONG_ITEM: "Wrong item or lot",
    VoidReason.WRONG_TIME: "Wrong date or time",
    VoidReason.DID_NOT_HAPPEN: "It did not happen",
}


def parse_enum(kind: type[Enum], value: str, field: str) -> str:
    """Return the enum value named by `value`, or raise InvalidInput listing the choices."""
    try:
        return str(kind(value).value)
    except ValueError:
        choices = ", ".join(str(m.value) for m in kind)
        raise InvalidInput(f"{field} must be one of: {choices} (got {value!r}).", field=field) from None


def positive_quantity(quantity: int, field: str = "quantity") -> int:
    """Check that a quantity is a whole number above zero."""
    if isinstance(quantity, bool) or not isinstance(quantity, int):
        raise InvalidInput(f"{field} must be a whole number (got {quantity!r}).", field=field)
    if quantity <= 0:
        raise InvalidInput(f"{field} must be at least 1 (got {quantity}).", field=field)
    return quantity


@dataclass
class Lot:
    """One lot of one item at one site: what is left of it, when it expires, who paid.

    `history` is every entry's effect on the lot in business time (inventory.domain.lot_history),
    so that an entry recorded late lands on its own time and restates a count after it. It is None
    in a lot read from a snapshot taken before release 0.3.0, or after a void or correction of an
    entry the snapshot had folded away; the application then replays the ledger from its events.
    """

    code: str
    quantity: int
    expires_on: date | None
    funding_source: str | None
    history: list[Entry] | None = field(default_factory=list)
    history_from: datetime | None = None  # entries before this are folded into an opening balance
    held: Hold | None = None  # kept off the shelf (inventory.domain.holds) until released or written off

    def is_held_at(self, at: datetime | None) -> bool:
        """True when the lot may not be issued at `at` (now when None) because it is held."""
        return self.held is not None and self.held.covers(at)

    def is_expired_on(self, day: date) -> bool:
        """A lot can be issued up to and including its expiry date (inventory.domain.expiry)."""
        return expired_on(self.expires_on, day)

    def note(self, entry: Entry) -> None:
        """Put an entry in its place in the history (none is kept while the history is not known)."""
        if self.history is not None:
            insert(self.history, entry)

    def whole_at(self, at: datetime) -> None:
        """Raise HistoryFolded if the history kept does not reach back to `at`."""
        if self.history_from is not None and at < self.history_from:
            raise HistoryFolded(self.code)

    @property
    def entries(self) -> list[Entry]:
        """The history (the application replays a ledger whose lots came without one)."""
        assert self.history is not None, "a lot from an old snapshot: replay the ledger from its events"
        return self.history


@dataclass(frozen=True)
class Restriction:
    """A funding rule: this source may not pay for `category` from `starts_on` to `ends_on`."""

    category: str
    starts_on: date
    ends_on: date | None = None

    def covers(self, category: str, day: date) -> bool:
        """True when the rule forbids buying `category` on `day`."""
        if category != self.category or day < self.starts_on:
            return False
        return self.ends_on is None or day <= self.ends_on

    def describe(self) -> str:
        until = f"to {day_in_words(self.ends_on)}" if self.ends_on else "with no end date"
        return f"no {self.category} purchases from {day_in_words(self.starts_on)} {until}"


@dataclass(frozen=True)
class Pick:
    """Quantity taken from (or put into) one lot by one movement."""

    lot: str
    quantity: int
