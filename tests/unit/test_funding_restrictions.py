"""Funding rules: a source may not pay for a category between a start and an optional end date."""

from __future__ import annotations

from datetime import date

import pytest

from inventory.domain.catalog import FundingSource
from inventory.domain.values import Restriction

NO_SYRINGES = Restriction("syringe", date(2018, 1, 1))
NO_TEST_STRIPS_IN_2021 = Restriction("test_strip", date(2021, 1, 1), date(2021, 12, 31))


def grant(*rules: Restriction) -> FundingSource:
    """A federal grant with these rules."""
    return FundingSource(code="SOR", name="State Opioid Response", federal=True, restrictions=list(rules), actor="a")


@pytest.mark.parametrize(
    ("day", "covered"),
    [
        (date(2017, 12, 31), False),
        (date(2018, 1, 1), True),
        (date(2030, 6, 15), True),
    ],
)
def test_a_rule_without_an_end_applies_from_its_start_date_on(day: date, covered: bool) -> None:
    assert NO_SYRINGES.covers("syringe", day) is covered


@pytest.mark.parametrize(
    ("day", "covered"),
    [
        (date(2020, 12, 31), False),
        (date(2021, 1, 1), True),
        (date(2021, 7, 1), True),
        (date(2021, 12, 31), True),
        (date(2022, 1, 1), False),
    ],
)
def test_a_rule_with_an_end_applies_up_to_and_including_its_end_date(day: date, covered: bool) -> None:
    assert NO_TEST_STRIPS_IN_2021.covers("test_strip", day) is covered


def test_a_rule_never_covers_another_category() -> None:
    assert not NO_SYRINGES.covers("naloxone", date(2030, 1, 1))


def test_a_source_returns_the_rule_that_forbids_the_purchase() -> None:
    source = grant(NO_SYRINGES, NO_TEST_STRIPS_IN_2021)

    assert source.restriction_on("syringe", date(2024, 5, 1)) == NO_SYRINGES
    assert source.restriction_on("test_strip", date(2021, 5, 1)) == NO_TEST_STRIPS_IN_2021


def test_a_rule_that_ended_before_the_receipt_date_does_not_apply() -> None:
    source = grant(NO_TEST_STRIPS_IN_2021)

    assert source.restriction_on("test_strip", date(2022, 3, 1)) is None


def test_a_rule_that_starts_after_the_receipt_date_does_not_apply() -> None:
    source = grant(NO_SYRINGES)

    assert source.restriction_on("syringe", date(2017, 6, 1)) is None


def test_a_source_without_rules_may_pay_for_anything() -> None:
    source = grant()

    assert source.restriction_on("syringe", date(2024, 5, 1)) is None


def test_a_category_banned_again_later_is_covered_by_the_later_rule() -> None:
    earlier = Restriction("syringe", date(2018, 1, 1), date(2019, 12, 31))
    later = Restriction("syringe", date(2022, 1, 1))
    source = grant(earlier, later)

    assert source.restriction_on("syringe", date(2019, 12, 31)) == earlier
    assert source.restriction_on("syringe", date(2020, 6, 1)) is None
    assert source.restriction_on("syringe", date(2022, 1, 1)) == later


def test_changed_rules_replace_the_old_ones() -> None:
    source = grant(NO_SYRINGES)

    source.change_restrictions(restrictions=[NO_TEST_STRIPS_IN_2021], actor="admin")

    assert source.restriction_on("syringe", date(2024, 5, 1)) is None
    assert source.restriction_on("test_strip", date(2021, 5, 1)) == NO_TEST_STRIPS_IN_2021


def test_a_rule_describes_itself_for_the_coordinator() -> None:
    assert NO_SYRINGES.describe() == "no syringe purchases from Mon 1 Jan 2018 with no end date"
    assert NO_TEST_STRIPS_IN_2021.describe() == "no test_strip purchases from Fri 1 Jan 2021 to Fri 31 Dec 2021"
