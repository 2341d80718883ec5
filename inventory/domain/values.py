"""Small value types shared by the aggregates: categories, lots, lines and restrictions."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from enum import Enum, StrEnum

from inventory.domain.errors import InvalidInput
from inventory.domain.expiry import expired_on


class Category(StrEnum):
    NALOXONE = "naloxone"
    SYRINGE = "syringe"
    TEST_STRIP = "test_strip"
    SHARPS = "sharps"
    WOUND_CARE = "wound_care"
    SAFER_SMOKING = "safer_smoking"
    OTHER = "other"


class SiteKind(StrEnum):
    WAREHOUSE = "warehouse"
    FIXED = "fixed"
    MOBILE = "mobile"


class AdjustmentReason(StrEnum):
    DAMAGED = "damaged"
    LOST = "lost"
    EXPIRED = "expired"
    FOUND = "found"
    RETURNED = "returned"
    CORRECTION = "correction"


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

    `last_moved_at` and `counted_at` are business times (`occurred_at`) of the latest movement and
    the latest count, so that entries dated across a count can be refused instead of double counted.
    """

    code: str
    quantity: int
    expires_on: date | None
    funding_source: str | None
    last_moved_at: datetime | None = None
    counted_at: datetime | None = None

    def moved(self, at: datetime) -> None:
        if self.last_moved_at is None or at > self.last_moved_at:
            self.last_moved_at = at

    def is_expired_on(self, day: date) -> bool:
        """A lot can be issued up to and including its expiry date (inventory.domain.expiry)."""
        return expired_on(self.expires_on, day)


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
        until = f"to {self.ends_on.isoformat()}" if self.ends_on else "with no end date"
        return f"no {self.category} purchases from {self.starts_on.isoformat()} {until}"


@dataclass(frozen=True)
class Pick:
    """Quantity taken from (or put into) one lot by one movement."""

    lot: str
    quantity: int
