"""Receive against a purchase order: the form starts from the order's open lines, each filled with what is
still to come and the price on the order, so the person at the dock types only lots and expiry dates."""

from __future__ import annotations

import re
from typing import Any

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_wtf import FlaskForm
from wtforms import FieldList, Form, FormField, HiddenField, StringField
from wtforms.validators import InputRequired, Length, Optional

from inventory.application import rules
from inventory.application.access import Action
from inventory.domain.errors import InventoryError, UnknownPurchaseOrder
from inventory.projections import queries
from inventory.web.pages.common import allow, day_shown, page, principal, today
from inventory.web.pages.fields import DayField, typed_price, within
from inventory.web.pages.movements import (
    WholeNumber,
    form_status,
    items_by_sku,
    not_in_future,
    occurred_at,
    plural,
    show_error,
    site_name,
)
from inventory.web.pages.packs import entered_in_words, pack_choices, pack_field, units_entered
from inventory.web.services import services

bp = Blueprint("order_receiving", __name__)

LINE_FIELD = re.compile(r"^lines\[(\d+)\](?:\.(\w+))?$")
RECEIVABLE = ("submitted", "partly_received")


def _strip(value: Any) -> Any:
    return value.strip() if isinstance(value, str) else value


class ArrivedLine(Form):
    """One line of the order as it arrived: how many, their lot and expiry, and the price paid."""

    sku = HiddenField()
    quantity = WholeNumber(
        "Arrived",
        validators=[Optional(), within(rules.QUANTITY)],
        render_kw={"inputmode": "numeric", "min": 1},
    )
    pack = pack_field()
    lot = StringField(
        "Lot number",
        filters=[_strip],
        validators=[Length(max=60, message="A lot number is at most 60 characters.")],
        render_kw={"autocomplete": "off", "autocapitalize": "characters", "spellcheck": "false"},
    )
    expires_on = DayField("Expiry date")
    unit_cost = StringField("Unit cost", filters=[_strip], render_kw={"inputmode": "decimal", "autocomplete": "off"})


class ReceiveOrderForm(FlaskForm):
    lines = FieldList(FormField(ArrivedLine), min_entries=0, max_entries=40)
    received_on = DayField(
        "Date received", default=today, validators=[InputRequired("Enter the day it arrived."), not_in_future]
    )

    # Set by the view: the order's open lines by SKU, the SKUs whose lots carry an expiry date, the items.
    open_lines: dict[str, dict[str, Any]] = {}
    tracking: set[str] = set()
    items: dict[str, dict[str, Any]] = {}

    def validate(self, extra_validators: Any = None) -> bool:
        """A line that arrived needs its lot (and expiry, for items that expire) and at most what is still to
        come; a line left blank did not come; at least one line arrived."""
        valid = bool(super().validate(extra_validators))
        arrived = 0
        for entry in self.lines:
            row = entry.form
            line = self.open_lines.get(row.sku.data or "")
            if line is None:
                row.quantity.errors = [*row.quantity.errors, "This item is not open on the order: reload the page."]
                valid = False
                continue
            if row.quantity.data is None:
                continue
            arrived += 1
            units = units_entered(row.quantity, row.pack, self.items.get(row.sku.data or ""))
            if not row.lot.data:
                row.lot.errors = [*row.lot.errors, "Enter the lot number printed on the box."]
                valid = False
            if row.sku.data in self.tracking and row.expires_on.data is None and not row.expires_on.errors:
                row.expires_on.errors = [*row.expires_on.errors, "Enter the expiry date printed on the box."]
                valid = False
            if units is None:  # a pack the item does not come in: said beside the choice
                valid = False
            elif units > line["outstanding"]:
                row.quantity.errors = [
                    *row.quantity.errors,
                    f"Only {line['outstanding']:,} are still to come on this order; "
                    "receive the rest on the receive page, without the order.",
                ]
                valid = False
            if row.unit_cost.data and typed_price(row.unit_cost.data) is None:
                row.unit_cost.errors = [*row.unit_cost.errors, "Enter a price of 0 or more, like 12.50."]
                valid = False
        if not arrived and valid and self.lines:
            first = self.lines[0].form.quantity
            first.errors = [*first.errors, "Enter how many arrived of at least one line."]
            valid = False
        return valid

    def arrived(self) -> list[tuple[int, dict[str, Any]]]:
        """The lines that arrived, as (row on the form, line as the verb takes it)."""
        return [
            (
                index,
                {
                    "sku": row.sku.data,
                    "lot": row.lot.data,
                    "quantity": units_entered(row.quantity, row.pack, self.items.get(row.sku.data or "")),
                    "expires_on": row.expires_on.data,
                    "unit_cost": typed_price(row.unit_cost.data) if row.unit_cost.data else None,
                },
            )
            for index, row in ((i, entry.form) for i, entry in enumerate(self.lines))
            if row.quantity.data is not None
        ]


def _order(order_id: str) -> dict[str, Any]:
    """The order from its own events, if this person may receive stock at its site."""
    try:
        order = services().app.purchase_order(order_id)
    except UnknownPurchaseOrder:
        abort(404, description="There is no such purchase order.")
    allow(Action.RECEIVE_STOCK, order["site"])
    return order


def _place_error(form: ReceiveOrderForm, error: InventoryError, rows: list[int]) -> None:
    """A refusal about the n-th line sent goes next to that line's field (lines that did not come skipped)."""
    found = LINE_FIELD.match(error.field or "")
    if found and int(found.group(1)) < len(rows):
        row = form.lines[rows[int(found.group(1))]].form
        target = getattr(row, found.group(2) or "quantity", None) or row.quantity
        target.errors = [*target.errors, error.message]
        return
    show_error(form, error, "received_on" if error.field == "occurred_at" else None)


@bp.route("/purchase-orders/<order_id>/receive", methods=["GET", "POST"])
@page(Action.RECEIVE_STOCK)
def receive(order_id: str) -> ResponseReturnValue:
    """What arrived of an order, line by line, starting from what is still to come."""
    order = _order(order_id)
    items = items_by_sku()
    open_lines = {line["sku"]: line for line in order["lines"] if line["outstanding"] > 0}
    if order["status"] not in RECEIVABLE or not open_lines:
        flash(f"Purchase order {order['number']} is not waiting for stock.", "error")
        return redirect(url_for("purchase_orders.show", order_id=order["id"]))
    if request.method == "GET":
        form = ReceiveOrderForm(
            formdata=None,
            data={
                "lines": [
                    {
                        "sku": sku,
                        "quantity": line["outstanding"],
                        "unit_cost": "" if line["unit_cost"] is None else str(line["unit_cost"]),
                    }
                    for sku, line in open_lines.items()
                ]
            },
        )
    else:
        form = ReceiveOrderForm()
    form.open_lines = open_lines
    form.tracking = {sku for sku, item in items.items() if item["tracks_expiry"]}
    form.items = items
    for entry in form.lines:
        entry.form.pack.choices = pack_choices(items.get(entry.form.sku.data or ""))
    form.received_on.render_kw = {"max": today().isoformat()}
    status = 200
    if form.validate_on_submit():
        arrived = form.arrived()
        try:
            services().app.receive_purchase_order(
                order_id=order["id"],
                lines=[line for _, line in arrived],
                actor=principal().email,
                occurred_at=occurred_at(form.received_on.data),
            )
        except InventoryError as error:
            _place_error(form, error, [index for index, _ in arrived])
            status = form_status(error)
        else:
            services().projector.read_your_writes()
            flash(_said(order, arrived, items, form), "success")
            return redirect(url_for("purchase_orders.show", order_id=order["id"]))
    elif request.method == "POST":
        status = 422
    rows = [(entry.form, open_lines.get(entry.form.sku.data or "")) for entry in form.lines]
    return (
        render_template(
            "pages/purchase_orders/receive.html",
            form=form,
            order=order,
            rows=rows,
            items=items,
            site_name=site_name(order["site"]),
        ),
        status,
    )


def _said(
    order: dict[str, Any],
    arrived: list[tuple[int, dict[str, Any]]],
    items: dict[str, dict[str, Any]],
    form: ReceiveOrderForm,
) -> str:
    """What was received (as entered: "3 boxes of 100 (300 syringes)"), with what the site now holds of each."""
    store = services().store
    parts = []
    for index, line in arrived:
        item = items.get(line["sku"], {"unit": "unit", "name": line["sku"]})
        on_hand = sum(row["quantity"] for row in queries.stock_on_hand(store, order["site"], line["sku"]))
        row = form.lines[index].form
        parts.append(
            f"{entered_in_words(row.quantity.data or 0, row.pack.data, item)} of {line['sku']} lot {line['lot']} "
            f"({order['site']} now has {plural(on_hand, item['unit'])})"
        )
    dated = f" on {day_shown(form.received_on.data)}" if form.received_on.data != today() else ""
    return f"Received against {order['number']}{dated}: " + "; ".join(parts) + "."
