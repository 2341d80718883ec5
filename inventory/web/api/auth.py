"""Bearer tokens: who is calling, and may they do this here."""

from __future__ import annotations

from flask import g, request
from flask_smorest import abort

from inventory.access import Action, Principal
from inventory.web.services import services


def caller() -> Principal:
    """The principal behind the request's bearer token, or 401."""
    found = g.get("principal")
    if isinstance(found, Principal):
        return found
    header = request.headers.get("Authorization", "")
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


def require(action: Action, site: str | None = None) -> Principal:
    """The caller, if they may do `action` (at `site`); otherwise 403 saying why."""
    principal = caller()
    if not principal.can(action, site):
        where = f" at {site.upper()}" if site and principal.role == "coordinator" else ""
        abort(403, message=f"A {principal.role.replace('_', ' ')} may not {action.value.replace('_', ' ')}{where}.")
    return principal
