"""What the stock movement pages (receiving, transfers, counts) share: choices, dates, errors, read-your-writes."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime, time
from typing import Any

from flask import redirect, render_template, url_for
from flask.typing import ResponseReturnValue
from flask_wtf import FlaskForm
from wtforms import DateField, IntegerField
from wtforms.fields.choices import SelectChoice  # type: ignore[attr-defined]  # new in 3.3; the stubs lag
from wtforms.validators import StopValidation, ValidationError

from inventory.application.access import Action
from inventory.domain.errors import Conflict, InventoryError
from inventory.domain.packs import word_for
from inventory.projections import queries
from inventory.web.pages.common import field_error, principal, today, visible_sites
from inventory.web.services import services

# A backdated entry is dated at noon of its business day: clear of midnight in any time zone shift.
BACKDATED_HOUR = time(12)


class WholeNumber(IntegerField):
    """An integer field: blank is no value (required-ness is a validator's business); a typo says what to type."""

    def process_formdata(self, valuelist: list[Any]) -> None:
        if valuelist and not str(valuelist[0]).strip():
            self.data = None
            return
        try:
            super().process_formdata(valuelist)
        except ValueError:
            raise ValueError("Enter a whole number, like 12.") from None

    def pre_validate(self, form: Any) -> None:
        # Unreadable: saying so is enough (a range check would only add "enter 0 or more").
        if self.process_errors:
            raise StopValidation()


def not_in_future(form: FlaskForm, field: DateField) -> None:
    """A business date that has already happened (today counts)."""
    if field.data and field.data > today():
        raise ValidationError(f"{field.data:%d %b %Y} is in the future: enter the day it actually happened.")


def option(value: str, label: str, group: str | None = None, **attrs: str) -> Any:
    """One choice of a select (data-* attributes as keyword arguments with underscores).

    WTForms 3.3 deprecates choices as tuples; its type stubs do not know SelectChoice yet, hence Any.
    """
    return SelectChoice(value, label, {k.replace("_", "-"): v for k, v in attrs.items()}, group)


def occurred_at(day: date | None) -> datetime | None:
    """When an entry for business date `day` happened: now for today, noon (program time) for an earlier day."""
    if day is None or day >= today():
        return None
    return datetime.combine(day, BACKDATED_HOUR, services().app.zone)


def show_error(form: FlaskForm, error: InventoryError, field: str | None = None) -> None:
    """Put a domain refusal next to `field` (the form's name for it), or where its own field says."""
    if field is not None:
        error = InventoryError(error.message, field=field)
    field_error(form, error)


def form_status(error: InventoryError) -> int:
    """The status of a form answered again with a refusal: 409 when the stock as it stands refuses it."""
    return 409 if isinstance(error, Conflict) else 422


def site_name(code: str) -> str:
    """A site's name from the sites read model (its code if unknown)."""
    return next((s["name"] for s in queries.sites(services().store) if s["code"] == code), code)


def site_kind(code: str) -> str:
    """A site's kind (warehouse, fixed, mobile, vending machine) from the sites read model."""
    return next((s["kind"] for s in queries.sites(services().store) if s["code"] == code), "fixed")


def sites_for(action: Action) -> list[dict[str, Any]]:
    """The open sites where the signed-in person may do `action`."""
    who = principal()
    return [site for site in visible_sites(who, open_only=True) if who.can(action, site["code"])]


def choose_site(action: Action, endpoint: str, template: str, **context: Any) -> ResponseReturnValue:
    """A page to pick the site to act at; straight there when there is only one."""
    sites = sites_for(action)
    if len(sites) == 1:
        return redirect(url_for(endpoint, site=sites[0]["code"]))
    return render_template(template, sites=sites, **context)


def items_by_sku(active_only: bool = False) -> dict[str, dict[str, Any]]:
    """Items from the catalog read model, by SKU."""
    return {item["sku"]: item for item in queries.items(services().store, active_only=active_only)}


def item_label(item: Mapping[str, Any] | None, sku: str) -> str:
    """How an item is named in choices: its name and SKU."""
    return f"{item['name']} ({sku})" if item else sku


def unit_word(quantity: int, unit: str) -> str:
    """The unit of issue as a word for `quantity` of it: kit, kits, boxes, syringes."""
    return word_for(quantity, unit)


def plural(quantity: int, unit: str) -> str:
    """'1 kit', '3 kits', '2 boxes', '10 syringes': the item's unit of issue, counted."""
    return f"{quantity:,} {unit_word(quantity, unit)}"


def lots_on_hand(site: str) -> list[dict[str, Any]]:
    """The lots on hand at a site (read model), soonest expiry first within each item."""
    return queries.stock_on_hand(services().store, site)


def signed(number: int) -> str:
    """A difference with its sign (a true minus sign for a loss), for counts and adjustments."""
    if number > 0:
        return f"+{number:,}"
    if number < 0:
        return f"\u2212{-number:,}"
    return "0"
