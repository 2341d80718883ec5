"""Pages: the exports a grant manager or auditor downloads (grant report, stock and expiry, distribution log)."""

from __future__ import annotations

import io
from collections.abc import Callable
from datetime import date
from typing import IO, Any

from flask import Blueprint, render_template, request, send_file
from flask.typing import ResponseReturnValue
from wtforms import Form, SelectField
from wtforms.validators import InputRequired, Optional

from exports import reports
from exports.reports import Source
from inventory.access import Action
from inventory.domain.errors import InventoryError
from inventory.projections import queries
from inventory.web.pages.audit import PositionField, QueryForm
from inventory.web.pages.common import page, principal, today
from inventory.web.pages.stock import DayField
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
    sources = [("", "All funding sources")] + [
        (row["code"], f"{row['code']} · {row['name']}") for row in queries.funding_sources(services().store)
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
        ),
        status,
    )


@bp.get("/exports")
@page(Action.EXPORT)
def index() -> ResponseReturnValue:
    """The three exports, each a small form that downloads a workbook."""
    return _index(_forms())


def _chosen(form: Any) -> str | None:
    value = (form.funding_source.data or "").strip()
    if value and value not in {code for code, _ in form.funding_source.choices}:
        form.funding_source.errors = [*form.funding_source.errors, "Choose a funding source from the list."]
    return value or None


def _download(
    name: str, forms: dict[str, Form], filename: str, write: Callable[[Source, IO[bytes]], object]
) -> ResponseReturnValue:
    """Write the workbook, or show the form again with what to fix next to the field."""
    form: Any = forms[name]
    if not form.validate() or form.errors:
        return _index(forms, 422)
    found = services()
    found.projector.catch_up()
    buffer = io.BytesIO()
    try:
        write(Source(found.app, found.store, found.app.zone), buffer)
    except InventoryError as error:
        target = getattr(form, {"from": "start", "to": "end"}.get(error.field or "", error.field or ""), None)
        if target is not None:
            target.errors = [*target.errors, error.message]
        else:
            form.form_errors.append(error.message)
        return _index(forms, 422)
    buffer.seek(0)
    return send_file(buffer, mimetype=XLSX, as_attachment=True, download_name=filename)


@bp.get("/exports/grant-report.xlsx")
@page(Action.EXPORT)
def grant_report() -> ResponseReturnValue:
    """Download a grant report for one funding source (or all) and a period."""
    forms = _forms(request.args)
    form: Any = forms["grant"]
    code = _chosen(form)
    start: date | None = form.start.data
    end: date | None = form.end.data

    def write(source: Source, target: IO[bytes]) -> object:
        assert start is not None and end is not None
        return reports.grant_report(
            source,
            target,
            funding_source=code,
            start=start,
            end=end,
            who=principal().email,
            position=form.known_at.data,
        )

    name = f"grant-report-{code or 'ALL'}-{start}-to-{end}.xlsx"
    return _download("grant", forms, name, write)


@bp.get("/exports/stock-report.xlsx")
@page(Action.EXPORT)
def stock_report() -> ResponseReturnValue:
    """Download stock on hand by site, item and lot, with days to expiry and value."""
    forms = _forms(request.args)
    form: Any = forms["stock"]
    code = _chosen(form)
    on: date = form.on.data

    def write(source: Source, target: IO[bytes]) -> object:
        return reports.stock_report(
            source, target, funding_source=code, on=on, who=principal().email, position=form.known_at.data
        )

    return _download("stock", forms, f"stock-and-expiry-{code or 'ALL'}-{on}.xlsx", write)


@bp.get("/exports/distribution-log.xlsx")
@page(Action.EXPORT)
def distribution_log() -> ResponseReturnValue:
    """Download every encounter in a period (the anonymous code only when the setting allows)."""
    forms = _forms(request.args)
    form: Any = forms["log"]
    start: date | None = form.start.data
    end: date | None = form.end.data

    def write(source: Source, target: IO[bytes]) -> object:
        assert start is not None and end is not None
        return reports.distribution_log(
            source,
            target,
            start=start,
            end=end,
            who=principal().email,
            participant_codes=services().settings.export_participant_codes,
            position=form.known_at.data,
        )

    return _download("log", forms, f"distribution-log-{start}-to-{end}.xlsx", write)
