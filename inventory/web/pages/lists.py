"""What every list page shares: its filters in the address (so a page can be bookmarked and shared), the
choice of order, and the links to the next page and back to the first, which work without JavaScript."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Any

from flask import request, url_for
from flask_wtf import FlaskForm
from wtforms import SelectField
from wtforms.validators import Optional

from inventory.projections.paging import CursorError, Page
from inventory.projections.queries import days_as_moments
from inventory.web.pages.fields import DayField
from inventory.web.pages.movements import option
from inventory.web.services import services

NEWEST, OLDEST = "newest", "oldest"


class QueryForm(FlaskForm):
    """A GET form: it only reads, so it carries no CSRF token."""

    class Meta:
        csrf = False


def chosen(field: Any, what: str) -> str | None:
    """The value of a select, checked against its choices (with a message that says what to do)."""
    value = (field.data or "").strip()
    if value and value not in {choice.value for choice in field.choices}:
        field.errors = [*field.errors, f"Choose {what} from the list."]
        return None
    return value or None


class ListFilter(QueryForm):
    """A date range and an order; each list adds the filters that fit it."""

    start = DayField("From", validators=[Optional()])
    end = DayField("To", validators=[Optional()])
    sort = SelectField(
        "Order", choices=[option(NEWEST, "Newest first"), option(OLDEST, "Oldest first")], validate_choice=False
    )

    def checked(self) -> bool:
        """Whether the filters can be used; what is wrong goes on the fields."""
        self.validate()
        chosen(self.sort, "an order")
        if self.start.data and self.end.data and self.end.data < self.start.data:
            self.end.errors = [*self.end.errors, "Choose a date on or after the start date."]
        return not self.errors

    @property
    def newest_first(self) -> bool:
        return bool(self.sort.data != OLDEST)

    def moments(self) -> tuple[str | None, str | None]:
        """The range as recorded moments, midnight to midnight in the program's zone."""
        return days_as_moments(self.start.data, self.end.data, services().app.zone)


def site_options(sites: list[dict[str, Any]], everywhere: bool) -> list[Any]:
    """A filter's choice of site: all of them (the person's own, or every site), or one."""
    return [
        option("", "All sites" if everywhere else "All your sites"),
        *(option(site["code"], f"{site['code']} · {site['name']}") for site in sites),
    ]


def kept(form: QueryForm, *names: str) -> dict[str, str]:
    """The filters that are set, as they go in the address."""
    found = {}
    for name in names:
        value = form[name].data
        if isinstance(value, date):
            value = value.isoformat()
        if value and not (name == "sort" and value == NEWEST):
            found[name] = str(value)
    return found


def pager(endpoint: str, filters: dict[str, str], page: Page, **route: str) -> dict[str, str | None]:
    """The links under a list: to the next page, and back to the first once past it."""
    values: dict[str, Any] = {**route, **filters}
    return {
        "next": url_for(endpoint, **values, after=page.next) if page.next else None,
        "first": url_for(endpoint, **values) if request.args.get("after") else None,
    }


def page_asked(form: QueryForm, read: Callable[[str | None], Page]) -> Page | None:
    """The page the address asks for (`read` given its cursor), or None when the filters cannot be used or
    the link is damaged: what to fix is then on the form."""
    if form.errors:
        return None
    try:
        return read(request.args.get("after") or None)
    except CursorError as error:
        form.form_errors.append(str(error))
        return None
