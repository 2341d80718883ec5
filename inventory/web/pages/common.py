"""What every page needs: who is signed in, may they do this here, and today's date."""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any, TypeVar

from flask import abort, current_app, redirect, request, url_for
from flask_login import current_user
from flask_wtf import FlaskForm

from inventory.application.access import Action, Principal
from inventory.domain.errors import InventoryError
from inventory.domain.time_words import day_in_words, moment_in_words
from inventory.projections import queries
from inventory.web.services import services


def principal() -> Principal:
    """The signed-in person (every page but sign-in requires one)."""
    found = getattr(current_user, "principal", None)
    if not isinstance(found, Principal):
        abort(401)
    return found


def allow(action: Action, site: str | None = None) -> Principal:
    """The signed-in person, if they may do `action` (at `site`); otherwise 404 or 403.

    A site that does not exist is 404 for everyone; a site outside a coordinator's sites is 403,
    and nothing about it is shown.
    """
    who = principal()
    if site is not None and site.upper() not in {s["code"] for s in queries.sites(services().store)}:
        abort(404, description=f"There is no site {site.upper()}.")
    if not who.can(action, site):
        where = f" at {site.upper()}" if site and not who.all_sites else ""
        abort(403, description=f"A {who.role.replace('_', ' ')} may not {action.value.replace('_', ' ')}{where}.")
    return who


V = TypeVar("V", bound=Callable[..., Any])


def page(action: Action) -> Callable[[V], V]:
    """Every page route wears this: sign-in required, and `action` allowed at the URL's <site>.

    A route with a `site` URL variable is checked for that site; a route that acts on a site named
    elsewhere (a transfer's destination, a form field) must call `allow(action, site)` itself.
    The action is kept on the view (`required_action`), where the authorization test finds it.
    """

    def decorate(view: V) -> V:
        @functools.wraps(view)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            if not current_user.is_authenticated:
                return current_app.login_manager.unauthorized()  # type: ignore[attr-defined]
            if "site" in kwargs:
                kwargs["site"] = str(kwargs["site"]).upper()
            allow(action, kwargs.get("site"))
            return view(*args, **kwargs)

        wrapper.required_action = action  # type: ignore[attr-defined]
        return wrapper  # type: ignore[return-value]

    return decorate


def home_url(who: Principal | None = None) -> str:
    """Where a person starts: the dashboard; for a partner organisation's account, its own partner's page."""
    who = who or getattr(current_user, "principal", None)
    if isinstance(who, Principal) and who.partner and not who.can(Action.READ_STOCK):
        return url_for("partners.show", partner=who.partner)
    return url_for("dashboard.home")


def partners_start_at_their_page(view: V) -> V:
    """For the home page: a partner organisation's account is sent to its own page (it sees nothing else)."""

    @functools.wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        who = getattr(current_user, "principal", None)
        if isinstance(who, Principal) and who.partner and not who.can(Action.READ_STOCK):
            return redirect(home_url(who))
        return view(*args, **kwargs)

    return wrapper  # type: ignore[return-value]


def visible_sites(who: Principal, *, open_only: bool = False) -> list[dict[str, Any]]:
    """The sites this person may see, as rows of the sites read model."""
    return [s for s in queries.sites(services().store, open_only=open_only) if who.all_sites or s["code"] in who.sites]


def today() -> date:
    """Today in the program's time zone (business dates are in that zone)."""
    return datetime.now(services().app.zone).date()


def now() -> datetime:
    return datetime.now(services().app.zone)


def day_shown(day: date | str | None) -> str:
    """A business date as people read it ("Wed 2 Dec", the year when not this one); "" for none.
    The one way pages show a date (the `day_words` filter): from a date or a read model's ISO text."""
    if day is None or day == "":
        return ""
    found = day if isinstance(day, date) else date.fromisoformat(str(day)[:10])
    return day_in_words(found, today().year)


def moment_shown(moment: datetime | str | float | None, seconds: bool = False) -> str:
    """A moment in the program's time zone as people read it ("Wed 2 Dec, 01:08"); "" for none. From
    an aware datetime, a read model's ISO text (stored in UTC) or a Unix timestamp (the `moment_words`
    filter)."""
    if moment is None or moment == "":
        return ""
    if isinstance(moment, int | float):
        found = datetime.fromtimestamp(moment, UTC)
    else:
        found = moment if isinstance(moment, datetime) else datetime.fromisoformat(str(moment))
    return moment_in_words(found, services().app.zone, today().year, seconds=seconds)


def field_error(form: FlaskForm, error: InventoryError, fallback: str | None = None) -> None:
    """Show a refusal next to the field it is about (or at the top of the form)."""
    name = error.field.split(".")[0].split("[")[0] if error.field else None
    target = getattr(form, name, None) if name else None
    if target is None and fallback:
        target = getattr(form, fallback, None)
    if target is not None and hasattr(target, "errors"):
        errors = list(target.errors) if isinstance(target.errors, list | tuple) else []
        target.errors = [*errors, error.message]
    else:
        form.form_errors.append(error.message)


@dataclass(frozen=True)
class NavLink:
    endpoint: str
    label: str
    action: Action


# The menu, in the order a coordinator needs it; each shows only to those allowed and once built.
NAV = (
    NavLink("dashboard.home", "Dashboard", Action.READ_STOCK),
    NavLink("encounters.choose", "Record a visit", Action.RECORD_ENCOUNTER),
    NavLink("tallies.choose", "Shift tally", Action.RECORD_ENCOUNTER),
    NavLink("receiving.choose", "Receive stock", Action.RECEIVE_STOCK),
    NavLink("transfers.index", "Transfers", Action.TRANSFER),
    NavLink("counts.choose", "Count & adjust", Action.COUNT_STOCK),
    NavLink("stock.index", "Stock", Action.READ_STOCK),
    NavLink("alerts.index", "Alerts", Action.READ_ALERTS),
    NavLink("audit.index", "Audit", Action.READ_AUDIT),
    NavLink("exports.index", "Exports", Action.EXPORT),
    NavLink("admin.index", "Admin", Action.MANAGE_CATALOG),
    NavLink("admin.levels", "Stock levels", Action.SET_LEVELS),
    NavLink("purchase_orders.index", "Purchase orders", Action.PURCHASE),
    NavLink("partners.index", "Partners", Action.SUPPLY_PARTNERS),
    NavLink("mail.index", "Mail orders", Action.RECORD_ENCOUNTER),
    NavLink("recalls.index", "Recalls", Action.READ_RECALLS),
)


def current_link(links: list[NavLink]) -> str | None:
    """The menu entry for the page shown: of the entries in its area, the one whose URL it is under."""
    area = (request.endpoint or "").split(".")[0]
    mine = [link for link in links if link.endpoint.split(".")[0] == area]
    if len(mine) <= 1:
        return mine[0].endpoint if mine else None
    under = [link for link in mine if request.path.startswith(url_for(link.endpoint))]
    return max(under, key=lambda link: len(url_for(link.endpoint))).endpoint if under else mine[0].endpoint


def nav_links() -> list[NavLink]:
    who = getattr(current_user, "principal", None)
    if not isinstance(who, Principal):
        return []
    return [link for link in NAV if link.endpoint in current_app.view_functions and who.can(link.action)]
