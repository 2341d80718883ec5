"""Form fields the pages share, so a date means the same on every form."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Any

from wtforms import DateField, Field
from wtforms.validators import NumberRange, StopValidation, ValidationError

from inventory.application.rules import WholeNumbers
from inventory.domain.calendar import RANGE_IN_WORDS, in_range
from inventory.domain.errors import InvalidInput
from inventory.domain.text import check_characters

ENTER_A_DATE = "Enter a date like 2026-03-31."


class DayField(DateField):
    """A date (a date picker on phones): blank is no date; a typo or a year out of range says what to type."""

    def process_formdata(self, valuelist: list[Any]) -> None:
        if valuelist and str(valuelist[0]) == "":  # what a browser sends for an empty date
            self.data = None
            return
        try:
            super().process_formdata(valuelist)
        except ValueError:
            raise ValueError(ENTER_A_DATE) from None
        if self.data is not None and not in_range(self.data):
            self.data = None
            raise ValueError(f"Enter a date {RANGE_IN_WORDS}.")

    def pre_validate(self, form: Any) -> None:
        # Unreadable: saying so is enough; "required" or a range check would only repeat it.
        if self.process_errors:
            raise StopValidation()


class StorableText:
    """A WTForms validator: the text rule of inventory.domain.text, for a field whose value does not go
    straight to a verb that checks it (the sign-in email, which is looked up before anything else)."""

    def __init__(self, *, multiline: bool = False) -> None:
        self.multiline = multiline

    def __call__(self, form: Any, field: Field) -> None:
        try:
            check_characters(str(field.data or ""), field.name, multiline=self.multiline)
        except InvalidInput as refused:
            raise ValidationError(refused.message) from None


def within(limit: WholeNumbers) -> NumberRange:
    """An input rule's bounds and message (inventory.application.rules), for a number field."""
    return NumberRange(min=limit.least, max=limit.most, message=limit.message)


def typed_price(text: str | None) -> Decimal | None:
    """A price as people type it ("12.50", "$12.50", "1,200"); None if it is not an amount of 0 or more."""
    try:
        amount = Decimal((text or "").strip().replace(",", "").lstrip("$"))
    except InvalidOperation:
        return None
    return amount if amount.is_finite() and amount >= 0 else None
