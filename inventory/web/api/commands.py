"""What every API call that records something does around its view: who, once only, read-your-writes."""

from __future__ import annotations

import functools
import json
from collections.abc import Callable
from typing import Any

from flask import current_app, g, request
from flask_smorest import abort

from inventory.stores.idempotency import IdempotencyStore, body_hash
from inventory.web.api.auth import Replay, caller
from inventory.web.errors import DATABASE_UNAVAILABLE
from inventory.web.services import services

KEY_HEADER = "Idempotency-Key"
# Commands whose record is named by the key itself (recording again answers the first recording), so
# a claim left running by a request that died may be taken over (see IdempotencyStore.take_over).
NAMED_BY_KEY = frozenset({"/api/v1/encounters", "/api/v1/tallies", "/api/v1/discarded-visits"})


def idempotency() -> IdempotencyStore:
    store = current_app.extensions.get("idempotency")
    if store is None:
        store = current_app.extensions["idempotency"] = IdempotencyStore(services().store)
    assert isinstance(store, IdempotencyStore)
    return store


def request_key(required: bool = False) -> str | None:
    """The Idempotency-Key header, checked."""
    key = request.headers.get(KEY_HEADER, "").strip()
    if not key:
        if required:
            abort(400, message=f"Send an {KEY_HEADER} header (8 to 100 characters, new for each record sent).")
        return None
    if not 8 <= len(key) <= 100 or not key.isprintable():
        abort(400, message=f"The {KEY_HEADER} header must be 8 to 100 printable characters.")
    return key


def command(view: Callable[..., Any]) -> Callable[..., Any]:
    """Authenticate, honour Idempotency-Key, and catch the read models up before answering."""

    @functools.wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        principal = caller()
        key = request_key()
        store = idempotency()
        if key is not None:
            digest = body_hash(request.method, request.path, request.get_data())
            claim = store.claim(principal.email, key, request.method, request.path, digest)
            if claim.state == "mismatch":
                abort(
                    422,
                    message=f"This {KEY_HEADER} was used before with a different request. Use a new key.",
                    errors={KEY_HEADER: ["already used for a different request"]},
                )
            if claim.state == "running" and not (
                request.path in NAMED_BY_KEY and store.take_over(principal.email, key, digest)
            ):
                abort(
                    409,
                    message="A request with this key is still being processed, or was interrupted. "
                    "Check whether it was recorded before sending it again with a new key.",
                    headers={"Retry-After": "1"},
                )
            if claim.state == "done":
                response = current_app.response_class(
                    json.dumps(claim.body), status=claim.status, mimetype="application/json"
                )
                response.headers["Idempotent-Replayed"] = "true"
                # The stored answer is given only once the caller passes the view's own check, as
                # they stand now (a coordinator moved off the site no longer sees its visit).
                return replay_once_allowed(view, args, kwargs, response)
        try:
            response = current_app.make_response(view(*args, **kwargs))
        except DATABASE_UNAVAILABLE:
            # The database went away: the save may have been committed with its answer lost, so the
            # key stays claimed (a repeat gets 409, or takes the claim over for a visit or a tally,
            # which the key itself names). Releasing it could record a receipt twice.
            raise
        except BaseException:
            # Nothing was recorded (a refusal, a bad field): free the key so the same request can be
            # sent again once it can succeed.
            if key is not None:
                store.release(principal.email, key)
            raise
        if key is not None:
            store.finish(principal.email, key, response.status_code, response.get_json(silent=True))
        services().projector.read_your_writes()
        return response

    return wrapper


def replay_once_allowed(view: Callable[..., Any], args: Any, kwargs: Any, answer: Any) -> Any:
    """Run the view up to its authorization (`require`), then give the stored answer instead of acting.

    Every command view authorizes first, from its arguments, before it records anything; `require`
    raises Replay once it lets the caller in, and a refusal (403) is answered as usual.
    """
    g.replay = answer
    try:
        view(*args, **kwargs)
    except Replay as replay:
        return replay.answer
    finally:
        g.pop("replay", None)
    raise AssertionError(f"{view.__name__} recorded something without calling require() first")
