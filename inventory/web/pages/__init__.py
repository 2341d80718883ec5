"""The server-rendered pages, one blueprint per area."""

from __future__ import annotations

from flask import Flask

from inventory.domain.money import money_shown
from inventory.web.pages import (
    account,
    admin,
    alerts,
    audit,
    corrections,
    counts,
    dashboard,
    encounters,
    exports,
    holds,
    kits,
    mail,
    offline,
    order_receiving,
    partners,
    purchase_orders,
    recalls,
    receiving,
    stock,
    tallies,
    trace,
    transfers,
    vending,
)
from inventory.web.pages.auth import init_auth
from inventory.web.pages.common import current_link, day_shown, home_url, moment_shown, nav_links
from inventory.web.services import services

AREAS = (
    *(dashboard, encounters, tallies, offline, receiving, transfers, counts),
    *(stock, corrections, alerts, audit, exports, admin, purchase_orders, order_receiving, account, partners, mail),
    *(vending, holds, recalls, trace, kits),
)


def register_pages(app: Flask) -> None:
    init_auth(app)
    for area in AREAS:
        app.register_blueprint(area.bp)
    app.jinja_env.globals["nav_links"] = nav_links
    app.jinja_env.globals["current_link"] = current_link
    app.jinja_env.globals["home_url"] = home_url
    # Dates and times as people read them ("Wed 2 Dec", "Wed 2 Dec, 01:08"), in the program's time zone:
    # the one formatter (inventory.domain.time_words), for dates, datetimes and a read model's ISO text.
    app.jinja_env.filters["day_words"] = day_shown
    app.jinja_env.filters["moment_words"] = moment_shown
    # Amounts in the program's currency ("$1,234.50"), and its code for labels ("Unit cost (USD)").
    app.jinja_env.filters["money"] = lambda amount: money_shown(amount, services().settings.currency)
    app.jinja_env.globals["currency"] = lambda: services().settings.currency
