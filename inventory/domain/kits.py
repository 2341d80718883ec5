"""Kits assembled from components: a recipe (what goes into one kit, from a date), and how N kits made from
the component lots first-expiry-first-out become kit lots that remember, part by part, the lots and funders
they came from.

A kit lot holds kits that are all made the same way: when the parts of the N kits came from more than one
lot (the first six naloxone kits from lot A, the other four from lot B), the kits are split into one kit lot
per make-up, so a kit handed out says exactly which lots and funders are in it, to the unit, and each kit
lot expires when the first of its own parts does.
"""

from __future__ import annotations

from datetime import date
from typing import Any
from uuid import NAMESPACE_URL, UUID, uuid5

from eventsourcing.domain import Aggregate, event

from inventory.domain.errors import InvalidInput


def recipe_id(kit_sku: str) -> UUID:
    return uuid5(NAMESPACE_URL, f"/kit-recipes/{kit_sku}")


class KitRecipe(Aggregate):
    """What goes into one kit of `kit_sku`, version by version: each applies from its own date."""

    @staticmethod
    def create_id(kit_sku: str, **_: Any) -> UUID:
        return recipe_id(kit_sku)

    class Started(Aggregate.Created):
        kit_sku: str
        actor: str

    class Set(Aggregate.Event):
        """From `effective_from` on, one kit holds `components` ({"sku", "quantity"} each)."""

        components: list[dict[str, Any]]
        effective_from: date
        actor: str

    @event(Started)
    def __init__(self, kit_sku: str, actor: str) -> None:
        self.kit_sku = kit_sku
        self.versions: list[dict[str, Any]] = []

    @event(Set)
    def set_components(self, components: list[dict[str, Any]], effective_from: date, actor: str) -> None:
        # A version from the same day replaces it; versions stay in date order.
        self.versions = [v for v in self.versions if v["effective_from"] != effective_from]
        self.versions.append({"components": [dict(c) for c in components], "effective_from": effective_from})
        self.versions.sort(key=lambda version: version["effective_from"])

    def on(self, day: date) -> list[dict[str, Any]]:
        """The components of one kit on `day`; refused in words when no version applies yet."""
        found = [version for version in self.versions if version["effective_from"] <= day]
        if not found:
            first = self.versions[0]["effective_from"] if self.versions else None
            since = f" (its first applies from {first.isoformat()})" if first else ""
            raise InvalidInput(f"No recipe for {self.kit_sku} applies on {day.isoformat()}{since}.", field="kit")
        return [dict(component) for component in found[-1]["components"]]


def kit_lots(kits: int, recipe: list[dict[str, Any]], picks: dict[str, list[dict[str, Any]]]) -> list[dict[str, Any]]:
    """Split `kits` kits into kit lots of one make-up each.

    `picks` are, per component SKU, the lots taken for all the kits (first expiry first, as planned by the
    component's ledger: `quantity` times `kits` units in all). Returns kit lots in order, each
    {"quantity": kits in it, "expires_on": its earliest part's expiry (None if no part expires),
    "components": [{"sku", "lot", "quantity" (per kit), "expires_on", "funding_source"}]}."""
    queues = {sku: [dict(pick) for pick in rows] for sku, rows in picks.items()}
    made: list[dict[str, Any]] = []
    for _ in range(kits):
        parts: list[dict[str, Any]] = []
        for component in recipe:
            wanted = component["quantity"]
            queue = queues[component["sku"]]
            while wanted:
                head = queue[0]
                take = min(wanted, head["quantity"])
                parts.append({"sku": component["sku"], "lot": head["lot"], "quantity": take,
                              "expires_on": head["expires_on"], "funding_source": head["funding_source"]})  # fmt: skip
                head["quantity"] -= take
                wanted -= take
                if head["quantity"] == 0:
                    queue.pop(0)
        if made and made[-1]["components"] == parts:
            made[-1]["quantity"] += 1
        else:
            expiries = [part["expires_on"] for part in parts if part["expires_on"] is not None]
            made.append({"quantity": 1, "expires_on": min(expiries) if expiries else None, "components": parts})
    return made
