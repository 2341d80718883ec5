"""Admin pages: sites (warehouse, fixed sites, vans): list, register, close and reopen."""

from __future__ import annotations

from typing import Any

from flask import abort, render_template, url_for
from flask.typing import ResponseReturnValue
from flask_wtf import FlaskForm
from wtforms import SelectField, StringField
from wtforms.validators import DataRequired, Length

from inventory.application.access import Action
from inventory.projections import queries
from inventory.web.pages.admin import KIND_LABELS, actor, bp, done, form_page
from inventory.web.pages.common import page
from inventory.web.services import services

CODE_HINT = "Letters, digits, '-', '_' and '.'; it cannot be changed later."


class SiteForm(FlaskForm):
    code = StringField(
        "Site code",
        validators=[DataRequired("Enter a short code for the site, like VAN-2."), Length(max=40)],
        render_kw={"autocapitalize": "characters", "autocomplete": "off", "spellcheck": "false"},
    )
    name = StringField("Name", validators=[DataRequired("Enter the site's name."), Length(max=80)])
    kind = SelectField("Kind", choices={kind.value: label for kind, label in KIND_LABELS.items()})


def site_row(code: str) -> dict[str, Any]:
    """The site with this code from the read model, or 404."""
    code = code.upper()
    for row in queries.sites(services().store):
        if row["code"] == code:
            return row
    abort(404, description=f"There is no site {code}.")


@bp.get("/sites")
@page(Action.MANAGE_CATALOG)
def sites() -> str:
    return render_template("pages/admin/sites.html", sites=queries.sites(services().store))


@bp.route("/sites/new", methods=["GET", "POST"])
@page(Action.MANAGE_CATALOG)
def new_site() -> ResponseReturnValue:
    form = SiteForm()

    def register() -> str:
        found = services().app.register_site(
            code=form.code.data or "", name=form.name.data or "", kind=form.kind.data or "", actor=actor()
        )
        return f"Site {found['code']} ({found['name']}) registered."

    return form_page("pages/admin/site_form.html", form, register, url_for("admin.sites"), code_hint=CODE_HINT)


@bp.post("/sites/<code>/close")
@page(Action.MANAGE_CATALOG)
def close_site(code: str) -> ResponseReturnValue:
    row = site_row(code)
    services().app.close_site(code=row["code"], actor=actor())
    return done(f"Site {row['code']} closed: no stock can be recorded there until it reopens.", "admin.sites")


@bp.post("/sites/<code>/reopen")
@page(Action.MANAGE_CATALOG)
def reopen_site(code: str) -> ResponseReturnValue:
    row = site_row(code)
    services().app.reopen_site(code=row["code"], actor=actor())
    return done(f"Site {row['code']} reopened.", "admin.sites")
