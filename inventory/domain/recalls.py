"""Recalls: a manufacturer says stop using a lot it made. The recall names the maker's lot number; the
program's lots received under it are held at every site at once, and stay held wherever they turn up
(a transfer on its way, a parcel back) until each unit is written off, returned or destroyed."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import NAMESPACE_URL, UUID, uuid5

from eventsourcing.domain import Aggregate, event

from inventory.domain.errors import InvalidState


def recall_key(manufacturer: str, manufacturer_lot: str) -> str:
    """How a maker's lot is matched: case and spacing do not make another lot."""
    return f"{' '.join(manufacturer.split()).casefold()}/{''.join(manufacturer_lot.split()).casefold()}"


def recall_id(manufacturer: str, manufacturer_lot: str) -> UUID:
    """One recall per maker's lot: announcing it twice is the same recall."""
    return uuid5(NAMESPACE_URL, f"/recalls/{recall_key(manufacturer, manufacturer_lot)}")


class Recall(Aggregate):
    """One maker's lot recalled. `lots` are the program's lots it covers ({"sku", "lot"}), found from the
    receipts that recorded the maker's lot number; `notice` is the maker's or regulator's reference."""

    @staticmethod
    def create_id(manufacturer: str, manufacturer_lot: str, **_: Any) -> UUID:
        return recall_id(manufacturer, manufacturer_lot)

    class Announced(Aggregate.Created):
        manufacturer: str
        manufacturer_lot: str
        notice: str
        lots: list[dict[str, Any]]
        actor: str
        occurred_at: datetime

    class LotCovered(Aggregate.Event):
        """Another lot of the program's found under the maker's lot (a receipt recorded after the recall)."""

        sku: str
        lot: str
        actor: str
        occurred_at: datetime

    class Closed(Aggregate.Event):
        """Every unit is accounted for; the recall stops holding lots that turn up."""

        actor: str
        occurred_at: datetime

    @event(Announced)
    def __init__(
        self,
        manufacturer: str,
        manufacturer_lot: str,
        notice: str,
        lots: list[dict[str, Any]],
        actor: str,
        occurred_at: datetime,
    ) -> None:
        self.manufacturer = manufacturer
        self.manufacturer_lot = manufacturer_lot
        self.notice = notice
        self.lots = [dict(lot) for lot in lots]
        self.announced_at = occurred_at
        self.closed = False

    @event(LotCovered)
    def cover(self, sku: str, lot: str, actor: str, occurred_at: datetime) -> None:
        self.lots.append({"sku": sku, "lot": lot})

    @event(Closed)
    def _close(self, actor: str, occurred_at: datetime) -> None:
        self.closed = True

    def close(self, *, actor: str, occurred_at: datetime) -> None:
        if self.closed:
            raise InvalidState("This recall is closed already.")
        self._close(actor=actor, occurred_at=occurred_at)

    def covers(self, sku: str, lot: str) -> bool:
        return not self.closed and {"sku": sku, "lot": lot} in self.lots
