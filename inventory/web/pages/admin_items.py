"""Admin pages: the catalog of items: list, add (with the packs it comes in and its doses), change its packs
and doses, retire."""

from __future__ import annotations

import re
from typing import Any

from flask import abort, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_wtf import FlaskForm
from wtforms import BooleanField, FieldList, Form, FormField, SelectField, StringField
from wtforms.validators import DataRequired, Length, Optional

from inventory.application import rules
from inventory.application.access import Action
from inventory.domain.errors import InventoryError
from inventory.domain.packs import units_in_words, word_for
from inventory.projections import queries
from inventory.web.pages.admin import CATEGORY_LABELS, actor, bp, confirm_page, form_page
from inventory.web.pages.common import field_error, page
from inventory.web.pages.fields import within
from inventory.web.pages.movements import WholeNumber
from inventory.web.services import services

PACK_ROWS = 3
PACK_FIELD = re.compile(r"^packs\[(\d+)\]\.(\w+)$")


class PackRow(Form):
    """One pack the item comes in: what it is called and how many units of issue it holds."""

    name = StringField(
        "Called",
        filters=[lambda value: value.strip() if isinstance(value, str) else value],
        validators=[Length(max=rules.PACK_NAME_LENGTH, message=f"At most {rules.PACK_NAME_LENGTH} characters.")],
        render_kw={"autocomplete": "off", "placeholder": "box"},
    )
    units = WholeNumber(
        "Units in it",
        validators=[Optional(), within(rules.PACK_UNITS)],
        render_kw={"inputmode": "numeric", "min": rules.PACK_UNITS.least, "placeholder": "100"},
    )


class UnitsForm(FlaskForm):
    """The packs an item comes in (the supplier's first) and the doses in one unit."""

    packs = FieldList(FormField(PackRow), min_entries=PACK_ROWS, max_entries=rules.MOST_PACKS)
    doses_per_unit = WholeNumber(
        "Doses in one unit",
        validators=[Optional(), within(rules.DOSES_PER_UNIT)],
        render_kw={"inputmode": "numeric", "min": rules.DOSES_PER_UNIT.least},
    )

    def validate(self, extra_validators: Any = None) -> bool:
        """A pack needs both its name and how many it holds; a row with neither is not a pack."""
        valid = bool(super().validate(extra_validators))
        for entry in self.packs:
            row = entry.form
            if row.name.data and row.units.data is None and not row.units.errors:
                row.units.errors = [*row.units.errors, "Enter how many units of issue are in it."]
                valid = False
            if not row.name.data and row.units.data is not None:
                row.name.errors = [*row.name.errors, "Enter what it is called, like box or case; or clear the number."]
                valid = False
        return valid

    def rows(self) -> list[dict[str, Any]]:
        """The packs filled in, in order, as the verbs take them."""
        return [
            {"name": row.name.data, "units": row.units.data}
            for row in (entry.form for entry in self.packs)
            if row.name.data
        ]


def place_error(form: FlaskForm, error: InventoryError) -> None:
    """A refused pack's message goes next to its own row's field; anything else as usual."""
    found = PACK_FIELD.match(error.field or "")
    entries = list(getattr(form, "packs", []))
    if found and int(found.group(1)) < len(entries):
        target = getattr(entries[int(found.group(1))].form, found.group(2), None)
        if target is not None:
            target.errors = [*target.errors, error.message]
            return
    field_error(form, error)


class ItemForm(UnitsForm):
    sku = StringField(
        "SKU",
        validators=[DataRequired("Enter the item's SKU, like NALOX-4MG."), Length(max=40)],
        render_kw={"autocapitalize": "characters", "autocomplete": "off", "spellcheck": "false"},
    )
    name = StringField("Name", validators=[DataRequired("Enter the item's name."), Length(max=80)])
    category = SelectField("Category", choices={c.value: label for c, label in CATEGORY_LABELS.items()})
    unit = StringField(
        "Unit of issue", validators=[DataRequired("Enter what one unit is called, like kit."), Length(max=30)]
    )
    tracks_expiry = BooleanField("Lots have an expiry date")


def item_row(sku: str) -> dict[str, Any]:
    """The item with this SKU from the read model, or 404."""
    sku = sku.upper()
    for row in queries.items(services().store):
        if row["sku"] == sku:
            return row
    abort(404, description=f"There is no item {sku}.")


@bp.get("/items")
@page(Action.MANAGE_CATALOG)
def items() -> str:
    return render_template(
        "pages/admin/items.html",
        items=queries.items(services().store),
        units_words=lambda item: units_in_words(item["packs"], item["doses_per_unit"], item["unit"]),
    )


@bp.route("/items/new", methods=["GET", "POST"])
@page(Action.MANAGE_CATALOG)
def new_item() -> ResponseReturnValue:
    form = ItemForm()

    def register() -> str:
        found = services().app.register_item(
            sku=form.sku.data or "",
            name=form.name.data or "",
            category=form.category.data or "",
            unit=form.unit.data or "",
            tracks_expiry=bool(form.tracks_expiry.data),
            packs=form.rows(),
            doses_per_unit=form.doses_per_unit.data,
            actor=actor(),
        )
        return f"Item {found['sku']} ({found['name']}) added to the catalog."

    return form_page("pages/admin/item_form.html", form, register, url_for("admin.items"), place=place_error)


@bp.route("/items/<sku>/units", methods=["GET", "POST"])
@page(Action.MANAGE_CATALOG)
def item_units(sku: str) -> ResponseReturnValue:
    """The packs an item comes in and its doses per unit, changed (what is on record stays in units)."""
    row = item_row(sku)
    if request.method == "POST":
        form = UnitsForm()
    else:
        blanks = max(PACK_ROWS - len(row["packs"]), 1 if len(row["packs"]) < rules.MOST_PACKS else 0)
        form = UnitsForm(data={"packs": [*row["packs"], *([{}] * blanks)], "doses_per_unit": row["doses_per_unit"]})

    def change() -> str:
        found = services().app.change_item_units(
            sku=row["sku"], packs=form.rows(), doses_per_unit=form.doses_per_unit.data, actor=actor()
        )
        words = units_in_words(found["packs"], found["doses_per_unit"], found["unit"])
        return f"Packs and doses of {found['sku']} saved: {words}."

    return form_page(
        "pages/admin/item_units.html",
        form,
        change,
        url_for("admin.items"),
        place=place_error,
        item=row,
        units=word_for(2, row["unit"]),
    )


@bp.route("/items/<sku>/retire", methods=["GET", "POST"])
@page(Action.MANAGE_CATALOG)
def retire_item(sku: str) -> ResponseReturnValue:
    """Ask first (it cannot be undone here), then retire."""
    row = item_row(sku)

    def retire() -> str:
        services().app.retire_item(sku=row["sku"], actor=actor())
        return f"Item {row['sku']} retired: it can no longer be received or handed out."

    return confirm_page(
        f"Retire {row['sku']}?",
        f"{row['name']} will no longer be received, sent or handed out anywhere. "
        "Its history stays. This cannot be undone from these pages.",
        "Retire this item",
        url_for("admin.items"),
        retire,
    )
