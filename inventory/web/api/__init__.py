"""The public JSON API, v1: marshmallow schemas, an OpenAPI document, bearer tokens."""

from __future__ import annotations

from typing import Any

from flask import Flask, render_template_string, url_for
from flask_smorest import Api
from werkzeug.exceptions import HTTPException

from inventory import __version__
from inventory.web.api import audit, catalog, corrections, exports, kits, reach, recalls, stock, transfers
from inventory.web.api.schemas import ErrorResponse
from inventory.web.errors import http_error

_DOCS = """<!doctype html><html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1"><title>Supply inventory API v1</title>
<link rel="stylesheet" href="{{ url_for('static', filename='vendor/swagger-ui/swagger-ui.css') }}"></head>
<body><div id="swagger-ui" data-spec="{{ spec }}"></div>
<script src="{{ url_for('static', filename='vendor/swagger-ui/swagger-ui-bundle.js') }}"></script>
<script src="{{ url_for('static', filename='js/api-docs.js') }}"></script></body></html>"""


class InventoryApi(Api):
    """flask-smorest's Api, answering errors with the product's own envelope (pages get pages)."""

    # The `default` response in the OpenAPI document: every error answer is the same envelope.
    ERROR_SCHEMA = ErrorResponse

    def handle_http_exception(self, error: HTTPException) -> Any:
        return http_error(error)


def register_api(app: Flask) -> None:
    app.config.update(
        API_TITLE="Supply inventory",
        API_VERSION=f"v1 ({__version__})",
        OPENAPI_VERSION="3.0.3",
        OPENAPI_URL_PREFIX="/api/v1",
        OPENAPI_JSON_PATH="openapi.json",
        API_SPEC_OPTIONS={
            "info": {"description": "Sites are named by code and items by SKU. Send `Authorization: Bearer <token>`."},
            "components": {"securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}}},
            "security": [{"bearer": []}],
        },
    )
    api = InventoryApi(app)
    modules = (catalog, stock, corrections, transfers, reach, recalls, kits, audit, exports)
    for module in modules:
        api.register_blueprint(module.blp)

    @app.get("/api/v1/docs")
    def api_docs() -> str:
        return render_template_string(_DOCS, spec=url_for("api-docs.openapi_json"))
