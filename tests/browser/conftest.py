"""Browser tests: the real app on a real SQLite file, served over HTTP, driven by Debian's Chromium.

One server for the session, loaded with three weeks of the demo program (the pages then look as
they would for a real program). Tests compare figures before and after what they do, so they do
not depend on each other's order. Screenshots go to test-output/screenshots/ for people to look at.
"""

from __future__ import annotations

import os
import shutil
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import time_machine
from flask import Flask
from playwright.sync_api import Browser, BrowserContext, Page, Playwright, sync_playwright
from werkzeug.serving import make_server

from inventory.application.demo import DEMO_PASSWORD, seed_demo
from inventory.bootstrap import Services
from inventory.web import create_app

ROOT = Path(__file__).resolve().parents[2]
SCREENSHOTS = ROOT / "test-output" / "screenshots"
AXE = ROOT / "inventory" / "web" / "static" / "vendor" / "axe-core" / "axe.min.js"
VIEWPORTS = {"phone": {"width": 360, "height": 740}, "desktop": {"width": 1280, "height": 900}}
ADMIN = "admin@demo.example.org"
COORDINATOR = "van@demo.example.org"  # works at VAN-1 only
AUDITOR = "auditor@demo.example.org"


def chromium_path() -> str | None:
    wanted = os.environ.get("INVENTORY_TEST_CHROMIUM") or "/usr/bin/chromium"
    return wanted if Path(wanted).exists() else shutil.which("chromium")


pytestmark = pytest.mark.browser


@dataclass
class Live:
    """The running server: its address, and the services behind it (to arrange and to check)."""

    url: str
    services: Services
    app: Flask


@pytest.fixture(scope="session")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Live]:
    """The app on http://127.0.0.1:<port>, with three weeks of the demo program and its read models.

    The van gets a delivery of its own on top, so that tests at both viewports have stock to hand out.
    """
    folder = tmp_path_factory.mktemp("browser")
    app = create_app(
        {
            "INVENTORY_DATABASE_URL": f"sqlite:///{folder / 'events.db'}",
            "INVENTORY_INSTANCE_PATH": str(folder),
            "INVENTORY_ENV": "development",  # plain HTTP, as `inventory serve`
            "INVENTORY_SECRET_KEY": "browser-tests",
        }
    )
    found = app.extensions["inventory"]
    found.projector.setup()
    seed_demo(found.app, days=21)
    for sku, lot, quantity, expiry, fund in (
        ("NALOX-4MG", "VANTEST-N", 200, date.today() + timedelta(days=500), "SOR"),
        ("SYR-1ML", "VANTEST-S", 2000, None, "STATE-HR"),
    ):
        found.app.receive_stock(
            site="VAN-1", sku=sku, lot=lot, quantity=quantity, expires_on=expiry, funding_source=fund, actor=ADMIN
        )
    found.projector.catch_up()
    stop = threading.Event()
    projector = threading.Thread(target=found.projector.run, args=(stop,), daemon=True)
    projector.start()
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield Live(f"http://127.0.0.1:{server.server_port}", found, app)
    finally:
        server.shutdown()
        stop.set()
        projector.join(timeout=10)
        found.close()


@pytest.fixture(scope="session")
def playwright_session() -> Iterator[Playwright]:
    with sync_playwright() as playwright:
        yield playwright


@pytest.fixture(scope="session")
def chromium(playwright_session: Playwright) -> Iterator[Browser]:
    path = chromium_path()
    if path is None:
        if os.environ.get("CI") == "true":
            pytest.fail("Chromium is not installed (/usr/bin/chromium): .ci/run installs Debian's chromium.")
        pytest.skip("Chromium is not installed; install Debian's chromium or set INVENTORY_TEST_CHROMIUM.")
    browser = playwright_session.chromium.launch(executable_path=path)
    opened = browser.new_context

    def new_context(*args: Any, **kwargs: Any) -> BrowserContext:
        """A context whose pages keep the suite's time: under a moved clock (--clock-at, a clock mark),
        the browser's Date starts at the same moment and runs on from there."""
        context = opened(*args, **kwargs)
        if time_machine.escape_hatch.is_travelling():
            now = datetime.now(UTC)
            if abs(now.timestamp() - time_machine.escape_hatch.time.time()) > 60:
                context.clock.install(time=now)
        return context

    setattr(browser, "new_context", new_context)  # noqa: B010 - a method of this one object
    yield browser
    browser.close()


@dataclass
class Screen:
    """A browser tab at one viewport, signed in as someone, that saves named screenshots."""

    page: Page
    base: str
    viewport: str
    test_name: str
    console_errors: list[str]

    def go(self, path: str) -> Page:
        self.page.goto(self.base + path)
        return self.page

    def shot(self, name: str) -> Path:
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        path = SCREENSHOTS / f"{self.test_name}-{self.viewport}-{name}.png"
        self.page.screenshot(path=str(path), full_page=True)
        return path

    def sign_in(self, email: str, password: str = DEMO_PASSWORD) -> None:
        self.go("/sign-in")
        self.page.get_by_label("Email").fill(email)
        self.page.get_by_label("Password").fill(password)
        self.page.get_by_role("button", name="Sign in").click()
        self.page.wait_for_url(self.base + "/")

    def axe(self) -> list[dict[str, Any]]:
        """Serious and critical accessibility violations on the current page (axe-core, vendored).

        axe is loaded from the app's own /static (allowed by the page's CSP), not injected inline.
        """
        self.page.add_script_tag(url=self.base + "/static/vendor/axe-core/axe.min.js")
        result = self.page.evaluate("async () => await axe.run(document, {resultTypes: ['violations']})")
        return [
            {"id": v["id"], "impact": v["impact"], "help": v["help"], "nodes": [n["target"] for n in v["nodes"][:5]]}
            for v in result["violations"]
            if v["impact"] in ("serious", "critical")
        ]


@pytest.fixture(params=list(VIEWPORTS))
def screen(request: pytest.FixtureRequest, chromium: Browser, live: Live) -> Iterator[Screen]:
    """A fresh browser context (no cookies) at the phone or the desktop viewport."""
    viewport = request.param
    phone = viewport == "phone"
    context = chromium.new_context(viewport=VIEWPORTS[viewport], is_mobile=phone, has_touch=phone)  # type: ignore[arg-type]
    page = context.new_page()
    errors: list[str] = []
    page.on("console", lambda message: errors.append(message.text) if message.type == "error" else None)
    page.on("pageerror", lambda error: errors.append(str(error)))
    name = request.node.originalname
    try:
        yield Screen(page, live.url, viewport, name, errors)
    finally:
        context.close()
