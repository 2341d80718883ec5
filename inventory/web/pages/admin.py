"""Pages: admin. Sites, items, funding sources, stock levels and staff accounts.

The routes live in admin_*.py, one module per section, all on this blueprint; this module holds
what they share: the labels shown for stored values and how a command's outcome is answered.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Callable
from typing import Any

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_wtf import FlaskForm
from wtforms import HiddenField
from wtforms.validators import AnyOf

from inventory.application.access import Action
from inventory.domain.errors import InventoryError
from inventory.domain.users import Role
from inventory.domain.values import Category, SiteKind
from inventory.web.errors import status_for
from inventory.web.pages.common import field_error, page, principal
from inventory.web.services import services

bp = Blueprint("admin", __name__, url_prefix="/admin")

KIND_LABELS = {
    SiteKind.WAREHOUSE: "Warehouse",
    SiteKind.FIXED: "Fixed site",
    SiteKind.MOBILE: "Mobile van",
    SiteKind.VENDING_MACHINE: "Vending machine",
}
CATEGORY_LABELS = {
    Category.NALOXONE: "Naloxone",
    Category.SYRINGE: "Syringes",
    Category.TEST_STRIP: "Test strips",
    Category.SHARPS: "Sharps containers",
    Category.WOUND_CARE: "Wound care",
    Category.SAFER_SMOKING: "Safer smoking",
    Category.KIT: "Kits (assembled here)",
    Category.OTHER: "Other",
}
ROLE_LABELS = {
    Role.ADMIN: "Admin",
    Role.COORDINATOR: "Site coordinator",
    Role.PURCHASING: "Purchasing",
    Role.GRANT_MANAGER: "Grant manager",
    Role.AUDITOR: "Auditor",
    Role.PARTNER: "Partner organisation (its own page only)",
}


class ConfirmForm(FlaskForm):
    """The button of a confirmation page: a POST without it (a stray request) changes nothing."""

    confirm = HiddenField(validators=[AnyOf(["yes"], "Press the button to confirm.")])


def confirm_page(title: str, message: str, button: str, back: str, command: Callable[[], str]) -> ResponseReturnValue:
    """Ask before something that cannot be undone here; on the confirmed POST, do it and go `back`."""
    return form_page(
        "pages/admin/confirm.html", ConfirmForm(), command, back, title=title, message=message, button=button, back=back
    )


@bp.context_processor
def labels() -> dict[str, Any]:
    return {"kind_labels": KIND_LABELS, "category_labels": CATEGORY_LABELS, "role_labels": ROLE_LABELS}


def form_page(
    template: str,
    form: FlaskForm,
    command: Callable[[], str],
    next_url: str,
    place: Callable[[FlaskForm, InventoryError], None] | None = None,
    **context: Any,
) -> ResponseReturnValue:
    """Show a form; on a valid POST run `command` (it returns what to tell the user) and redirect.

    A refusal by the domain is shown next to its field (`place` finds it), with the values kept.
    """
    status = 200
    if form.validate_on_submit():
        try:
            message = command()
        except InventoryError as error:
            (place or field_error)(form, in_words(form, error))
            status = status_for(error)
        else:
            services().projector.read_your_writes()
            flash(message, "success")
            return redirect(next_url)
    elif request.method == "POST":
        status = 422
    return render_template(template, form=form, **context), status


SNAKE_NAME = re.compile(r"\b[a-z]+(?:_[a-z]+)+\b")


def in_words(form: FlaskForm, error: InventoryError) -> InventoryError:
    """The domain names fields as the API does ("par_level (5) must be at least the reorder_point (9)");
    a person reads the labels they see on the form ("Par level (5) must be at least the reorder point (9)")."""
    labels = {field.name: field.label.text for field in form}

    def label(name: str) -> str:
        return labels[name].lower() if name in labels else name.replace("_", " ")

    message = SNAKE_NAME.sub(lambda found: label(found.group(0)), error.message)
    first = message.split(" ", 1)[0]
    if first in labels:  # a message that opens with the field's name: "code may use letters, ..."
        message = labels[first] + message[len(first) :]
    message = message[:1].upper() + message[1:]
    found = copy.copy(error)
    found.message = message
    return found


def done(message: str, endpoint: str, **values: Any) -> ResponseReturnValue:
    """After a one-button command: catch up, say what was recorded, and go back to the list."""
    services().projector.read_your_writes()
    flash(message, "success")
    return redirect(url_for(endpoint, **values))


def actor() -> str:
    """Who is recording this: the signed-in email."""
    return principal().email


@bp.get("")
@page(Action.MANAGE_CATALOG)
def index() -> str:
    return render_template("pages/admin/index.html", may_manage_users=principal().can(Action.MANAGE_USERS))


# Each section registers its routes on `bp` when imported (after `bp` and the helpers above exist).
from inventory.web.pages import (  # noqa: E402
    admin_funding,
    admin_import,
    admin_items,
    admin_levels,
    admin_sites,
    admin_user_access,
    admin_users,
)

__all__ = [
    "admin_funding",
    "admin_import",
    "admin_items",
    "admin_levels",
    "admin_sites",
    "admin_user_access",
    "admin_users",
    "bp",
]
