"""Who is calling, and may they do this here: a bearer token, or the session of this site's own pages."""

from __future__ import annotations

from typing import Any

from flask import g, request
from flask_login import current_user
from flask_smorest import abort

from inventory.application.access import Action, Principal
from inventory.web.security import csrf
from inventory.web.services import services

SAFE_METHODS = ("GET", "HEAD", "OPTIONS")


def caller() -> Principal:
    """The principal behind the request's bearer token, or 401."""
    found = g.get("principal")
    if isinstance(found, Principal):
        return found
    header = request.headers.get("Authorization", "")
    if not header:
        signed_in = page_session()
        if signed_in is not None:
            g.principal = signed_in
            return signed_in
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        abort(
            401,
            message="Send a token: Authorization: Bearer <token> (from POST /api/v1/tokens).",
            headers={"WWW-Authenticate": "Bearer"},
        )
    principal = services().app.check_token(token.strip())
    if principal is None:
        abort(
            401,
            message="The token is unknown, revoked or its user deactivated.",
            headers={"WWW-Authenticate": 'Bearer error="invalid_token"'},
        )
    assert principal is not None  # abort() raised otherwise
    g.principal = principal
    return principal


def page_session() -> Principal | None:
    """The person signed in to this site's pages (the session cookie), when a page calls the API.

    The encounter page sends the visits it kept offline this way. Anything that changes data must
    carry the page's CSRF token (header X-CSRFToken), exactly as a form would: another site cannot
    make a signed-in browser record something.
    """
    found = getattr(current_user, "principal", None)
    if not isinstance(found, Principal):
        return None
    if request.method not in SAFE_METHODS:
        csrf.protect()
    return found


class Replay(Exception):
    """Raised by `require` when the request repeats a recorded one: its stored answer, now authorized."""

    def __init__(self, answer: Any) -> None:
        super().__init__("replay")
        self.answer = answer


def require(action: Action, site: str | None = None) -> Principal:
    """The caller, if they may do `action` (at `site`); otherwise 403 saying why."""
    principal = caller()
    if not principal.can(action, site):
        where = f" at {site.upper()}" if site and principal.role == "coordinator" else ""
        abort(403, message=f"A {principal.role.replace('_', ' ')} may not {action.value.replace('_', ' ')}{where}.")
    replay = g.pop("replay", None)
    if replay is not None:
        raise Replay(replay)
    return principal
