"""Held stock at a site: lots kept off the shelf (a recall, damage, a quality check), what is left of
each, and the forms to hold a lot, release it, or write it off as returned to the supplier or destroyed."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_wtf import FlaskForm
from wtforms import BooleanField, HiddenField, SelectField
from wtforms.validators import DataRequired, InputRequired

from inventory.application.access import Action
from inventory.domain.errors import InventoryError
from inventory.domain.holds import DISPOSITIONS, HOLD_REASONS, HoldReason
from inventory.projections import recall_queries
from inventory.web.pages.common import page, principal
from inventory.web.pages.movements import (
    WholeNumber,
    form_status,
    item_label,
    items_by_sku,
    lots_on_hand,
    option,
    plural,
    site_name,
)
from inventory.web.services import services

bp = Blueprint("holds", __name__)


class HoldForm(FlaskForm):
    lot = SelectField("Lot", validators=[DataRequired("Choose the lot to hold.")])
    reason = SelectField(
        "Why",
        choices=[option(code, words) for code, words in HOLD_REASONS.items() if code != HoldReason.RECALL],
        default=HoldReason.DAMAGED,
    )
    everywhere = BooleanField("Hold this lot at every site of yours that has it")


class WriteOffForm(FlaskForm):
    sku = HiddenField(validators=[DataRequired()])
    lot = HiddenField(validators=[DataRequired()])
    quantity = WholeNumber("How many", validators=[InputRequired("Enter how many went.")])
    disposition = SelectField("Where it went", choices=[option(code, words) for code, words in DISPOSITIONS.items()])


class ReleaseForm(FlaskForm):
    sku = HiddenField(validators=[DataRequired()])
    lot = HiddenField(validators=[DataRequired()])


def _lot_value(sku: str, lot: str) -> str:
    return f"{sku}|{lot}"


def _held_rows(site: str) -> list[dict[str, Any]]:
    store = services().store
    rows = recall_queries.held_lots(store, site)
    recalls = {row["id"]: row for row in recall_queries.recalls(store)}
    return [dict(row, recall_row=recalls.get(row["recall"] or "")) for row in rows]


@bp.route("/sites/<site>/held", methods=["GET", "POST"])
@page(Action.ADJUST_STOCK)
def site_held(site: str) -> ResponseReturnValue:
    """The lots held at this site, and a form to hold one."""
    items = items_by_sku()
    held = _held_rows(site)
    held_keys = {(row["sku"], row["lot"]) for row in held}
    form = HoldForm()
    form.lot.choices = [
        option(
            _lot_value(row["sku"], row["lot"]),
            f"{item_label(items.get(row['sku']), row['sku'])}: lot {row['lot']} "
            f"({plural(row['quantity'], items.get(row['sku'], {}).get('unit', 'unit'))})",
        )
        for row in lots_on_hand(site)
        if (row["sku"], row["lot"]) not in held_keys and row["quantity"] > 0
    ]
    if request.method == "GET" and request.args.get("sku") and request.args.get("lot"):
        form.lot.data = _lot_value(request.args["sku"], request.args["lot"])
    status = 200
    if form.validate_on_submit():
        sku, _, lot = (form.lot.data or "").partition("|")
        try:
            # Everywhere: every site that has it, of those this person may act at (a coordinator's own).
            who = principal()
            everywhere = [
                row["code"]
                for row in recall_queries.sites_with_lot(services().store, sku, lot)
                if who.can(Action.ADJUST_STOCK, row["code"])
            ]
            done = services().app.hold_lot(sku=sku, lot=lot, reason=form.reason.data, actor=principal().email,
                                           sites=everywhere if form.everywhere.data else [site])  # fmt: skip
        except InventoryError as error:
            form.form_errors.append(error.message)
            status = form_status(error)
        else:
            services().projector.read_your_writes()
            where = ", ".join(row["site"] for row in done)
            flash(f"Lot {lot} of {sku} is held at {where}: nothing more of it is handed out until it is released.",
                  "success")  # fmt: skip
            return redirect(url_for("holds.site_held", site=site))
    elif request.method == "POST":
        status = 422
    return render_template(
        "pages/holds/site.html",
        site=site,
        site_name=site_name(site),
        held=held,
        items=items,
        form=form,
        write_off=WriteOffForm(formdata=None),
        release=ReleaseForm(formdata=None),
        reasons=HOLD_REASONS,
    ), status


@bp.post("/sites/<site>/held/write-off")
@page(Action.ADJUST_STOCK)
def write_off(site: str) -> ResponseReturnValue:
    form = WriteOffForm()
    if not form.validate_on_submit():
        problems = " ".join(str(message) for messages in form.errors.values() for message in messages)
        flash(problems or "The form was out of date: open the page again.", "error")
        return redirect(url_for("holds.site_held", site=site))
    try:
        done = services().app.write_off_lot(
            site=site, sku=form.sku.data or "", lot=form.lot.data or "", quantity=form.quantity.data or 0,
            disposition=form.disposition.data, actor=principal().email,
        )  # fmt: skip
    except InventoryError as error:
        flash(error.message, "error")
    else:
        services().projector.read_your_writes()
        unit = items_by_sku().get(done["sku"], {}).get("unit", "unit")
        went = DISPOSITIONS.get(form.disposition.data, form.disposition.data).lower()
        flash(f"{plural(form.quantity.data or 0, unit)} of lot {done['lot']} recorded as {went}; "
              f"{plural(done['quantity'], unit)} of it left here.", "success")  # fmt: skip
    return redirect(url_for("holds.site_held", site=site))


@bp.post("/sites/<site>/held/release")
@page(Action.ADJUST_STOCK)
def release(site: str) -> ResponseReturnValue:
    form = ReleaseForm()
    if not form.validate_on_submit():
        abort(400, description="The form was out of date: open the page again and tap the button once more.")
    try:
        done = services().app.release_lot(site=site, sku=form.sku.data or "", lot=form.lot.data or "",
                                          actor=principal().email)  # fmt: skip
    except InventoryError as error:
        flash(error.message, "error")
    else:
        services().projector.read_your_writes()
        flash(f"Lot {done['lot']} of {done['sku']} is back on the shelf at {site}.", "success")
    return redirect(url_for("holds.site_held", site=site))
