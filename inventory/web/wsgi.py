"""The production entry point for gunicorn: `gunicorn 'inventory.web.wsgi:app'` (see the README).

A web worker built here never creates tables or schedules jobs: run `inventory init` once, and one
`inventory worker` for the read models, alerts and deliveries.
"""

from __future__ import annotations

import os

from inventory.adapters.logs import configure_logging
from inventory.web import create_app

configure_logging(json_lines=os.environ.get("INVENTORY_LOG_FORMAT", "json") == "json")
app = create_app(web_only=True)
