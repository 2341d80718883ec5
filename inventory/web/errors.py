"""One place that turns errors into answers: the JSON envelope for the API, a page for browsers."""

from __future__ import annotations

import logging
import sqlite3
from typing import Any

from flask import Response, jsonify, render_template, request
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException

from inventory.domain.errors import (
    AlreadyExists,
    ConcurrentUpdate,
    Conflict,
    IdempotencyConflict,
    InvalidInput,
    InventoryError,
    NotFound,
    UnknownPurchaseOrder,
    UnknownTransfer,
)

log = logging.getLogger(__name__)

# Domain errors and the HTTP status they answer with. The first match wins.
STATUS: list[tuple[type[InventoryError], int]] = [
    (IdempotencyConflict, 422),
    (ConcurrentUpdate, 503),
    (AlreadyExists, 409),
    (UnknownTransfer, 404),
    (UnknownPurchaseOrder, 404),
    (NotFound, 422),
    (Conflict, 409),
    (InvalidInput, 422),
    (InventoryError, 422),
]


def page(title: str, message: str, status: int) -> tuple[str, int]:
    return render_template("pages/error.html", title=title, message=message), status


def status_for(error: InventoryError) -> int:
    for kind, status in STATUS:
        if isinstance(error, kind):
            return status
    return 422


def wants_json() -> bool:
    return request.path.startswith("/api/")


def envelope(code: str, message: str, status: int, fields: dict[str, Any] | None = None) -> Response:
    """The API's error body: {"error": {"code", "message", "fields"}}."""
    response = jsonify({"error": {"code": code, "message": message, "fields": fields or {}}})
    response.status_code = status
    return response


def domain_error(error: InventoryError) -> Response | tuple[str, int]:
    status = status_for(error)
    if status == 503:  # others hold the same stock (Busy, ConcurrentUpdate): say when to try again, pages too
        return unavailable(error.code, error.message, retry_after=1)
    fields = {error.field: [error.message]} if error.field else {}
    if wants_json():
        return envelope(error.code, error.message, status, fields)
    return page("That could not be done", error.message, status)


def http_error(error: HTTPException) -> Response | tuple[str, int]:
    status = error.code or 500
    if isinstance(error, CSRFError) and not wants_json():
        return page(
            "Please send that form again",
            "The form had expired or did not come from this site, so nothing was recorded. "
            "Go back, reload the page, and send it again.",
            400,
        )
    data = getattr(error, "data", None) or {}
    fields = data.get("errors") or data.get("messages") or {}
    # webargs nests field errors by location ("json", "query"): flatten to field names.
    if isinstance(fields, dict) and set(fields) <= {"json", "query", "headers", "view_args", "form", "files"}:
        flat: dict[str, Any] = {}
        for location, errors in fields.items():
            if isinstance(errors, dict):
                flat.update(errors)
            else:  # about the location as a whole, e.g. {"json": ["Invalid JSON body."]}
                flat[location] = errors
        fields = flat
    if isinstance(fields, dict):
        fields = flat_fields(fields)
    message = data.get("message") or error.description or error.name
    if status == 400 and "json" in fields and not data.get("message"):
        message = "The request body is not valid JSON. Send a JSON object with Content-Type: application/json."
    if status == 422 and fields and not data.get("message"):
        message = "Some fields are missing or wrong: " + ", ".join(sorted(fields)) + "."
    if status >= 500:
        log.error("server error on %s %s", request.method, request.path, exc_info=error)
    if wants_json():
        code = "invalid_input" if status == 422 else error.name.lower().replace(" ", "_")
        response = envelope(code, str(message), status, fields if isinstance(fields, dict) else {"_": fields})
        for name, value in (data.get("headers") or {}).items():
            response.headers[name] = value
        if error.response is None and hasattr(error, "get_headers"):
            for name, value in error.get_headers():
                if name.lower() not in ("content-type", "content-length"):
                    response.headers.setdefault(name, value)
        return response
    return page(error.name, str(message), status)


def flat_fields(errors: dict[Any, Any], prefix: str = "") -> dict[str, Any]:
    """Marshmallow's nested field errors as the domain names fields: {"lines[0].lot": [...]}."""
    flat: dict[str, Any] = {}
    for key, value in errors.items():
        name = (
            f"{prefix}[{key}]"
            if isinstance(key, int) or str(key).isdigit()
            else f"{prefix}.{key}"
            if prefix
            else str(key)
        )
        if isinstance(value, dict):
            flat.update(flat_fields(value, name))
        else:
            flat[name] = value
    return flat


def _unavailable_errors() -> tuple[type[Exception], ...]:
    """What a lost or refused database connection raises, from the library, the driver and the pool."""
    from eventsourcing.persistence import InterfaceError, OperationalError
    from psycopg import OperationalError as PsycopgOperationalError
    from psycopg_pool import PoolTimeout

    return (OperationalError, InterfaceError, PsycopgOperationalError, PoolTimeout, sqlite3.OperationalError)


DATABASE_UNAVAILABLE = _unavailable_errors()


def unavailable(code: str, message: str, retry_after: int = 2) -> Response | tuple[str, int]:
    """503 with a Retry-After hint: the JSON envelope for the API, a page for people."""
    if wants_json():
        response = envelope(code, message, 503)
        response.headers["Retry-After"] = str(retry_after)
        return response
    body, status = page("Please try again in a moment", message, 503)
    answer = Response(body, status=status, mimetype="text/html")
    answer.headers["Retry-After"] = str(retry_after)
    return answer


def database_unavailable(error: Exception) -> Response | tuple[str, int]:
    """The database went away mid-request (restarted, connection killed, pool exhausted): 503, not 500.

    Saving events is one transaction, so a request cut off here recorded all of its events or none.
    """
    log.warning("database unavailable on %s %s: %s", request.method, request.path, type(error).__name__)
    return unavailable(
        "database_unavailable",
        "The database could not be reached just now. Try again in a few seconds. If you were recording "
        "something, check whether it was recorded first (an API request with the same Idempotency-Key is "
        "recorded once).",
    )


def unexpected_error(error: Exception) -> Response | tuple[str, int]:
    log.exception("unexpected error on %s %s", request.method, request.path)
    message = "Something went wrong on our side. Check whether your entry was recorded before you try again."
    if wants_json():
        return envelope("server_error", message, 500)
    return page("Something went wrong", message, 500)
