"""Pages: stock on hand by site, lots by item, and the stock card of one item at one site."""

from __future__ import annotations

from collections import defaultdict
from datetime import date, timedelta
from typing import Any

from flask import Blueprint, abort, render_template, request
from flask.typing import ResponseReturnValue
from flask_wtf import FlaskForm
from wtforms.validators import Optional

from inventory.application.access import Action
from inventory.domain.expiry import expired_on, expires_soon
from inventory.projections import queries
from inventory.web.pages.common import page, principal, today, visible_sites
from inventory.web.pages.dashboard import status_of
from inventory.web.pages.fields import DayField
from inventory.web.services import services

bp = Blueprint("stock", __name__)

CARD_DAYS = 90

# What a movement on the stock card is called, in a coordinator's words.
MOVEMENTS = {
    "received": "Received",
    "distributed": "Handed out",
    "transfer_out": "Sent",
    "transfer_in": "Arrived",
    "returned": "Back (transfer cancelled)",
    "adjusted": "Adjusted",
    "counted": "Count variance",
}


def item_names() -> dict[str, str]:
    return {row["sku"]: row["name"] for row in queries.items(services().store)}


def expiry_label(expires_on: str | None, day: date) -> str | None:
    """'expired', 'soon' (within the dashboard's horizon) or None, for a lot's expiry date."""
    if expired_on(expires_on, day):
        return "expired"
    if expires_soon(expires_on, day):
        return "soon"
    return None


@bp.get("/stock")
@page(Action.READ_STOCK)
def index() -> str:
    """Every site this person may see, each with its items' on hand against reorder point and par."""
    sites = visible_sites(principal())
    codes = {s["code"] for s in sites}
    levels: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for row in queries.stock_levels(services().store):
        if row["site"] in codes:
            levels[row["site"]].append(dict(row, status=status_of(row)))
    return render_template("pages/stock/index.html", sites=sites, levels=levels, names=item_names())


@bp.get("/sites/<site>/stock")
@page(Action.READ_STOCK)
def site(site: str) -> str:
    """The lots on hand at one site, item by item, expiring lots labelled."""
    store = services().store
    day = today()
    lots: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for lot in queries.stock_on_hand(store, site):
        lots[lot["sku"]].append(dict(lot, expiry=expiry_label(lot["expires_on"], day)))
    levels = [dict(row, status=status_of(row)) for row in queries.stock_levels(store, site)]
    about = next(s for s in queries.sites(store) if s["code"] == site)
    return render_template(
        "pages/stock/site.html", place=about, levels=levels, lots=lots, names=item_names(), today=day
    )


class CardRange(FlaskForm):
    """The dates a stock card covers (a GET form: nothing changes, so no CSRF token)."""

    class Meta:
        csrf = False

    start = DayField("From", validators=[Optional()])
    end = DayField("To", validators=[Optional()])


def detail(row: dict[str, Any]) -> str:
    """What a movement was about: the order, the visit, the other site, the reason."""
    kind, other = row["kind"], row["other_site"]
    if kind == "received":
        return f"PO {row['reference']}" if row["reference"] else ""
    if kind == "distributed":
        return "Visit"
    if kind == "transfer_out":
        return f"To {other}"
    if kind == "transfer_in":
        return f"From {other}"
    if kind == "returned":
        return f"Transfer to {other} cancelled"
    return str(row["reason"] or "").replace("_", " ")


@bp.get("/sites/<site>/stock/<sku>")
@page(Action.READ_STOCK)
def card(site: str, sku: str) -> ResponseReturnValue:
    """Every movement of one item at one site by business date, with its running balance."""
    sku = sku.upper()
    names = item_names()
    if sku not in names:
        abort(404, description=f"There is no item {sku}.")
    day = today()
    form = CardRange(request.args)
    valid = form.validate()
    start = form.start.data or day - timedelta(days=CARD_DAYS - 1)
    end = form.end.data or day
    if valid and end < start:
        form.end.errors = ["Choose a date on or after the start date."]
        valid = False
    if not valid:
        return render_template("pages/stock/card.html", form=form, site=site, sku=sku, names=names, card=None), 422
    form.start.data, form.end.data = start, end
    found = queries.stock_card(services().store, site, sku, start, end)
    rows = [dict(row, label=MOVEMENTS.get(row["kind"], row["kind"]), detail=detail(row)) for row in found.rows]
    return render_template("pages/stock/card.html", form=form, site=site, sku=sku, names=names, card=found, rows=rows)
