"""The Flask application factory."""

from __future__ import annotations

from typing import Any

from flask import Flask, request

from inventory.domain.errors import InventoryError
from inventory.services import build_services
from inventory.settings import load_settings
from inventory.web.api import register_api
from inventory.web.errors import domain_error, unexpected_error
from inventory.web.pages import register_pages
from inventory.web.security import secure
from inventory.web.services import services

__all__ = ["create_app", "services"]


def create_app(test_config: dict[str, Any] | None = None) -> Flask:
    """Build the web application around one set of services (application, read store, projector)."""
    app = Flask(__name__, instance_relative_config=False)
    overrides = {k: str(v) for k, v in (test_config or {}).items() if k.startswith("INVENTORY_")}
    settings = load_settings(overrides)
    app.config.from_mapping(SECRET_KEY=settings.secret_key, INVENTORY_SETTINGS=settings)
    if test_config:
        app.config.update(test_config)
    app.extensions["inventory"] = build_services(settings)

    @app.get("/healthz")
    def healthz() -> dict[str, str]:
        return {"status": "ok"}

    @app.before_request
    def read_models_exist() -> None:
        """Pages and the API read the read models: make sure their tables exist even before the
        projector first ran (on a fresh install GET /api/v1/sites answered 500, "no such table")."""
        if request.endpoint != "static":
            services().projector.setup()

    secure(app, settings)
    register_pages(app)
    register_api(app)
    app.register_error_handler(InventoryError, domain_error)
    app.register_error_handler(Exception, unexpected_error)
    return app
