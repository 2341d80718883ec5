"""In a real browser, as a coordinator on a phone or a desk: record a visit with a quick pick, see stock fall."""

from __future__ import annotations

from playwright.sync_api import expect

from tests.browser.conftest import COORDINATOR, Screen


def dashboard_on_hand(screen: Screen, site: str) -> dict[str, int]:
    """On hand per item at a site, as the dashboard shows it."""
    page = screen.go(f"/?site={site}")
    rows = page.locator("table.stock-status tbody tr[data-sku]")
    return {
        row.get_attribute("data-sku") or "": int(row.locator("td.on-hand").inner_text().replace(",", ""))
        for row in rows.all()
    }


def test_a_quick_pick_records_a_visit_in_two_taps_and_the_dashboard_shows_the_stock_fall(screen: Screen) -> None:
    screen.sign_in(COORDINATOR)
    before = dashboard_on_hand(screen, "VAN-1")
    page = screen.go("/encounters")  # one site: straight to its form
    expect(page.get_by_role("heading", name="Record a visit")).to_be_visible()
    screen.shot("visit-form")
    assert screen.axe() == []

    page.get_by_role("button", name="2 naloxone kits + 10 syringes").click()  # tap 1
    filled = page.locator("input[data-item]").evaluate_all(
        "inputs => Object.fromEntries(inputs.map(i => [i.id, parseInt(i.value || '0', 10)]))"
    )
    assert sorted(v for v in filled.values() if v) == [2, 10]
    screen.shot("visit-filled")
    page.get_by_role("button", name="Record visit", exact=True).last.click()  # tap 2
    expect(page.locator(".flash-success")).to_contain_text("Visit recorded")
    screen.shot("visit-recorded")

    after = dashboard_on_hand(screen, "VAN-1")
    assert before["NALOX-4MG"] - after["NALOX-4MG"] == 2
    assert before["SYR-1ML"] - after["SYR-1ML"] == 10
    assert {sku: n for sku, n in after.items() if sku not in ("NALOX-4MG", "SYR-1ML")} == {
        sku: n for sku, n in before.items() if sku not in ("NALOX-4MG", "SYR-1ML")
    }
    screen.shot("dashboard-after-visit")
    assert screen.console_errors == []


def test_a_double_tap_on_record_visit_records_one_visit(screen: Screen) -> None:
    screen.sign_in(COORDINATOR)
    before = dashboard_on_hand(screen, "VAN-1")
    page = screen.go("/sites/VAN-1/encounters/new")
    page.get_by_role("button", name="1 naloxone kit").click()
    record = page.locator(".record-bar button[type=submit]")
    record.dblclick()
    expect(page.locator(".flash-success")).to_contain_text("Visit recorded")
    after = dashboard_on_hand(screen, "VAN-1")
    assert before["NALOX-4MG"] - after["NALOX-4MG"] == 1


def test_a_refused_visit_shows_what_to_fix_in_view_above_the_record_bar(screen: Screen) -> None:
    """On a phone the Record visit bar sticks to the bottom of the screen: the refusal beside its field is
    scrolled clear of it, not left under it or below the fold."""
    screen.sign_in(COORDINATOR)
    before = dashboard_on_hand(screen, "VAN-1")
    page = screen.go("/sites/VAN-1/encounters/new")
    page.locator("input[name='qty_SYR-1ML']").fill("9999999")
    page.get_by_role("button", name="Record visit", exact=True).last.click()
    refusal = page.locator("#qty_SYR-1ML-error")
    expect(refusal).to_contain_text("syringes of SYR-1ML left at VAN-1")
    expect(refusal).to_be_in_viewport()
    shown = refusal.bounding_box()
    bar = page.locator(".record-bar").bounding_box()
    assert shown is not None and bar is not None
    assert shown["y"] >= 0 and shown["y"] + shown["height"] <= bar["y"], (shown, bar)
    screen.shot("refused-in-view")
    assert dashboard_on_hand(screen, "VAN-1") == before  # nothing recorded
