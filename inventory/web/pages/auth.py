"""Sign-in and sign-out (Flask-Login): a session record per sign-in, throttled attempts, and the user
behind a request."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from flask import Blueprint, Flask, current_app, flash, redirect, render_template, request, session, url_for
from flask.typing import ResponseReturnValue
from flask_login import LoginManager, UserMixin, current_user, login_user, logout_user
from flask_wtf import FlaskForm
from wtforms import EmailField, PasswordField
from wtforms.validators import DataRequired, Length

from inventory.application.access import Principal
from inventory.stores.sessions import SessionStore, StaffSession
from inventory.web.pages.fields import StorableText
from inventory.web.services import services
from inventory.web.sign_in import check_password, try_again_in

bp = Blueprint("auth", __name__)
login_manager = LoginManager()
login_manager.login_view = "auth.sign_in"
login_manager.login_message = "Sign in to continue."
login_manager.login_message_category = "info"
login_manager.session_protection = "basic"


class StaffUser(UserMixin):
    """A signed-in member of staff, as Flask-Login sees them: their session and who they are."""

    def __init__(self, session_id: str, principal: Principal, record: StaffSession) -> None:
        self.id = session_id
        self.principal = principal
        self.record = record

    @property
    def email(self) -> str:
        return self.principal.email


def sessions() -> SessionStore:
    """The session records; a session is idle too long after the cookie's own lifetime."""
    found = current_app.extensions.get("staff_sessions")
    if found is None:
        idle = current_app.permanent_session_lifetime.total_seconds()
        found = current_app.extensions["staff_sessions"] = SessionStore(services().store, idle)
    assert isinstance(found, SessionStore)
    return found


@login_manager.user_loader
def load_user(session_id: str) -> StaffUser | None:
    """The person behind a cookie, while its session has a record and their password and account stand."""
    record = sessions().find(session_id)
    if record is None:
        return None
    found = services().app.session_principal(record.account)
    if found is None:  # a new password, or deactivated: this session is over
        sessions().end(session_id)
        return None
    return StaffUser(session_id, found, record)


class SignInForm(FlaskForm):
    email = EmailField(
        "Email",
        validators=[DataRequired("Enter your email address."), Length(max=200), StorableText()],
        render_kw={"autocomplete": "username", "autocapitalize": "none"},
    )
    password = PasswordField(
        "Password",
        validators=[DataRequired("Enter your password."), Length(max=1000)],
        render_kw={"autocomplete": "current-password"},
    )


def _safe_next(target: str | None) -> str:
    """Only a path on this site: never send someone elsewhere after signing in."""
    if target:
        parts = urlsplit(target)
        if not parts.scheme and not parts.netloc and target.startswith("/") and not target.startswith("//"):
            return target
    return url_for("dashboard.home")  # a partner account goes on to its own page (common.partners_start_at_their_page)


def start_session(principal: Principal) -> None:
    """Sign in with a new session: nothing of the browser's session before is kept (its CSRF token
    neither), so a session id or token planted or seen before sign-in is worth nothing after."""
    session.clear()
    session_id, record = sessions().start(
        email=principal.email,
        account=services().app.session_id(principal.email),
        user_agent=request.headers.get("User-Agent"),
    )
    login_user(StaffUser(session_id, principal, record))


def end_session() -> None:
    """Sign out this browser: its record goes, so a copy of its cookie is refused too."""
    if current_user.is_authenticated:
        sessions().end(current_user.id)
    logout_user()
    session.clear()


@bp.route("/sign-in", methods=["GET", "POST"])
def sign_in() -> ResponseReturnValue:
    if current_user.is_authenticated:
        return redirect(_safe_next(request.args.get("next")))
    form = SignInForm()
    status, headers = 200, {}
    if form.validate_on_submit():
        attempt = check_password((form.email.data or "").strip().lower(), form.password.data or "")
        if attempt.retry_after:
            form.form_errors.append(try_again_in(attempt.retry_after))
            status, headers = 429, {"Retry-After": str(attempt.retry_after)}
        elif attempt.principal is None:
            form.form_errors.append("That email and password do not match an active account.")
            status = 401
        else:
            target = _safe_next(request.args.get("next"))
            start_session(attempt.principal)
            return redirect(target)
    elif request.method == "POST":
        status = 422
    return render_template("pages/sign_in.html", form=form), status, headers


@bp.post("/sign-out")
def sign_out() -> ResponseReturnValue:
    end_session()
    flash("You are signed out.", "info")
    return redirect(url_for("auth.sign_in"))


def init_auth(app: Flask) -> None:
    login_manager.init_app(app)
    app.register_blueprint(bp)

    @app.context_processor
    def who() -> dict[str, Any]:
        return {"who": getattr(current_user, "principal", None)}
