"""Record a visit without a network: the service worker that keeps the encounter page on the device, and the
web app manifest that lets a phone put the service on its home screen like an app."""

from __future__ import annotations

import json
from pathlib import Path

from flask import Blueprint, Response, current_app, url_for

bp = Blueprint("offline", __name__)


@bp.get("/sw.js")
def service_worker() -> Response:
    """The service worker, served from the site's root so that it may look after every page's requests.

    Public like the other scripts: it holds no data. The browser checks it for a new version on every visit.
    """
    assert current_app.static_folder is not None
    script = (Path(current_app.static_folder) / "js" / "sw.js").read_text(encoding="utf-8")
    return Response(script, mimetype="text/javascript", headers={"Cache-Control": "no-cache"})


THEME = "#1565c0"


@bp.get("/manifest.webmanifest")
def manifest() -> Response:
    """What "Add to home screen" needs: a name, the start page, the icons and colours. Public, holds no data."""
    icons = [
        {"src": url_for("static", filename=f"icons/{kind}-{size}.png"), "sizes": f"{size}x{size}",
         "type": "image/png", "purpose": purpose}
        for kind, purpose in (("icon", "any"), ("maskable", "maskable"))
        for size in (192, 512)
    ]  # fmt: skip
    body = {
        "name": "Supply inventory",
        "short_name": "Supplies",
        "description": "Record visits, deliveries, transfers and counts; see stock and alerts.",
        "start_url": url_for("dashboard.home"),
        "scope": "/",
        "display": "standalone",
        "background_color": "#ffffff",
        "theme_color": THEME,
        "icons": icons,
    }
    return Response(json.dumps(body), mimetype="application/manifest+json", headers={"Cache-Control": "no-cache"})
