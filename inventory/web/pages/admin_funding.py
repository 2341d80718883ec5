"""Admin pages: funding sources and the categories each may not pay for, with dates."""

from __future__ import annotations

import json
import re
from datetime import date
from typing import Any

from flask import abort, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_wtf import FlaskForm
from wtforms import BooleanField, FieldList, Form, FormField, SelectField, StringField
from wtforms.validators import DataRequired, Length, Optional

from inventory.application.access import Action
from inventory.domain.errors import InventoryError
from inventory.projections import queries
from inventory.web.pages.admin import CATEGORY_LABELS, actor, bp, form_page
from inventory.web.pages.common import field_error, page, today
from inventory.web.pages.fields import DayField
from inventory.web.services import services

BLANK_ROWS = 2
MIN_ROWS = 3
MAX_ROWS = 20
ROW_FIELD = re.compile(r"^restrictions\[(\d+)\]\.(\w+)$")


class RuleForm(Form):
    """One rule: this source may not pay for `category` from `starts_on` (to `ends_on`)."""

    category = SelectField(
        "May not pay for",
        choices={"": "No rule", **{c.value: label for c, label in CATEGORY_LABELS.items()}},
        default="",  # a row a browser did not send is an empty row, not a wrong choice
    )
    starts_on = DayField("From", validators=[Optional()])
    ends_on = DayField("Until (leave empty if it has no end)", validators=[Optional()])


class RulesForm(FlaskForm):
    restrictions = FieldList(FormField(RuleForm), min_entries=MIN_ROWS, max_entries=MAX_ROWS)

    def validate(self, extra_validators: Any = None) -> bool:
        """Each row with a category needs a start date; a row without one must be empty."""
        valid = bool(super().validate(extra_validators))
        for entry in self.restrictions:
            row = entry.form
            if row.category.data and row.starts_on.data is None and not row.starts_on.errors:
                row.starts_on.errors = [*row.starts_on.errors, "Enter the date this rule starts."]
                valid = False
            if not row.category.data and (row.starts_on.data or row.ends_on.data):
                row.category.errors = [*row.category.errors, "Choose what this rule forbids, or clear its dates."]
                valid = False
            if row.starts_on.data and row.ends_on.data and row.ends_on.data < row.starts_on.data:
                row.ends_on.errors = [*row.ends_on.errors, "The end date must not be before the start date."]
                valid = False
        return valid

    def rules(self) -> list[dict[str, Any]]:
        """The filled-in rows, as the verbs take them."""
        return [
            {"category": row.category.data, "starts_on": row.starts_on.data, "ends_on": row.ends_on.data}
            for row in (entry.form for entry in self.restrictions)
            if row.category.data
        ]


class FundingForm(RulesForm):
    code = StringField(
        "Code",
        validators=[DataRequired("Enter a short code for the funder, like SOR."), Length(max=40)],
        render_kw={"autocapitalize": "characters", "autocomplete": "off", "spellcheck": "false"},
    )
    name = StringField("Name", validators=[DataRequired("Enter the funder's or grant's name."), Length(max=80)])
    federal = BooleanField("Federal money")


def place_error(form: FlaskForm, error: InventoryError) -> None:
    """A refused rule's message goes next to its own row's field; anything else as usual."""
    found = ROW_FIELD.match(error.field or "")
    entries = list(getattr(form, "restrictions", []))
    if found and int(found.group(1)) < len(entries):
        target = getattr(entries[int(found.group(1))].form, found.group(2), None)
        if target is not None:
            target.errors = [*target.errors, error.message]
            return
    field_error(form, error)


def rule_words(rule: dict[str, Any], day: date) -> dict[str, str]:
    """A stored rule in words ("No syringes from 2018-01-01, no end date"), and whether it applies today."""
    label = CATEGORY_LABELS.get(rule["category"], rule["category"]).lower()
    starts, ends = rule["starts_on"], rule.get("ends_on")
    words = f"No {label} from {starts}" + (f" to {ends}" if ends else ", no end date")
    state = "ended" if ends and ends < day.isoformat() else ("future" if starts > day.isoformat() else "current")
    return {"words": words, "state": state}


def funding_rows() -> list[dict[str, Any]]:
    day = today()
    rows = []
    for row in queries.funding_sources(services().store):
        rules = json.loads(row["restrictions"]) if isinstance(row["restrictions"], str) else row["restrictions"]
        rows.append(dict(row, rules=[rule_words(rule, day) for rule in rules], raw_rules=rules))
    return rows


def funding_row(code: str) -> dict[str, Any]:
    code = code.upper()
    for row in funding_rows():
        if row["code"] == code:
            return row
    abort(404, description=f"There is no funding source {code}.")


@bp.get("/funding")
@page(Action.MANAGE_CATALOG)
def funding() -> str:
    return render_template("pages/admin/funding.html", sources=funding_rows())


@bp.route("/funding/new", methods=["GET", "POST"])
@page(Action.MANAGE_CATALOG)
def new_funding() -> ResponseReturnValue:
    form = FundingForm()

    def register() -> str:
        found = services().app.register_funding_source(
            code=form.code.data or "",
            name=form.name.data or "",
            federal=bool(form.federal.data),
            restrictions=form.rules(),
            actor=actor(),
        )
        return f"Funding source {found['code']} added with {len(found['restrictions'])} rule(s)."

    return form_page(
        "pages/admin/funding_form.html", form, register, url_for("admin.funding"), place=place_error, source=None
    )


@bp.route("/funding/<code>/rules", methods=["GET", "POST"])
@page(Action.MANAGE_CATALOG)
def funding_rules(code: str) -> ResponseReturnValue:
    source = funding_row(code)
    if request.method == "POST":
        form = RulesForm()
    else:
        existing = [
            {"category": r["category"], "starts_on": _day(r["starts_on"]), "ends_on": _day(r.get("ends_on"))}
            for r in source["raw_rules"]
        ]
        blanks = max(BLANK_ROWS, MIN_ROWS - len(existing))
        form = RulesForm(data={"restrictions": existing + [{}] * blanks})

    def change() -> str:
        found = services().app.change_restrictions(code=source["code"], restrictions=form.rules(), actor=actor())
        count = len(found["restrictions"])
        return f"Rules of {found['code']} saved: {count} rule{'' if count == 1 else 's'}."

    return form_page(
        "pages/admin/funding_form.html", form, change, url_for("admin.funding"), place=place_error, source=source
    )


def _day(value: str | None) -> date | None:
    return date.fromisoformat(value) if value else None
