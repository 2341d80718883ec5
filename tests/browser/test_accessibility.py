"""In a real browser: every main page passes axe-core, loads without console errors, labels every input;
and a coordinator records a visit with the keyboard alone.

Pages are visited by a role that may see them, at the phone and the desktop size. Each test gathers every
page's findings before asserting, so one failing run lists all that is wrong, not just the first page.
"""

from __future__ import annotations

import re
import time
from datetime import date, timedelta
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from inventory.projections import recall_queries
from inventory.projections.alerts import open_alerts
from inventory.projections.order_queries import order_page
from inventory.projections.transfer_queries import transfer_page
from tests.browser.conftest import ADMIN, AUDITOR, COORDINATOR, Live, Screen
from tests.browser.test_stock_flows import PURCHASING, sign_in

# Inputs, selects and text areas a person can reach that have no label: none should be listed.
UNLABELLED = """() => Array.from(document.querySelectorAll('input, select, textarea'))
  .filter(el => el.type !== 'hidden')
  .filter(el => !(el.labels && el.labels.length) && !el.getAttribute('aria-label')
                && !(el.getAttribute('aria-labelledby') || '').split(' ').some(id => id && document.getElementById(id)))
  .map(el => el.id || el.name || el.outerHTML.slice(0, 80))"""

PAGES: dict[str, list[tuple[str, str, str]]] = {
    # who: [(what, path, its heading)]
    COORDINATOR: [
        ("dashboard", "/", "Dashboard"),
        ("visit", "/sites/VAN-1/encounters/new", "Record a visit"),
        ("shift-tally", "/sites/VAN-1/tally", "Record a shift tally"),
        ("transfers", "/transfers", "Transfers"),
        ("new-transfer", "/sites/VAN-1/transfers/new", "Send stock"),
        ("count", "/sites/VAN-1/count", "Count stock"),
        ("adjust", "/sites/VAN-1/adjust", "Adjust stock"),
        ("stock", "/stock", "Stock"),
        ("site-stock", "/sites/VAN-1/stock", "Stock at VAN-1"),
        ("stock-card", "/sites/VAN-1/stock/NALOX-4MG", "Stock card"),
        ("account", "/account", "Your account"),
    ],
    PURCHASING: [
        ("receive-choose", "/receive", "Receive stock"),
        ("receive", "/sites/WH/receive", "Receive stock"),
    ],
    AUDITOR: [
        ("audit", "/audit", ""),
        ("stock-at", "/audit/stock-at", ""),
        ("stock-at-answer", "/audit/stock-at?as_of={week_ago}&site=VAN-1", ""),
        ("seal", "/audit/seal", ""),
    ],
    ADMIN: [
        ("admin", "/admin", ""),
        ("admin-users", "/admin/users", ""),
        ("admin-user", f"/admin/users/{COORDINATOR}", ""),
        ("admin-levels", "/admin/levels", ""),
    ],
}


def check_page(screen: Screen, what: str, path: str, heading: str) -> dict[str, Any]:
    """What is wrong on one page: its status, axe's serious/critical findings, console errors, unlabelled inputs."""
    seen = len(screen.console_errors)
    path = path.format(week_ago=(date.today() - timedelta(days=7)).isoformat())
    response = screen.page.goto(screen.base + path)
    found: dict[str, Any] = {}
    if response is None or response.status != 200:
        found["status"] = response.status if response else None
    if heading:
        expect(screen.page.get_by_role("heading", level=1)).to_have_text(heading)
    if screen.viewport == "phone":  # for people to look at the narrow layout; the desktop adds little
        screen.shot(what)
    unlabelled = screen.page.evaluate(UNLABELLED)
    if unlabelled:
        found["unlabelled"] = unlabelled
    violations = screen.axe()
    if violations:
        found["axe"] = violations
    if screen.console_errors[seen:]:
        found["console"] = screen.console_errors[seen:]
    return found


@pytest.mark.parametrize("who", list(PAGES))
def test_main_pages_pass_axe_label_every_input_and_log_no_errors(screen: Screen, who: str) -> None:
    sign_in(screen, who)
    problems = {what: found for what, path, heading in PAGES[who] if (found := check_page(screen, what, path, heading))}
    assert problems == {}


def tab_to(page: Page, selector: str, limit: int = 60, backwards: bool = False) -> None:
    """Press Tab (or Shift+Tab) until the element matching `selector` has the focus."""
    for _ in range(limit):
        if page.evaluate("s => !!document.activeElement && document.activeElement.matches(s)", selector):
            return
        page.keyboard.press("Shift+Tab" if backwards else "Tab")
    raise AssertionError(f"{selector} was not reached with {'Shift+' if backwards else ''}Tab in {limit} presses")


def test_a_coordinator_records_a_visit_with_the_keyboard_alone(screen: Screen) -> None:
    page = screen.go("/sign-in")
    tab_to(page, "input[name=email]")
    page.keyboard.type(COORDINATOR)
    page.keyboard.press("Tab")
    page.keyboard.type("demo-password")
    page.keyboard.press("Enter")
    page.wait_for_url(screen.base + "/")
    expect(page.get_by_role("heading", name="Dashboard")).to_be_visible()

    page = screen.go("/sites/VAN-1/encounters/new")
    pick = page.get_by_role("button", name="2 naloxone kits + 10 syringes")
    tab_to(page, "button[data-fill]")  # the first quick pick
    # Forward to the last field of the form, then back to the quick pick: both directions reach it.
    tab_to(page, ".record-bar button[type=submit]")
    tab_to(page, "button[data-label='2 naloxone kits + 10 syringes']", backwards=True)
    expect(pick).to_be_focused()
    # The focus is shown: a visible outline or ring (Pico draws a box-shadow).
    assert page.evaluate(
        """() => { const s = getComputedStyle(document.activeElement);
                   return (s.outlineStyle !== 'none' && parseFloat(s.outlineWidth) > 0) || s.boxShadow !== 'none'; }"""
    )
    page.keyboard.press("Space")
    expect(page.locator("#fill-status")).to_contain_text("Filled in: 2 naloxone kits + 10 syringes")
    filled = page.locator("input[data-item]").evaluate_all("inputs => inputs.map(i => parseInt(i.value || '0', 10))")
    assert sorted(v for v in filled if v) == [2, 10]
    # The quick pick hands the focus to Record visit: Enter records.
    expect(page.locator(".record-bar button[type=submit]")).to_be_focused()
    screen.shot("keyboard-filled")
    page.keyboard.press("Enter")
    expect(page.locator(".flash-success")).to_contain_text("Visit recorded")
    screen.shot("keyboard-recorded")
    assert screen.console_errors == []


# Routes that answer something other than a page (files, JSON, health checks, the service worker).
NOT_PAGES = {
    "admin.import_template": "a workbook to download",
    "exports.download": "a workbook to download",
    "recalls.workbook": "a workbook to download",
    "exports.job_progress": "the progress of an export, as JSON",
    "health.healthz": "a health check for the machine watching the service",
    "health.readyz": "a readiness check for the machine watching the service",
    "offline.manifest": "the web app manifest (JSON)",
    "offline.service_worker": "the service worker (JavaScript)",
    "auth.sign_in": "checked by the sign-in tests, signed out",
}


def every_page(live: Live) -> dict[str, str]:
    """A path for every page route, its ids taken from the demo as the admin sees it."""
    store, app = live.services.store, live.services.app
    in_transit = transfer_page(store, sites=None, statuses=("in_transit",)).rows
    if not in_transit:  # the demo may have booked every transfer in; send one to have a transfer to show
        app.dispatch_transfer(from_site="WH", to_site="VAN-1", lines=[{"sku": "SYR-1ML", "quantity": 1}], actor=ADMIN)
        for _ in range(100):  # the server's projector picks it up
            if in_transit := transfer_page(store, sites=None, statuses=("in_transit",)).rows:
                break
            time.sleep(0.1)
    [(visit,)] = store.fetchall("SELECT id FROM encounters WHERE voided IS NULL ORDER BY position DESC LIMIT 1")
    # The demo's opening stock: a receipt no other test voids, and not one against an order (changed another way).
    [(receipt,)] = store.fetchall("SELECT MIN(position) FROM stock_movements WHERE kind = 'received'")
    order = order_page(store, statuses=("submitted", "partly_received"), sites=None).rows[0]
    alert = open_alerts(store)[0]
    recall = recall_queries.recalls(store)[0]  # the demo's recall, on its last evening
    [(lot,)] = store.fetchall("SELECT MIN(lot) FROM stock_movements WHERE sku = 'NALOX-4MG' AND kind = 'received'")
    values = {
        "code": "SOR", "sku": "NALOX-4MG", "site": "VAN-1", "email": COORDINATOR, "alert_id": alert["id"],
        "order_id": order["id"], "transfer_id": in_transit[0]["id"], "visit_id": visit, "position": str(receipt),
        "partner": "SHELTER-1", "recall": recall["id"], "lot": lot,
    }  # fmt: skip
    special = {
        "admin.set_level": {**values, "code": "VAN-1"},  # /admin/levels/<code>/<sku>: a site's code, not a fund's
        "vending.import_dispenses": {**values, "site": "VEND-1"},  # the demo's vending machine
        "kits.recipe": {**values, "sku": "KIT-OR"},  # the demo's kit
        "kits.site_kits": {**values, "site": "FIX-DT"},  # where the demo makes kits
    }
    return {
        rule.endpoint: re.sub(
            r"<(?:\w+:)?(\w+)>",
            lambda found, rule=rule: special.get(rule.endpoint, values)[found.group(1)],
            rule.rule,
        )
        for rule in page_routes(live)
        if rule.endpoint not in NOT_PAGES and rule.endpoint != "exports.job"
    }


def page_routes(live: Live) -> list[Any]:
    """The app's GET routes that are not the API's or static files."""
    return [
        rule
        for rule in live.app.url_map.iter_rules()
        if "GET" in (rule.methods or ()) and not rule.rule.startswith(("/api/", "/static/"))
    ]


def test_every_page_passes_axe_and_none_is_left_out(screen: Screen, live: Live) -> None:
    """Every page route the app has, as the admin sees it with the demo's data, at both sizes: axe finds
    nothing serious, nothing is unlabelled, the console stays quiet. A route added later is in this sweep
    by itself (or must say above why it is not a page)."""
    sign_in(screen, ADMIN)
    paths = every_page(live)
    problems = {
        endpoint: found for endpoint, path in sorted(paths.items()) if (found := check_page(screen, endpoint, path, ""))
    }
    # An export's page, reached as a grant manager does: ask for the report, then watch it being made.
    screen.go("/exports")
    screen.page.get_by_role("button", name=re.compile("grant report", re.I)).first.click()
    screen.page.wait_for_url(re.compile(r"/exports/jobs/"))
    job = screen.page.url.removeprefix(screen.base)
    if found := check_page(screen, "exports.job", job, ""):
        problems["exports.job"] = found
    assert problems == {}
    assert {rule.endpoint for rule in page_routes(live)} == {*paths, *NOT_PAGES, "exports.job"}
