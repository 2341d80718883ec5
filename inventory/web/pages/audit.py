"""Pages: the audit history, stock at a point in time (as known now, or as the log knew it then), the seal check."""

from __future__ import annotations

import functools
import time
from typing import Any

from eventsourcing.domain import Aggregate, CanInitAggregate
from flask import Blueprint, render_template, request
from flask.typing import ResponseReturnValue
from flask_wtf import FlaskForm
from wtforms import IntegerField, SelectField, StringField
from wtforms.validators import Length, NumberRange, Optional

from inventory import domain
from inventory.application.access import Action
from inventory.projections import queries
from inventory.projections.event_words import event_in_words
from inventory.projections.replay import position_at_end_of, stock_known_at
from inventory.projections.seal import seal_head, verify
from inventory.web.pages.common import allow, moment_shown, now, page, principal, visible_sites
from inventory.web.pages.fields import DayField
from inventory.web.pages.lists import QueryForm, chosen, page_asked, pager, site_options
from inventory.web.pages.movements import option
from inventory.web.services import services

bp = Blueprint("audit", __name__)

PAGE_SIZE = 50


@functools.cache
def event_types() -> list[str]:
    """Every kind of event the domain records (`StockLedger.Received`, …), for the filter.

    Read from the aggregates rather than the log: a DISTINCT over a million rows on every page
    view costs more than the filter is worth. Base classes are left out, and so is the library's
    default `Created` where an aggregate names its own first event.
    """
    names: list[str] = []
    for aggregate in (getattr(domain, name) for name in domain.__all__):
        if not (isinstance(aggregate, type) and issubclass(aggregate, Aggregate)):
            continue
        found = {
            value
            for value in vars(aggregate).values()
            if isinstance(value, type)
            and issubclass(value, Aggregate.Event)
            and value.__qualname__.startswith(aggregate.__name__ + ".")
        }
        leaves = {kind for kind in found if not any(other is not kind and issubclass(other, kind) for other in found)}
        created = [kind for kind in leaves if issubclass(kind, CanInitAggregate)]
        if len(created) > 1:
            leaves -= {kind for kind in created if kind.__name__ == "Created"}
        names += [kind.__qualname__ for kind in leaves]
    return sorted(names)


def _words(choice: tuple[str, str]) -> str:
    return choice[1]


class HistoryFilter(QueryForm):
    start = DayField("Recorded from", validators=[Optional()])
    end = DayField("Recorded to", validators=[Optional()])
    site = SelectField("Site", validate_choice=False)
    actor = StringField("Who (email)", validators=[Optional(), Length(max=200)], render_kw={"autocapitalize": "none"})
    event = SelectField("Event", validate_choice=False)


@bp.get("/audit")
@page(Action.READ_AUDIT)
def index() -> ResponseReturnValue:
    """Who did what and when, newest first, filtered, a page at a time (older pages by position)."""
    form = HistoryFilter(request.args)
    form.site.choices = site_options(visible_sites(principal()), True)
    form.event.choices = [
        option("", "All events"),
        *(option(name, words) for name, words in sorted(((n, event_in_words(n)) for n in event_types()), key=_words)),
    ]
    valid = form.validate()
    site, event = chosen(form.site, "a site"), chosen(form.event, "an event")
    if form.start.data and form.end.data and form.end.data < form.start.data:
        form.end.errors = [*form.end.errors, "Choose a date on or after the start date."]
    if not valid or form.errors:
        return render_template("pages/audit/index.html", form=form, rows=[], page_links={}, filters={}), 422
    if site:
        allow(Action.READ_AUDIT, site)
    filters = {
        "start": form.start.data.isoformat() if form.start.data else None,
        "end": form.end.data.isoformat() if form.end.data else None,
        "site": site,
        "actor": (form.actor.data or "").strip().lower() or None,
        "event": event,
    }
    found = page_asked(
        form,
        lambda after: queries.audit_page(
            services().store,
            site=site,
            actor=filters["actor"],
            event_type=event,
            start=form.start.data,
            end=form.end.data,
            after=after,
            zone=services().app.zone,
        ),
    )
    if found is None:
        return render_template("pages/audit/index.html", form=form, rows=[], page_links={}, filters={}), 422
    shown = [
        dict(row, recorded=moment_shown(row["recorded_at"], seconds=True), event=event_in_words(row["event_type"]))
        for row in found.rows
    ]
    kept = {key: value for key, value in filters.items() if value}
    return render_template(
        "pages/audit/index.html",
        form=form,
        rows=shown,
        page_links=pager("audit.index", kept, found),
        filters=kept,
        zone_name=str(services().app.zone),
    )


WHOLE_POSITION = "A log position is a whole number from 1."


class PositionField(IntegerField):
    """A log position, whose error says what to type."""

    def process_formdata(self, valuelist: list[Any]) -> None:
        try:
            super().process_formdata(valuelist)
        except ValueError:
            raise ValueError(WHOLE_POSITION) from None


class StockAtForm(QueryForm):
    as_of = DayField("Business date", validators=[Optional()])
    known_on = DayField("As recorded by the end of", validators=[Optional()])
    position = PositionField(
        "Or at log position",
        validators=[Optional(), NumberRange(min=1, message=WHOLE_POSITION)],
        render_kw={"inputmode": "numeric"},
    )
    site = SelectField("Site", validate_choice=False)


def _by_site(rows: list[dict[str, Any]], site: str | None) -> list[dict[str, Any]]:
    return [row for row in rows if site is None or row["site"] == site]


def replay_to(form: StockAtForm, head: int) -> int | None:
    """The log position the 'as known then' question is about, or None (errors go on the form)."""
    if form.known_on.data and form.position.data:
        form.position.errors = [*form.position.errors, "Give a record date or a log position, not both."]
        return None
    if form.position.data:
        if form.position.data > head:
            form.position.errors = [*form.position.errors, f"The log ends at position {head}."]
            return None
        return int(form.position.data)
    if form.known_on.data:
        return position_at_end_of(services().store, form.known_on.data, services().app.zone)
    return None


def understood(form: StockAtForm, head: int) -> tuple[bool, int | None]:
    """Whether the question can be answered (errors go on the form), and the log position to replay to."""
    valid = form.validate()
    chosen(form.site, "a site")
    position = replay_to(form, head) if valid else None
    asked = any(request.args.get(name) for name in ("as_of", "known_on", "position"))
    if request.args and not asked and not form.errors:
        form.form_errors.append("Choose a business date, a record date or a log position.")
    return valid and not form.errors, position


@bp.get("/audit/stock-at")
@page(Action.READ_AUDIT)
def stock_at() -> ResponseReturnValue:
    """Stock at the end of a business day as known now, and/or as the log knew it at a past position."""
    found = services()
    form = StockAtForm(request.args)
    form.site.choices = site_options(visible_sites(principal()), True)
    head = found.projector.head()
    answer: dict[str, Any] = {"now_rows": None, "then_rows": None, "differences": None, "seconds": None}
    ok, position = understood(form, head)
    if not ok:
        return render_template("pages/audit/stock_at.html", form=form, head=head, **answer), 422
    site = form.site.data or None
    if site:
        allow(Action.READ_AUDIT, site)
    if form.as_of.data:
        answer["now_rows"] = _by_site(queries.stock_as_of(found.store, form.as_of.data, site), site)
    if position is not None:
        started = time.perf_counter()
        # Replays the log into a scratch read model: heavy, but only auditors ask, and they wait.
        answer["then_rows"] = _by_site(stock_known_at(found.app, found.app.zone, position), site)
        answer["seconds"] = time.perf_counter() - started
    answer["differences"] = differences(answer["now_rows"], answer["then_rows"])
    return render_template(
        "pages/audit/stock_at.html",
        form=form,
        head=head,
        known_at=found.projector.position(),
        site=site,
        as_of=form.as_of.data,
        position=position,
        **answer,
    )


def differences(now: list[dict[str, Any]] | None, then: list[dict[str, Any]] | None) -> list[dict[str, Any]] | None:
    """Lots whose quantity differs between the two answers (entries recorded later, backdated or not)."""
    if now is None or then is None:
        return None
    key = ("site", "sku", "lot")
    known_now = {tuple(row[k] for k in key): int(row["quantity"]) for row in now}
    known_then = {tuple(row[k] for k in key): int(row["quantity"]) for row in then}
    return [
        {"site": s, "sku": k, "lot": lot, "now": known_now.get((s, k, lot), 0), "then": known_then.get((s, k, lot), 0)}
        for s, k, lot in sorted(set(known_now) | set(known_then))
        if known_now.get((s, k, lot), 0) != known_then.get((s, k, lot), 0)
    ]


class SealForm(FlaskForm):
    """Only the CSRF token: the check reads, but it reads the whole log, so it is a deliberate POST."""


@bp.route("/audit/seal", methods=["GET", "POST"])
@page(Action.READ_AUDIT)
def seal() -> ResponseReturnValue:
    """The seal check: recompute the hash chain over the whole log and compare it with the stored one."""
    found = services()
    form = SealForm()
    check, seconds = None, None
    if form.validate_on_submit():
        started = time.perf_counter()
        # No catch-up first: a tampered event may not even decode, and the check must still run.
        check = verify(found.app.recorder, found.store, found.settings.seal_key)
        seconds = time.perf_counter() - started
    sealed_at, sealed_hash = seal_head(found.store)
    return render_template(
        "pages/audit/seal.html",
        form=form,
        check=check,
        seconds=seconds,
        sealed_at=sealed_at,
        sealed_hash=sealed_hash,
        head=found.projector.head(),
        checked_at=moment_shown(now(), seconds=True),
    )
