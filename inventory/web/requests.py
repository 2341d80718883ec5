"""Strict reading of what clients send: JSON only where JSON is expected, within a size and a depth.

A body the API cannot read as JSON must never be taken for an empty one: a transfer received as
`text/plain` once recorded every unit as arrived, because `{}` means "all of it". So a body sent
to the API that is not JSON is refused with 415, one larger than `API_BODY_LIMIT` with 413, and
one nested deeper than `API_DEPTH_LIMIT` (which would exhaust the JSON parser's recursion) with 400,
before any view or schema sees it. Pages have their own limit, large enough for an import workbook.
"""

from __future__ import annotations

from flask import Flask, request
from werkzeug.exceptions import BadRequest, UnsupportedMediaType

API_BODY_LIMIT = 256 * 1024  # bytes: a visit of 30 lines is under 3 KB
PAGE_BODY_LIMIT = 32 * 1024 * 1024  # bytes: a 50,000-row import workbook is about 3 MB
API_DEPTH_LIMIT = 6  # objects and lists inside each other; the deepest request body needs 3
WRITES = ("POST", "PUT", "PATCH", "DELETE")


def json_depth(body: bytes, limit: int) -> int:
    """How deeply objects and lists nest in a JSON text, counting up to `limit + 1` at most.

    Brackets inside strings do not count. A cheap scan, so a body of a million "[" is refused
    without being parsed.
    """
    depth = deepest = 0
    in_string = escaped = False
    for byte in body:
        if in_string:
            if escaped:
                escaped = False
            elif byte == 0x5C:  # backslash
                escaped = True
            elif byte == 0x22:  # quote
                in_string = False
        elif byte == 0x22:
            in_string = True
        elif byte in (0x5B, 0x7B):  # [ {
            depth += 1
            if depth > deepest:
                deepest = depth
                if deepest > limit:
                    return deepest
        elif byte in (0x5D, 0x7D):  # ] }
            depth -= 1
    return deepest


def is_json(mimetype: str) -> bool:
    return mimetype == "application/json" or (mimetype.startswith("application/") and mimetype.endswith("+json"))


def check_api_body() -> None:
    """Before an API view: a body of the right type, size and depth, or a refusal that says what to send."""
    if not request.path.startswith("/api/"):
        request.max_content_length = PAGE_BODY_LIMIT
        return
    request.max_content_length = API_BODY_LIMIT
    if request.method not in WRITES:
        return
    body = request.get_data(cache=True)  # 413 past the limit
    if not body.strip():
        return  # nothing to misread: the same as {} for the views that take no body
    if not is_json(request.mimetype):
        raise UnsupportedMediaType(
            f"Send the body as JSON with Content-Type: application/json (this one was "
            f"{request.mimetype or 'not given a type'})."
        )
    if json_depth(body, API_DEPTH_LIMIT) > API_DEPTH_LIMIT:
        raise BadRequest(
            f"The JSON body nests objects and lists more than {API_DEPTH_LIMIT} deep; no request needs that."
        )


def register_request_checks(app: Flask) -> None:
    app.config["MAX_CONTENT_LENGTH"] = PAGE_BODY_LIMIT
    app.before_request(check_api_body)
