"""The start page: stock against reorder point and par, lots expiring soon, alerts, 12 weeks of distribution."""

from __future__ import annotations

from collections import defaultdict
from datetime import date, timedelta
from typing import Any

from flask import Blueprint, render_template, request

from inventory.application.access import Action
from inventory.domain.expiry import SOON_DAYS, expired_on, expires_soon
from inventory.domain.values import Category
from inventory.projections import queries, reach_queries
from inventory.projections.alerts import open_alerts, sentence
from inventory.web.pages.admin import CATEGORY_LABELS
from inventory.web.pages.attention import needs_attention
from inventory.web.pages.common import allow, page, partners_start_at_their_page, principal, today, visible_sites
from inventory.web.pages.movements import unit_word
from inventory.web.services import services

bp = Blueprint("dashboard", __name__)

WEEKS = 12
TILE_DAYS = 7  # the tiles compare the last seven days with the seven before
# Charts in the order programs report them; other categories follow by name.
CHART_ORDER = ("naloxone", "syringe", "test_strip", "sharps")
KNOWN = {str(category) for category in Category}


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


def weekly_by_category(
    rows: list[dict[str, Any]], first_day: date, today: date, items: list[dict[str, Any]]
) -> list[dict[str, Any]]:
    """One chart per category of item, each in its own units (naloxone kits are never stacked on
    syringes): units handed out per week (Monday-start) and item, the current week marked as partial."""
    about = {item["sku"]: item for item in items}
    weeks = [first_day + timedelta(weeks=n) for n in range(WEEKS)]
    labels = [f"{w:%d %b}" for w in weeks]
    labels[-1] = f"{labels[-1]} (so far)"
    per_item: dict[str, list[int]] = defaultdict(lambda: [0] * WEEKS)
    for row in rows:
        index = (date.fromisoformat(row["date"]) - first_day).days // 7
        if 0 <= index < WEEKS:
            per_item[row["sku"]][index] += int(row["quantity"])
    categories: dict[str, list[str]] = defaultdict(list)
    for sku in sorted(per_item):
        categories[str(about.get(sku, {}).get("category") or "other")].append(sku)
    charts = []
    for category in sorted(categories, key=lambda c: (CHART_ORDER.index(c) if c in CHART_ORDER else 99, c)):
        skus = categories[category]
        units = {str(about.get(sku, {}).get("unit") or "unit") for sku in skus}
        unit = unit_word(2, units.pop()) if len(units) == 1 else "units"
        charts.append(
            {
                "id": f"weekly-{category}",
                "title": CATEGORY_LABELS.get(Category(category), category) if category in KNOWN else category,
                "unit": unit,
                "labels": labels,
                "partial": WEEKS - 1,
                "partial_days": (today - weeks[-1]).days + 1,
                "series": [{"label": about.get(sku, {}).get("name", sku), "data": per_item[sku]} for sku in skus],
            }
        )
    return charts


REACH_DAYS = 28


def who_it_went_to(
    rows: list[dict[str, Any]], items: list[dict[str, Any]], labels: dict[str, str]
) -> list[dict[str, Any]]:
    """One chart per category, in its own units: what left by channel (fixed site, outreach, van, mail, vending
    machine, partner), each bar split by recipient type. The same shape as the weekly charts, none partial."""
    about = {item["sku"]: item for item in items}
    by_category: dict[str, dict[tuple[str, str], int]] = defaultdict(lambda: defaultdict(int))
    for row in rows:
        category = str(about.get(row["sku"], {}).get("category") or "other")
        by_category[category][(row["channel_label"], row["recipient"])] += int(row["quantity"])
    charts = []
    for category in sorted(by_category, key=lambda c: (CHART_ORDER.index(c) if c in CHART_ORDER else 99, c)):
        figures = by_category[category]
        channels = sorted({channel for channel, _ in figures})
        recipients = sorted({recipient for _, recipient in figures})
        units = {str(about[s].get("unit") or "unit") for s in about if about[s].get("category") == category}
        charts.append(
            {
                "id": f"who-{category}",
                "title": CATEGORY_LABELS.get(Category(category), category) if category in KNOWN else category,
                "unit": unit_word(2, units.pop()) if len(units) == 1 else "units",
                "labels": channels,
                "partial": -1,
                "series": [
                    {
                        "label": reach_queries.recipient_label(labels, recipient),
                        "data": [figures.get((channel, recipient), 0) for channel in channels],
                    }
                    for recipient in recipients
                ],
            }
        )
    return charts


def reached(store: Any, start: date, end: date, shown: list[str], everywhere: bool) -> dict[str, int]:
    """Contacts in the period, those collecting for others, and the other people they reach (their estimate)."""
    rows = (
        reach_queries.contacts_by_channel(store, start, end)
        if everywhere
        else [row for site in shown for row in reach_queries.contacts_by_channel(store, start, end, site)]
    )
    return {key: sum(int(row[key]) for row in rows) for key in ("contacts", "collecting_for_others", "people_reached")}


def from_tallies(rows: list[dict[str, Any]], first_day: date, names: dict[str, str]) -> dict[str, int]:
    """What of the weeks' figures was recorded on shift tallies rather than visit by visit, by item name."""
    counted: dict[str, int] = defaultdict(int)
    for row in rows:
        if date.fromisoformat(row["date"]) >= first_day:
            counted[row["sku"]] += int(row.get("from_tallies") or 0)
    return {names.get(sku, sku): n for sku, n in sorted(counted.items()) if n}


def tiles(store: Any, today: date, site: str | None, shown: list[str]) -> list[dict[str, Any]]:
    """The week's figures beside the week before's: visits, overdose reversals reported, syringes collected
    and the return rate (syringes collected for each one handed out)."""
    start = today - timedelta(days=2 * TILE_DAYS - 1)
    this_week: dict[str, int] = defaultdict(int)
    week_before: dict[str, int] = defaultdict(int)
    for row in queries.daily_encounters(store, start, today, site):
        if row["site"] not in shown:
            continue
        bucket = this_week if date.fromisoformat(row["date"]) > today - timedelta(days=TILE_DAYS) else week_before
        for key in ("encounters", "reversals_reported", "syringes_collected", "syringes_distributed"):
            bucket[key] += int(row[key] or 0)

    def rate(figures: dict[str, int]) -> str:
        handed = figures["syringes_distributed"]
        return f"{figures['syringes_collected'] / handed:.0%}" if handed else "—"

    return [
        {"name": "visits", "label": "Visits", "now": f"{this_week['encounters']:,}",
         "before": f"{week_before['encounters']:,}"},
        {"name": "reversals", "label": "Overdose reversals reported", "now": f"{this_week['reversals_reported']:,}",
         "before": f"{week_before['reversals_reported']:,}"},
        {"name": "collected", "label": "Syringes collected", "now": f"{this_week['syringes_collected']:,}",
         "before": f"{week_before['syringes_collected']:,}"},
        {"name": "return-rate", "label": "Return rate (collected per syringe handed out)", "now": rate(this_week),
         "before": rate(week_before)},
    ]  # fmt: skip


@bp.get("/")
@partners_start_at_their_page
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
    catalog = queries.items(store)
    names = {i["sku"]: i["name"] for i in catalog}
    levels = [dict(row, status=status_of(row)) for row in queries.stock_levels(store, chosen) if row["site"] in shown]
    day = today()
    expiring = [
        lot
        for lot in queries.stock_on_hand(store, chosen)
        if lot["site"] in shown and (expired_on(lot["expires_on"], day) or expires_soon(lot["expires_on"], day))
    ]
    alerts = [dict(a, message=sentence(a)) for a in open_alerts(store, shown, awake_on=day)]
    monday = day - timedelta(days=day.weekday())
    first = monday - timedelta(weeks=WEEKS - 1)
    totals = [row for row in queries.daily_totals(store, first, day, chosen) if row["site"] in shown]
    since = day - timedelta(days=REACH_DAYS - 1)
    everywhere = who.all_sites and not chosen
    reach = (
        reach_queries.reach_by_channel(store, since, day)
        if everywhere
        else [row for site in shown for row in reach_queries.reach_by_channel(store, since, day, site)]
    )
    return render_template(
        "pages/dashboard.html",
        sites=sites,
        chosen=chosen,
        levels=levels,
        names=names,
        expiring=expiring,
        soon_days=SOON_DAYS,
        alerts=alerts,
        charts=weekly_by_category(totals, first, day, catalog),
        from_tallies=from_tallies(totals, first, names),
        tiles=tiles(store, day, chosen, shown),
        who_charts=who_it_went_to(reach, catalog, reach_queries.recipient_types(store, active_only=False)),
        reached=reached(store, since, day, shown, everywhere),
        reach_days=REACH_DAYS,
        attention=needs_attention(who, store, shown, day, services().app.zone),
        today=day,
    )
