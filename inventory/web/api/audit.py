"""API v1: the audit feed, the seal check, and tokens (issued for a password, revoked one at a time)."""

from __future__ import annotations

from dataclasses import asdict, is_dataclass
from datetime import date, datetime
from decimal import Decimal
from enum import Enum
from typing import Any
from uuid import UUID

from flask.views import MethodView
from flask_smorest import Blueprint, abort
from marshmallow import RAISE

from inventory.application.access import Action, Principal
from inventory.application.users import token_id_of
from inventory.projections import staff
from inventory.projections.seal import verify
from inventory.web.api import schemas as s
from inventory.web.api.auth import caller, require
from inventory.web.api.commands import command
from inventory.web.api.docs import documented
from inventory.web.services import services
from inventory.web.sign_in import check_password, try_again_in

blp = Blueprint("api_audit", __name__, url_prefix="/api/v1", description="Audit feed, seal, tokens")

# Never leave the building, even to an auditor: secrets are stored only as hashes, but hashes of
# passwords and tokens are still not for sharing.
SECRET_FIELDS = frozenset({"password_hash", "secret_hash"})
HIDDEN = frozenset({"originator_id", "originator_version", "originator_topic", "timestamp"})


def plain(value: Any) -> Any:
    """An event attribute as JSON."""
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Decimal | UUID):
        return str(value)
    if isinstance(value, Enum):
        return value.value
    if is_dataclass(value) and not isinstance(value, type):
        return plain(asdict(value))
    if isinstance(value, dict):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [plain(v) for v in value]
    return value


def event_data(event: Any) -> dict[str, Any]:
    return {
        key: ("[redacted]" if key in SECRET_FIELDS else plain(value))
        for key, value in vars(event).items()
        if key not in HIDDEN
    }


@blp.route("/events")
class Events(MethodView):
    @blp.arguments(s.EventsQuery, location="query", unknown=RAISE)
    @blp.response(200, s.EventsOut)
    @documented(401, 403, 422)
    def get(self, query: dict[str, Any]) -> dict[str, Any]:
        """The whole log in order, a page at a time: position, recorded time, actor, type and data."""
        require(Action.READ_AUDIT)
        app = services().app
        notifications = app.recorder.select_notifications(start=query["after"] + 1, limit=query["limit"])
        events = []
        for notification in notifications:
            event: Any = app.mapper.to_domain_event(notification)
            events.append(
                {
                    "position": notification.id,
                    "recorded_at": event.timestamp,
                    "actor": getattr(event, "actor", None) or "system",
                    "type": type(event).__qualname__,
                    "aggregate_id": str(event.originator_id),
                    "version": event.originator_version,
                    "data": event_data(event),
                }
            )
        last = notifications[-1].id if notifications else query["after"]
        return {"events": events, "next_after": last, "head": int(app.recorder.max_notification_id() or 0)}


@blp.route("/audit/verify")
class Verify(MethodView):
    @blp.response(200, s.VerifyOut)
    @documented(401, 403)
    def get(self) -> dict[str, Any]:
        """The seal check: ok with the head position and hash, or the first position that does not match."""
        require(Action.READ_AUDIT)
        found = services()
        return asdict(verify(found.app.recorder, found.store, found.settings.seal_key))


@blp.route("/tokens")
class Tokens(MethodView):
    @blp.arguments(s.TokenIn)
    @blp.response(201, s.TokenOut)
    @documented(400, 401, 422, 429)
    def post(self, body: dict[str, Any]) -> dict[str, Any]:
        """Exchange an email and password for a bearer token (shown once; stored only as a hash).

        Failed attempts are limited exactly as on the sign-in page (429 with Retry-After)."""
        attempt = check_password(body["email"], body["password"])
        if attempt.retry_after:
            abort(429, message=try_again_in(attempt.retry_after), headers={"Retry-After": str(attempt.retry_after)})
        principal = attempt.principal
        if principal is None:
            abort(401, message="The email or password is not right, or the account is deactivated.")
        assert principal is not None
        token = services().app.issue_token(email=principal.email, label=body["label"], actor=principal.email)
        return {
            "token": token,
            "id": token_id_of(token),
            "email": principal.email,
            "role": principal.role,
            "sites": sorted(principal.sites),
        }


@blp.route("/tokens/<string(length=16):token_id>")
class TokenOne(MethodView):
    @command
    @blp.response(204)
    @documented(400, 401, 404, 409, 503)
    def delete(self, token_id: str) -> None:
        """Revoke one API token: one of your own, or anyone's if you are an admin.

        A script using it is refused (401) from then on; your other tokens go on working. The id is
        the part of the token after its second underscore (also `id` in POST /tokens's answer)."""
        principal = caller()
        owner = _token_owner(principal, token_id)
        services().app.revoke_token(email=owner, token_id=token_id, actor=principal.email)


def _token_owner(principal: Principal, token_id: str) -> str:
    """Whose token this is, if the caller may revoke it; otherwise 404 (another's token is not shown to exist)."""
    found = services()
    if any(token["id"] == token_id for token in found.app.user(principal.email)["tokens"]):
        return principal.email
    if principal.can(Action.MANAGE_USERS):
        found.projector.read_your_writes()  # a token issued a moment ago
        owners = staff.token_owners(found.store, token_id)
        if owners:
            return owners[0]
    abort(404, message=f"There is no API token {token_id} that you may revoke.")
    raise AssertionError("abort() raises")
