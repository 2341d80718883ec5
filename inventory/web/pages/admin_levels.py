"""Admin pages: stock levels per site and item (reorder point, par level, lead time). Admin and purchasing."""

from __future__ import annotations

from typing import Any

from flask import abort, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_wtf import FlaskForm
from wtforms import IntegerField
from wtforms.validators import InputRequired

from inventory.application import rules
from inventory.application.access import Action
from inventory.projections import queries
from inventory.web.pages.admin import actor, bp, form_page
from inventory.web.pages.common import page
from inventory.web.pages.fields import within
from inventory.web.services import services


def _number(label: str, what: str, limit: rules.WholeNumbers = rules.LEVEL) -> IntegerField:
    return IntegerField(
        label,
        validators=[
            InputRequired(f"Enter {what}, 0 or more."),
            within(limit),
        ],
        render_kw={"inputmode": "numeric", "min": 0},
    )


class LevelForm(FlaskForm):
    reorder_point = _number("Reorder point", "the stock at which to reorder")
    par_level = _number("Par level", "the stock to hold when full")
    lead_time_days = _number("Lead time (days)", "how many days a delivery takes", rules.LEAD_TIME_DAYS)


@bp.get("/levels")
@page(Action.SET_LEVELS)
def levels() -> str:
    store = services().store
    known = {(row["site"], row["sku"]): row for row in queries.stock_levels(store)}
    items = queries.items(store, active_only=True)
    sections = [
        {
            "site": site,
            "rows": [
                {"item": item, **known.get((site["code"], item["sku"]), {"on_hand": 0, "reorder_point": None})}
                for item in items
            ],
        }
        for site in queries.sites(store)
    ]
    return render_template("pages/admin/levels.html", sections=sections)


def _one(rows: list[dict[str, Any]], key: str, value: str, what: str) -> dict[str, Any]:
    for row in rows:
        if row[key] == value:
            return row
    abort(404, description=f"There is no {what} {value}.")


@bp.route("/levels/<code>/<sku>", methods=["GET", "POST"])
@page(Action.SET_LEVELS)
def set_level(code: str, sku: str) -> ResponseReturnValue:
    store = services().store
    site = _one(queries.sites(store), "code", code.upper(), "site")
    item = _one(queries.items(store), "sku", sku.upper(), "item")
    current = next(iter(queries.stock_levels(store, site["code"], item["sku"])), None)
    form = LevelForm(data=current if request.method == "GET" and current else None)

    def save() -> str:
        found = services().app.set_stock_level(
            site=site["code"],
            sku=item["sku"],
            reorder_point=int(form.reorder_point.data or 0),
            par_level=int(form.par_level.data or 0),
            lead_time_days=int(form.lead_time_days.data or 0),
            actor=actor(),
        )
        return (
            f"Levels for {item['sku']} at {site['code']} saved: reorder at {found['reorder_point']:,}, "
            f"par {found['par_level']:,}, lead time {found['lead_time_days']} days."
        )

    back = url_for("admin.levels", _anchor=f"site-{site['code']}")
    return form_page("pages/admin/level_form.html", form, save, back, site=site, item=item, current=current, back=back)
