"""Admin pages: where an account is signed in, and its API tokens; ending them (a lost phone, a leaver).

The account's own page (Admin → Users → the account, admin_users.signed_in_with) lists them; these
routes end one session, every session (after asking), or revoke one token. The person can do the
same for themselves on the Account page.
"""

from __future__ import annotations

from flask import abort, flash, redirect, url_for
from flask.typing import ResponseReturnValue

from inventory.application.access import Action
from inventory.web.pages.admin import actor, bp, confirm_page
from inventory.web.pages.admin_users import staff_row
from inventory.web.pages.auth import end_session, sessions
from inventory.web.pages.common import page
from inventory.web.pages.signed_in import current_ref, revoke


@bp.post("/users/<email>/sessions/<ref>/end")
@page(Action.MANAGE_USERS)
def end_user_session(email: str, ref: str) -> ResponseReturnValue:
    row = staff_row(email)
    record = next((s for s in sessions().of(row["email"]) if s.ref == ref), None)
    if record is None:
        abort(404, description="That session has already ended.")
    if ref == current_ref():  # an admin ending the session they are using
        end_session()
        flash("You are signed out.", "info")
        return redirect(url_for("auth.sign_in"))
    sessions().end_ref(row["email"], ref)
    flash(f"{row['email']} is signed out on {record.device.name}.", "success")
    return redirect(url_for("admin.user", email=row["email"]))


@bp.route("/users/<email>/sessions/end", methods=["GET", "POST"])
@page(Action.MANAGE_USERS)
def end_user_sessions(email: str) -> ResponseReturnValue:
    """Ask first, then sign the person out on every device (their password and tokens stay)."""
    row = staff_row(email)

    def end_all() -> str:
        ended = sessions().end_all(row["email"])
        return f"{row['email']} is signed out on {ended} device{'s' if ended != 1 else ''}."

    return confirm_page(
        f"Sign {row['email']} out everywhere?",
        "Every phone and computer they are signed in on is signed out at once; they can sign in again "
        "with their password. Their API tokens go on working: revoke those one by one on their page.",
        "Sign them out everywhere",
        url_for("admin.user", email=row["email"]),
        end_all,
    )


@bp.post("/users/<email>/tokens/<token_id>/revoke")
@page(Action.MANAGE_USERS)
def revoke_user_token(email: str, token_id: str) -> ResponseReturnValue:
    row = staff_row(email)
    flash(revoke(row["email"], token_id, actor=actor()), "success")
    return redirect(url_for("admin.user", email=row["email"]))
