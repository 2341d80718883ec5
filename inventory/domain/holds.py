"""Lot holds: a lot kept off the shelf (a recall, damage, a quality check) until it is released or
written off, destroyed or returned to its supplier. Reasons and dispositions are lists, never free text."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum


class HoldReason(StrEnum):
    RECALL = "recall"
    DAMAGED = "damaged"
    QUALITY_CHECK = "quality_check"


class Disposition(StrEnum):
    """Where held stock went when it was written off."""

    DESTROYED = "destroyed"
    RETURNED_TO_SUPPLIER = "returned_to_supplier"


# In a coordinator's words, as the pages, the alerts and the reports show them.
HOLD_REASONS: dict[str, str] = {
    HoldReason.RECALL: "Manufacturer's recall",
    HoldReason.DAMAGED: "Damaged",
    HoldReason.QUALITY_CHECK: "Waiting for a quality check",
}
DISPOSITIONS: dict[str, str] = {
    Disposition.DESTROYED: "Destroyed",
    Disposition.RETURNED_TO_SUPPLIER: "Returned to the supplier",
}


@dataclass(frozen=True)
class Hold:
    """Why a lot is held at a site, from when, and the recall that held it (if one did)."""

    reason: str
    since: datetime
    recall: str | None = None

    def covers(self, at: datetime | None) -> bool:
        """True when the hold stops an issue at `at` (now when None): an entry recorded late, dated
        before the hold, may still take from the lot, since the stock left before it was held."""
        return at is None or at >= self.since

    def words(self) -> str:
        return HOLD_REASONS.get(self.reason, self.reason.replace("_", " "))
