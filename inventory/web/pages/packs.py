"""Quantities entered in packs on the stock pages: the small "in" choice beside a quantity (the unit of issue,
or one of the item's packs), what the quantity is in units, and how it is said back."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from wtforms import Field, SelectField

from inventory.domain.errors import InvalidInput
from inventory.domain.packs import in_units, in_words, pack_words, packs_from, word_for
from inventory.web.pages.movements import item_label, option

# The choice's value for a quantity in units of issue (what a browser sends when the choice is not shown).
IN_UNITS = ""


def pack_field() -> SelectField:
    """The "in" choice; any value is read, and one the item does not come in is refused beside it, in words."""
    return SelectField("In", default=IN_UNITS, validate_choice=False)


def has_packs(item: Mapping[str, Any] | None) -> bool:
    return bool(item and item.get("packs"))


def pack_choices(item: Mapping[str, Any] | None) -> list[Any]:
    """One item's choices: its unit of issue (the default), then each of its packs ("boxes of 100")."""
    unit = str(item["unit"]) if item else "unit"
    packs = packs_from(item.get("packs") or []) if item else []
    return [option(IN_UNITS, word_for(2, unit))] + [option(pack.name, pack_words(pack, 2)) for pack in packs]


def packs_of_items(items: Mapping[str, Mapping[str, Any]]) -> list[Any]:
    """The choices beside a quantity whose item is chosen on the same form: units, then every item's packs,
    grouped by item (each option says its item's SKU, so the page can offer only the chosen item's)."""
    return [option(IN_UNITS, "units of issue")] + [
        option(pack.name, pack_words(pack, 2), item_label(item, sku), data_sku=sku)
        for sku, item in items.items()
        for pack in packs_from(item.get("packs") or [])
    ]


def units_entered(quantity: Field, pack: Field, item: Mapping[str, Any] | None) -> int | None:
    """The quantity typed, in units of issue; None when none was typed, or (said beside the choice) when
    the item does not come in the pack chosen."""
    if quantity.data is None:
        return None
    if not pack.data:
        return int(quantity.data)
    try:
        return in_units(
            int(quantity.data),
            str(pack.data),
            packs_from((item or {}).get("packs") or []),
            str((item or {}).get("unit") or "unit"),
        )
    except InvalidInput as refused:
        pack.errors = [*pack.errors, refused.message]
        return None


def entered_in_words(quantity: int, pack: str | None, item: Mapping[str, Any] | None) -> str:
    """'3 boxes of 100 (300 syringes)' when entered in a pack; '300 syringes' when in units."""
    packs = packs_from((item or {}).get("packs") or [])
    return in_words(quantity, pack, packs, str((item or {}).get("unit") or "unit"))


def any_packs(items: Iterable[Mapping[str, Any]]) -> bool:
    """Whether any of these items comes in packs (else the choice is not shown at all)."""
    return any(has_packs(item) for item in items)
