"""The error answers each operation documents, so clients and schema checkers know every shape."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, NoReturn
from urllib.parse import urlencode

from flask import request
from flask_smorest import Blueprint, abort

from inventory.projections.paging import BAD_CURSOR, CursorError, Page
from inventory.web.api.schemas import ErrorResponse

# alt_response only writes documentation onto the view; any blueprint instance can do that.
_DOCS = Blueprint("api_docs", __name__)

DESCRIPTIONS = {
    400: "A header is missing or malformed, or the body is not JSON.",
    401: "No token, or a token that is unknown or revoked.",
    403: "The caller's role or sites do not allow this.",
    404: "No such resource.",
    409: "The stock or record does not allow this now (insufficient stock, expired lot, restricted funding, "
    "a request with the same key still running).",
    422: "A field is missing or wrong; `fields` says which and why.",
    429: "Too many failed sign-ins for this account (from this address); try again after the Retry-After seconds.",
    503: "The database is busy or unreachable; retry after the Retry-After seconds.",
}
ERRORS = (400, 401, 403, 409, 422, 503)
HEADERS = {429: {"Retry-After": {"description": "Seconds to wait before trying again.", "schema": {"type": "integer"}}}}


def documented(*statuses: int) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Declare error answers (JSON envelope) for an operation in the OpenAPI document."""

    def decorate(view: Callable[..., Any]) -> Callable[..., Any]:
        for status in statuses:
            view = _DOCS.alt_response(
                status, schema=ErrorResponse, description=DESCRIPTIONS[status], headers=HEADERS.get(status)
            )(view)
        return view

    return decorate


def bad_cursor() -> NoReturn:
    """The 422 that says a cursor is not one of ours."""
    abort(422, message=BAD_CURSOR, errors={"cursor": [BAD_CURSOR]})
    raise AssertionError("abort raises")


def paged(read: Callable[[], Page]) -> Page:
    """A page of a list, or the 422 of a cursor that is not one of ours."""
    try:
        return read()
    except CursorError:
        bad_cursor()


# A list answered as a JSON array pages with headers, so that its body keeps its shape.
PAGE_HEADERS = {
    "Link": {
        "description": 'The next page, as `<url>; rel="next"` (RFC 8288); absent on the last page.',
        "schema": {"type": "string"},
    },
    "X-Next-Cursor": {
        "description": "The cursor of the next page (pass it as `cursor`); absent on the last page.",
        "schema": {"type": "string"},
    },
}


def page_headers(found: Page) -> dict[str, str]:
    """The headers that point to the next page of a list answered as an array."""
    if found.next is None:
        return {}
    query = urlencode({**request.args.to_dict(), "cursor": found.next})
    return {"Link": f'<{request.base_url}?{query}>; rel="next"', "X-Next-Cursor": found.next}
