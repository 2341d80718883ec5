"""Verbs for kits: the recipe of a kit (versioned by the day it applies from), assembling kits at a site from
its component lots (first expiry first, each part's funder checked against its rules on the day) and taking
kits apart again."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any
from uuid import uuid4

from inventory.application import rules as check
from inventory.application.core import InventoryCore
from inventory.domain import StockLedger, ledger_id
from inventory.domain.errors import FundingRestricted, InvalidInput, NotFound
from inventory.domain.kits import KitRecipe, kit_lots, recipe_id
from inventory.domain.text import clean_code, clean_lot
from inventory.domain.time_words import day_in_words
from inventory.domain.values import Category

MAX_PARTS = 20  # kinds of part in one kit
MAX_PER_KIT = 1000  # units of one part in one kit
MAX_KITS = 5000  # kits in one assembly


def recipe_view(recipe: KitRecipe) -> dict[str, Any]:
    return {
        "kit_sku": recipe.kit_sku,
        "versions": [
            {"effective_from": version["effective_from"], "components": [dict(c) for c in version["components"]]}
            for version in recipe.versions
        ],
    }


class KitVerbs(InventoryCore):
    """Kit recipes, assembly and taking kits apart."""

    def set_kit_recipe(
        self, *, kit_sku: str, components: list[dict[str, Any]], effective_from: date | str, actor: str
    ) -> dict[str, Any]:
        """What one kit holds from `effective_from` on (a version from the same day replaces it)."""
        kit = self._item(kit_sku, field="kit")
        if kit.category != Category.KIT:
            raise InvalidInput(
                f"{kit.sku} is not a kit: only an item of the category Kits is assembled from others.", field="kit"
            )
        day = check.a_date(effective_from, "effective_from")
        if day is None:
            raise InvalidInput("Enter the day the recipe applies from.", field="effective_from")
        if not components:
            raise InvalidInput("A kit holds at least one part.", field="components")
        if len(components) > MAX_PARTS:
            raise InvalidInput(f"A kit holds at most {MAX_PARTS} kinds of part.", field="components")
        parts: list[dict[str, Any]] = []
        for index, row in enumerate(components):
            where = f"components[{index}]"
            part = self._item(clean_code(row.get("sku"), f"{where}.sku"), field=f"{where}.sku")
            if part.sku == kit.sku or part.category == Category.KIT:
                raise InvalidInput(f"A kit's parts are items, not kits ({part.sku}).", field=f"{where}.sku")
            if any(existing["sku"] == part.sku for existing in parts):
                raise InvalidInput(f"{part.sku} is listed twice: give its quantity once.", field=f"{where}.sku")
            quantity = row.get("quantity")
            if isinstance(quantity, bool) or not isinstance(quantity, int) or not 1 <= quantity <= MAX_PER_KIT:
                raise InvalidInput(
                    f"How many {part.unit} go in one kit: 1 to {MAX_PER_KIT}.", field=f"{where}.quantity"
                )
            parts.append({"sku": part.sku, "quantity": quantity})

        def attempt() -> dict[str, Any]:
            recipe = self._get(KitRecipe, recipe_id(kit.sku)) or KitRecipe(kit_sku=kit.sku, actor=actor)
            recipe.set_components(components=parts, effective_from=day, actor=actor)
            self.save(recipe)
            return recipe_view(recipe)

        return self._retrying([recipe_id(kit.sku)], attempt)

    def kit_recipe(self, kit_sku: str) -> dict[str, Any]:
        recipe = self._get(KitRecipe, recipe_id(clean_code(kit_sku, "kit")))
        if recipe is None:
            raise NotFound(f"{kit_sku} has no recipe yet.", field="kit")
        return recipe_view(recipe)

    def assemble_kits(
        self,
        *,
        site: str,
        kit_sku: str,
        quantity: int,
        actor: str,
        lot: str | None = None,
        occurred_at: datetime | None = None,
    ) -> dict[str, Any]:
        """Assemble kits at a site: each part is taken from its lots first expiry first; a part whose lot a
        funder paid for that its rules forbid on the day is refused, naming the lot. The kits go into kit lots
        of one make-up each (inventory.domain.kits), named `lot`, or `lot`-1, `lot`-2 … when they differ."""
        moment = check.when(occurred_at, zone=self.zone)
        day = self.business_day(moment)
        count = check.QUANTITY.check(quantity, "quantity")
        if count > MAX_KITS:
            raise InvalidInput(f"Assemble at most {MAX_KITS:,} kits at a time.", field="quantity")
        place, kit = self._site(site), self._item(kit_sku, field="kit")
        recipe = self._get(KitRecipe, recipe_id(kit.sku))
        if recipe is None:
            raise InvalidInput(f"{kit.sku} has no recipe: set what goes into one kit first.", field="kit")
        parts = recipe.on(day)
        items = {part["sku"]: self._item(part["sku"], must_be_active=False) for part in parts}
        base = clean_lot(lot) if lot else f"K{day:%y%m%d}"
        ids = [ledger_id(place.code, kit.sku), *(ledger_id(place.code, sku) for sku in items)]

        def attempt() -> dict[str, Any]:
            ledgers = {sku: self._stocked_ledger(place, items[sku], "quantity") for sku in items}
            picks = {}
            for part in parts:
                sku = part["sku"]
                picks[sku] = ledgers[sku].plan_issue(part["quantity"] * count, day, at=moment, zone=self.zone)
                for pick in picks[sku]:
                    self._check_part_funding(pick, items[sku].category, sku, day)
            made = kit_lots(count, parts, picks)
            kit_ledger = self._open_ledger(place, kit)
            codes = _codes(base or f"K{day:%y%m%d}", len(made), set(kit_ledger.lots))
            rows = [dict(row, lot=code, funding_source=None) for row, code in zip(made, codes, strict=True)]
            assembly = uuid4()
            for sku, ledger in ledgers.items():
                ledger.use_in_kits(assembly_id=assembly, kit_sku=kit.sku, picks=picks[sku], actor=actor,
                                   occurred_at=moment, zone=self.zone)  # fmt: skip
            kit_ledger.assemble(assembly_id=assembly, lots=rows, actor=actor, occurred_at=moment, zone=self.zone)
            self.save(kit_ledger, *ledgers.values())
            return {"site": place.code, "kit_sku": kit.sku, "quantity": count, "lots": rows}

        return self._retrying(ids, attempt)

    def take_apart_kits(
        self, *, site: str, kit_sku: str, lot: str, quantity: int, actor: str, occurred_at: datetime | None = None
    ) -> dict[str, Any]:
        """Take kits apart: their parts go back into the lots they came from."""
        moment = check.when(occurred_at, zone=self.zone)
        place, kit = self._site(site), self._item(kit_sku, field="kit")
        code = clean_lot(lot) or ""
        count = check.QUANTITY.check(quantity, "quantity")
        first = self._stocked_ledger(place, kit, "lot")
        parts = first.parts_of_kits().get(code, [])
        ids = [ledger_id(place.code, kit.sku), *sorted({ledger_id(place.code, part["sku"]) for part in parts}, key=str)]

        def attempt() -> dict[str, Any]:
            kit_ledger = self._stocked_ledger(place, kit, "lot")
            back = kit_ledger.take_apart(lot=code, quantity=count, actor=actor, occurred_at=moment, zone=self.zone)
            changed: list[StockLedger] = [kit_ledger]
            for sku in sorted({part["sku"] for part in back}):
                ledger = self._stocked_ledger(place, self._item(sku, must_be_active=False), "lot")
                rows = [{k: part[k] for k in ("lot", "quantity", "expires_on", "funding_source")}
                        for part in back if part["sku"] == sku]  # fmt: skip
                ledger.back_from_kits(kit_sku=kit.sku, lots=rows, actor=actor, occurred_at=moment, zone=self.zone)
                changed.append(ledger)
            self.save(*changed)
            return {"site": place.code, "kit_sku": kit.sku, "lot": code, "quantity": count, "parts": back}

        return self._retrying(ids, attempt)

    def _check_part_funding(self, pick: dict[str, Any], category: str, sku: str, day: date) -> None:
        """A part goes into a kit only if the funder that paid for its lot may pay for such items that day."""
        if not pick["funding_source"]:
            return
        source = self._funding(pick["funding_source"])
        rule = source.restriction_on(category, day)
        if rule is not None:
            raise FundingRestricted(
                f"Lot {pick['lot']} of {sku} was paid for by {source.code}, which may not pay for {category} items "
                f"on {day_in_words(day)} ({rule.describe()}): it cannot go into a kit. Use a lot another funder "
                "paid for (hold this one, or receive one), or change the recipe.",
                field="quantity",
            )


def _codes(base: str, count: int, taken: set[str]) -> list[str]:
    """Lot codes for `count` new kit lots: `base` for one, else `base`-1 … ; never one the ledger has."""
    if count == 1 and base not in taken:
        return [base]
    found: list[str] = []
    number = 1
    while len(found) < count:
        code = f"{base}-{number}"
        if code not in taken:
            found.append(code)
        number += 1
    return found
