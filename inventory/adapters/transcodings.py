"""How values that JSON lacks (dates, lots, restrictions) are stored in events and snapshots."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

from eventsourcing.persistence import Transcoding

from inventory.domain.holds import Hold
from inventory.domain.lot_history import Entry
from inventory.domain.values import Lot, Restriction

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
MICROSECOND = timedelta(microseconds=1)


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
            # Compact: [when (microseconds since 1970), ref, delta, counted or None, source, kind] per entry.
            "history": [
                [(entry.at - EPOCH) // MICROSECOND, entry.ref, entry.delta, entry.counted, entry.source, entry.kind]
                for entry in obj.entries
            ],
            "history_from": obj.history_from,
            "held": None
            if obj.held is None
            else {"reason": obj.held.reason, "since": obj.held.since, "recall": obj.held.recall},
        }

    def decode(self, data: dict[str, Any]) -> Lot:
        history = data.get("history")
        return Lot(
            code=data["code"],
            quantity=data["quantity"],
            expires_on=data["expires_on"],
            funding_source=data["funding_source"],
            # A snapshot from before release 0.3.0 has no history: the application replays the ledger.
            history=None
            if history is None
            else [
                Entry(EPOCH + at * MICROSECOND, ref, delta, counted, source, kind)
                for at, ref, delta, counted, source, kind in history
            ],
            history_from=data.get("history_from"),
            held=None if data.get("held") is None else Hold(**data["held"]),
        )


class RestrictionAsDict(Transcoding):
    type = Restriction
    name = "restriction"

    def encode(self, obj: Restriction) -> dict[str, Any]:
        return {"category": obj.category, "starts_on": obj.starts_on, "ends_on": obj.ends_on}

    def decode(self, data: dict[str, Any]) -> Restriction:
        return Restriction(**data)


ALL = (DateAsISO, LotAsDict, RestrictionAsDict)
