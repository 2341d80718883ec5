"""Test-only gunicorn settings (`gunicorn -c` this file): every answer names the worker process that
gave it, in an X-Test-Worker header, so the multi-process test can tell the workers apart.

The header is added around the WSGI app here, after gunicorn has loaded it in the worker, so the
service itself has no such header or field: a pid stays out of answers in production.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable
from typing import Any


def post_worker_init(worker: Any) -> None:
    app = worker.wsgi

    def naming_the_worker(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        def start(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
            return start_response(status, [*headers, ("X-Test-Worker", str(os.getpid()))], exc_info)

        result: Iterable[bytes] = app(environ, start)
        return result

    worker.wsgi = naming_the_worker
