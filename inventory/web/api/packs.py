"""API v1: a quantity sent in one of the item's packs ("pack": "box") is recorded in units of issue."""

from __future__ import annotations

from typing import Any

from inventory.domain.errors import UnknownItem
from inventory.domain.packs import in_units, packs_from
from inventory.domain.text import clean_code
from inventory.projections import queries
from inventory.web.services import services


def in_units_of_issue(row: dict[str, Any], *, quantity: str = "quantity", prefix: str = "") -> dict[str, Any]:
    """The request (or one of its lines) without its `pack`, its quantity in units of issue; a pack the item
    does not come in is refused (422), naming the ones it does."""
    found = dict(row)
    pack = found.pop("pack", None)
    if pack is None or found.get(quantity) is None:
        return found
    sku = clean_code(found.get("sku"), f"{prefix}sku")
    item = next((item for item in queries.items(services().store) if item["sku"] == sku), None)
    if item is None:
        raise UnknownItem(f"There is no item with SKU {sku}.", field=f"{prefix}sku")
    found[quantity] = in_units(
        int(found[quantity]), pack, packs_from(item["packs"]), item["unit"], field=f"{prefix}pack"
    )
    return found


def lines_in_units(body: dict[str, Any], key: str = "lines") -> dict[str, Any]:
    """The request with each of its lines in units of issue."""
    return {**body, key: [in_units_of_issue(line, prefix=f"{key}[{i}].") for i, line in enumerate(body[key])]}
