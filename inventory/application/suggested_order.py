"""How much to order to bring a site back to its par level: a pure calculation, shown with its figures."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Suggestion:
    """A suggested order quantity and the figures it came from."""

    par_level: int
    on_hand: int
    on_order: int
    in_transit: int
    pack_size: int
    # par level - on hand - on order - in transit, never below zero.
    shortfall: int
    # The shortfall rounded up to whole packs.
    quantity: int

    @property
    def packs(self) -> int:
        """How many packs the suggested quantity is."""
        return self.quantity // self.pack_size


def suggest_quantity(*, par_level: int, on_hand: int, on_order: int, in_transit: int, pack_size: int) -> Suggestion:
    """par level - on hand - on order - in transit, rounded UP to the item's pack size, never below zero.

    On hand below zero (a backdated issue entered before its receipt: a data-quality warning, not stock
    owed to anyone) counts as zero: the shelf cannot hold less than nothing, and ordering the "debt"
    would overstock the site once the missing receipt is entered.
    """
    for name, value in (("par_level", par_level), ("on_order", on_order), ("in_transit", in_transit)):
        if value < 0:
            raise ValueError(f"{name} must be 0 or more (got {value}).")
    if pack_size < 1:
        raise ValueError(f"pack_size must be 1 or more (got {pack_size}).")
    held = max(on_hand, 0)
    shortfall = max(par_level - held - on_order - in_transit, 0)
    packs = -(-shortfall // pack_size)  # ceiling division on integers: no float rounding
    return Suggestion(
        par_level=par_level,
        on_hand=on_hand,
        on_order=on_order,
        in_transit=in_transit,
        pack_size=pack_size,
        shortfall=shortfall,
        quantity=packs * pack_size,
    )
