"""Admin pages: staff accounts: list, add, change role and sites, reset password, deactivate, reactivate
(and, from admin_user_access, where they are signed in and their API tokens).

Only admins manage users. No page shows a password or token hash: the list reads the staff read
model, which never holds one.
"""

from __future__ import annotations

from typing import Any

from flask import abort, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_wtf import FlaskForm
from wtforms import EmailField, PasswordField, SelectField, SelectMultipleField
from wtforms.validators import DataRequired, EqualTo, Length, Regexp
from wtforms.widgets import CheckboxInput, ListWidget

from inventory.application.access import Action
from inventory.application.users import EMAIL, MIN_PASSWORD
from inventory.domain.errors import InvalidInput
from inventory.domain.users import Role
from inventory.projections import queries, reach_queries, staff
from inventory.web.pages.admin import ROLE_LABELS, actor, bp, confirm_page, form_page
from inventory.web.pages.common import page
from inventory.web.pages.signed_in import devices, tokens
from inventory.web.services import services

PASSWORD_HINT = f"At least {MIN_PASSWORD} characters. Tell it to them in person, not by email."
NO_SITE = "A coordinator needs at least one site."
NO_PARTNER = "Choose the partner organisation this account reports for."
BAD_EMAIL = "Enter a valid email address, like name@example.org."
SITES_HINT = "Only site coordinators are limited to sites; every other role sees all sites."


class CheckboxesField(SelectMultipleField):
    """Several choices as checkboxes: easier with a thumb than a multi-select list."""

    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


class AccessForm(FlaskForm):
    role = SelectField("Role", choices={role.value: label for role, label in ROLE_LABELS.items()})
    sites = CheckboxesField("Sites", choices={})
    partner = SelectField("Partner organisation (for a partner account)", choices={}, default="")

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.partner.choices = {
            "": "None (staff)",
            **{p["code"]: f"{p['name']} ({p['code']})" for p in reach_queries.partners(services().store)},
        }
        # {value: label}: tuples as choices are deprecated in WTForms 3.3.
        self.sites.choices = {
            s["code"]: f"{s['code']} · {s['name']}" + ("" if s["is_open"] else " (closed)")
            for s in queries.sites(services().store)
        }

    def validate(self, extra_validators: Any = None) -> bool:
        """Also refuse a coordinator without a site here (the verb does too), so that every mistake
        on the form shows at once rather than one after another."""
        valid = bool(super().validate(extra_validators))
        if self.role.data == Role.COORDINATOR and not self.sites.data and not self.sites.errors:
            self.sites.errors = [*self.sites.errors, NO_SITE]
            valid = False
        if self.role.data == Role.PARTNER and not self.partner.data and not self.partner.errors:
            self.partner.errors = [*self.partner.errors, NO_PARTNER]
            valid = False
        return valid

    def chosen_partner(self) -> str | None:
        """The partner organisation, for a partner account; staff belong to none."""
        return (self.partner.data or None) if self.role.data == Role.PARTNER else None

    def chosen_sites(self) -> list[str]:
        """The sites ticked, for a coordinator; other roles cover every site, so none are kept."""
        return list(self.sites.data or []) if self.role.data == Role.COORDINATOR else []


def _password(label: str) -> PasswordField:
    return PasswordField(
        label,
        validators=[
            DataRequired("Enter a password."),
            Length(min=MIN_PASSWORD, max=1000, message=f"The password must be at least {MIN_PASSWORD} characters."),
        ],
        render_kw={"autocomplete": "new-password"},
    )


def _again() -> PasswordField:
    return PasswordField(
        "Type the password again",
        validators=[DataRequired("Type the password again."), EqualTo("password", "The two passwords differ.")],
        render_kw={"autocomplete": "new-password"},
    )


class NewUserForm(AccessForm):
    email = EmailField(
        "Email",
        # The verb's own pattern, checked here too so that every mistake shows at once.
        validators=[DataRequired("Enter their work email address."), Length(max=200), Regexp(EMAIL, message=BAD_EMAIL)],
        filters=[lambda value: value.strip() if isinstance(value, str) else value],
        render_kw={"autocomplete": "off", "autocapitalize": "none", "spellcheck": "false"},
    )
    password = _password("Initial password")
    again = _again()


class PasswordForm(FlaskForm):
    password = _password("New password")
    again = _again()


def staff_row(email: str) -> dict[str, Any]:
    """The account with this email from the staff read model, or 404."""
    email = email.strip().lower()
    for row in staff.accounts(services().store):
        if row["email"] == email:
            return row
    abort(404, description=f"There is no user {email}.")


def signed_in_with(email: str) -> dict[str, Any]:
    """What an account's page lists besides its access: its devices and its working API tokens
    (ended and revoked by the routes in admin_user_access)."""
    return {
        "devices": devices(email, lambda ref: url_for("admin.end_user_session", email=email, ref=ref)),
        "tokens": tokens(email, lambda token_id: url_for("admin.revoke_user_token", email=email, token_id=token_id)),
    }


def _not_yourself(email: str, what: str, field: str) -> None:
    """An admin may not lock themselves out (and so, perhaps, everyone)."""
    if email == actor():
        raise InvalidInput(f"You cannot {what} yourself; ask another admin to.", field=field)


@bp.get("/users")
@page(Action.MANAGE_USERS)
def users() -> str:
    return render_template("pages/admin/users.html", users=staff.accounts(services().store))


@bp.route("/users/new", methods=["GET", "POST"])
@page(Action.MANAGE_USERS)
def new_user() -> ResponseReturnValue:
    form = NewUserForm()

    def register() -> str:
        found = services().app.register_user(
            email=form.email.data or "",
            role=form.role.data or "",
            sites=form.chosen_sites(),
            partner=form.chosen_partner(),
            password=form.password.data or "",
            actor=actor(),
        )
        return f"{found['email']} can now sign in as {ROLE_LABELS[found['role']].lower()}."

    return form_page(
        "pages/admin/user_new.html",
        form,
        register,
        url_for("admin.users"),
        password_hint=PASSWORD_HINT,
        sites_hint=SITES_HINT,
    )


@bp.route("/users/<email>", methods=["GET", "POST"])
@page(Action.MANAGE_USERS)
def user(email: str) -> ResponseReturnValue:
    """One account: change its role and sites; links to reset its password or deactivate it."""
    row = staff_row(email)
    form = AccessForm(data=row if request.method == "GET" else None)

    def change() -> str:
        if form.role.data != Role.ADMIN:
            _not_yourself(row["email"], "take the admin role from", "role")
        found = services().app.change_access(
            email=row["email"],
            role=form.role.data or "",
            sites=form.chosen_sites(),
            partner=form.chosen_partner(),
            actor=actor(),
        )
        where = ", ".join(found["sites"]) if found["role"] == Role.COORDINATOR else "all sites"
        if found["role"] == Role.PARTNER:
            where = f"the page of partner {found['partner']} only"
        return f"{found['email']} is now {ROLE_LABELS[found['role']].lower()} ({where})."

    return form_page(
        "pages/admin/user.html",
        form,
        change,
        url_for("admin.users"),
        person=row,
        sites_hint=SITES_HINT,
        **signed_in_with(row["email"]),
    )


@bp.route("/users/<email>/password", methods=["GET", "POST"])
@page(Action.MANAGE_USERS)
def user_password(email: str) -> ResponseReturnValue:
    row = staff_row(email)
    form = PasswordForm()

    def reset() -> str:
        services().app.set_password(email=row["email"], password=form.password.data or "", actor=actor())
        return f"New password set for {row['email']}; they are signed out everywhere else."

    return form_page(
        "pages/admin/user_password.html",
        form,
        reset,
        url_for("admin.user", email=row["email"]),
        person=row,
        password_hint=PASSWORD_HINT,
    )


@bp.route("/users/<email>/deactivate", methods=["GET", "POST"])
@page(Action.MANAGE_USERS)
def deactivate_user(email: str) -> ResponseReturnValue:
    """Ask first, then deactivate: signed out, tokens refused, history kept (reactivate undoes it)."""
    row = staff_row(email)
    if row["email"] == actor():
        abort(409, description="You cannot deactivate yourself; ask another admin to.")

    def deactivate() -> str:
        services().app.deactivate_user(email=row["email"], actor=actor())
        return f"{row['email']} is deactivated: they can no longer sign in or use the API."

    return confirm_page(
        f"Deactivate {row['email']}?",
        "They are signed out at once and their API tokens stop working. What they recorded stays. "
        "An admin can reactivate the account later, with a new password.",
        "Deactivate this account",
        url_for("admin.user", email=row["email"]),
        deactivate,
    )


@bp.route("/users/<email>/reactivate", methods=["GET", "POST"])
@page(Action.MANAGE_USERS)
def reactivate_user(email: str) -> ResponseReturnValue:
    """Let a deactivated account back in with a new password (old sessions and tokens stay dead)."""
    row = staff_row(email)
    form = PasswordForm()

    def reactivate() -> str:
        services().app.reactivate_user(email=row["email"], password=form.password.data or "", actor=actor())
        return f"{row['email']} is active again: give them the new password. Their old API tokens stay revoked."

    return form_page(
        "pages/admin/user_reactivate.html",
        form,
        reactivate,
        url_for("admin.user", email=row["email"]),
        person=row,
        password_hint=PASSWORD_HINT,
    )
