"""The suggested order quantity: par level - on hand - on order - in transit, up to whole packs, never below 0."""

from __future__ import annotations

import pytest

from inventory.application.suggested_order import suggest_quantity


@pytest.mark.parametrize(
    ("par_level", "on_hand", "on_order", "in_transit", "pack_size", "shortfall", "quantity"),
    [
        # 100 - 30 - 0 - 0 = 70, already a whole number of single units.
        (100, 30, 0, 0, 1, 70, 70),
        # 100 - 30 - 20 - 10 = 40; boxes of 12: 4 boxes (48), not 3 (36).
        (100, 30, 20, 10, 12, 40, 48),
        # 48 short with boxes of 12: exactly 4 boxes, no extra one.
        (60, 12, 0, 0, 12, 48, 48),
        # 1 short of par with cases of 100: a whole case.
        (500, 499, 0, 0, 100, 1, 100),
        # At par: nothing to order.
        (100, 60, 30, 10, 10, 0, 0),
        # Over par (a big delivery on its way): never a negative order.
        (100, 80, 50, 25, 10, 0, 0),
        # On hand below zero (a data-quality warning) counts as an empty shelf: 40 - 0 - 5 = 35 -> 40.
        (40, -7, 5, 0, 10, 35, 40),
        # No par level to reach (0): nothing.
        (0, 0, 0, 0, 1, 0, 0),
    ],
)
def test_worked_examples(
    par_level: int, on_hand: int, on_order: int, in_transit: int, pack_size: int, shortfall: int, quantity: int
) -> None:
    found = suggest_quantity(
        par_level=par_level, on_hand=on_hand, on_order=on_order, in_transit=in_transit, pack_size=pack_size
    )
    assert (found.shortfall, found.quantity) == (shortfall, quantity)
    assert found.quantity % pack_size == 0 and found.packs * pack_size == found.quantity
    # The figures it came from are kept, to show beside the suggestion.
    assert (found.par_level, found.on_hand, found.on_order, found.in_transit, found.pack_size) == (
        par_level,
        on_hand,
        on_order,
        in_transit,
        pack_size,
    )


@pytest.mark.parametrize(
    "figures",
    [
        {"pack_size": 0},
        {"pack_size": -5},
        {"par_level": -1},
        {"on_order": -1},
        {"in_transit": -3},
    ],
)
def test_impossible_figures_are_refused(figures: dict[str, int]) -> None:
    base = {"par_level": 10, "on_hand": 0, "on_order": 0, "in_transit": 0, "pack_size": 1}
    with pytest.raises(ValueError):
        suggest_quantity(**{**base, **figures})
