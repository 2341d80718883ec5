"""In a real browser: receive a delivery, load the van and book it in there, count and adjust at the van.

The server is shared by every browser test, so each test reads the figures it checks before acting and
compares after; lot numbers are made unique per run so the two viewports never meet.
"""

from __future__ import annotations

import uuid
from datetime import date, timedelta
from typing import Any

from playwright.sync_api import Browser, Locator, Page, expect

from inventory.domain.time_words import day_in_words
from tests.browser.conftest import ADMIN, COORDINATOR, VIEWPORTS, Live, Screen

PURCHASING = "purchasing@demo.example.org"

# Session cookies by email: signing in costs a deliberately slow password hash, so each person signs in
# through the form once per test session and later browsers reuse the cookie (a sign-in is itself tested).
_COOKIES: dict[str, list[Any]] = {}


def sign_in(screen: Screen, email: str) -> None:
    """Signed in as `email` in this screen's browser: through the form the first time, then by its cookie."""
    context = screen.page.context
    if email in _COOKIES:
        context.add_cookies(_COOKIES[email])
        screen.go("/")
        if screen.page.url == screen.base + "/":
            return
        context.clear_cookies()  # the session ended: sign in again
    screen.sign_in(email)
    _COOKIES[email] = context.cookies()


def figure(text: str) -> int:
    """A quantity as a page prints it: '1,200', or with a true minus sign (U+2212) for a loss."""
    return int(text.strip().replace(",", "").replace("\u2212", "-"))


def on_hand(screen: Screen, site: str) -> dict[str, int]:
    """On hand per item at a site, as the site's stock page shows it."""
    page = screen.go(f"/sites/{site}/stock")
    return {
        section.get_attribute("data-sku") or "": figure(section.locator(".item-summary strong").inner_text())
        for section in page.locator("section.report-item[data-sku]").all()
    }


def lot_quantity(screen: Screen, site: str, sku: str, lot: str) -> int:
    """One lot's quantity on the site's stock page (0 when it is not listed)."""
    page = screen.go(f"/sites/{site}/stock")
    cell = page.locator(f"section[data-sku='{sku}'] tr[data-lot='{lot}'] td.quantity")
    return figure(cell.inner_text()) if cell.count() else 0


def dashboard_on_hand(screen: Screen, site: str) -> dict[str, int]:
    """On hand per item at a site, as the dashboard shows it."""
    page = screen.go(f"/?site={site}")
    return {
        row.get_attribute("data-sku") or "": figure(row.locator("td.on-hand").inner_text())
        for row in page.locator("table.stock-status tbody tr[data-sku]").all()
    }


def line_for(page: Page, item_name: str) -> Locator:
    """The fieldset of one item on the dispatch form (its legend is the item's name)."""
    return page.locator("fieldset.line").filter(has=page.locator("legend", has_text=item_name))


def test_purchasing_receives_a_lot_at_the_warehouse_and_stock_rises_by_it(screen: Screen) -> None:
    sign_in(screen, PURCHASING)
    before = on_hand(screen, "WH")
    before_dashboard = dashboard_on_hand(screen, "WH")
    lot = f"BT-{screen.viewport[:1].upper()}{uuid.uuid4().hex[:6].upper()}"
    expiry = date.today() + timedelta(days=400)

    page = screen.go("/receive")
    expect(page.get_by_role("button", name="Central warehouse (WH)")).to_be_visible()
    screen.shot("choose-site")
    page.get_by_role("button", name="Central warehouse (WH)").click()
    expect(page.get_by_role("heading", name="Receive stock")).to_be_visible()
    screen.shot("receive-form")
    page.get_by_label("Item").select_option("FTS")
    page.get_by_label("Quantity received").fill("250")
    page.get_by_label("Lot number").fill(lot)
    page.get_by_label("Expiry date").fill(expiry.isoformat())
    page.get_by_label("Funding source").select_option("SOR")
    if page.get_by_label("Purchase order").count():
        expect(page.get_by_label("Purchase order")).to_have_value("")  # straight into stock, no order
    page.get_by_role("button", name="Record this lot").click()
    expect(page.locator(".flash-success")).to_contain_text(f"Received 250 strips of Fentanyl test strip lot {lot}")
    # Ready for the next lot of the same delivery: the form is empty again.
    expect(page.get_by_label("Lot number")).to_have_value("")
    screen.shot("received")

    after = on_hand(screen, "WH")
    assert after["FTS"] - before["FTS"] == 250
    assert {k: v for k, v in after.items() if k != "FTS"} == {k: v for k, v in before.items() if k != "FTS"}
    row = screen.page.locator(f"section[data-sku='FTS'] tr[data-lot='{lot}']")
    expect(row.locator("td.quantity")).to_have_text("250")
    expect(row).to_contain_text(day_in_words(expiry))  # 400 days on: always shown with its year
    expect(row).to_contain_text("SOR")
    screen.shot("warehouse-stock")
    assert dashboard_on_hand(screen, "WH")["FTS"] - before_dashboard["FTS"] == 250
    assert screen.console_errors == []


def test_admin_loads_the_van_and_the_van_coordinator_books_it_in(screen: Screen, chromium: Browser, live: Live) -> None:
    sign_in(screen, ADMIN)
    wh_before = on_hand(screen, "WH")
    page = screen.go("/transfers")
    in_transit_before = set(
        page.locator("article.transfer-card").evaluate_all("cards => cards.map(c => c.dataset.transfer)")
    )
    screen.shot("transfers")

    page.get_by_role("button", name="From Central warehouse (WH)").click()
    expect(page.get_by_role("heading", name="Send stock")).to_be_visible()
    screen.shot("send-form")
    page.get_by_label("Send to").select_option("VAN-1")
    line_for(page, "Naloxone 4 mg nasal spray kit").get_by_label("Kits to send", exact=True).fill("6")
    line_for(page, "Fentanyl test strip").get_by_label("Strips to send", exact=True).fill("40")
    screen.shot("send-filled")
    page.get_by_role("button", name="Send from WH").click()
    sent = page.locator(".flash-success")
    expect(sent).to_contain_text("Sent from WH to VAN-1:")
    expect(sent).to_contain_text("6 kits of Naloxone 4 mg nasal spray kit")
    expect(sent).to_contain_text("40 strips of Fentanyl test strip")
    new_cards = [
        card
        for card in page.locator("article.transfer-card").all()
        if card.get_attribute("data-transfer") not in in_transit_before
    ]
    assert len(new_cards) == 1
    card = new_cards[0]
    transfer_id = card.get_attribute("data-transfer")
    expect(card).to_contain_text("WH → VAN-1")
    expect(card).to_contain_text("In transit")
    screen.shot("in-transit")

    wh_after = on_hand(screen, "WH")
    assert wh_before["NALOX-4MG"] - wh_after["NALOX-4MG"] == 6
    assert wh_before["FTS"] - wh_after["FTS"] == 40

    # The van's coordinator, on their own phone (a browser of their own).
    phone = screen.viewport == "phone"
    context = chromium.new_context(viewport=VIEWPORTS[screen.viewport], is_mobile=phone, has_touch=phone)  # type: ignore[arg-type]
    try:
        errors: list[str] = []
        van_page = context.new_page()
        van_page.on("console", lambda message: errors.append(message.text) if message.type == "error" else None)
        van = Screen(van_page, live.url, screen.viewport, screen.test_name + "-van", errors)
        sign_in(van, COORDINATOR)
        van_before = on_hand(van, "VAN-1")
        van.go("/transfers")
        mine = van_page.locator(f"article.transfer-card[data-transfer='{transfer_id}']")
        expect(mine).to_contain_text("In transit")
        van.shot("transfers")
        mine.get_by_role("button", name="Receive at VAN-1").click()
        expect(van_page.get_by_role("heading", name="Receive a transfer")).to_be_visible()
        van.shot("receive-transfer")
        # One kit went missing on the way: 5 of 6 arrived, all 40 strips did.
        # What was sent may have come from more than one lot (first expiry first out): one line per lot.
        kits = van_page.get_by_role("spinbutton", name="Naloxone 4 mg nasal spray kit, lot").all()
        assert sum(int(line.input_value()) for line in kits) == 6
        kits[-1].fill(str(int(kits[-1].input_value()) - 1))
        strips = van_page.get_by_role("spinbutton", name="Fentanyl test strip, lot").all()
        assert sum(int(line.input_value()) for line in strips) == 40
        van_page.get_by_role("button", name="Book it in at VAN-1").click()
        expect(van_page.locator(".flash-warning")).to_contain_text("Shortfall recorded (did not arrive): 1 kit")
        van.shot("booked-in")
        van_after = on_hand(van, "VAN-1")
        assert van_after["NALOX-4MG"] - van_before["NALOX-4MG"] == 5
        assert van_after["FTS"] - van_before.get("FTS", 0) == 40
        van.shot("van-stock")
        assert errors == []
    finally:
        context.close()

    # Back at the warehouse's side: nothing more left WH, and the transfer is closed with its shortfall.
    assert on_hand(screen, "WH") == wh_after
    page = screen.go("/transfers")
    done = page.locator(f"article.transfer-card[data-transfer='{transfer_id}']")
    expect(done).to_contain_text("Received")
    expect(done.locator(".shortfall")).to_contain_text("1 kit of NALOX-4MG")
    assert screen.console_errors == []


def test_the_coordinator_counts_a_lot_with_a_difference_and_adjusts_one_with_a_reason(screen: Screen) -> None:
    sign_in(screen, COORDINATOR)
    expected = lot_quantity(screen, "VAN-1", "SYR-1ML", "VANTEST-S")
    assert expected > 10
    counted = expected - 7

    page = screen.go("/count")  # one site: straight to its count
    expect(page.get_by_role("heading", name="Count stock")).to_be_visible()
    screen.shot("count-form")
    lot = page.get_by_label("Lot VANTEST-S", exact=True)
    hint = page.locator(f"#{lot.get_attribute('id')}-hint")
    expect(hint).to_contain_text("Count the syringes")  # a blind count: the figure on record comes after
    expect(hint).not_to_contain_text(str(expected))
    lot.fill(str(counted))
    page.get_by_role("button", name="Record the count").click()
    expect(page.locator(".flash-success")).to_contain_text("1 lot, 1 different from the stock on record")
    result = page.locator("ul.count-results li[data-lot='VANTEST-S']")
    expect(result).to_contain_text(f"Expected {expected:,} · counted {counted:,}")
    expect(result.locator(".variance-loss")).to_have_text("\u22127 fewer")
    screen.shot("counted")
    assert lot_quantity(screen, "VAN-1", "SYR-1ML", "VANTEST-S") == counted
    screen.shot("van-stock-after-count")

    before = lot_quantity(screen, "VAN-1", "NALOX-4MG", "VANTEST-N")
    page = screen.go("/sites/VAN-1/adjust")
    expect(page.get_by_role("heading", name="Adjust stock")).to_be_visible()
    page.get_by_label("Item").select_option("NALOX-4MG")
    page.get_by_label("Lot", exact=True).select_option("VANTEST-N")
    page.get_by_label("Reason").select_option(label="Damaged")
    expect(page.get_by_label("Out: take it off the shelf")).to_be_checked()  # damaged stock goes out
    page.get_by_label("How many", exact=True).fill("2")
    page.get_by_label("Note (no names or personal details)").fill("Two kits crushed in the van door")
    screen.shot("adjust-form")
    page.get_by_role("button", name="Record the adjustment").click()
    expect(page.locator(".flash-success")).to_contain_text(
        f"Adjusted Naloxone 4 mg nasal spray kit lot VANTEST-N at VAN-1 by \u22122 (damaged). "
        f"That lot now holds {before - 2:,} kits."
    )
    screen.shot("adjusted")
    assert lot_quantity(screen, "VAN-1", "NALOX-4MG", "VANTEST-N") == before - 2
    assert screen.console_errors == []

    # A damaged lot cannot grow: the refusal sits next to Out or In and the typed values stay.
    page = screen.go("/sites/VAN-1/adjust")
    page.get_by_label("Item").select_option("NALOX-4MG")
    page.get_by_label("Lot", exact=True).select_option("VANTEST-N")
    page.get_by_label("Reason").select_option(label="Damaged")
    page.get_by_label("In: add it").check()
    page.get_by_label("How many", exact=True).fill("3")
    page.get_by_role("button", name="Record the adjustment").click()
    expect(page.locator("#direction-error")).to_contain_text("Damaged stock goes out: choose Out.")
    expect(page.get_by_label("How many", exact=True)).to_have_value("3")
    screen.shot("adjust-refused")
    assert lot_quantity(screen, "VAN-1", "NALOX-4MG", "VANTEST-N") == before - 2
    # The browser logs the refused form's 422 status; nothing else went wrong.
    assert [e for e in screen.console_errors if "status of 422" not in e] == []
