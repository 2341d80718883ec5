"""Alerts in the app: the open episodes at the person's sites, newest first, to acknowledge or act on."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_wtf import FlaskForm
from wtforms import HiddenField, SelectField
from wtforms.validators import InputRequired, Regexp

from inventory.application.access import Action, Principal
from inventory.application.alerts import SNOOZE_DAYS, UnknownAlert
from inventory.domain.alerts import AlertKind
from inventory.domain.errors import InventoryError, NotFound
from inventory.projections import queries
from inventory.projections.alerts import open_alerts, resolved_alerts, sentence, snoozed_alerts
from inventory.projections.staff import accounts as staff_accounts
from inventory.web.pages.common import allow, day_shown, page, principal, today, visible_sites
from inventory.web.pages.fields import DayField
from inventory.web.pages.movements import form_status
from inventory.web.services import services

bp = Blueprint("alerts", __name__)

RESOLVED_DAYS = 7
LABELS = {
    AlertKind.OUT_OF_STOCK: "Out of stock",
    AlertKind.BELOW_REORDER_POINT: "Below reorder point",
    AlertKind.RUNS_OUT_WITHIN_LEAD_TIME: "Runs out within lead time",
    AlertKind.EXPIRING_SOON: "Expiring soon",
    AlertKind.EXPIRED_ON_HAND: "Expired, still on hand",
    AlertKind.RECALLED: "Recalled: pull it",
}
# Shortages, which a purchase order answers (a lot's expiry is answered by using or writing it off).
SHORTAGES = {AlertKind.OUT_OF_STOCK, AlertKind.BELOW_REORDER_POINT, AlertKind.RUNS_OUT_WITHIN_LEAD_TIME}


class AcknowledgeForm(FlaskForm):
    episode = HiddenField("Episode", validators=[InputRequired(), Regexp(r"^[0-9]{1,9}$")])


class SnoozeForm(AcknowledgeForm):
    until = DayField("Snooze until", validators=[InputRequired("Choose the day it should come back.")])


class AssignForm(AcknowledgeForm):
    to = SelectField("Assign to", default="", validate_choice=False,
                     validators=[InputRequired("Choose who deals with it.")])  # fmt: skip


def _staff_for(sites: set[str]) -> dict[str, list[tuple[str, str]]]:
    """Who may be given an alert at each of `sites`: active accounts that see alerts there (read once)."""
    people = [
        Principal(user["email"], user["role"], frozenset(user["sites"]))
        for user in staff_accounts(services().store)
        if user["active"]
    ]
    return {
        site: sorted((who.email, who.email) for who in people if who.can(Action.READ_ALERTS, site)) for site in sites
    }


def _order_link(row: dict[str, Any]) -> str | None:
    """Where to raise a purchase order for a shortage, once that page exists and the person may buy."""
    if row["kind"] not in SHORTAGES or "purchase_orders.new" not in current_app.view_functions:
        return None
    if not principal().can(Action.PURCHASE, row["site"]):
        return None
    return url_for("purchase_orders.new", site=row["site"], sku=row["sku"])


def _pull_link(row: dict[str, Any]) -> str | None:
    """Where to record a recalled lot as returned or destroyed, for those who may at its site."""
    if row["kind"] != AlertKind.RECALLED or not principal().can(Action.ADJUST_STOCK, row["site"]):
        return None
    return url_for("holds.site_held", site=row["site"])


def _render(status: int = 200, problem: str | None = None) -> ResponseReturnValue:
    who = principal()
    store = services().store
    sites = visible_sites(who)
    chosen = (request.values.get("site") or "").upper() or None
    if chosen:
        allow(Action.READ_ALERTS, chosen)
    kind = request.values.get("kind") or None
    if kind not in {k.value for k in AlertKind}:
        kind = None
    shown = [chosen] if chosen else [s["code"] for s in sites]
    since = (datetime.now(UTC) - timedelta(days=RESOLVED_DAYS)).isoformat()
    day = today()
    current = [
        dict(row, order_link=_order_link(row), pull_link=_pull_link(row))
        for row in open_alerts(store, shown, kind, awake_on=day)
    ]
    can_act = who.can(Action.ACKNOWLEDGE_ALERTS)
    staff = _staff_for({row["site"] for row in current}) if can_act else {}
    return render_template(
        "pages/alerts/index.html",
        sites=sites,
        chosen=chosen,
        kind=kind,
        kinds=LABELS,
        current=current,
        resolved=resolved_alerts(store, since, shown, kind),
        names={i["sku"]: i["name"] for i in queries.items(store)},
        form=AcknowledgeForm(),
        can_acknowledge=can_act,
        snoozed=snoozed_alerts(store, day, shown),
        staff=staff,
        tomorrow=day + timedelta(days=1),
        latest=day + timedelta(days=SNOOZE_DAYS),
        problem=problem,
        resolved_days=RESOLVED_DAYS,
    ), status


@bp.get("/alerts")
@page(Action.READ_ALERTS)
def index() -> ResponseReturnValue:
    """Open alerts at the person's sites (filter by site and kind), and those resolved this week."""
    return _render()


@bp.post("/alerts/<alert_id>/acknowledge")
@page(Action.ACKNOWLEDGE_ALERTS)
def acknowledge(alert_id: str) -> ResponseReturnValue:
    """Say that purchasing has seen an alert; it stays open until its condition ends."""
    app = services().app
    try:
        alert = app.alert(alert_id)
    except NotFound:
        abort(404, description="There is no such alert.")
    allow(Action.ACKNOWLEDGE_ALERTS, alert["site"])
    form = AcknowledgeForm()
    if not form.validate_on_submit():
        return _render(422, "That acknowledgement was incomplete: reload the page and press Acknowledge again.")
    try:
        app.acknowledge_alert(alert_id=alert["id"], episode=int(form.episode.data or 0), actor=principal().email)
    except UnknownAlert:
        abort(404, description="There is no such alert.")
    except InventoryError as error:
        return _render(409, error.message)
    services().projector.read_your_writes()
    flash(f"{LABELS[AlertKind(alert['kind'])]}: {alert['sku']} at {alert['site']} acknowledged.", "success")
    # Back to the list as it was filtered (the filters ride along as hidden fields).
    kept: dict[str, Any] = {name: request.form[name] for name in ("site", "kind") if request.form.get(name)}
    return redirect(url_for("alerts.index", **kept))


def _act_on(
    alert_id: str, form: AcknowledgeForm, act: Callable[[dict[str, Any]], Any], done: Callable[[Any], str]
) -> ResponseReturnValue:
    """Snooze or assign an open episode; a refusal is shown above the list, nothing changed."""
    app = services().app
    try:
        alert = app.alert(alert_id)
    except NotFound:
        abort(404, description="There is no such alert.")
    allow(Action.ACKNOWLEDGE_ALERTS, alert["site"])
    if not form.validate_on_submit():
        wrong = next((errors[0] for name, errors in form.errors.items() if name != "csrf_token"), None)
        return _render(422, wrong or "That form was incomplete: reload the page and try again.")
    try:
        act(alert)
    except UnknownAlert:
        abort(404, description="There is no such alert.")
    except InventoryError as error:
        return _render(form_status(error), error.message)
    services().projector.read_your_writes()
    flash(f"{LABELS[AlertKind(alert['kind'])]}: {alert['sku']} at {alert['site']} {done(form)}.", "success")
    kept: dict[str, Any] = {name: request.form[name] for name in ("site", "kind") if request.form.get(name)}
    return redirect(url_for("alerts.index", **kept))


@bp.post("/alerts/<alert_id>/snooze")
@page(Action.ACKNOWLEDGE_ALERTS)
def snooze(alert_id: str) -> ResponseReturnValue:
    """Off the open list until a chosen day; back that day if it still holds (a new episode is never snoozed)."""
    form = SnoozeForm()
    return _act_on(
        alert_id,
        form,
        lambda alert: services().app.snooze_alert(
            alert_id=alert["id"],
            episode=int(form.episode.data or 0),
            until=form.until.data or today(),
            actor=principal().email,
        ),
        lambda f: f"snoozed until {day_shown(f.until.data)}",
    )


@bp.post("/alerts/<alert_id>/assign")
@page(Action.ACKNOWLEDGE_ALERTS)
def assign(alert_id: str) -> ResponseReturnValue:
    """Say who deals with it: someone who sees alerts at its site."""
    form = AssignForm()
    return _act_on(
        alert_id,
        form,
        lambda alert: services().app.assign_alert(
            alert_id=alert["id"], episode=int(form.episode.data or 0), to=form.to.data or "", actor=principal().email
        ),
        lambda f: f"assigned to {f.to.data}",
    )


@bp.get("/alerts/<alert_id>")
@page(Action.READ_ALERTS)
def history(alert_id: str) -> ResponseReturnValue:
    """Everything that happened to one alert, episode by episode: raised, told, seen, snoozed, assigned, ended."""
    app = services().app
    try:
        alert = app.alert(alert_id)
        events = app.alert_history(alert["id"])
    except NotFound:
        abort(404, description="There is no such alert.")
    allow(Action.READ_ALERTS, alert["site"])
    key = {"kind": alert["kind"], "site": alert["site"], "sku": alert["sku"], "lot": alert["lot"]}
    episodes: list[dict[str, Any]] = []
    for event in events:
        kind = type(event).__name__
        if kind == "Raised":
            episodes.append({"number": len(episodes) + 1, "lines": []})
        if not episodes or kind == "Started":
            continue
        episodes[-1]["lines"].append({"kind": kind, "at": event.occurred_at, "words": _event_words(event, key)})
    return render_template(
        "pages/alerts/history.html", alert=alert, kinds=LABELS, episodes=list(reversed(episodes)),
        names={i["sku"]: i["name"] for i in queries.items(services().store)},
    )  # fmt: skip


def _event_words(event: Any, key: dict[str, Any]) -> str:
    """What one event of an alert says, in a coordinator's words."""
    kind = type(event).__name__
    if kind == "Raised":
        return f"Raised. {sentence({**key, 'details': event.details})}"
    if kind == "Notified":
        told = ", ".join(event.recipients) or "nobody"
        return f"Told by {event.channel}: {told}."
    if kind == "Acknowledged":
        return f"Acknowledged by {event.actor}."
    if kind == "Snoozed":
        return f"Snoozed until {day_shown(event.until)} by {event.actor}."
    if kind == "Assigned":
        return f"Assigned to {event.to} by {event.actor}."
    if kind == "Resolved":
        on_hand = (event.details or {}).get("on_hand")
        return "Resolved: the condition ended" + (f" ({on_hand:,} on hand)." if isinstance(on_hand, int) else ".")
    return kind
