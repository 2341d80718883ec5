"""Units of measure: a quantity entered in one of an item's packs is stored in units of issue; a pack the
item does not come in is refused in words; an item registered with a pack size has that pack; the packs
and doses set later replay from their event."""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest
from eventsourcing.domain import Aggregate

from inventory.application import rules
from inventory.domain import Item
from inventory.domain.errors import InvalidInput
from inventory.domain.packs import Pack, in_units, in_words, units_in_words

SYRINGE_PACKS = [Pack("box", 100), Pack("case", 1_000)]


def syringes(pack_size: int = 1) -> Item:
    return Item(
        sku="SYR-1ML", name="Syringe 1 mL", category="syringe", unit="syringe", tracks_expiry=False,
        pack_size=pack_size, actor="admin@example.org",
    )  # fmt: skip


def replayed(item: Item) -> Any:
    """The item as its events alone make it."""
    rebuilt = None
    for event in item.collect_events():
        rebuilt = event.mutate(rebuilt)
    return rebuilt


@pytest.mark.parametrize(
    ("quantity", "pack", "units"),
    [(3, "box", 300), (2, "case", 2_000), (1, "Box", 100), (0, "box", 0), (7, None, 7), (7, "", 7), (7, "syringe", 7)],
)
def test_a_quantity_entered_in_a_pack_is_that_many_units_of_issue(quantity: int, pack: str | None, units: int) -> None:
    assert in_units(quantity, pack, SYRINGE_PACKS, "syringe") == units


def test_a_pack_the_item_does_not_come_in_is_refused_naming_the_ones_it_does() -> None:
    with pytest.raises(InvalidInput) as refused:
        in_units(3, "crate", SYRINGE_PACKS, "syringe")
    assert refused.value.field == "pack"
    assert refused.value.message == (
        "There is no pack called 'crate' for this item: it comes in boxes of 100 ('box') or cases of 1,000 ('case'). "
        "Enter the quantity in one of those, or in syringes."
    )
    with pytest.raises(InvalidInput) as single:
        in_units(3, "box", [], "kit", field="lines[0].pack")
    assert single.value.field == "lines[0].pack"
    assert (
        single.value.message
        == "There is no pack called 'box' for this item: it has no packs, so enter the quantity in kits."
    )


def test_what_was_entered_is_said_in_the_pack_and_in_units() -> None:
    assert in_words(3, "box", SYRINGE_PACKS, "syringe") == "3 boxes of 100 (300 syringes)"
    assert in_words(1, "case", SYRINGE_PACKS, "syringe") == "1 case of 1,000 (1,000 syringes)"
    assert in_words(300, None, SYRINGE_PACKS, "syringe") == "300 syringes"
    assert in_words(1, "", [], "kit") == "1 kit"


def test_an_item_registered_with_a_pack_size_comes_in_that_pack_and_one_sold_singly_in_none() -> None:
    boxed = syringes(pack_size=100)
    assert boxed.packs == [Pack("pack", 100)] and boxed.pack_size == 100 and boxed.doses_per_unit is None
    single = syringes()
    assert single.packs == [] and single.pack_size == 1
    # Replayed from its Registered event alone (as every log of an earlier release holds it): the same.
    again = replayed(syringes(pack_size=24))
    assert again.packs == [Pack("pack", 24)] and again.pack_size == 24


def test_the_registered_event_keeps_its_shape() -> None:
    """Logs of earlier releases hold Registered events with a pack size and nothing else about packs."""
    own = {f.name for f in dataclasses.fields(Item.Registered)} - {
        f.name for f in dataclasses.fields(Aggregate.Created)
    }
    assert own == {"sku", "name", "category", "unit", "tracks_expiry", "pack_size", "actor"}


def test_packs_and_doses_set_later_replay_from_their_event_and_the_first_is_the_suppliers() -> None:
    item = syringes(pack_size=10)
    item.change_units(packs=[pack.as_dict() for pack in SYRINGE_PACKS], doses_per_unit=None, actor="admin@example.org")
    assert item.pack_size == 100  # the first pack: the one the supplier sells
    events = item.collect_events()
    changed = events[-1]
    assert isinstance(changed, Item.UnitsChanged)
    assert changed.packs == [{"name": "box", "units": 100}, {"name": "case", "units": 1_000}]
    again: Any = None
    for event in events:
        again = event.mutate(again)
    assert again.packs == SYRINGE_PACKS and again.pack_size == 100 and again.doses_per_unit is None

    kits = Item(sku="NALOX-4MG", name="Naloxone 4 mg", category="naloxone", unit="kit", tracks_expiry=True,
                pack_size=24, actor="admin@example.org")  # fmt: skip
    kits.change_units(packs=[], doses_per_unit=2, actor="admin@example.org")
    rebuilt = replayed(kits)
    assert rebuilt.packs == [] and rebuilt.pack_size == 1 and rebuilt.doses_per_unit == 2


def test_an_items_packs_and_doses_in_words() -> None:
    assert units_in_words([{"name": "case", "units": 24}], 2, "kit") == "case of 24 · 2 doses a kit"
    assert units_in_words([], 1, "kit") == "1 dose a kit"
    assert units_in_words([], None, "kit") == "sold singly"


@pytest.mark.parametrize(
    ("rows", "field", "words"),
    [
        ([{"name": "box", "units": 100}, {"name": "Box", "units": 50}], "packs[1].name", "already a pack called 'Box'"),
        ([{"name": "syringe", "units": 10}], "packs[0].name", "the unit of issue itself"),
        ([{"name": "", "units": 10}], "packs[0].name", "enter what it is called"),
        ([{"name": "box", "units": 1}], "packs[0].units", "from 2 to 100,000 (got 1)"),
        ([{"name": "box", "units": 100_001}], "packs[0].units", "from 2 to 100,000"),
        ([{"name": "a" * 21, "units": 10}], "packs[0].name", "at most 20 characters"),
        ([{"name": f"p{n}", "units": 10} for n in range(6)], "packs", "5 packs at most"),
    ],
)
def test_packs_that_cannot_be_told_apart_or_hold_one_unit_are_refused(
    rows: list[dict[str, Any]], field: str, words: str
) -> None:
    with pytest.raises(InvalidInput) as refused:
        rules.packs(rows, "syringe")
    assert refused.value.field == field and words in refused.value.message


def test_doses_per_unit_are_1_to_10_or_none() -> None:
    assert rules.doses_per_unit(None) is None and rules.doses_per_unit(2) == 2
    for wrong in (0, 11, "2"):
        with pytest.raises(InvalidInput):
            rules.doses_per_unit(wrong)
    assert rules.packs([{"name": " box ", "units": 100}], "syringe") == [Pack("box", 100)]
