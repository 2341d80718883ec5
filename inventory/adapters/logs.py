"""Structured logs with a request id, and never a participant's data.

Every request gets an id (the caller's X-Request-ID if it is a plain token, otherwise a new one),
sent back in the X-Request-ID header and attached to every log record made while serving it. One
access line per request says the method, the path without its query string, the status and the time
taken: never a query string, a form or a body, which is where a participant code could be.

`configure_logging` (gunicorn's entry point and `inventory worker`) writes one JSON object per line
when INVENTORY_LOG_FORMAT is json (the default in production), or plain text. The web sets
`request_id` for each request (inventory.web.logs); outside one it is "-".
"""

from __future__ import annotations

import json
import logging
from contextvars import ContextVar
from datetime import UTC, datetime

request_id: ContextVar[str] = ContextVar("request_id", default="-")


class RequestIdFilter(logging.Filter):
    """Puts the current request's id on each record (`-` outside a request)."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = request_id.get()
        return True


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, message, request id (and the error, if any)."""

    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            "request_id": getattr(record, "request_id", "-"),
        }
        for key in ("method", "path", "status", "ms"):
            if hasattr(record, key):
                entry[key] = getattr(record, key)
        if record.exc_info:
            entry["error"] = self.formatException(record.exc_info)
        return json.dumps(entry)


def configure_logging(json_lines: bool, level: int = logging.INFO) -> None:
    """Send every logger's records to stderr, with request ids, as JSON lines or plain text."""
    handler = logging.StreamHandler()
    handler.addFilter(RequestIdFilter())
    if json_lines:
        handler.setFormatter(JsonFormatter())
    else:
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s"))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
