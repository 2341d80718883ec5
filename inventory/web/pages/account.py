"""Your account: the devices you are signed in on and your API tokens, and ending any of them.

Every signed-in person has this page, whatever their role. Its routes act only on the person's own
sessions and tokens: another person's are answered 404. An admin ends other people's sessions and
tokens from their page under Admin → Users (admin_user_access).
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, TypeVar

from flask import Blueprint, abort, current_app, flash, redirect, render_template, url_for
from flask.typing import ResponseReturnValue
from flask_login import current_user

from inventory.domain.users import Role
from inventory.web.pages.admin import ROLE_LABELS
from inventory.web.pages.auth import end_session, sessions
from inventory.web.pages.common import principal
from inventory.web.pages.signed_in import current_ref, devices, revoke, tokens

bp = Blueprint("account", __name__, url_prefix="/account")

V = TypeVar("V", bound=Callable[..., Any])


def signed_in(view: V) -> V:
    """For pages every signed-in person may use (each acts on their own account only)."""

    @functools.wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        if not current_user.is_authenticated:
            return current_app.login_manager.unauthorized()  # type: ignore[attr-defined]
        return view(*args, **kwargs)

    return wrapper  # type: ignore[return-value]


@bp.get("")
@signed_in
def index() -> str:
    who = principal()
    return render_template(
        "pages/account.html",
        role=ROLE_LABELS[Role(who.role)],
        devices=devices(who.email, lambda ref: url_for("account.end_session_of", ref=ref)),
        tokens=tokens(who.email, lambda token_id: url_for("account.revoke_token", token_id=token_id)),
    )


@bp.post("/sessions/<ref>/end")
@signed_in
def end_session_of(ref: str) -> ResponseReturnValue:
    """End one of your sessions; ending the one you are using signs you out."""
    who = principal()
    record = next((s for s in sessions().of(who.email) if s.ref == ref), None)
    if record is None:
        abort(404, description="That session has already ended.")
    if ref == current_ref():
        end_session()
        flash("You are signed out.", "info")
        return redirect(url_for("auth.sign_in"))
    sessions().end_ref(who.email, ref)
    flash(f"Signed out {record.device.name}. Anyone using it must sign in again.", "success")
    return redirect(url_for("account.index"))


@bp.post("/sessions/end-others")
@signed_in
def end_other_sessions() -> ResponseReturnValue:
    """End every session but this one (a lost phone, a shared computer)."""
    who = principal()
    ended = sessions().end_all(who.email, keep=current_user.record.id_hash)
    flash(f"Signed out {ended} other device{'s' if ended != 1 else ''}." if ended else "No other devices.", "success")
    return redirect(url_for("account.index"))


@bp.post("/tokens/<token_id>/revoke")
@signed_in
def revoke_token(token_id: str) -> ResponseReturnValue:
    who = principal()
    flash(revoke(who.email, token_id, actor=who.email), "success")
    return redirect(url_for("account.index"))
