"""Pages: stock on hand by site, lots by item, and the stock card of one item at one site."""

from __future__ import annotations

from collections import defaultdict
from datetime import date, datetime, timedelta
from typing import Any

from flask import Blueprint, abort, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_wtf import FlaskForm
from wtforms import SelectField, StringField
from wtforms.validators import Length, Optional

from inventory.application.access import Action, Principal
from inventory.domain.expiry import expired_on, expires_soon
from inventory.domain.holds import DISPOSITIONS, HOLD_REASONS
from inventory.domain.values import VOID_REASONS
from inventory.projections import queries, recall_queries
from inventory.projections.card_pages import card_page
from inventory.web.pages.common import page, principal, today, visible_sites
from inventory.web.pages.dashboard import status_of
from inventory.web.pages.fields import DayField
from inventory.web.pages.lists import QueryForm, chosen, kept, site_options
from inventory.web.pages.movements import option
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
    "to_partner": "To a partner",
    "mailed": "Mailed",
    "written_off": "Written off (held)",
    "into_kits": "Into kits",
    "assembled": "Kits assembled",
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


STATUS_FILTERS = {
    "short": ("Needs ordering: out or below reorder", ("out", "low")),
    "out": ("Out", ("out",)),
    "low": ("Below reorder", ("low",)),
    "ok": ("OK", ("ok",)),
    "over": ("Above par", ("over",)),
    "unset": ("No levels set", ("unset",)),
}


class StockFilter(QueryForm):
    site = SelectField("Site", validate_choice=False)
    item = StringField("Item (name or code)", validators=[Optional(), Length(max=80)])
    status = SelectField("Status", validate_choice=False)
    sort = SelectField(
        "Order", choices=[option("item", "By item"), option("on_hand", "Least on hand first")], validate_choice=False
    )


@bp.get("/stock")
@page(Action.READ_STOCK)
def index() -> ResponseReturnValue:
    """Every site this person may see, each with its items' on hand against reorder point and par; found by
    site, item and status."""
    sites = visible_sites(principal())
    form = StockFilter(request.args)
    form.site.choices = site_options(sites, principal().all_sites)
    form.status.choices = [option("", "Any status"), *(option(k, words) for k, (words, _) in STATUS_FILTERS.items())]
    form.validate()
    site, status = chosen(form.site, "a site"), chosen(form.status, "a status")
    chosen(form.sort, "an order")
    if form.errors:
        return render_template("pages/stock/index.html", form=form, filters={}, sites=[], levels={}, names={}), 422
    names = item_names()
    wanted = (form.item.data or "").strip().casefold()
    statuses = STATUS_FILTERS[status][1] if status else None
    codes = {s["code"] for s in sites if site in (None, s["code"])}
    levels: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for row in queries.stock_levels(services().store):
        found = dict(row, status=status_of(row))
        if row["site"] not in codes or (statuses and found["status"] not in statuses):
            continue
        if wanted and wanted not in row["sku"].casefold() and wanted not in names.get(row["sku"], "").casefold():
            continue
        levels[row["site"]].append(found)
    if form.sort.data == "on_hand":
        for rows in levels.values():
            rows.sort(key=lambda row: (row["on_hand"], row["sku"]))
    filters = kept(form, "site", "item", "status", "sort")
    if filters.get("sort") == "item":  # the usual order
        del filters["sort"]
    shown = [s for s in sites if s["code"] in codes and (not filters or levels.get(s["code"]))]
    return render_template(
        "pages/stock/index.html", form=form, filters=filters, sites=shown, levels=levels, names=names
    )


@bp.get("/sites/<site>/stock")
@page(Action.READ_STOCK)
def site(site: str) -> str:
    """The lots on hand at one site, item by item, expiring lots labelled."""
    store = services().store
    day = today()
    lots: dict[str, list[dict[str, Any]]] = defaultdict(list)
    held = {(row["sku"], row["lot"]): row for row in recall_queries.held_lots(store, site)}
    for lot in queries.stock_on_hand(store, site):
        hold = held.get((lot["sku"], lot["lot"]))
        lots[lot["sku"]].append(
            dict(lot, expiry=expiry_label(lot["expires_on"], day), held=hold and HOLD_REASONS.get(hold["reason"]))
        )
    # How long each item lasts at the last four weeks' use (days it was in stock only).
    use = {row["sku"]: row for row in queries.consumption(store, day, site=site)}
    levels = [dict(row, status=status_of(row), use=use.get(row["sku"])) for row in queries.stock_levels(store, site)]
    about = next(s for s in queries.sites(store) if s["code"] == site)
    return render_template(
        "pages/stock/site.html",
        place=about,
        levels=levels,
        lots=lots,
        names=item_names(),
        today=day,
        held=sum(1 for row in held.values() if row["quantity"] > 0),
    )


class CardRange(FlaskForm):
    """The dates a stock card covers (a GET form: nothing changes, so no CSRF token)."""

    class Meta:
        csrf = False

    start = DayField("From", validators=[Optional()])
    end = DayField("To", validators=[Optional()])


def detail(row: dict[str, Any]) -> str:
    """What a movement was about: the order, the visit, the other site, the reason."""
    kind, other, reason = row["kind"], row["other_site"], str(row["reason"] or "")
    if reason == "count_restated":
        change = str(row["reference"]).replace(" to ", " → ")
        return f"Count variance restated ({change}): an entry dated before the count was recorded after it"
    if reason.startswith("void:"):
        return f"Void of an earlier entry: {VOID_REASONS.get(reason[5:], reason[5:])}"
    if reason.startswith("corrected:"):
        return f"Correction ({row['reference'].replace(' to ', ' → ')}): {VOID_REASONS.get(reason[10:], reason[10:])}"
    if kind == "received":
        # The order's number for a receipt against one, else the delivery note or invoice number typed.
        return f"Reference: {row['reference']}" if row["reference"] else ""
    if kind == "distributed":
        return "Visit"
    if kind == "to_partner":
        return f"Issued to partner {other}"
    if kind == "mailed":
        return "Parcel came back" if reason == "parcel returned" else "Parcel sent"
    if kind == "transfer_out":
        return f"To {other}"
    if kind == "transfer_in":
        return f"From {other}"
    if kind == "returned":
        return f"Transfer to {other} cancelled"
    if kind == "written_off":
        return DISPOSITIONS.get(reason, reason)
    if kind == "into_kits":
        return f"Back from kits of {other} taken apart" if reason else f"Into kits of {other}"
    if kind == "assembled":
        return "Kits taken apart" if reason else "Assembled here"
    return str(row["reason"] or "").replace("_", " ")


def trace_link(sku: str, lot: str, who: Principal) -> str | None:
    """For an auditor: where a lot came from and went (its receipts, orders, funders and every movement)."""
    if not who.can(Action.READ_AUDIT):
        return None
    return url_for("trace.lot", sku=sku, lot=lot)


def entered_on(row: dict[str, Any]) -> str:
    """The business date a movement was entered on (later than its own date when entered late)."""
    return services().app.business_day(datetime.fromisoformat(row["recorded_at"])).isoformat()


# Which movements can be voided or corrected from the card, and the right that needs (the right to record it).
CHANGEABLE = {"received": Action.RECEIVE_STOCK, "adjusted": Action.ADJUST_STOCK, "counted": Action.COUNT_STOCK}


def change_link(row: dict[str, Any], site: str, who: Principal) -> tuple[str, str] | None:
    """Where to void or correct this movement, and what the link says; None if this person may not."""
    if row["reason"] and (row["reason"].startswith(("void:", "corrected:")) or row["reason"] == "count_restated"):
        return None
    if row["kind"] in CHANGEABLE and who.can(CHANGEABLE[row["kind"]], site):
        return url_for("corrections.change_entry", position=row["position"]), "Void or correct"
    visit = row["kind"] == "distributed" and row["reason"] is None and row["reference"]
    if visit and who.can(Action.RECORD_ENCOUNTER, site):
        return url_for("corrections.undo_visit", visit_id=row["reference"]), "Undo the visit"
    return None


@bp.get("/sites/<site>/stock/<sku>")
@page(Action.READ_STOCK)
def card(site: str, sku: str) -> ResponseReturnValue:
    """Every movement of one item at one site, newest first with the balance now on top, 50 to a page."""
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
    older = request.args.get("older") or None
    found = card_page(services().store, site, sku, start, end, older)
    if found is None:
        abort(
            404, description="That page of the stock card is not there: open the card again from its newest movement."
        )
    who = principal()
    rows = [
        dict(
            row,
            label=MOVEMENTS.get(row["kind"], row["kind"]),
            detail=detail(row),
            change=change_link(row, site, who),
            trace=trace_link(sku, row["lot"], who),
            entered_later=entered_on(row) > row["business_date"],
        )
        for row in found.rows
    ]
    warnings = [queries.below_zero_warning(site, sku, day) for day in found.below_zero_days(start)]
    first, last = start.isoformat(), end.isoformat()
    pages = {
        "older": url_for("stock.card", site=site, sku=sku, start=first, end=last, older=found.older)
        if found.older
        else None,
        "newest": url_for("stock.card", site=site, sku=sku, start=first, end=last) if older else None,
    }
    return render_template(
        "pages/stock/card.html",
        form=form,
        site=site,
        sku=sku,
        names=names,
        card=found,
        rows=rows,
        warnings=warnings,
        pages=pages,
        today=day,
    )
