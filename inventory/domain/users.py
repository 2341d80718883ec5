"""Staff who use the product: their role, the sites they work at, and their API tokens.

Users are staff, never participants. Their email is their key. A password is stored only as an
argon2id hash; an API token only as the SHA-256 of its secret part.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Any
from uuid import NAMESPACE_URL, UUID, uuid5

from eventsourcing.domain import Aggregate, event


class Role(StrEnum):
    ADMIN = "admin"
    COORDINATOR = "coordinator"
    PURCHASING = "purchasing"
    GRANT_MANAGER = "grant_manager"
    AUDITOR = "auditor"
    PARTNER = "partner"  # an account of a partner organisation: its own partner's page, nothing else


def user_id(email: str) -> UUID:
    """The id of the user with this email (emails are compared lower-cased)."""
    return uuid5(NAMESPACE_URL, f"/users/{email.strip().lower()}")


class User(Aggregate):
    """A member of staff with one role; coordinators work only at the sites they are given."""

    @staticmethod
    def create_id(email: str, **_: Any) -> UUID:
        return user_id(email)

    # ----- events: declared so that mypy sees them; names (and so stored topics) are unchanged --------

    class Registered(Aggregate.Created):
        """Version 2 adds `partner`: the partner organisation of a partner account (None for staff, and for
        every account registered before partner accounts existed)."""

        class_version = 2

        email: str
        role: str
        sites: list[str]
        actor: str
        partner: str | None

        @staticmethod
        def upcast_v1_v2(state: dict[str, Any]) -> None:
            state["partner"] = None

    class AccessChanged(Aggregate.Event):
        """Version 2 adds `partner`, as for Registered."""

        class_version = 2

        role: str
        sites: list[str]
        actor: str
        partner: str | None

        @staticmethod
        def upcast_v1_v2(state: dict[str, Any]) -> None:
            state["partner"] = None

    class PasswordSet(Aggregate.Event):
        password_hash: str
        actor: str

    class Deactivated(Aggregate.Event):
        actor: str

    class Reactivated(Aggregate.Event):
        actor: str

    class TokenIssued(Aggregate.Event):
        token_id: str
        secret_hash: str
        label: str
        actor: str

    class TokenRevoked(Aggregate.Event):
        token_id: str
        actor: str

    # ----- command bodies: they run again on every replay ----------------------------------

    @event(Registered)
    def __init__(self, email: str, role: str, sites: list[str], actor: str, partner: str | None) -> None:
        self.email = email
        self.role = role
        self.sites = list(sites)
        self.partner = partner
        self.active = True
        self.password_hash: str | None = None
        self.tokens: dict[str, dict[str, Any]] = {}

    @event(AccessChanged)
    def change_access(self, role: str, sites: list[str], actor: str, partner: str | None) -> None:
        self.role = role
        self.sites = list(sites)
        self.partner = partner

    @event(PasswordSet)
    def set_password(self, password_hash: str, actor: str) -> None:
        self.password_hash = password_hash

    @event(Deactivated)
    def deactivate(self, actor: str) -> None:
        self.active = False

    @event(Reactivated)
    def reactivate(self, actor: str) -> None:
        self.active = True

    @event(TokenIssued)
    def issue_token(self, token_id: str, secret_hash: str, label: str, actor: str) -> None:
        self.tokens[token_id] = {"secret_hash": secret_hash, "label": label, "revoked": False}

    @event(TokenRevoked)
    def revoke_token(self, token_id: str, actor: str) -> None:
        self.tokens[token_id]["revoked"] = True
