"""In a real browser: every main page passes axe-core, loads without console errors, labels every input;
and a coordinator records a visit with the keyboard alone.

Pages are visited by a role that may see them, at the phone and the desktop size. Each test gathers every
page's findings before asserting, so one failing run lists all that is wrong, not just the first page.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from tests.browser.conftest import ADMIN, AUDITOR, COORDINATOR, Screen
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
