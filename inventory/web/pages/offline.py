"""Record a visit without a network: the service worker that keeps the encounter page on the device."""

from __future__ import annotations

from pathlib import Path

from flask import Blueprint, Response, current_app

bp = Blueprint("offline", __name__)


@bp.get("/sw.js")
def service_worker() -> Response:
    """The service worker, served from the site's root so that it may look after every page's requests.

    Public like the other scripts: it holds no data. The browser checks it for a new version on every visit.
    """
    assert current_app.static_folder is not None
    script = (Path(current_app.static_folder) / "js" / "sw.js").read_text(encoding="utf-8")
    return Response(script, mimetype="text/javascript", headers={"Cache-Control": "no-cache"})
