"""Reference data: items, sites and funding sources, each named by its natural key."""

from __future__ import annotations

from datetime import date
from typing import Any
from uuid import NAMESPACE_URL, UUID, uuid5

from eventsourcing.domain import Aggregate, event

from inventory.domain.packs import Pack, packs_from, registered_packs
from inventory.domain.values import Restriction


class Item(Aggregate):
    """A stocked product, named by SKU."""

    @staticmethod
    def create_id(sku: str, **_: Any) -> UUID:
        return uuid5(NAMESPACE_URL, f"/items/{sku}")

    class Registered(Aggregate.Created):
        sku: str
        name: str
        category: str
        unit: str
        tracks_expiry: bool
        pack_size: int
        actor: str

    class Retired(Aggregate.Event):
        actor: str

    class UnitsChanged(Aggregate.Event):
        """The packs it comes in ({"name", "units"} each, the supplier's first) and the doses in one unit."""

        packs: list[dict[str, Any]]
        doses_per_unit: int | None
        actor: str

    @event(Registered)
    def __init__(
        self,
        sku: str,
        name: str,
        category: str,
        unit: str,
        tracks_expiry: bool,
        pack_size: int,
        actor: str,
    ) -> None:
        self.sku = sku
        self.name = name
        self.category = category
        self.unit = unit
        self.tracks_expiry = tracks_expiry
        # Registered events carry a pack size only: it is the item's one pack (release 0.1.0 logs included).
        self.packs: list[Pack] = registered_packs(pack_size)
        # None: not counted in doses.
        self.doses_per_unit: int | None = None
        self.retired = False

    @property
    def pack_size(self) -> int:
        """The pack the supplier sells (the first), in units; 1 when the item has no packs."""
        return self.packs[0].units if self.packs else 1

    @event(Retired)
    def retire(self, actor: str) -> None:
        self.retired = True

    @event(UnitsChanged)
    def change_units(self, packs: list[dict[str, Any]], doses_per_unit: int | None, actor: str) -> None:
        self.packs = packs_from(packs)
        self.doses_per_unit = doses_per_unit


class Site(Aggregate):
    """A place that holds stock: a warehouse, a fixed site or a mobile van."""

    @staticmethod
    def create_id(code: str, **_: Any) -> UUID:
        return uuid5(NAMESPACE_URL, f"/sites/{code}")

    class Registered(Aggregate.Created):
        code: str
        name: str
        kind: str
        actor: str

    class StockLevelSet(Aggregate.Event):
        sku: str
        reorder_point: int
        par_level: int
        lead_time_days: int
        actor: str

    class Closed(Aggregate.Event):
        actor: str

    class Reopened(Aggregate.Event):
        actor: str

    @event(Registered)
    def __init__(self, code: str, name: str, kind: str, actor: str) -> None:
        self.code = code
        self.name = name
        self.kind = kind
        self.is_open = True
        self.levels: dict[str, dict[str, int]] = {}

    @event(StockLevelSet)
    def set_level(self, sku: str, reorder_point: int, par_level: int, lead_time_days: int, actor: str) -> None:
        self.levels[sku] = {
            "reorder_point": reorder_point,
            "par_level": par_level,
            "lead_time_days": lead_time_days,
        }

    @event(Closed)
    def close(self, actor: str) -> None:
        self.is_open = False

    @event(Reopened)
    def reopen(self, actor: str) -> None:
        self.is_open = True


class FundingSource(Aggregate):
    """Who paid for stock, with the categories its rules forbid it to buy."""

    @staticmethod
    def create_id(code: str, **_: Any) -> UUID:
        return uuid5(NAMESPACE_URL, f"/funding-sources/{code}")

    class Registered(Aggregate.Created):
        code: str
        name: str
        federal: bool
        restrictions: list[Restriction]
        actor: str

    class RestrictionsChanged(Aggregate.Event):
        restrictions: list[Restriction]
        actor: str

    @event(Registered)
    def __init__(
        self,
        code: str,
        name: str,
        federal: bool,
        restrictions: list[Restriction],
        actor: str,
    ) -> None:
        self.code = code
        self.name = name
        self.federal = federal
        self.restrictions = list(restrictions)

    @event(RestrictionsChanged)
    def change_restrictions(self, restrictions: list[Restriction], actor: str) -> None:
        self.restrictions = list(restrictions)

    def restriction_on(self, category: str, day: date) -> Restriction | None:
        """The rule that forbids buying `category` on `day`, if any."""
        for rule in self.restrictions:
            if rule.covers(category, day):
                return rule
        return None


class RecipientType(Aggregate):
    """A kind of recipient an admin added to the built-in list (inventory.domain.reach.RECIPIENTS)."""

    @staticmethod
    def create_id(code: str, **_: Any) -> UUID:
        return uuid5(NAMESPACE_URL, f"/recipient-types/{code}")

    class Registered(Aggregate.Created):
        code: str
        name: str
        actor: str

    class Retired(Aggregate.Event):
        actor: str

    @event(Registered)
    def __init__(self, code: str, name: str, actor: str) -> None:
        self.code = code
        self.name = name
        self.retired = False

    @event(Retired)
    def retire(self, actor: str) -> None:
        self.retired = True
