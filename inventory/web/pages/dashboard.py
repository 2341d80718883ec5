"""The start page: stock against reorder point and par, lots expiring soon, alerts, 12 weeks of distribution."""

from __future__ import annotations

from collections import defaultdict
from datetime import date, timedelta
from typing import Any

from flask import Blueprint, render_template, request

from inventory.application.access import Action
from inventory.domain.expiry import SOON_DAYS, expired_on, expires_soon
from inventory.projections import queries
from inventory.projections.alerts import open_alerts, sentence
from inventory.web.pages.common import allow, page, principal, today, visible_sites
from inventory.web.services import services

bp = Blueprint("dashboard", __name__)

WEEKS = 12


def status_of(row: dict[str, Any]) -> str:
    """out, low (below reorder point), ok, over (above par), or unset (no levels)."""
    point, par, on_hand = row["reorder_point"], row["par_level"], row["on_hand"]
    if on_hand <= 0:
        return "out"
    if point is None:
        return "unset"
    if on_hand < point:
        return "low"
    if par and on_hand > par:
        return "over"
    return "ok"


def weekly_distribution(rows: list[dict[str, Any]], first_day: date, names: dict[str, str]) -> dict[str, Any]:
    """Units handed out per week (Monday-start) and item, as labels and one series per item."""
    weeks = [first_day + timedelta(weeks=n) for n in range(WEEKS)]
    totals: dict[str, list[int]] = defaultdict(lambda: [0] * WEEKS)
    on_tallies: dict[str, int] = defaultdict(int)
    for row in rows:
        index = (date.fromisoformat(row["date"]) - first_day).days // 7
        if 0 <= index < WEEKS:
            totals[row["sku"]][index] += int(row["quantity"])
            on_tallies[row["sku"]] += int(row.get("from_tallies") or 0)
    return {
        "labels": [f"{w:%d %b}" for w in weeks],
        "series": [{"label": names.get(sku, sku), "data": data} for sku, data in sorted(totals.items())],
        # What of it was recorded on shift tallies rather than visit by visit, by item name.
        "from_tallies": {names.get(sku, sku): n for sku, n in sorted(on_tallies.items()) if n},
    }


@bp.get("/")
@page(Action.READ_STOCK)
def home() -> str:
    who = principal()
    store = services().store
    sites = visible_sites(who)
    codes = [s["code"] for s in sites]
    chosen = (request.args.get("site") or "").upper() or None
    if chosen:
        allow(Action.READ_STOCK, chosen)
    shown = [chosen] if chosen else codes
    names = {i["sku"]: i["name"] for i in queries.items(store)}
    levels = [dict(row, status=status_of(row)) for row in queries.stock_levels(store, chosen) if row["site"] in shown]
    day = today()
    expiring = [
        lot
        for lot in queries.stock_on_hand(store, chosen)
        if lot["site"] in shown and (expired_on(lot["expires_on"], day) or expires_soon(lot["expires_on"], day))
    ]
    alerts = [dict(a, message=sentence(a)) for a in open_alerts(store, shown)]
    monday = day - timedelta(days=day.weekday())
    first = monday - timedelta(weeks=WEEKS - 1)
    totals = [row for row in queries.daily_totals(store, first, day, chosen) if row["site"] in shown]
    return render_template(
        "pages/dashboard.html",
        sites=sites,
        chosen=chosen,
        levels=levels,
        names=names,
        expiring=expiring,
        soon_days=SOON_DAYS,
        alerts=alerts,
        chart=weekly_distribution(totals, first, names),
        today=day,
    )
