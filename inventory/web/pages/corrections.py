"""Undo a visit or a shift tally, void a transfer, and void or correct a receipt, an adjustment or a count.

Offered where the entry is shown: Undo on the confirmation right after a visit is recorded, Void or
correct on the stock card, Void on a transfer's card. The entry stays in the log; the void or
correction is recorded beside it, on the entry's own date. Coordinators may do it for their sites
within the correction window (rules.CORRECTION_WINDOW), admins always: the application refuses otherwise, in words.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_wtf import FlaskForm
from wtforms import SelectField
from wtforms.validators import InputRequired

from inventory.application import rules
from inventory.application.access import Action
from inventory.domain.errors import InventoryError
from inventory.domain.values import VOID_REASONS, VoidReason
from inventory.projections import queries, transfer_queries
from inventory.web.errors import status_for
from inventory.web.pages.common import allow, page
from inventory.web.pages.fields import within
from inventory.web.pages.movements import WholeNumber, items_by_sku, option, plural
from inventory.web.services import services

bp = Blueprint("corrections", __name__)

# The right each kind of entry needs to be changed: the right to record it.
RIGHTS = {"receipt": Action.RECEIVE_STOCK, "adjustment": Action.ADJUST_STOCK, "count": Action.COUNT_STOCK}
BOUNDS = {"receipt": rules.QUANTITY, "adjustment": rules.ADJUSTMENT, "count": rules.COUNTED}
REASON_CHOICES = [option("", "Choose why"), *(option(value, words) for value, words in VOID_REASONS.items())]


class VoidForm(FlaskForm):
    reason = SelectField("Why", choices=REASON_CHOICES, validators=[InputRequired("Choose why.")])


class CorrectForm(FlaskForm):
    quantity = WholeNumber("The right figure", render_kw={"inputmode": "numeric", "autocomplete": "off"})
    reason = SelectField("Why", choices=REASON_CHOICES, validators=[InputRequired("Choose why.")])


def _site_of(kind: str, id_or_position: Any) -> str:
    try:
        site: str = services().app.entry_site(kind, id_or_position)
    except InventoryError as error:
        abort(404, description=error.message)
    return site


@bp.route("/visits/<visit_id>/undo", methods=["GET", "POST"])
@page(Action.RECORD_ENCOUNTER)
def undo_visit(visit_id: str) -> ResponseReturnValue:
    """Undo a visit: its supplies go back on the visit's own time, and no report counts it."""
    site = _site_of("visit", visit_id)
    who = allow(Action.RECORD_ENCOUNTER, site)
    form = VoidForm()
    if request.method == "GET" and not form.reason.data:
        form.reason.data = VoidReason.ENTERED_BY_MISTAKE.value
    status = 200
    if form.validate_on_submit():
        try:
            services().app.void_visit(
                visit_id=visit_id, reason=str(form.reason.data), actor=who.email, within=who.correction_window
            )
        except InventoryError as error:
            form.form_errors.append(error.message)
            status = status_for(error)
        else:
            services().projector.read_your_writes()
            flash("Visit undone: what it handed out is back in stock, and no report counts it.", "success")
            return redirect(url_for("encounters.new", site=site))
    elif request.method == "POST":
        status = 422
    visit = queries.visit(services().store, visit_id)
    return render_template("pages/corrections/undo_visit.html", form=form, site=site, visit=visit), status


@bp.route("/transfers/<transfer_id>/void", methods=["GET", "POST"])
@page(Action.TRANSFER)
def void_transfer(transfer_id: str) -> ResponseReturnValue:
    """Void a transfer entered by mistake: the stock goes back to the sender on the dispatch's own time,
    and out of the receiver on the arrival's if it was received."""
    try:
        sites = services().app.transfer_void_sites(transfer_id)
    except InventoryError as error:
        abort(404, description=error.message)
    who = None
    for site in sites:
        who = allow(Action.TRANSFER, site)
    assert who is not None
    form = VoidForm()
    status = 200
    if form.validate_on_submit():
        try:
            services().app.void_transfer(
                transfer_id=transfer_id, reason=str(form.reason.data), actor=who.email, within=who.correction_window
            )
        except InventoryError as error:
            form.form_errors.append(error.message)
            status = status_for(error)
        else:
            services().projector.read_your_writes()
            came_out = f", and out of {sites[1]} as if it had never arrived" if len(sites) > 1 else ""
            flash(f"Transfer voided: the stock is back at {sites[0]} as if it had never left{came_out}.", "success")
            return redirect(url_for("transfers.index"))
    elif request.method == "POST":
        status = 422
    transfer = transfer_queries.transfer(services().store, transfer_id)
    if transfer is None:
        abort(404, description=f"There is no transfer {transfer_id}.")
    return render_template(
        "pages/corrections/void_transfer.html",
        form=form,
        transfer=transfer,
        items=items_by_sku(),
        units=plural,
        window=rules.CORRECTION_WINDOW.days,
    ), status


@bp.route("/entries/<int:position>", methods=["GET", "POST"])
@page(Action.READ_STOCK)
def change_entry(position: int) -> ResponseReturnValue:
    """Void or correct a receipt, an adjustment or a count, from its row on the stock card."""
    try:
        kind = services().app.entry_kind(position)
    except InventoryError as error:  # no such entry (404), or one that is changed another way (422, it says how)
        abort(status_for(error), description=error.message)
    site = _site_of(kind, position)
    who = allow(RIGHTS[kind], site)
    void, correct = VoidForm(), CorrectForm()
    void.reason.id = "void-reason"  # both forms post `reason`; on the page each has its own label
    correct.quantity.validators = [InputRequired("Enter the right figure."), within(BOUNDS[kind])]
    status = 200
    chosen = request.form.get("do")
    if request.method == "POST":
        form = void if chosen == "void" else correct
        if form.validate_on_submit():
            try:
                if chosen == "void":
                    answer = services().app.void_entry(
                        position=position, reason=str(void.reason.data), actor=who.email, within=who.correction_window
                    )
                    done = f"The {kind} is void: the stock is as if it had not been recorded."
                else:
                    answer = services().app.correct_entry(
                        position=position,
                        quantity=int(correct.quantity.data or 0),
                        reason=str(correct.reason.data),
                        actor=who.email,
                        within=who.correction_window,
                    )
                    done = f"The {kind} is corrected to {correct.quantity.data}, on its own date."
            except InventoryError as error:
                form.form_errors.append(error.message)
                status = status_for(error)
            else:
                services().projector.read_your_writes()
                flash(done, "success")
                return redirect(url_for("stock.card", site=answer["site"], sku=answer["sku"]))
        else:
            status = 422
    return render_template(
        "pages/corrections/change_entry.html",
        void=void,
        correct=correct,
        kind=kind,
        site=site,
        position=position,
        rows=queries.movement_at(services().store, position),
        window=rules.CORRECTION_WINDOW.days,
    ), status
