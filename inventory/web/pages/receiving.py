"""Receive stock: one lot of a delivery into a site, with its expiry, who paid, and optionally its order."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_wtf import FlaskForm
from wtforms import SelectField, StringField
from wtforms.validators import DataRequired, InputRequired, Length, Optional, ValidationError

from inventory.application import rules
from inventory.application.access import Action
from inventory.domain.errors import InventoryError
from inventory.domain.text import NAME_LENGTH
from inventory.projections import queries, recall_queries
from inventory.projections.order_queries import open_purchase_orders
from inventory.web.pages.common import day_shown, page, principal, today
from inventory.web.pages.fields import DayField, typed_price, within
from inventory.web.pages.movements import (
    WholeNumber,
    choose_site,
    form_status,
    item_label,
    items_by_sku,
    not_in_future,
    occurred_at,
    option,
    plural,
    show_error,
    site_name,
)
from inventory.web.pages.packs import any_packs, entered_in_words, pack_field, packs_of_items, units_entered
from inventory.web.services import services

bp = Blueprint("receiving", __name__)

# Where the verbs' field names go on this form (an order's receipt names its fields per line).
FIELDS = {"occurred_at": "received_on", "lines": "purchase_order", "lines[0]": "purchase_order"}
# A line's own fields (lines[0].unit_cost) go to this form's field of the same name.


class ReceiveForm(FlaskForm):
    sku = SelectField("Item", default="", validators=[DataRequired("Choose the item that arrived.")])
    quantity = WholeNumber(
        "Quantity received",
        validators=[
            InputRequired("Enter how many arrived."),
            within(rules.QUANTITY),
        ],
        render_kw={"inputmode": "numeric", "min": 1},
    )
    pack = pack_field()
    lot = StringField(
        "Lot number",
        filters=[lambda value: value.strip() if isinstance(value, str) else value],
        validators=[
            DataRequired("Enter the lot number printed on the box."),
            Length(max=60, message="A lot number is at most 60 characters."),
        ],
        render_kw={"autocomplete": "off", "autocapitalize": "characters", "spellcheck": "false"},
    )
    manufacturer = StringField(
        "Maker",
        filters=[lambda value: value.strip() if isinstance(value, str) else value],
        validators=[Optional(), Length(max=NAME_LENGTH, message=f"At most {NAME_LENGTH} characters.")],
        render_kw={"autocomplete": "off", "list": "makers"},
    )
    manufacturer_lot = StringField(
        "Maker's lot, if it is not the one above",
        filters=[lambda value: value.strip() if isinstance(value, str) else value],
        validators=[Optional(), Length(max=60, message="A lot number is at most 60 characters.")],
        render_kw={"autocomplete": "off", "autocapitalize": "characters", "spellcheck": "false"},
    )
    expires_on = DayField("Expiry date")
    funding_source = SelectField("Funding source", default="", validators=[DataRequired("Choose who paid for it.")])
    purchase_order = SelectField("Purchase order", default="", validators=[Optional()])
    unit_cost = StringField(
        "Unit cost",
        filters=[lambda value: value.strip() if isinstance(value, str) else value],
        validators=[Optional()],
        render_kw={"inputmode": "decimal", "autocomplete": "off"},
    )
    reference = StringField(
        "Delivery note or invoice number",
        filters=[lambda value: value.strip() if isinstance(value, str) else value],
        validators=[Optional(), Length(max=80, message="At most 80 characters.")],
        render_kw={"autocomplete": "off", "spellcheck": "false"},
    )
    received_on = DayField(
        "Date received", default=today, validators=[InputRequired("Enter the day it arrived."), not_in_future]
    )

    # Set by the view: the SKUs whose lots carry an expiry date.
    tracking: set[str] = set()

    def validate_unit_cost(self, field: StringField) -> None:
        if field.data and typed_price(field.data) is None:
            raise ValidationError("Enter the price of one unit, 0 or more, like 12.50.")

    def validate_expires_on(self, field: DayField) -> None:
        # A date that could not be read already says so.
        if field.data is None and not field.errors and self.sku.data in self.tracking:
            raise ValidationError("This item's lots expire: enter the expiry date printed on the box.")


def _build_form(items: dict[str, dict[str, Any]], orders: list[dict[str, Any]]) -> ReceiveForm:
    form = ReceiveForm()
    form.tracking = {sku for sku, item in items.items() if item["tracks_expiry"]}
    form.sku.choices = [option("", "Choose the item")] + [
        option(sku, item_label(item, sku), **({"data_tracks_expiry": "1"} if item["tracks_expiry"] else {}))
        for sku, item in items.items()
    ]
    form.funding_source.choices = [option("", "Choose who paid")] + [
        option(f["code"], f"{f['name']} ({f['code']}{', federal' if f['federal'] else ''})")
        for f in queries.funding_sources(services().store)
    ]
    form.pack.choices = packs_of_items(items)
    form.purchase_order.choices = [option("", "No order: straight into stock")] + [
        option(o["id"], f"{o['number']} · {o['supplier']} ({o['funding_source']})", data_funding=o["funding_source"])
        for o in orders
    ]
    form.received_on.render_kw = {"max": today().isoformat()}
    return form


def _fits_order(form: ReceiveForm, order: dict[str, Any], units: int) -> bool:
    """Check the delivery against its order before recording: the order's item, quantity and funding."""
    line = next((line for line in order["lines"] if line["sku"] == form.sku.data), None)
    if line is None:
        form.purchase_order.errors = [f"{order['number']} has no {form.sku.data} on it: choose another order, or none."]
        return False
    fits = True
    if form.funding_source.data != order["funding_source"]:
        form.funding_source.errors = [
            f"{order['number']} is paid by {order['funding_source']}: choose {order['funding_source']}, or no order."
        ]
        fits = False
    if units > line["outstanding"]:
        form.quantity.errors = [
            f"Only {line['outstanding']:,} of {line['sku']} are still to come on {order['number']}; "
            "receive the rest without an order."
        ]
        fits = False
    return fits


def _record(site: str, form: ReceiveForm, order: dict[str, Any] | None, units: int) -> None:
    """Record the delivery: against its order when one is chosen, else straight into the site's stock."""
    app, actor, when = services().app, principal().email, occurred_at(form.received_on.data)
    row = {
        "sku": form.sku.data,
        "lot": form.lot.data,
        "quantity": units,
        "expires_on": form.expires_on.data,
        "unit_cost": typed_price(form.unit_cost.data) if form.unit_cost.data else None,
        # The maker's lot is the lot number printed, unless another is typed (a recall names the maker's).
        "manufacturer": form.manufacturer.data or None,
        "manufacturer_lot": (form.manufacturer_lot.data or form.lot.data) if form.manufacturer.data else None,
    }
    if order is not None:  # the order is the reference; without a price typed, the order's applies
        app.receive_purchase_order(order_id=order["id"], lines=[row], actor=actor, occurred_at=when)
    else:
        app.receive_stock(
            site=site,
            funding_source=form.funding_source.data or "",
            reference=form.reference.data or None,
            actor=actor,
            occurred_at=when,
            **row,
        )


def _said(site: str, form: ReceiveForm, item: dict[str, Any], order: dict[str, Any] | None) -> str:
    """What was recorded, in words, with what the site now holds."""
    on_hand = sum(row["quantity"] for row in queries.stock_on_hand(services().store, site, item["sku"]))
    expiry = f", expiring {day_shown(form.expires_on.data)}" if form.expires_on.data else ""
    against = f" against {order['number']}" if order else ""
    dated = f" on {day_shown(form.received_on.data)}" if form.received_on.data != today() else ""
    price = typed_price(form.unit_cost.data) if form.unit_cost.data else None
    cost = f" at {price:,.2f} each" if price is not None else ""
    return (
        f"Received {entered_in_words(form.quantity.data or 0, form.pack.data, item)} of {item['name']} "
        f"lot {form.lot.data}{expiry} "
        f"at {site}{dated}{cost}, paid by {form.funding_source.data}{against}. "
        f"{site} now has {plural(on_hand, item['unit'])} of {item['sku']}."
    )


@bp.get("/receive")
@page(Action.RECEIVE_STOCK)
def choose() -> ResponseReturnValue:
    """Pick the site a delivery arrived at (straight there when there is only one)."""
    return choose_site(Action.RECEIVE_STOCK, "receiving.new", "pages/receiving/choose.html")


@bp.route("/sites/<site>/receive", methods=["GET", "POST"])
@page(Action.RECEIVE_STOCK)
def new(site: str) -> ResponseReturnValue:
    """Record one lot of a delivery at `site`."""
    items = items_by_sku(active_only=True)
    orders = open_purchase_orders(services().store, site)
    form = _build_form(items, orders)
    status = 200
    if form.validate_on_submit():
        order = next((o for o in orders if o["id"] == form.purchase_order.data), None)
        units = units_entered(form.quantity, form.pack, items.get(form.sku.data or ""))
        if units is not None and (order is None or _fits_order(form, order, units)):
            try:
                _record(site, form, order, units)
            except InventoryError as error:
                field = error.field.rsplit(".", 1)[-1] if error.field and "." in error.field else error.field
                show_error(form, error, FIELDS.get(field or "", field))
                status = form_status(error)
            else:
                services().projector.read_your_writes()
                flash(_said(site, form, items[form.sku.data or ""], order), "success")
                return redirect(url_for("receiving.new", site=site))
        else:
            status = 422
    elif request.method == "POST":
        status = 422
    tracking = [item["name"] for item in items.values() if item["tracks_expiry"]]
    return (
        render_template(
            "pages/receiving/new.html",
            form=form,
            site=site,
            site_name=site_name(site),
            orders=orders,
            tracking=tracking,
            packs_shown=any_packs(items.values()),
            makers=recall_queries.manufacturers(services().store),
        ),
        status,
    )
