"""Verbs for staff accounts: register, change access, passwords and API tokens."""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from typing import Any
from uuid import UUID

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from inventory.application.access import Principal
from inventory.application.core import InventoryCore
from inventory.domain.errors import AlreadyExists, Conflict, InvalidInput, NotFound
from inventory.domain.text import NAME_LENGTH, clean_code, clean_text
from inventory.domain.users import Role, User, user_id
from inventory.domain.values import parse_enum

EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
MIN_PASSWORD = 10
TOKEN_PREFIX = "inv"


class UnknownUser(NotFound):
    code = "unknown_user"


def _email(value: str) -> str:
    email = clean_text(value, "email", max_length=200).lower()
    if not EMAIL.match(email) or len(email) > 200:
        raise InvalidInput("Enter a valid email address, like name@example.org.", field="email")
    return email


def token_id_of(token: str) -> str:
    """A token's id, as pages, the audit log and `DELETE /api/v1/tokens/{id}` name it ("" if malformed).

    A token reads inv_<user>_<id>_<secret>; the id is no secret.
    """
    parts = (token or "").split("_", 3)
    return parts[2] if len(parts) == 4 and parts[0] == TOKEN_PREFIX else ""


def _secret_hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


class UserVerbs(InventoryCore):
    """Staff accounts: who may sign in, with which role, at which sites."""

    # argon2id with the library's current recommended parameters; hashes made with older
    # parameters are replaced at the next successful sign-in.
    hasher = PasswordHasher()

    def _user(self, email: str) -> User:
        found = self._get(User, user_id(_email(email)))
        if found is None:
            raise UnknownUser(f"There is no user {email}.", field="email")
        return found

    def _sites_for(self, role: str, sites: list[str]) -> list[str]:
        codes = sorted({clean_code(code, "sites") for code in sites})
        for code in codes:
            self._site(code, field="sites", must_be_open=False)
        if role == Role.COORDINATOR and not codes:
            raise InvalidInput("A coordinator needs at least one site.", field="sites")
        if role == Role.PARTNER and codes:
            raise InvalidInput("A partner account works at no site of the program: leave the sites empty.",
                               field="sites")  # fmt: skip
        return codes

    def _partner_for(self, role: str, partner: str | None) -> str | None:
        """A partner account's partner organisation (required); staff have none."""
        if role != Role.PARTNER:
            if partner:
                raise InvalidInput("Only a partner account belongs to a partner organisation.", field="partner")
            return None
        if not partner:
            raise InvalidInput("Choose the partner organisation this account reports for.", field="partner")
        return self._partner(partner, must_be_active=False).code

    def register_user(
        self,
        *,
        email: str,
        role: str,
        sites: list[str] | None = None,
        password: str | None = None,
        partner: str | None = None,
        actor: str,
    ) -> dict[str, Any]:
        """Add a member of staff; a coordinator is given the sites they work at, a partner account its partner."""
        address = _email(email)
        role = parse_enum(Role, role, "role")
        codes = self._sites_for(role, sites or [])
        organisation = self._partner_for(role, partner)
        user = User(email=address, role=role, sites=codes, actor=actor, partner=organisation)
        if password is not None:
            user.set_password(password_hash=self._hash(password), actor=actor)
        self._create(user, f"A user with email {address}", "email")
        return self.user(address)

    def change_access(
        self, *, email: str, role: str, sites: list[str] | None = None, partner: str | None = None, actor: str
    ) -> dict[str, Any]:
        """Give a user another role or other sites (a partner account: its partner)."""
        role = parse_enum(Role, role, "role")
        codes = self._sites_for(role, sites or [])
        organisation = self._partner_for(role, partner)
        the_id = user_id(_email(email))

        def attempt() -> dict[str, Any]:
            user = self._user(email)
            user.change_access(role=role, sites=codes, actor=actor, partner=organisation)
            self.save(user)
            return self.user(user.email)

        return self._retrying([the_id], attempt)

    def set_password(self, *, email: str, password: str, actor: str) -> None:
        """Set a user's password (stored only as an argon2id hash)."""
        hashed = self._hash(password)
        the_id = user_id(_email(email))

        def attempt() -> None:
            user = self._user(email)
            user.set_password(password_hash=hashed, actor=actor)
            self.save(user)

        self._retrying([the_id], attempt)

    def _hash(self, password: str) -> str:
        if not isinstance(password, str) or len(password) < MIN_PASSWORD:
            raise InvalidInput(f"The password must be at least {MIN_PASSWORD} characters.", field="password")
        if len(password) > 1000:
            raise InvalidInput("The password must be at most 1000 characters.", field="password")
        if not _encodable(password):
            raise InvalidInput(
                "The password holds a broken character (half of a character pair); type it again.", field="password"
            )
        return self.hasher.hash(password)

    def check_password(self, email: str, password: str) -> Principal | None:
        """The user if the password is right and the account active; rehashes outdated hashes."""
        if not isinstance(password, str) or not _encodable(password):
            password = "\ufffd"  # cannot match any password that was set; still checked, to take the same time
        try:
            user = self._user(email)
        except (UnknownUser, InvalidInput):
            # Spend the same time as a real check, so timing does not tell which emails exist.
            self.hasher.hash(password or "x")
            return None
        if not user.active or not user.password_hash:
            return None
        try:
            self.hasher.verify(user.password_hash, password)
        except (VerificationError, InvalidHashError):
            return None
        if self.hasher.check_needs_rehash(user.password_hash):
            self.set_password(email=user.email, password=password, actor=user.email)
        return _principal(user)

    def deactivate_user(self, *, email: str, actor: str) -> dict[str, Any]:
        """Stop a user signing in or using their tokens; their history stays."""
        the_id = user_id(_email(email))

        def attempt() -> dict[str, Any]:
            user = self._user(email)
            if user.active:
                user.deactivate(actor=actor)
                self.save(user)
            return self.user(user.email)

        return self._retrying([the_id], attempt)

    def reactivate_user(self, *, email: str, password: str, actor: str) -> dict[str, Any]:
        """Let a deactivated user back in, with a new password; their old tokens and sessions stay dead.

        The new password changes the stamp every session carries, so a browser left signed in before
        the deactivation (a lost phone) is not let back in; tokens issued before are revoked in the
        same save, as one of them may be why the account was deactivated.
        """
        hashed = self._hash(password)
        the_id = user_id(_email(email))

        def attempt() -> dict[str, Any]:
            user = self._user(email)
            if user.active:
                raise Conflict(f"The account {user.email} is already active.", field="email")
            for token_id, entry in user.tokens.items():
                if not entry["revoked"]:
                    user.revoke_token(token_id=token_id, actor=actor)
            user.set_password(password_hash=hashed, actor=actor)
            user.reactivate(actor=actor)
            self.save(user)
            return self.user(user.email)

        return self._retrying([the_id], attempt)

    def issue_token(self, *, email: str, label: str = "", actor: str) -> str:
        """A new API token for a user: returned once, stored only as a hash of its secret."""
        label = clean_text(label, "label", max_length=NAME_LENGTH, required=False)
        token_id = secrets.token_hex(8)
        secret = secrets.token_urlsafe(32)
        the_id = user_id(_email(email))

        def attempt() -> None:
            user = self._user(email)
            if not user.active:
                raise InvalidInput(f"{user.email} is deactivated.", field="email")
            user.issue_token(token_id=token_id, secret_hash=_secret_hash(secret), label=label, actor=actor)
            self.save(user)

        self._retrying([the_id], attempt)
        return f"{TOKEN_PREFIX}_{the_id.hex}_{token_id}_{secret}"

    def revoke_token(self, *, email: str, token_id: str, actor: str) -> None:
        """Revoke one of a user's tokens."""
        the_id = user_id(_email(email))

        def attempt() -> None:
            user = self._user(email)
            if token_id not in user.tokens:
                raise NotFound(f"{user.email} has no token {token_id}.", field="token_id")
            if not user.tokens[token_id]["revoked"]:
                user.revoke_token(token_id=token_id, actor=actor)
                self.save(user)

        self._retrying([the_id], attempt)

    def check_token(self, token: str) -> Principal | None:
        """The user a bearer token belongs to, if it is well formed, known, not revoked and active."""
        parts = (token or "").split("_", 3)
        if len(parts) != 4 or parts[0] != TOKEN_PREFIX:
            return None
        try:
            the_id = UUID(hex=parts[1])
        except ValueError:
            return None
        user = self._reference(User, the_id)
        if user is None or not user.active:
            return None
        entry = user.tokens.get(parts[2])
        if entry is None or entry["revoked"]:
            return None
        if not hmac.compare_digest(entry["secret_hash"], _secret_hash(parts[3])):
            return None
        return _principal(user)

    def session_id(self, email: str) -> str:
        """The account as a session record names it (inventory.stores.sessions): the user and a stamp of
        their password. Changing the password changes the stamp, which ends every session made before.
        """
        user = self._user(email)
        return f"{user.id.hex}.{_stamp(user)}"

    def session_principal(self, session_id: str) -> Principal | None:
        """The user behind a session id from `session_id`, while active and the password unchanged."""
        hex_id, _, stamp = (session_id or "").partition(".")
        try:
            the_id = UUID(hex=hex_id)
        except ValueError:
            return None
        user = self._reference(User, the_id)
        if user is None or not user.active or not user.password_hash:
            return None
        if not hmac.compare_digest(stamp, _stamp(user)):
            return None
        return _principal(user)

    def user(self, email: str) -> dict[str, Any]:
        """A user's account, without secrets."""
        user = self._user(email)
        return {
            "id": str(user.id),
            "email": user.email,
            "role": user.role,
            "sites": list(user.sites),
            "partner": user.partner,
            "active": user.active,
            "has_password": bool(user.password_hash),
            "tokens": [
                {"id": token_id, "label": entry["label"], "revoked": entry["revoked"]}
                for token_id, entry in user.tokens.items()
            ],
        }

    def principal(self, email: str) -> Principal | None:
        """The signed-in person, reloaded (role or sites may have changed since sign-in)."""
        try:
            user = self._user(email)
        except (UnknownUser, InvalidInput):
            return None
        return _principal(user) if user.active else None


def _encodable(text: str) -> bool:
    """Whether text can be written as UTF-8 (a lone surrogate, from a JSON escape, cannot)."""
    try:
        text.encode()
    except UnicodeEncodeError:
        return False
    return True


def _stamp(user: User) -> str:
    return hashlib.sha256((user.password_hash or "").encode()).hexdigest()[:20]


def _principal(user: User) -> Principal:
    return Principal(email=user.email, role=user.role, sites=frozenset(user.sites), partner=user.partner)


__all__ = ["AlreadyExists", "UnknownUser", "UserVerbs", "token_id_of"]
