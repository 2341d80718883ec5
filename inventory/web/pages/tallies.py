"""Record a shift tally: on a night too busy to record each visit, the shift's totals afterwards."""

from __future__ import annotations

import secrets
from datetime import time
from typing import Any

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_wtf import FlaskForm
from wtforms import FieldList, FormField, HiddenField, SelectField, StringField
from wtforms.validators import DataRequired, InputRequired, Optional, Regexp

from inventory.application import rules
from inventory.application.access import Action
from inventory.domain.errors import InventoryError
from inventory.domain.reach import UNKNOWN, channel_for_site
from inventory.domain.shifts import likely_shift, shift_times
from inventory.domain.time_words import day_in_words, shift_in_words
from inventory.projections import queries
from inventory.web.pages.common import now, page, principal, today
from inventory.web.pages.fields import DayField, within
from inventory.web.pages.item_lines import ItemLine, label_lines, lines_entered, lines_in_words, on_hand_lines
from inventory.web.pages.movements import (
    WholeNumber,
    choose_site,
    form_status,
    items_by_sku,
    not_in_future,
    show_error,
    site_kind,
    site_name,
)
from inventory.web.pages.reach import channel_options, recipient_options
from inventory.web.services import services

bp = Blueprint("tallies", __name__)

CLOCK = Regexp(r"^([01]\d|2[0-3]):[0-5]\d$", message="Enter a time like 21:30.")


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
    recipient = SelectField("Who the hand-outs were for", default=UNKNOWN)
    for_others = WholeNumber(
        "Visitors collecting for others: about how many people they reach",
        default=0,
        validators=[Optional(), within(rules.SHIFT_FOR_OTHERS)],
    )
    channel = SelectField("How they were handed out")
    lines = FieldList(FormField(ItemLine), max_entries=200)


@bp.get("/tally")
@page(Action.RECORD_ENCOUNTER)
def choose() -> ResponseReturnValue:
    """Pick the site of the shift (straight there when there is only one)."""
    return choose_site(Action.RECORD_ENCOUNTER, "tallies.record", "pages/tallies/choose.html")


@bp.route("/sites/<site>/tally", methods=["GET", "POST"])
@page(Action.RECORD_ENCOUNTER)
def record(site: str) -> ResponseReturnValue:
    """The shift's date and hours, what it handed out per item, its visits, reversals and syringes collected."""
    items = items_by_sku()
    form = TallyForm(data={"key": secrets.token_urlsafe(16), "lines": on_hand_lines(site)})
    kind = site_kind(site)
    form.recipient.choices = recipient_options(unknown="Mixed, or not noted")
    form.channel.choices = channel_options(kind)
    if form.channel.data is None:
        form.channel.data = channel_for_site(kind)
    shift = None
    if request.method == "GET":
        shift = _likely_shift(form, site)
    label_lines(form.lines, items)
    status = 200
    if form.validate_on_submit():
        lines = lines_entered(form.lines)
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
                recipient=form.recipient.data,
                for_others=form.for_others.data or 0,
                channel=form.channel.data,
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
    fields = ("visits", "starts_at", "ends_at", "shift_date", "recipient", "for_others", "channel")
    if error.field and error.field.split(".")[0].split("[")[0] in fields:
        show_error(form, error)
    else:
        form.form_errors.append(error.message)


def _said(tally: dict[str, Any], items: dict[str, dict[str, Any]]) -> str:
    handed = lines_in_words(tally["lines"], items)
    hours = (time.fromisoformat(tally["starts_at"]), time.fromisoformat(tally["ends_at"]))
    shift = shift_in_words(*shift_times(tally["shift_date"], *hours, services().app.zone))
    return (
        f"Shift tally recorded at {tally['site']} for {shift} "
        f"({day_in_words(tally['shift_date'], today().year)}): {tally['visits']} visits"
        + (f"; handed out {handed}" if handed else "")
        + "."
    )
