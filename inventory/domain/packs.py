"""Units of measure: the packs an item comes in (a box of 100, a case of 24 kits) and what a quantity entered
in one of them is in units of issue, the one measure stock is kept in."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from inventory.domain.errors import InvalidInput

# An item registered with a pack size (before packs had names, and the import template's column) has one
# pack of that size, called this.
FIRST_PACK = "pack"


@dataclass(frozen=True)
class Pack:
    """A pack of `units` units of issue, called `name`: Pack("box", 100)."""

    name: str
    units: int

    def as_dict(self) -> dict[str, Any]:
        """As events and read models keep it: {"name": "box", "units": 100}."""
        return {"name": self.name, "units": self.units}

    def is_named(self, name: str) -> bool:
        """Whether `name` names this pack (the case it is typed in does not matter)."""
        return self.name.casefold() == name.strip().casefold()


def packs_from(rows: Iterable[Mapping[str, Any]]) -> list[Pack]:
    """Packs from what events and read models keep ({"name", "units"} each)."""
    return [Pack(str(row["name"]), int(row["units"])) for row in rows]


def registered_packs(pack_size: int) -> list[Pack]:
    """The packs of an item as registered: one pack of `pack_size` units, none when it is sold singly."""
    return [Pack(FIRST_PACK, pack_size)] if pack_size > 1 else []


def word_for(quantity: int, word: str) -> str:
    """A unit or pack name for `quantity` of it: kit, kits, boxes, syringes."""
    if abs(quantity) == 1 or word.endswith("s"):
        return word
    return f"{word}es" if word.endswith(("x", "ch", "sh")) else f"{word}s"


def counted(quantity: int, word: str) -> str:
    """'1 kit', '300 syringes', '3 boxes'."""
    return f"{quantity:,} {word_for(quantity, word)}"


def pack_words(pack: Pack, quantity: int = 1) -> str:
    """'box of 100', 'boxes of 100'."""
    return f"{word_for(quantity, pack.name)} of {pack.units:,}"


def find_pack(name: str, packs: Sequence[Pack]) -> Pack | None:
    """The pack called `name`, if the item comes in one."""
    return next((pack for pack in packs if pack.is_named(name)), None)


def in_units(quantity: int, pack: str | None, packs: Sequence[Pack], unit: str, *, field: str = "pack") -> int:
    """A quantity entered in `pack` (none: in units of issue) as units of issue: 3 boxes of 100 are 300.

    A pack the item does not come in is refused, saying the ones it does."""
    if pack is None or not pack.strip() or pack.strip().casefold() == unit.casefold():
        return quantity
    found = find_pack(pack, packs)
    if found is None:
        raise InvalidInput(not_a_pack(pack, packs, unit), field=field)
    return quantity * found.units


def not_a_pack(pack: str, packs: Sequence[Pack], unit: str) -> str:
    """Why a quantity in `pack` cannot be taken, and what to enter instead."""
    named = f"There is no pack called {pack.strip()!r} for this item"
    if not packs:
        return f"{named}: it has no packs, so enter the quantity in {word_for(2, unit)}."
    known = " or ".join(f"{pack_words(one, 2)} ({one.name!r})" for one in packs)
    return f"{named}: it comes in {known}. Enter the quantity in one of those, or in {word_for(2, unit)}."


def in_words(quantity: int, pack: str | None, packs: Sequence[Pack], unit: str) -> str:
    """'3 boxes of 100 (300 syringes)' for a quantity entered in a pack; '300 syringes' in units."""
    found = find_pack(pack, packs) if pack else None
    if found is None:
        return counted(quantity, unit)
    return f"{quantity:,} {pack_words(found, quantity)} ({counted(quantity * found.units, unit)})"


def doses_words(doses_per_unit: int, unit: str) -> str:
    """'2 doses a kit'."""
    return f"{counted(doses_per_unit, 'dose')} a {unit}"


def units_in_words(packs: Iterable[Mapping[str, Any]], doses_per_unit: int | None, unit: str = "unit") -> str:
    """An item's packs and doses as a list shows them: 'box of 100 · case of 1,000 · 2 doses a kit';
    'sold singly' for an item with neither."""
    parts = [pack_words(pack) for pack in packs_from(packs)]
    if doses_per_unit is not None:
        parts.append(doses_words(doses_per_unit, unit))
    return " · ".join(parts) or "sold singly"
