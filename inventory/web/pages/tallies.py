"""Record a shift tally: on a night too busy to record each visit, the shift's totals afterwards."""

from __future__ import annotations

import secrets
from datetime import time
from typing import Any

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_wtf import FlaskForm
from wtforms import FieldList, Form, FormField, HiddenField, StringField
from wtforms.fields.core import Label
from wtforms.validators import DataRequired, InputRequired, Optional, Regexp

from inventory.application import rules
from inventory.application.access import Action
from inventory.domain.errors import InventoryError
from inventory.domain.shifts import likely_shift, shift_times
from inventory.domain.time_words import day_in_words, shift_in_words
from inventory.projections import queries
from inventory.web.pages.common import now, page, principal, today
from inventory.web.pages.fields import DayField, within
from inventory.web.pages.movements import (
    WholeNumber,
    choose_site,
    form_status,
    items_by_sku,
    lots_on_hand,
    not_in_future,
    plural,
    show_error,
    site_name,
    unit_word,
)
from inventory.web.services import services

bp = Blueprint("tallies", __name__)

CLOCK = Regexp(r"^([01]\d|2[0-3]):[0-5]\d$", message="Enter a time like 21:30.")


class TallyLine(Form):
    sku = HiddenField()
    quantity = WholeNumber(
        "Handed out",
        validators=[Optional(), within(rules.COUNTED)],
        render_kw={"autocomplete": "off"},
    )


class TallyForm(FlaskForm):
    key = HiddenField()
    shift_date = DayField("Shift date", validators=[InputRequired("Enter the shift's date."), not_in_future])
    starts_at = StringField(
        "Started at", validators=[DataRequired("Enter when the shift started."), CLOCK], render_kw={"type": "time"}
    )
    ends_at = StringField(
        "Ended at", validators=[DataRequired("Enter when the shift ended."), CLOCK], render_kw={"type": "time"}
    )
    visits = WholeNumber(
        "Visits",
        validators=[InputRequired("Enter how many visits the shift had."), within(rules.SHIFT_VISITS)],
    )
    reversals_reported = WholeNumber(
        "Overdose reversals reported", default=0, validators=[Optional(), within(rules.SHIFT_REVERSALS)]
    )
    syringes_collected = WholeNumber(
        "Used syringes collected", default=0, validators=[Optional(), within(rules.SHIFT_SYRINGES)]
    )
    lines = FieldList(FormField(TallyLine), max_entries=200)


@bp.get("/tally")
@page(Action.RECORD_ENCOUNTER)
def choose() -> ResponseReturnValue:
    """Pick the site of the shift (straight there when there is only one)."""
    return choose_site(Action.RECORD_ENCOUNTER, "tallies.record", "pages/tallies/choose.html")


def _stocked_items(site: str) -> list[str]:
    """The items on hand at the site, by SKU: what a shift there can have handed out."""
    return sorted({row["sku"] for row in lots_on_hand(site)})


@bp.route("/sites/<site>/tally", methods=["GET", "POST"])
@page(Action.RECORD_ENCOUNTER)
def record(site: str) -> ResponseReturnValue:
    """The shift's date and hours, what it handed out per item, its visits, reversals and syringes collected."""
    items = items_by_sku()
    skus = _stocked_items(site)
    form = TallyForm(data={"key": secrets.token_urlsafe(16), "lines": [{"sku": sku} for sku in skus]})
    shift = None
    if request.method == "GET":
        shift = _likely_shift(form, site)
    for entry in form.lines:
        sku = entry.form.sku.data or ""
        item = items.get(sku) or {"name": sku, "unit": "unit"}
        entry.form.quantity.label = Label(entry.form.quantity.id, f"{item['name']} ({unit_word(2, item['unit'])})")
    status = 200
    if form.validate_on_submit():
        lines = [
            {"sku": entry.form.sku.data, "quantity": entry.form.quantity.data}
            for entry in form.lines
            if entry.form.quantity.data
        ]
        try:
            tally = services().app.record_shift_tally(
                key=form.key.data or "",
                site=site,
                shift_date=form.shift_date.data or today(),
                starts_at=form.starts_at.data or "",
                ends_at=form.ends_at.data or "",
                lines=lines,
                visits=form.visits.data or 0,
                reversals_reported=form.reversals_reported.data or 0,
                syringes_collected=form.syringes_collected.data or 0,
                actor=principal().email,
            )
        except InventoryError as error:
            _show(form, error)
            status = form_status(error)
        else:
            services().projector.read_your_writes()
            flash(_said(tally, items), "success")
            return redirect(url_for("tallies.record", site=site))
    elif request.method == "POST":
        status = 422
    return render_template(
        "pages/tallies/record.html", form=form, site=site, site_name=site_name(site), items=items, shift=shift
    ), status


def _likely_shift(form: TallyForm, site: str) -> str | None:
    """Fill in the shift the person most likely means (inventory.domain.shifts); that shift in words."""
    usual = queries.usual_shift_hours(services().store, site)
    hours = (time.fromisoformat(usual[0]), time.fromisoformat(usual[1])) if usual else None
    day, starts, ends = likely_shift(now(), hours)
    form.shift_date.data = day
    if starts is None or ends is None:
        return None
    form.starts_at.data, form.ends_at.data = f"{starts:%H:%M}", f"{ends:%H:%M}"
    return shift_in_words(*shift_times(day, starts, ends, services().app.zone))


def _show(form: TallyForm, error: InventoryError) -> None:
    """A refusal next to its field; a stock refusal (which names the item) at the top."""
    if error.field and error.field.split(".")[0].split("[")[0] in ("visits", "starts_at", "ends_at", "shift_date"):
        show_error(form, error)
    else:
        form.form_errors.append(error.message)


def _said(tally: dict[str, Any], items: dict[str, dict[str, Any]]) -> str:
    handed = ", ".join(
        f"{plural(int(line['quantity']), items.get(line['sku'], {}).get('unit', 'unit'))} of {line['sku']}"
        for line in tally["lines"]
    )
    hours = (time.fromisoformat(tally["starts_at"]), time.fromisoformat(tally["ends_at"]))
    shift = shift_in_words(*shift_times(tally["shift_date"], *hours, services().app.zone))
    return (
        f"Shift tally recorded at {tally['site']} for {shift} "
        f"({day_in_words(tally['shift_date'], today().year)}): {tally['visits']} visits"
        + (f"; handed out {handed}" if handed else "")
        + "."
    )
