"""Admin pages: the catalog of items: list, add, retire."""

from __future__ import annotations

from typing import Any

from flask import abort, render_template, url_for
from flask.typing import ResponseReturnValue
from flask_wtf import FlaskForm
from wtforms import BooleanField, IntegerField, SelectField, StringField
from wtforms.validators import DataRequired, InputRequired, Length

from inventory.application import rules
from inventory.application.access import Action
from inventory.projections import queries
from inventory.web.pages.admin import CATEGORY_LABELS, actor, bp, confirm_page, form_page
from inventory.web.pages.common import page
from inventory.web.pages.fields import within
from inventory.web.services import services


class ItemForm(FlaskForm):
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
    pack_size = IntegerField(
        "Units per pack",
        default=1,
        validators=[
            InputRequired("Enter how many units come in a pack (1 if sold singly)."),
            within(rules.PACK_SIZE),
        ],
        render_kw={"inputmode": "numeric", "min": 1},
    )


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
    return render_template("pages/admin/items.html", items=queries.items(services().store))


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
            pack_size=int(form.pack_size.data or 0),
            actor=actor(),
        )
        return f"Item {found['sku']} ({found['name']}) added to the catalog."

    return form_page("pages/admin/item_form.html", form, register, url_for("admin.items"))


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
