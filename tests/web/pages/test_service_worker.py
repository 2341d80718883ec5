"""The service worker that keeps Record a visit on the device: served from the site's root to anyone."""

from __future__ import annotations

import re
import struct
from pathlib import Path

from flask import Flask


def test_the_service_worker_is_served_from_the_root_as_a_script_checked_on_every_visit(flask_app: Flask) -> None:
    response = flask_app.test_client().get("/sw.js")
    assert response.status_code == 200
    assert response.mimetype == "text/javascript"
    assert response.headers["Cache-Control"] == "no-cache"
    body = response.get_data(as_text=True)
    assert 'importScripts("/static/js/offline-queue.js")' in body
    # Every script and style it keeps on the device exists (a missing one would fail its install).
    kept = set(re.findall(r'"/static/([^"\\]+)"', body))
    assert {"js/offline-queue.js", "js/encounters.js", "js/app.js", "css/encounters.css"} <= kept
    assert flask_app.static_folder is not None
    assert [path for path in kept if not (Path(flask_app.static_folder) / path).is_file()] == []


def test_the_manifest_lets_a_phone_add_the_service_to_its_home_screen(flask_app: Flask) -> None:
    """Public like the icons it names; each icon it names is served, at the size it says."""
    client = flask_app.test_client()
    answer = client.get("/manifest.webmanifest")
    assert answer.status_code == 200 and answer.mimetype == "application/manifest+json"
    manifest = answer.get_json(force=True)
    assert manifest["start_url"] == "/" and manifest["display"] == "standalone" and manifest["name"]
    assert {icon["purpose"] for icon in manifest["icons"]} == {"any", "maskable"}
    for icon in manifest["icons"]:
        image = client.get(icon["src"])
        assert image.status_code == 200 and image.mimetype == "image/png", icon
        width, height = struct.unpack(">II", image.data[16:24])  # the PNG header's IHDR
        assert f"{width}x{height}" == icon["sizes"], icon
        image.close()
    page = client.get("/sign-in").get_data(as_text=True)
    assert '<link rel="manifest" href="/manifest.webmanifest">' in page
