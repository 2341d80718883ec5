"""Recalls: record a maker's recall of one of its lots (every lot received under it is held at every site
at once), follow where each unit went, download the recall workbook, and close it once all is pulled.

The pages show every site's stock of it, so they are for those who see all sites (purchasing, admins, auditors,
grant managers); a coordinator meets a recall as an alert and on the site's held stock page.
"""

from __future__ import annotations

import io
from typing import Any

from flask import Blueprint, abort, flash, redirect, render_template, send_file, url_for
from flask.typing import ResponseReturnValue
from flask_wtf import FlaskForm
from wtforms import StringField
from wtforms.validators import DataRequired, Length

from exports.reports import Source, recall_report
from inventory.application.access import Action
from inventory.application.recalls import recalled_lot
from inventory.domain.errors import InventoryError
from inventory.domain.text import CODE_LENGTH, NAME_LENGTH
from inventory.projections import recall_queries
from inventory.projections.recall_queries import ACCOUNT_WORDS
from inventory.web.pages.common import page, principal
from inventory.web.pages.movements import form_status, items_by_sku, show_error
from inventory.web.services import services

bp = Blueprint("recalls", __name__)
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
# What each movement is called on the recall page.
MOVEMENT_WORDS = {
    "transfer_out": "Sent",
    "transfer_in": "Arrived",
    "returned": "Back (transfer cancelled)",
    "distributed": "Handed out",
    "to_partner": "Issued to a partner",
    "mailed": "Mailed",
    "written_off": "Written off",
    "into_kits": "Into kits (or back)",
    "assembled": "Kits made (or taken apart)",
}


class RecallForm(FlaskForm):
    manufacturer = StringField(
        "Maker", validators=[DataRequired("Enter the maker named on the recall notice."), Length(max=NAME_LENGTH)]
    )
    manufacturer_lot = StringField(
        "Maker's lot number",
        validators=[DataRequired("Enter the lot number the recall names."), Length(max=CODE_LENGTH)],
        render_kw={"autocomplete": "off", "autocapitalize": "characters", "spellcheck": "false"},
    )
    notice = StringField("Notice reference (optional)", validators=[Length(max=CODE_LENGTH * 2)])


class CloseForm(FlaskForm):
    """The button that closes a recall (its CSRF token)."""


def _found(recall: str) -> dict[str, Any]:
    found = recall_queries.recall(services().store, recall)
    if found is None:
        abort(404, description="There is no such recall.")
    return found


def _index(form: RecallForm | None, status: int = 200) -> ResponseReturnValue:
    store = services().store
    return render_template(
        "pages/recalls/index.html",
        recalls=recall_queries.recalls(store),
        form=form if principal().can(Action.RECALL) else None,
        makers=recall_queries.manufacturers(store),
    ), status


@bp.get("/recalls")
@page(Action.READ_RECALLS)
def index() -> ResponseReturnValue:
    """Every recall, and the form to record one."""
    return _index(RecallForm())


@bp.post("/recalls/new")
@page(Action.RECALL)
def record() -> ResponseReturnValue:
    """Record a recall: its stock is held at every site at once."""
    form = RecallForm()
    if not form.validate_on_submit():
        return _index(form, 422)
    try:
        maker, maker_lot = recalled_lot(form.manufacturer.data or "", form.manufacturer_lot.data or "")
        lots, sites = recall_queries.recall_scope(services().store, maker, maker_lot)
        done = services().app.announce_recall(
            manufacturer=maker, manufacturer_lot=maker_lot, notice=form.notice.data or "", lots=lots, sites=sites,
            actor=principal().email,
        )  # fmt: skip
    except InventoryError as error:
        show_error(form, error)
        return _index(form, form_status(error))
    services().projector.read_your_writes()
    if done["lots"]:
        named = ", ".join(f"{lot['sku']} lot {lot['lot']}" for lot in done["lots"])
        flash(f"Recall recorded: {named} held at every site that has it. Each site is alerted.", "success")
    else:
        flash(f"Recall recorded. No receipt names {done['manufacturer']} lot {done['manufacturer_lot']} yet: "
              "stock of it received later is held as it comes in.", "warning")  # fmt: skip
    return redirect(url_for("recalls.detail", recall=done["id"]))


@bp.get("/recalls/<recall>")
@page(Action.READ_RECALLS)
def detail(recall: str) -> ResponseReturnValue:
    """Where every unit of the recalled lots went, and where what is left is held."""
    found = _found(recall)
    figures = recall_queries.recall_figures(services().store, found["lots"])
    accounts = []
    for sku in figures.skus:  # the maker's item, then the kits made with it (counted in kits)
        account = figures.account_of(sku)
        shown = [(ACCOUNT_WORDS[line], quantity) for line, quantity in account.items() if quantity]
        held = sum(row["quantity"] for row in figures.on_hand if row["sku"] == sku and row["held"])
        accounts.append({"sku": sku, "lines": shown, "on_shelves": figures.on_shelves_of(sku), "held": held})
    return render_template(
        "pages/recalls/detail.html",
        recall=found,
        figures=figures,
        accounts=accounts,
        items=items_by_sku(),
        words=MOVEMENT_WORDS,
        close_form=CloseForm() if principal().can(Action.RECALL) and not found["closed_at"] else None,
    )


@bp.get("/recalls/<recall>/workbook")
@page(Action.READ_RECALLS)
def workbook(recall: str) -> ResponseReturnValue:
    """The recall workbook (a few sheets: written while you wait)."""
    found = _found(recall)
    target = io.BytesIO()
    app = services().app
    recall_report(Source(app, services().store, app.zone), target, recall_id=found["id"], who=principal().email)
    target.seek(0)
    name = f"recall-{found['manufacturer_lot']}.xlsx".replace("/", "-")
    return send_file(target, mimetype=XLSX, as_attachment=True, download_name=name)


@bp.post("/recalls/<recall>/close")
@page(Action.RECALL)
def close(recall: str) -> ResponseReturnValue:
    if not CloseForm().validate_on_submit():
        abort(400, description="The form was out of date: open the page again and tap the button once more.")
    found = _found(recall)
    try:
        sites = [row["code"] for row in recall_queries.sites(services().store)]
        services().app.close_recall(recall=found["id"], sites=sites, actor=principal().email)
    except InventoryError as error:
        flash(error.message, "error")
    else:
        services().projector.read_your_writes()
        flash("Recall closed: every unit is accounted for.", "success")
    return redirect(url_for("recalls.detail", recall=found["id"]))
