"""Partner organisations: the list, each partner's page with its report back, supplies issued to a partner,
and (admins) adding or changing one.

A partner account sees its own partner's page and nothing else: the report form, its reports, and what
the program issued it. Staff who supply partners see every partner.
"""

from __future__ import annotations

import secrets
from datetime import date, timedelta
from typing import Any

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_wtf import FlaskForm
from wtforms import FieldList, FormField, HiddenField, SelectField, StringField
from wtforms.validators import DataRequired, InputRequired, Length, Optional

from inventory.application.access import Action
from inventory.application.partners import REPORTED_KITS, REPORTED_REVERSALS
from inventory.domain.errors import InventoryError
from inventory.domain.partners import PARTNER_KINDS
from inventory.domain.text import CODE_LENGTH, NAME_LENGTH
from inventory.domain.values import SiteKind
from inventory.projections import reach_queries
from inventory.projections.store import ReadStore
from inventory.web.pages.common import page, principal, today
from inventory.web.pages.corrections import VoidForm
from inventory.web.pages.fields import DayField, within
from inventory.web.pages.item_lines import ItemLine, label_lines, lines_entered, lines_in_words, on_hand_lines
from inventory.web.pages.movements import (
    WholeNumber,
    form_status,
    items_by_sku,
    not_in_future,
    option,
    show_error,
    sites_for,
)
from inventory.web.services import services

bp = Blueprint("partners", __name__)
RECENT_DAYS = 90


class ReportForm(FlaskForm):
    """What a partner reports for a period: kits handed out onward, reversals, kits still held."""

    starts_on = DayField("From", validators=[InputRequired("Enter the first day the report covers."), not_in_future])
    ends_on = DayField("To", validators=[InputRequired("Enter the last day the report covers."), not_in_future])
    kits_distributed = WholeNumber(
        "Naloxone kits handed out onward",
        validators=[InputRequired("Enter how many kits you handed out (0 if none)."), within(REPORTED_KITS)],
    )
    reversals_reported = WholeNumber(
        "Overdose reversals you heard of", default=0, validators=[Optional(), within(REPORTED_REVERSALS)]
    )
    kits_remaining = WholeNumber("Kits you still hold at the end", validators=[Optional(), within(REPORTED_KITS)])


class IssueForm(FlaskForm):
    key = HiddenField()
    partner = SelectField("Partner organisation", validators=[DataRequired("Choose the partner.")])
    lines = FieldList(FormField(ItemLine), max_entries=200)


class PartnerForm(FlaskForm):
    code = StringField(
        "Code", validators=[DataRequired("Enter a short code, like SHELTER-1."), Length(max=CODE_LENGTH)]
    )
    name = StringField("Organisation's name", validators=[DataRequired("Enter its name."), Length(max=NAME_LENGTH)])
    kind = SelectField("Kind", choices=[option(code, label) for code, label in PARTNER_KINDS.items()])
    contact_role = StringField(
        "Contact's role",
        validators=[DataRequired("Enter the role of your contact there."), Length(max=NAME_LENGTH)],
    )


def the_partner(code: str) -> dict[str, Any]:
    """The partner with this code, if this person may see its page (else 404 or 403)."""
    found = reach_queries.partner(services().store, code.upper())
    if found is None:
        abort(404, description=f"There is no partner organisation {code.upper()}.")
    if not principal().may_report_for(found["code"]):
        abort(403, description="This account may see only its own partner organisation's page.")
    return found


def supplying_sites() -> list[dict[str, Any]]:
    """The open sites this person may issue from to a partner (a vending machine issues to no one)."""
    return [site for site in sites_for(Action.SUPPLY_PARTNERS) if site["kind"] != SiteKind.VENDING_MACHINE]


def issued_to(store: ReadStore, start: date, end: date) -> dict[str, dict[str, int]]:
    """Units issued to each partner in a period, by item (issues voided left out): one query for all."""
    totals: dict[str, dict[str, int]] = {}
    for issue in reach_queries.partner_issues(store, None, start, end):
        by_item = totals.setdefault(issue["partner"], {})
        for line in issue["lines"]:
            by_item[line["sku"]] = by_item.get(line["sku"], 0) + int(line["quantity"])
    return totals


def next_report(form: ReportForm, reports: list[dict[str, Any]], day: date) -> None:
    """The period a partner most likely reports next: last month, from the day after its latest report. When
    last month is reported already, that report, to change (the same period again replaces it)."""
    last_month_ends = day.replace(day=1) - timedelta(days=1)
    first = last_month_ends.replace(day=1)
    latest = max(reports, key=lambda report: report["ends_on"], default=None)
    if latest is not None:
        first = max(first, date.fromisoformat(latest["ends_on"]) + timedelta(days=1))
    if first <= last_month_ends or latest is None:
        form.starts_on.data, form.ends_on.data = first, last_month_ends
        return
    form.starts_on.data = date.fromisoformat(latest["starts_on"])
    form.ends_on.data = date.fromisoformat(latest["ends_on"])
    form.kits_distributed.data = latest["kits_distributed"]
    form.reversals_reported.data = latest["reversals_reported"]
    form.kits_remaining.data = latest["kits_remaining"]


@bp.get("/partners")
@page(Action.SUPPLY_PARTNERS)
def index() -> str:
    """Every partner, with what it was issued in the last 90 days and its latest report."""
    store, day = services().store, today()
    latest: dict[str, dict[str, Any]] = {}
    for report in reach_queries.partner_reports(store):
        latest.setdefault(report["partner"], report)
    issued = issued_to(store, day - timedelta(days=RECENT_DAYS - 1), day)
    rows = [
        dict(p, issued=issued.get(p["code"], {}), latest=latest.get(p["code"])) for p in reach_queries.partners(store)
    ]
    return render_template(
        "pages/partners/index.html",
        partners=rows,
        kinds=PARTNER_KINDS,
        items=items_by_sku(),
        days=RECENT_DAYS,
        may_add=principal().can(Action.MANAGE_CATALOG),
        sites=supplying_sites(),
    )


@bp.route("/partners/<partner>", methods=["GET", "POST"])
@page(Action.REPORT_FOR_PARTNER)
def show(partner: str) -> ResponseReturnValue:
    """A partner's page: its report back for a period (a partner account's one form), its reports, and what
    the program issued it."""
    found = the_partner(partner)
    store, day = services().store, today()
    form = ReportForm()
    reports = reach_queries.partner_reports(store, found["code"])
    if request.method == "GET":
        next_report(form, reports, day)
    status = 200
    if form.validate_on_submit():
        try:
            services().app.report_back(
                partner=found["code"],
                starts_on=form.starts_on.data or day,
                ends_on=form.ends_on.data or day,
                kits_distributed=form.kits_distributed.data or 0,
                reversals_reported=form.reversals_reported.data or 0,
                kits_remaining=form.kits_remaining.data,
                actor=principal().email,
            )
        except InventoryError as error:
            show_error(form, error)
            status = form_status(error)
        else:
            services().projector.read_your_writes()
            flash(f"Report for {found['name']} recorded. Thank you.", "success")
            return redirect(url_for("partners.show", partner=found["code"]))
    elif request.method == "POST":
        status = 422
    staff = principal().can(Action.SUPPLY_PARTNERS)
    return render_template(
        "pages/partners/show.html",
        partner=found,
        kinds=PARTNER_KINDS,
        form=form,
        reports=reports,
        issues=reach_queries.partner_issues(store, found["code"], day - timedelta(days=RECENT_DAYS - 1), day),
        items=items_by_sku(),
        days=RECENT_DAYS,
        staff=staff,
        sites=supplying_sites() if staff else [],
        void_form=VoidForm(formdata=None),
    ), status


@bp.route("/sites/<site>/partner-issues/new", methods=["GET", "POST"])
@page(Action.SUPPLY_PARTNERS)
def issue(site: str) -> ResponseReturnValue:
    """Supplies issued in bulk from this site to a partner: a quantity per item on hand."""
    items = items_by_sku()
    form = IssueForm(data={"key": secrets.token_urlsafe(16), "lines": on_hand_lines(site)})
    form.partner.choices = [
        option(p["code"], f"{p['name']} ({p['code']})")
        for p in reach_queries.partners(services().store, active_only=True)
    ]
    if request.method == "GET" and request.args.get("partner"):
        form.partner.data = request.args["partner"].upper()
    label_lines(form.lines, items)
    status = 200
    if form.validate_on_submit():
        lines = lines_entered(form.lines)
        if not lines:
            form.form_errors.append("Enter a quantity for at least one item.")
            status = 422
        else:
            try:
                done = services().app.issue_to_partner(
                    key=form.key.data or "", site=site, partner=form.partner.data or "", lines=lines,
                    actor=principal().email,
                )  # fmt: skip
            except InventoryError as error:
                form.form_errors.append(error.message)
                status = form_status(error)
            else:
                services().projector.read_your_writes()
                flash(f"Issued from {site} to {done['partner']}: {lines_in_words(done['lines'], items)}.", "success")
                return redirect(url_for("partners.show", partner=done["partner"]))
    elif request.method == "POST":
        status = 422
    return render_template("pages/partners/issue.html", form=form, site=site, items=items), status


@bp.route("/partners/new", methods=["GET", "POST"])
@page(Action.MANAGE_CATALOG)
def new() -> ResponseReturnValue:
    """Add a partner organisation (an organisation, never a person)."""
    form = PartnerForm()
    status = 200
    if form.validate_on_submit():
        try:
            found = services().app.register_partner(
                code=form.code.data or "", name=form.name.data or "", kind=form.kind.data or "",
                contact_role=form.contact_role.data or "", actor=principal().email,
            )  # fmt: skip
        except InventoryError as error:
            show_error(form, error)
            status = form_status(error)
        else:
            services().projector.read_your_writes()
            flash(f"{found['name']} ({found['code']}) added as a partner.", "success")
            return redirect(url_for("partners.show", partner=found["code"]))
    elif request.method == "POST":
        status = 422
    return render_template("pages/partners/new.html", form=form), status


@bp.post("/sites/<site>/partner-issues/<issue_id>/void")
@page(Action.SUPPLY_PARTNERS)
def void_issue(site: str, issue_id: str) -> ResponseReturnValue:
    """An issue recorded by mistake: its supplies go back to the site on its own time; no report counts it."""
    form = VoidForm()
    try:
        issue = services().app.partner_issue(issue_id)
    except InventoryError:
        abort(404, description=f"There is no such issue to a partner from {site}.")
    if issue["site"] != site:
        abort(404, description=f"There is no such issue to a partner from {site}.")
    back = url_for("partners.show", partner=issue["partner"])
    if not form.validate_on_submit():
        flash("Choose why the issue is undone, then tap Undo again.", "error")
        return redirect(back)
    who = principal()
    try:
        services().app.void_partner_issue(
            issue_id=issue_id, reason=str(form.reason.data), actor=who.email, within=who.correction_window
        )
    except InventoryError as error:
        flash(error.message, "error")
    else:
        services().projector.read_your_writes()
        flash(f"The issue to {issue['partner']} is undone: its supplies are back at {site}.", "success")
    return redirect(back)
