"""In a real browser, on a phone (360 px) and a desk: a visit for someone collecting for others in two taps
from a quick pick; a partner organisation's account signs in and sees only its own page and report form."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from playwright.sync_api import expect

from inventory.application.demo import DEMO_PASSWORD, PARTNER_ACCOUNT
from inventory.projections import reach_queries
from tests.browser.conftest import COORDINATOR, Live, Screen


def reached(live: Live) -> tuple[int, int]:
    """Visits collecting for others and the people they reach, over the last ten years, from the read model."""
    live.services.projector.catch_up()
    today = live.services.app.business_day(datetime.now(UTC))
    rows = reach_queries.contacts_by_channel(live.services.store, today - timedelta(days=3650), today)
    return sum(r["collecting_for_others"] for r in rows), sum(r["people_reached"] for r in rows)


def test_a_visit_collecting_for_three_others_takes_two_taps(screen: Screen, live: Live) -> None:
    screen.sign_in(COORDINATOR)
    collecting, people = reached(live)
    page = screen.go("/sites/VAN-1/encounters/new")
    page.get_by_role("button", name="4 naloxone kits, collecting for 3 others").click()  # tap 1
    expect(page.locator("input#for_others")).to_have_value("3")
    expect(page.get_by_label("Recipient", exact=True)).to_have_value("person_who_uses_drugs")
    screen.shot("collecting-for-others-filled")
    page.get_by_role("button", name="Record visit", exact=True).last.click()  # tap 2
    expect(page.locator(".flash-success")).to_contain_text("collecting for 3 others")
    screen.shot("collecting-for-others-recorded")
    assert reached(live) == (collecting + 1, people + 3)
    assert screen.axe() == []
    assert screen.console_errors == []


def test_a_partner_account_sees_only_its_own_report_form(screen: Screen) -> None:
    page = screen.go("/sign-in")
    page.get_by_label("Email").fill(PARTNER_ACCOUNT)
    page.get_by_label("Password").fill(DEMO_PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(screen.base + "/partners/SHELTER-1")
    expect(page.get_by_role("heading", name="Harbour Shelter", level=1)).to_be_visible()
    expect(page.get_by_role("heading", name="Report back")).to_be_visible()
    # Its menu holds its account and signing out, nothing of the program's.
    menu = page.locator("nav details.menu ul a")
    assert [(text or "").strip() for text in menu.evaluate_all("links => links.map(a => a.textContent)")] == ["Account"]
    assert page.get_by_text("Issue supplies").count() == 0
    screen.shot("partner-page")
    assert screen.axe() == []

    page.get_by_role("spinbutton", name="Naloxone kits handed out onward").fill("17")
    page.get_by_role("spinbutton", name="Overdose reversals you heard of").fill("2")
    page.get_by_role("button", name="Send the report").click()
    expect(page.locator(".flash-success")).to_contain_text("Report for Harbour Shelter recorded")
    expect(page.locator("table")).to_contain_text("17")
    screen.shot("partner-reported")
    for elsewhere in ("/", "/stock", "/partners", "/partners/CLINIC-2", "/sites/VAN-1/encounters/new"):
        response = page.goto(screen.base + elsewhere)
        assert response is not None
        if elsewhere == "/":
            assert page.url == screen.base + "/partners/SHELTER-1"
        else:
            assert response.status in (403, 404), elsewhere
    assert [e for e in screen.console_errors if "403" not in e and "404" not in e] == []
