"""Alerts in the app: the open episodes at the person's sites, newest first, to acknowledge or act on."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_wtf import FlaskForm
from wtforms import HiddenField
from wtforms.validators import InputRequired, Regexp

from inventory.application.access import Action
from inventory.application.alerts import UnknownAlert
from inventory.domain.alerts import AlertKind
from inventory.domain.errors import InventoryError, NotFound
from inventory.projections import queries
from inventory.projections.alerts import open_alerts, resolved_alerts
from inventory.web.pages.common import allow, page, principal, visible_sites
from inventory.web.services import services

bp = Blueprint("alerts", __name__)

RESOLVED_DAYS = 7
LABELS = {
    AlertKind.OUT_OF_STOCK: "Out of stock",
    AlertKind.BELOW_REORDER_POINT: "Below reorder point",
    AlertKind.RUNS_OUT_WITHIN_LEAD_TIME: "Runs out within lead time",
    AlertKind.EXPIRING_SOON: "Expiring soon",
    AlertKind.EXPIRED_ON_HAND: "Expired, still on hand",
}
# Shortages, which a purchase order answers (a lot's expiry is answered by using or writing it off).
SHORTAGES = {AlertKind.OUT_OF_STOCK, AlertKind.BELOW_REORDER_POINT, AlertKind.RUNS_OUT_WITHIN_LEAD_TIME}


class AcknowledgeForm(FlaskForm):
    episode = HiddenField("Episode", validators=[InputRequired(), Regexp(r"^[0-9]{1,9}$")])


def _order_link(row: dict[str, Any]) -> str | None:
    """Where to raise a purchase order for a shortage, once that page exists and the person may buy."""
    if row["kind"] not in SHORTAGES or "purchase_orders.new" not in current_app.view_functions:
        return None
    if not principal().can(Action.PURCHASE, row["site"]):
        return None
    return url_for("purchase_orders.new", site=row["site"], sku=row["sku"])


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
    current = [dict(row, order_link=_order_link(row)) for row in open_alerts(store, shown, kind)]
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
        can_acknowledge=who.can(Action.ACKNOWLEDGE_ALERTS),
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
