"""A number a visit or a shift reports has one set of bounds and one message, wherever it is entered:
the page, the API and the application itself (inventory.application.rules)."""

from __future__ import annotations

from typing import Any

import pytest

from inventory.application import InventoryApplication, rules
from inventory.domain.errors import InvalidInput
from tests.web.conftest import ADMIN, Caller, day, error, ok
from tests.web.pages.conftest import Person
from tests.web.pages.test_encounter_page import (
    FORM,
    field_error,
    fresh_form,
    stocked,  # noqa: F401 (a fixture)
)
from tests.web.pages.test_tally_page import error_under, tally
from tests.web.test_api_tallies import night

VISIT = [("reversals_reported", rules.VISIT_REVERSALS), ("syringes_collected", rules.VISIT_SYRINGES)]
SHIFT = [
    ("visits", rules.SHIFT_VISITS),
    ("reversals_reported", rules.SHIFT_REVERSALS),
    ("syringes_collected", rules.SHIFT_SYRINGES),
]


@pytest.mark.usefixtures("stocked")
@pytest.mark.parametrize(("field", "limit"), VISIT, ids=[f for f, _ in VISIT])
def test_a_visit_takes_the_same_numbers_on_the_page_over_the_api_and_in_the_application(
    inventory: InventoryApplication, staff: dict[str, Caller], people: dict[str, Person], field: str, limit: Any
) -> None:
    person, caller = people["coordinator"], staff["coordinator"]
    too_many = str(limit.most + 1)

    page = person.post_raw(FORM, {**fresh_form(person), field: too_many})
    assert page.status_code == 422
    assert field_error(page.get_data(as_text=True), field) == limit.message

    refused = error(
        caller.post("/api/v1/encounters", {"site": "VAN-1", "lines": [], field: limit.most + 1}, key="over-0001"), 422
    )
    assert refused["fields"] == {field: [limit.message]}

    with pytest.raises(InvalidInput) as raised:
        inventory.record_encounter(key="k-over-1", site="VAN-1", lines=[], actor=ADMIN, **{field: limit.most + 1})
    assert raised.value.field == field and f"{limit.least:,} to {limit.most:,}" in raised.value.message

    # The most itself is taken everywhere.
    assert person.post_raw(FORM, {**fresh_form(person), field: str(limit.most)}).status_code == 302
    ok(caller.post("/api/v1/encounters", {"site": "VAN-1", "lines": [], field: limit.most}, key="most-0001"))
    inventory.record_encounter(key="k-most-1", site="VAN-1", lines=[], actor=ADMIN, **{field: limit.most})


@pytest.mark.usefixtures("stocked")
@pytest.mark.parametrize(("field", "limit"), SHIFT, ids=[f for f, _ in SHIFT])
def test_a_shift_takes_the_same_numbers_on_the_page_over_the_api_and_in_the_application(
    inventory: InventoryApplication, staff: dict[str, Caller], people: dict[str, Person], field: str, limit: Any
) -> None:
    person, caller = people["coordinator"], staff["coordinator"]

    form = person.get("/sites/VAN-1/tally").get_data(as_text=True)
    token = form.split('name="csrf_token" type="hidden" value="')[1].split('"')[0]
    page = person.post_raw("/sites/VAN-1/tally", {**tally("too-many-1"), "csrf_token": token, field: limit.most + 1})
    assert page.status_code == 422
    assert error_under(page.get_data(as_text=True), field) == limit.message

    refused = error(caller.post("/api/v1/tallies", night(**{field: limit.most + 1}), key="too-many-2"), 422)
    assert refused["fields"] == {field: [limit.message]}

    with pytest.raises(InvalidInput) as raised:
        inventory.record_shift_tally(
            key="too-many-3", actor=ADMIN, **{**night(**{field: limit.most + 1}), "shift_date": day(2)}
        )
    assert raised.value.field == field and f"{limit.least:,} to {limit.most:,}" in raised.value.message
