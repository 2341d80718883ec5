"""Kits alone: a recipe versioned by its date; N kits made across two lots of a part (different funders and
expiries) become one kit lot per make-up, each expiring with its earliest part; the ledger remembers what one
kit of each lot holds, and taking kits apart gives the parts back to their own lots."""

from __future__ import annotations

from datetime import UTC, date, datetime
from uuid import uuid4

import pytest

from inventory.domain.errors import InvalidInput
from inventory.domain.kits import KitRecipe, kit_lots
from inventory.domain.ledger import StockLedger

NOW = datetime(2026, 3, 1, 18, 30, tzinfo=UTC)
WHO = "coordinator@example.org"
RECIPE = [{"sku": "NALOX-4MG", "quantity": 1}, {"sku": "SYR-1ML", "quantity": 10}]


def test_a_recipe_applies_from_its_date_and_a_later_version_replaces_it_from_its_own() -> None:
    recipe = KitRecipe(kit_sku="KIT-SAFER", actor=WHO)
    recipe.set_components(components=RECIPE, effective_from=date(2026, 1, 1), actor=WHO)
    recipe.set_components(components=[{"sku": "SYR-1ML", "quantity": 5}], effective_from=date(2026, 6, 1), actor=WHO)
    assert recipe.on(date(2026, 3, 1)) == RECIPE
    assert recipe.on(date(2026, 6, 1)) == [{"sku": "SYR-1ML", "quantity": 5}]
    with pytest.raises(InvalidInput, match="No recipe for KIT-SAFER applies on 2025-12-31"):
        recipe.on(date(2025, 12, 31))


def test_kits_across_two_lots_of_a_part_are_split_by_make_up_and_expire_with_their_first_part() -> None:
    naloxone = [
        {"lot": "N-SOON", "quantity": 6, "expires_on": date(2026, 9, 30), "funding_source": "FED"},
        {"lot": "N-LATE", "quantity": 4, "expires_on": date(2027, 6, 30), "funding_source": "STATE"},
    ]
    syringes = [{"lot": "S-1", "quantity": 100, "expires_on": None, "funding_source": "STATE"}]
    made = kit_lots(10, RECIPE, {"NALOX-4MG": naloxone, "SYR-1ML": syringes})
    assert [(lot["quantity"], lot["expires_on"]) for lot in made] == [(6, date(2026, 9, 30)), (4, date(2027, 6, 30))]
    assert made[0]["components"] == [
        {"sku": "NALOX-4MG", "lot": "N-SOON", "quantity": 1, "expires_on": date(2026, 9, 30), "funding_source": "FED"},
        {"sku": "SYR-1ML", "lot": "S-1", "quantity": 10, "expires_on": None, "funding_source": "STATE"},
    ]
    assert made[1]["components"][0]["lot"] == "N-LATE" and made[1]["components"][0]["funding_source"] == "STATE"
    # Every unit taken is in exactly one kit.
    assert sum(lot["quantity"] * part["quantity"] for lot in made for part in lot["components"]) == 10 + 100


def test_a_kit_whose_part_spans_two_lots_has_both_in_its_make_up() -> None:
    syringes = [
        {"lot": "S-A", "quantity": 15, "expires_on": None, "funding_source": "STATE"},
        {"lot": "S-B", "quantity": 5, "expires_on": None, "funding_source": "STATE"},
    ]
    made = kit_lots(2, [{"sku": "SYR-1ML", "quantity": 10}], {"SYR-1ML": syringes})
    assert [[(p["lot"], p["quantity"]) for p in lot["components"]] for lot in made] == [
        [("S-A", 10)],
        [("S-A", 5), ("S-B", 5)],
    ]


def test_the_kit_ledger_remembers_each_lots_parts_and_taking_kits_apart_gives_them_back() -> None:
    parts = StockLedger("VAN-1", "SYR-1ML", "syringe", False)
    parts.receive(lot="S-1", quantity=100, expires_on=None, funding_source="STATE", unit_cost=None,
                  purchase_order=None, reference=None, actor=WHO, occurred_at=NOW)  # fmt: skip
    assembly = uuid4()
    picks = parts.plan_issue(30, NOW.date())
    parts.use_in_kits(assembly_id=assembly, kit_sku="KIT-SAFER", picks=picks, actor=WHO, occurred_at=NOW)
    assert parts.lots["S-1"].quantity == 70

    kits = StockLedger("VAN-1", "KIT-SAFER", "kit", False)
    made = kit_lots(3, [{"sku": "SYR-1ML", "quantity": 10}], {"SYR-1ML": picks})
    kits.assemble(assembly_id=assembly, lots=[dict(made[0], lot="K-1", funding_source=None)], actor=WHO,
                  occurred_at=NOW)  # fmt: skip
    assert kits.lots["K-1"].quantity == 3
    assert kits.parts_of_kits()["K-1"] == [
        {"sku": "SYR-1ML", "lot": "S-1", "quantity": 10, "expires_on": None, "funding_source": "STATE"}
    ]
    with pytest.raises(InvalidInput, match="exists already"):
        kits.assemble(assembly_id=uuid4(), lots=[dict(made[0], lot="K-1", funding_source=None)], actor=WHO,
                      occurred_at=NOW)  # fmt: skip

    back = kits.take_apart(lot="K-1", quantity=2, actor=WHO, occurred_at=NOW)
    assert back == [{"sku": "SYR-1ML", "lot": "S-1", "quantity": 20, "expires_on": None, "funding_source": "STATE"}]
    parts.back_from_kits(kit_sku="KIT-SAFER", lots=[{k: back[0][k] for k in ("lot", "quantity", "expires_on",
                         "funding_source")}], actor=WHO, occurred_at=NOW)  # fmt: skip
    assert kits.lots["K-1"].quantity == 1 and parts.lots["S-1"].quantity == 90
    # A kit ledger rebuilt from its events knows the same.
    replayed = None
    for event in kits.collect_events():
        replayed = event.mutate(replayed)
    assert replayed is not None and replayed.parts_of_kits() == kits.parts_of_kits()
