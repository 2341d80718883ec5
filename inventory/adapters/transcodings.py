"""How values that JSON lacks (dates, lots, restrictions) are stored in events and snapshots."""

from __future__ import annotations

from datetime import date
from typing import Any

from eventsourcing.persistence import Transcoding

from inventory.domain.values import Lot, Restriction


class DateAsISO(Transcoding):
    type = date
    name = "date_iso"

    def encode(self, obj: date) -> str:
        return obj.isoformat()

    def decode(self, data: str) -> date:
        return date.fromisoformat(data)


class LotAsDict(Transcoding):
    type = Lot
    name = "lot"

    def encode(self, obj: Lot) -> dict[str, Any]:
        return {
            "code": obj.code,
            "quantity": obj.quantity,
            "expires_on": obj.expires_on,
            "funding_source": obj.funding_source,
            "last_moved_at": obj.last_moved_at,
            "counted_at": obj.counted_at,
        }

    def decode(self, data: dict[str, Any]) -> Lot:
        return Lot(**data)


class RestrictionAsDict(Transcoding):
    type = Restriction
    name = "restriction"

    def encode(self, obj: Restriction) -> dict[str, Any]:
        return {"category": obj.category, "starts_on": obj.starts_on, "ends_on": obj.ends_on}

    def decode(self, data: dict[str, Any]) -> Restriction:
        return Restriction(**data)


ALL = (DateAsISO, LotAsDict, RestrictionAsDict)
