"""The one way in with a password, for the sign-in page and `POST /api/v1/tokens` alike.

The attempt takes its place in the sign-in counts (inventory.stores.sign_in_counts) before the password is
checked, from the client's address as the trusted proxies report it (INVENTORY_TRUSTED_PROXIES).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, timedelta

from flask import current_app, request

from inventory.application.access import Principal
from inventory.domain.text import bad_character
from inventory.stores.sign_in_counts import SignInThrottle
from inventory.web.services import services


@dataclass(frozen=True)
class Attempt:
    """Who signed in (None: wrong email or password), or how many seconds to wait before trying again."""

    principal: Principal | None
    retry_after: int = 0


def throttle() -> SignInThrottle:
    found = current_app.extensions.get("sign_in_throttle")
    if found is None:
        found = current_app.extensions["sign_in_throttle"] = SignInThrottle(services().store)
    assert isinstance(found, SignInThrottle)
    return found


def client_address() -> str:
    """The address the request came from: the one the trusted proxies saw, when they are trusted."""
    return request.remote_addr or "unknown"


def check_password(email: str, password: str) -> Attempt:
    """Check a password, if the sign-in counts allow one more check for this email from here."""
    if bad_character(email) is not None:
        return Attempt(None)  # no account has such an email: nothing to count, nothing to look up
    limiter = throttle()
    reservation = limiter.reserve(email, client_address())
    if reservation.refused:
        return Attempt(None, reservation.retry_after)
    found = services().app.check_password(email, password)
    if found is not None:
        limiter.succeeded(reservation)
    return Attempt(found)


def try_again_in(seconds: int) -> str:
    """A refusal in words, with when to try again (in the program's time zone)."""
    minutes = max(1, math.ceil(seconds / 60))
    at = (datetime.now(services().app.zone) + timedelta(seconds=seconds)).strftime("%H:%M")
    return f"Too many failed sign-ins. Try again in {minutes} minute{'s' if minutes != 1 else ''}, at {at}."
