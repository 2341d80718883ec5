"""Pages: the exports a grant manager or auditor downloads (grant report, stock and expiry, distribution log)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Any

from flask import Blueprint, abort, current_app, redirect, render_template, request, send_file, url_for
from flask.typing import ResponseReturnValue
from wtforms import Form, SelectField
from wtforms.validators import InputRequired, Optional

from exports import reports
from exports.reports import Source, Stages, check_funding_source, check_known_at, check_period
from inventory.application.access import Action
from inventory.bootstrap import Services
from inventory.domain.errors import InventoryError
from inventory.projections import queries
from inventory.stores.export_jobs import DONE, ExportJob, ExportJobs, Work
from inventory.web.pages.audit import PositionField
from inventory.web.pages.common import page, principal, today
from inventory.web.pages.fields import DayField
from inventory.web.pages.lists import QueryForm
from inventory.web.pages.movements import option
from inventory.web.services import services

bp = Blueprint("exports", __name__)

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
KNOWN_AT_HINT = "Optional: the figures as the log knew them at this position, whatever was recorded since."


class GrantForm(QueryForm):
    funding_source = SelectField("Funding source", validate_choice=False)
    start = DayField("From", validators=[InputRequired("Enter the first day of the period.")])
    end = DayField("To", validators=[InputRequired("Enter the last day of the period.")])
    known_at = PositionField("As known at log position", validators=[Optional()], render_kw={"inputmode": "numeric"})


class StockForm(QueryForm):
    funding_source = SelectField("Funding source", validate_choice=False)
    on = DayField("Days to expiry from", validators=[InputRequired("Enter the day to count days to expiry from.")])
    known_at = PositionField("As known at log position", validators=[Optional()], render_kw={"inputmode": "numeric"})


class LogForm(QueryForm):
    start = DayField("From", validators=[InputRequired("Enter the first day of the period.")])
    end = DayField("To", validators=[InputRequired("Enter the last day of the period.")])
    known_at = PositionField("As known at log position", validators=[Optional()], render_kw={"inputmode": "numeric"})


def _forms(args: Any = None) -> dict[str, Form]:
    start, end = reports.default_period(today())
    sources = [option("", "All funding sources")] + [
        option(row["code"], f"{row['code']} · {row['name']}") for row in queries.funding_sources(services().store)
    ]
    grant = GrantForm(args, prefix="grant", data={"start": start, "end": end})
    stock = StockForm(args, prefix="stock", data={"on": today()})
    log = LogForm(args, prefix="log", data={"start": start, "end": end})
    grant.funding_source.choices = sources
    stock.funding_source.choices = sources
    return {"grant": grant, "stock": stock, "log": log}


def _index(forms: dict[str, Form], status: int = 200) -> ResponseReturnValue:
    found = services()
    return (
        render_template(
            "pages/exports/index.html",
            forms=forms,
            head=found.projector.head(),
            participant_codes=found.settings.export_participant_codes,
            hint=KNOWN_AT_HINT,
            recent=jobs().recent(principal().email),
            **_words(),
        ),
        status,
    )


@bp.get("/exports")
@page(Action.EXPORT)
def index() -> ResponseReturnValue:
    """The three exports, each a small form that prepares a workbook; this person's latest exports."""
    return _index(_forms())


def jobs() -> ExportJobs:
    """This process's export jobs (their table is shared by every web worker)."""
    found = current_app.extensions.get("export_jobs")
    if found is None:
        settings = services().settings
        found = current_app.extensions["export_jobs"] = ExportJobs(services().store, settings.instance_path / "exports")
    assert isinstance(found, ExportJobs)
    return found


def _prepare(
    name: str, forms: dict[str, Form], filename: str, check: Callable[[Source], object], work: Work
) -> ResponseReturnValue:
    """Queue the workbook and go to its progress page, or show the form again with what to fix."""
    form: Any = forms[name]
    if not form.validate() or form.errors:
        return _index(forms, 422)
    found = services()
    found.projector.catch_up()
    try:
        check(Source(found.app, found.store, found.app.zone))
    except InventoryError as error:
        target = getattr(form, {"from": "start", "to": "end"}.get(error.field or "", error.field or ""), None)
        if target is not None:
            target.errors = [*target.errors, error.message]
        else:
            form.form_errors.append(error.message)
        return _index(forms, 422)
    job_id = jobs().start(kind=name, filename=filename, requested_by=principal().email, work=work)
    return redirect(url_for("exports.job", job_id=job_id), 303)


@bp.post("/exports/grant-report")
@page(Action.EXPORT)
def grant_report() -> ResponseReturnValue:
    """Prepare a grant report for one funding source (or all) and a period."""
    forms = _forms(request.form)
    form: Any = forms["grant"]
    code = (form.funding_source.data or "").strip() or None  # check_funding_source says if there is no such source
    start: date | None = form.start.data
    end: date | None = form.end.data
    position: int | None = form.known_at.data
    who = principal().email
    found = services()

    def check(source: Source) -> None:
        assert start is not None and end is not None
        check_period(start, end)
        check_funding_source(source, code)
        check_known_at(source, position)

    def work(path: str, stages: Stages) -> object:
        assert start is not None and end is not None
        source = _caught_up(found)
        return reports.grant_report(
            source, path, funding_source=code, start=start, end=end, who=who, position=position, stages=stages
        )

    return _prepare("grant", forms, f"grant-report-{code or 'ALL'}-{start}-to-{end}.xlsx", check, work)


@bp.post("/exports/stock-report")
@page(Action.EXPORT)
def stock_report() -> ResponseReturnValue:
    """Prepare stock on hand by site, item and lot, with days to expiry and value."""
    forms = _forms(request.form)
    form: Any = forms["stock"]
    code = (form.funding_source.data or "").strip() or None  # check_funding_source says if there is no such source
    on: date = form.on.data
    position: int | None = form.known_at.data
    who = principal().email
    found = services()

    def check(source: Source) -> None:
        check_funding_source(source, code)
        check_known_at(source, position)

    def work(path: str, stages: Stages) -> object:
        source = _caught_up(found)
        return reports.stock_report(source, path, funding_source=code, on=on, who=who, position=position, stages=stages)

    return _prepare("stock", forms, f"stock-and-expiry-{code or 'ALL'}-{on}.xlsx", check, work)


@bp.post("/exports/distribution-log")
@page(Action.EXPORT)
def distribution_log() -> ResponseReturnValue:
    """Prepare every encounter in a period (the anonymous code only when the setting allows)."""
    forms = _forms(request.form)
    form: Any = forms["log"]
    start: date | None = form.start.data
    end: date | None = form.end.data
    position: int | None = form.known_at.data
    who = principal().email
    found = services()
    codes = found.settings.export_participant_codes

    def check(source: Source) -> None:
        assert start is not None and end is not None
        check_period(start, end)
        check_known_at(source, position)

    def work(path: str, stages: Stages) -> object:
        assert start is not None and end is not None
        source = _caught_up(found)
        return reports.distribution_log(
            source, path, start=start, end=end, who=who, participant_codes=codes, position=position, stages=stages
        )

    return _prepare("log", forms, f"distribution-log-{start}-to-{end}.xlsx", check, work)


def _caught_up(found: Services) -> Source:
    """Where an export reads from, with the read models caught up first (on the export's thread)."""
    found.projector.catch_up()
    return Source(found.app, found.store, found.app.zone)


def _job_or_404(job_id: str) -> ExportJob:
    job = jobs().find(job_id, principal().email)
    if job is None:
        abort(404)
    return job


@bp.get("/exports/jobs/<job_id>")
@page(Action.EXPORT)
def job(job_id: str) -> ResponseReturnValue:
    """An export being prepared: how far it has got, then the download."""
    return render_template("pages/exports/job.html", job=_job_or_404(job_id), **_words())


@bp.get("/exports/jobs/<job_id>/progress")
@page(Action.EXPORT)
def job_progress(job_id: str) -> ResponseReturnValue:
    """The progress part of the job page, which polls it until the export has finished."""
    return render_template("pages/exports/_job_progress.html", job=_job_or_404(job_id), **_words())


@bp.get("/exports/jobs/<job_id>/download")
@page(Action.EXPORT)
def download(job_id: str) -> ResponseReturnValue:
    """The finished workbook (kept for a day)."""
    found = _job_or_404(job_id)
    path = jobs().file(found.id)
    if found.status != DONE or not path.exists():
        abort(404)
    return send_file(path, mimetype=XLSX, as_attachment=True, download_name=found.filename)


TITLES = {"grant": "Grant report", "stock": "Stock and expiry", "log": "Distribution log"}
STATES = {"queued": "waiting", "running": "being prepared", "done": "ready", "failed": "failed", "stopped": "stopped"}


def _words() -> dict[str, Any]:
    """What the export templates need to name jobs."""
    return {"titles": TITLES, "job_states": STATES}
