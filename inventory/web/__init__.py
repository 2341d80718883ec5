"""The Flask application factory."""

from __future__ import annotations

import threading
from typing import Any

from flask import Flask, Response, request

from inventory.adapters.settings import load_settings
from inventory.bootstrap import build_services, create_schema, missing_schema
from inventory.domain.errors import InventoryError
from inventory.web.api import register_api
from inventory.web.errors import DATABASE_UNAVAILABLE, database_unavailable, domain_error, unavailable, unexpected_error
from inventory.web.figures import register_figures_checks
from inventory.web.health import register_health
from inventory.web.logs import request_ids
from inventory.web.pages import register_pages
from inventory.web.requests import register_request_checks
from inventory.web.security import secure
from inventory.web.services import services

__all__ = ["create_app", "services"]


def create_app(test_config: dict[str, Any] | None = None, *, web_only: bool = False) -> Flask:
    """Build the web application around one set of services (application, read store, projector).

    `web_only` is for production web workers (`inventory.web.wsgi`): they never create tables (that
    is `inventory init`'s job) and answer 503 until the tables are there. Otherwise (the development
    server, the CLI, tests) the tables are created on the first request.
    """
    app = Flask(__name__, instance_relative_config=False)
    overrides = {k: str(v) for k, v in (test_config or {}).items() if k.startswith("INVENTORY_")}
    settings = load_settings(overrides)
    app.config.from_mapping(SECRET_KEY=settings.secret_key, INVENTORY_SETTINGS=settings)
    if test_config:
        app.config.update(test_config)
    app.extensions["inventory"] = build_services(settings, create_tables=not web_only)
    schema_ready = threading.Event()

    @app.before_request
    def tables_exist() -> Response | tuple[str, int] | None:
        """Pages and the API read the read models: their tables must exist (on a fresh install GET
        /api/v1/sites once answered 500, "no such table")."""
        if schema_ready.is_set() or request.endpoint in ("static", "health.healthz", "health.readyz"):
            return None
        if not web_only:
            create_schema(services())
        elif problem := missing_schema(services()):
            return unavailable("not_initialised", problem, retry_after=30)
        schema_ready.set()
        return None

    register_health(app)
    request_ids(app)
    register_request_checks(app)
    register_figures_checks(app)

    secure(app, settings)
    register_pages(app)
    register_api(app)
    app.register_error_handler(InventoryError, domain_error)
    for error in DATABASE_UNAVAILABLE:
        app.register_error_handler(error, database_unavailable)
    app.register_error_handler(Exception, unexpected_error)
    return app
