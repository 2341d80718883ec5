"""The Flask application factory."""

from __future__ import annotations

from typing import Any

from flask import Flask, current_app, render_template_string

from inventory.application import InventoryApplication
from inventory.settings import load_settings

_HOME = """<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Supply inventory</title></head>
<body>
<main>
<h1>Supply inventory</h1>
<p>The service is running on {{ backend }}. The event log holds {{ head }} events.</p>
</main>
</body></html>"""


def create_app(test_config: dict[str, Any] | None = None) -> Flask:
    """Build the web application around one InventoryApplication."""
    app = Flask(__name__, instance_relative_config=False)
    overrides = {k: str(v) for k, v in (test_config or {}).items() if k.startswith("INVENTORY_")}
    settings = load_settings(overrides)
    app.config.from_mapping(SECRET_KEY=settings.secret_key, INVENTORY_SETTINGS=settings)
    if test_config:
        app.config.update(test_config)
    app.extensions["inventory"] = InventoryApplication(settings.database_url, timezone_name=settings.timezone)

    @app.get("/")
    def home() -> str:
        inventory = inventory_app()
        backend = "PostgreSQL" if "postgres" in settings.database_url else "SQLite"
        return render_template_string(_HOME, backend=backend, head=inventory.recorder.max_notification_id() or 0)

    @app.get("/healthz")
    def healthz() -> dict[str, str]:
        return {"status": "ok"}

    return app


def inventory_app() -> InventoryApplication:
    """The InventoryApplication of the current Flask app."""
    application = current_app.extensions["inventory"]
    assert isinstance(application, InventoryApplication)
    return application
