"""The Flask application factory."""

from __future__ import annotations

from typing import Any

from flask import Flask, render_template_string

from inventory.domain.errors import InventoryError
from inventory.projections import queries
from inventory.services import build_services
from inventory.settings import load_settings
from inventory.web.api import register_api
from inventory.web.errors import domain_error, unexpected_error
from inventory.web.services import services

_HOME = """<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Supply inventory</title></head>
<body>
<main>
<h1>Supply inventory</h1>
<p>Running on {{ backend }}. The event log holds {{ head }} events; the read models are at {{ position }}.</p>
<table>
<caption>Stock by site and item</caption>
<thead><tr><th scope="col">Site</th><th scope="col">Item</th><th scope="col">On hand</th>
<th scope="col">In transit</th><th scope="col">Reorder at</th><th scope="col">Par</th></tr></thead>
<tbody>
{% for row in levels %}<tr><td>{{ row.site }}</td><td>{{ row.sku }}</td><td>{{ row.on_hand }}</td>
<td>{{ row.in_transit }}</td><td>{{ row.reorder_point if row.reorder_point is not none else "" }}</td>
<td>{{ row.par_level if row.par_level is not none else "" }}</td></tr>
{% endfor %}</tbody></table>
</main>
</body></html>"""


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

    @app.get("/")
    def home() -> str:
        found = services()
        backend = "PostgreSQL" if "postgres" in settings.database_url else "SQLite"
        status = found.projector.status()
        return render_template_string(
            _HOME,
            backend=backend,
            head=found.projector.head(),
            position=min((s.position for s in status), default=0),
            levels=queries.stock_levels(found.store),
        )

    @app.get("/healthz")
    def healthz() -> dict[str, str]:
        return {"status": "ok"}

    register_api(app)
    app.register_error_handler(InventoryError, domain_error)
    app.register_error_handler(Exception, unexpected_error)
    return app
