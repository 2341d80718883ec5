"""In a real browser: sign in, the dashboard with its chart, accessibility, the keyboard alone."""

from __future__ import annotations

from playwright.sync_api import expect

from tests.browser.conftest import ADMIN, AUDITOR, COORDINATOR, Screen

PURCHASING = "purchasing@demo.example.org"
GRANTS = "grants@demo.example.org"


def test_sign_in_shows_the_dashboard_with_a_chart(screen: Screen) -> None:
    screen.go("/")
    screen.shot("sign-in")
    assert screen.axe() == []
    screen.sign_in(COORDINATOR)
    page = screen.page
    expect(page.get_by_role("heading", name="Dashboard")).to_be_visible()
    expect(page.locator("table.stock-status tbody tr").first).to_be_visible()
    # One chart per category, each drawn from its embedded figures: Chart.js sized every canvas.
    charts = page.locator("article.weekly canvas")
    assert charts.count() >= 3  # naloxone kits, syringes, test strips: never stacked on one another
    assert all(charts.nth(n).evaluate("c => c.width > 0 && c.height > 0") for n in range(charts.count()))
    expect(page.locator("#weekly-naloxone-heading")).to_contain_text("Naloxone (kits)")
    # A coordinator sees only their own site.
    sites = set(page.locator("table.stock-status tbody tr").evaluate_all("rows => rows.map(r => r.dataset.site)"))
    assert sites == {"VAN-1"}
    screen.shot("dashboard")
    assert screen.axe() == []
    assert screen.console_errors == []  # nothing refused by the CSP, no script errors


def test_wrong_password_says_so_next_to_the_form(screen: Screen) -> None:
    screen.go("/sign-in")
    screen.page.get_by_label("Email").fill(ADMIN)
    screen.page.get_by_label("Password").fill("not-the-password")
    screen.page.get_by_role("button", name="Sign in").click()
    expect(screen.page.get_by_role("alert")).to_contain_text("do not match")
    expect(screen.page.get_by_label("Email")).to_have_value(ADMIN)
    screen.shot("sign-in-refused")


def test_sign_in_with_the_keyboard_alone(screen: Screen) -> None:
    page = screen.go("/sign-in")
    page.keyboard.press("Tab")  # the skip link comes first
    expect(page.locator(".skip-link")).to_be_focused()
    page.get_by_label("Email").focus()
    page.keyboard.type(ADMIN)
    page.keyboard.press("Tab")
    expect(page.get_by_label("Password")).to_be_focused()
    page.keyboard.type("demo-password")
    page.keyboard.press("Enter")
    page.wait_for_url(screen.base + "/")
    expect(page.get_by_role("heading", name="Dashboard")).to_be_visible()
    # The menu opens and its links are reachable with the keyboard.
    page.locator("details.menu summary").focus()
    page.keyboard.press("Enter")
    page.keyboard.press("Tab")
    focused = page.evaluate("document.activeElement.textContent.trim()")
    assert focused == "Dashboard"


def test_every_role_finds_something_to_act_on_at_the_top_of_its_home_page(screen: Screen) -> None:
    """The demo leaves each role something true to do: the van's out of strips, purchasing's draft order,
    the auditor's corrections to look over, the grant manager's alerts and report."""
    for email, kinds in (
        (COORDINATOR, {"alerts"}),
        (PURCHASING, {"alerts", "orders"}),
        (GRANTS, {"alerts"}),
        (AUDITOR, {"alerts", "corrections"}),
        (ADMIN, {"alerts", "orders", "corrections"}),
    ):
        screen.page.context.clear_cookies()
        screen.sign_in(email)
        section = screen.page.get_by_role("region", name="Needs your attention")
        expect(section).to_be_visible()
        shown = set(section.locator("li[data-attention]").evaluate_all("items => items.map(i => i.dataset.attention)"))
        assert kinds <= shown, (email, shown)
        # Each item links to where it is dealt with, and that page opens.
        first = section.locator("li[data-attention] a").first
        href = first.get_attribute("href")
        assert href and screen.page.request.get(screen.base + href).status == 200, (email, href)
        screen.shot(email.split("@")[0] + "-home")
    assert screen.axe() == []
    assert screen.console_errors == []
