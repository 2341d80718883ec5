"""Each request's id, on its answer and its log records, and one access line per request.

Every request gets an id (the caller's X-Request-ID if it is a plain token, otherwise a new one),
sent back in the X-Request-ID header and attached to every log record made while serving it
(inventory.adapters.logs). The access line says the method, the path without its query string, the
status and the time taken: never a query string, a form or a body, where a participant code could be.
"""

from __future__ import annotations

import logging
import re
import time
import uuid

from flask import Flask, Response, g, request

from inventory.adapters.logs import request_id

access = logging.getLogger("inventory.application.access")
REQUEST_ID = re.compile(r"^[A-Za-z0-9._-]{1,64}$")


def request_ids(app: Flask) -> None:
    @app.before_request
    def assign_request_id() -> None:
        given = request.headers.get("X-Request-ID", "")
        g.request_id = given if REQUEST_ID.match(given) else uuid.uuid4().hex[:16]
        g.request_id_token = request_id.set(g.request_id)
        g.started = time.perf_counter()

    @app.after_request
    def log_request(response: Response) -> Response:
        request_id = g.get("request_id")
        if request_id:
            response.headers["X-Request-ID"] = request_id
        if request.endpoint != "static":
            ms = round((time.perf_counter() - g.get("started", time.perf_counter())) * 1000, 1)
            access.info(
                "%s %s %s %.1f ms",
                request.method,
                request.path,
                response.status_code,
                ms,
                extra={"method": request.method, "path": request.path, "status": response.status_code, "ms": ms},
            )
        return response

    @app.teardown_request
    def forget_request_id(error: BaseException | None) -> None:
        token = g.pop("request_id_token", None)
        if token is not None:
            request_id.reset(token)
