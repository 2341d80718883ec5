"""In a real browser, on a phone and a desktop, over the demo program: receiving against a purchase order
starts from its open lines, the stock card pages newest first, and the audit history is searched by who
and when. The tests compare figures before and after, so both viewports run over the same server."""

from __future__ import annotations

import re
from datetime import date, datetime, time, timedelta
from decimal import Decimal

from playwright.sync_api import expect

from inventory.domain.alerts import alert_id
from inventory.domain.money import money_shown
from inventory.projections.order_queries import open_purchase_orders
from inventory.projections.suppliers import suppliers
from tests.browser.conftest import AUDITOR, COORDINATOR, Live, Screen
from tests.clock import Clock

PURCHASING = "purchasing@demo.example.org"


def the_open_order(live: Live) -> dict[str, object]:
    """The demo's order on its way to the warehouse (sent to the supplier in its last week)."""
    orders = [o for o in open_purchase_orders(live.services.store, "WH") if o["lines"][0]["outstanding"] > 20]
    assert orders, "the demo has no order on its way to WH"
    return orders[0]


def test_receiving_against_an_order_starts_from_its_open_lines(screen: Screen, live: Live) -> None:
    order = the_open_order(live)
    lines = order["lines"]
    assert isinstance(lines, list)
    first = lines[0]
    screen.sign_in(PURCHASING)
    page = screen.go(f"/purchase-orders/{order['id']}")
    page.get_by_role("button", name="Receive against it at WH").click()
    expect(page.get_by_role("heading", name=f"Receive against {order['number']}")).to_be_visible()
    # Each line holds what is still to come and the order's price.
    quantity = page.locator("input[name='lines-0-quantity']")
    expect(quantity).to_have_value(str(first["outstanding"]))
    expect(page.locator("input[name='lines-0-sku']")).to_have_value(first["sku"])
    if first["unit_cost"] is not None:
        expect(page.locator("input[name='lines-0-unit_cost']")).to_have_value(str(first["unit_cost"]))
    screen.shot("filled-from-the-order")
    assert screen.axe() == []

    # Ten of the first line came; the other lines did not.
    quantity.fill("10")
    for row in range(1, len(lines)):
        page.locator(f"input[name='lines-{row}-quantity']").fill("")
    page.locator("input[name='lines-0-lot']").fill(f"BROWSER-{screen.viewport.upper()}")
    expiry = page.locator("input[name='lines-0-expires_on']")
    if expiry.get_attribute("type") == "date":
        # Later than any demo lot, so that first-expiry-first-out in other tests never picks this one.
        expiry.fill((date.today() + timedelta(days=1500)).isoformat())
    page.get_by_role("button", name="Record what arrived").click()
    expect(page.locator(".flash-success")).to_contain_text(f"Received against {order['number']}: 10 ")
    line = page.locator(f"ul.po-lines li[data-sku='{first['sku']}']")
    expect(line.locator("[data-outstanding]")).to_have_text(f"{int(first['outstanding']) - 10:,}")
    expect(page.locator("[data-status]")).to_have_text("Partly received")
    screen.shot("received")
    assert screen.console_errors == []


def balances(screen: Screen) -> list[tuple[int, int]]:
    """(change, balance after) of each movement on the card page shown, top to bottom."""
    rows = screen.page.locator("table.stock-card tr.movement")
    found = []
    for index in range(rows.count()):
        row = rows.nth(index)
        change = row.locator("td.change").inner_text().replace("\u2212", "-").replace(",", "").replace("+", "")
        balance = row.locator("td.balance").inner_text().replace("\u2212", "-").replace(",", "")
        found.append((int(change), int(balance)))
    return found


def test_the_stock_card_opens_newest_first_with_the_balance_on_top_and_pages_back(screen: Screen) -> None:
    screen.sign_in(COORDINATOR)
    page = screen.go("/sites/VAN-1/stock/SYR-1ML")
    expect(page.get_by_role("heading", name="Stock card")).to_be_visible()
    now = page.locator("table.stock-card tr.closing td.balance").inner_text()
    first = balances(screen)
    assert len(first) == 50, len(first)
    assert first[0][1] == int(now.replace(",", ""))
    assert page.locator("table.stock-card tr.opening").count() == 0  # more pages to come
    screen.shot("newest")

    page.get_by_role("button", name="Older movements").click()
    expect(page).to_have_url(re.compile(r"older=\d+-\d+"))
    second = balances(screen)
    assert second, "the second page is empty"
    # The balances run on across the pages: the one after a movement, less it, is the one after the next.
    assert second[0][1] == first[-1][1] - first[-1][0]
    assert all(second[i + 1][1] == second[i][1] - second[i][0] for i in range(len(second) - 1))
    screen.shot("older")
    assert screen.axe() == []
    page.get_by_role("link", name="Back to the newest").click()
    expect(page.locator("table.stock-card tr.closing")).to_have_count(1)
    assert screen.console_errors == []


def test_the_audit_history_is_searched_by_who_and_when(screen: Screen, live: Live) -> None:
    store = live.services.store
    [(newest,)] = store.fetchall("SELECT MAX(recorded_at) FROM audit_log WHERE actor = ?", (COORDINATOR,))
    end = datetime.fromisoformat(newest).astimezone(live.services.app.zone).date()
    start = end - timedelta(days=6)
    screen.sign_in(AUDITOR)
    page = screen.go("/audit")
    page.locator("summary", has_text="Filter").click()
    page.get_by_label("Recorded from").fill(start.isoformat())
    page.get_by_label("Recorded to").fill(end.isoformat())
    page.get_by_label("Who (email)").fill(COORDINATOR)
    page.get_by_role("button", name="Show").click()
    # The filters are in the address, so the search can be bookmarked or sent to a colleague.
    expect(page).to_have_url(re.compile(rf"actor={re.escape(COORDINATOR.replace('@', '%40'))}"))
    actors = page.locator("table.audit-log td.actor").all_inner_texts()
    assert actors and set(actors) == {COORDINATOR}
    recorded = page.locator("table.audit-log td.recorded").all_inner_texts()
    assert len(recorded) == len(actors)
    shown_days = {text.split(",")[0] for text in recorded}  # "Wed 2 Dec, 01:08" -> "Wed 2 Dec"
    in_range = {f"{(start + timedelta(days=n)):%a} {(start + timedelta(days=n)).day} {(start + timedelta(days=n)):%b}"
                for n in range(7)}  # fmt: skip
    assert {day.rsplit(" ", 1)[0] if day.count(" ") > 2 else day for day in shown_days} <= in_range, shown_days
    expect(page.locator("details.filters summary")).to_contain_text("(3 on)")
    screen.shot("searched")
    assert screen.axe() == []
    assert screen.console_errors == []


def test_a_snoozed_alert_comes_back_on_its_day(screen: Screen, live: Live, clock: Clock) -> None:
    """Purchasing snoozes an open alert until tomorrow; it waits under Snoozed, and tomorrow it is open again.

    The alert is this test's own (sharps containers below a reorder point set for it, at a site of its own
    for each viewport), so the demo's alerts stay open for the other tests."""
    site = "FIX-EAST" if screen.viewport == "phone" else "FIX-DT"
    app = live.services.app
    app.set_stock_level(site=site, sku="SHARPS-1QT", reorder_point=1_000_000, par_level=2_000_000, lead_time_days=3,
                        actor="admin@demo.example.org")  # fmt: skip
    live.services.projector.read_your_writes()
    alert = str(alert_id("below_reorder_point", site, "SHARPS-1QT"))
    screen.sign_in(PURCHASING)
    page = screen.go("/alerts")
    card = page.locator(f"section[aria-labelledby=open-heading] li.alert-card[data-alert='{alert}']")
    expect(card).to_have_count(1)
    card.locator("summary", has_text="Snooze or assign").click()
    tomorrow = card.get_by_label("Snooze until")
    day = tomorrow.input_value()  # tomorrow is what the form offers first
    card.get_by_role("button", name="Snooze").click()
    expect(page.locator(".flash-success")).to_contain_text("snoozed until")
    expect(page.locator(f"section[aria-labelledby=snoozed-heading] li[data-alert='{alert}']")).to_have_count(1)
    expect(page.locator(f"section[aria-labelledby=open-heading] li[data-alert='{alert}']")).to_have_count(0)
    screen.shot("snoozed")
    assert screen.axe() == []

    # Tomorrow, five past midnight in the program's zone (signed in again: a session ends after 12 hours).
    back = datetime.combine(date.fromisoformat(day), time(0, 5), tzinfo=live.services.app.zone)
    clock.at(back)
    screen.page.context.clear_cookies()
    screen.sign_in(PURCHASING)
    page = screen.go("/alerts")
    returned = page.locator(f"section[aria-labelledby=open-heading] li[data-alert='{alert}']")
    expect(returned).to_have_count(1)
    expect(returned).to_contain_text("back from snooze since")
    screen.shot("back")
    returned.get_by_role("link", name="What happened").click()
    expect(page.locator("li[data-event=Snoozed]")).to_contain_text("Snoozed until")
    assert screen.axe() == []
    assert screen.console_errors == []


def test_a_new_order_offers_the_suppliers_last_price_and_prints_with_its_total(screen: Screen, live: Live) -> None:
    known = suppliers(live.services.store)
    supplier = next(s for s in known if s["prices"])
    sku, last = next(iter(supplier["prices"].items()))
    screen.sign_in(PURCHASING)
    page = screen.go("/purchase-orders/new")
    page.get_by_label("Deliver to").select_option("WH")
    page.get_by_label("Supplier").fill(supplier["name"].upper())  # typed another way: the same supplier
    line = page.locator("fieldset.line").first
    line.locator("select[name='lines-0-sku']").select_option(sku)
    expect(line.locator("input[name='lines-0-unit_cost']")).to_have_value(last["unit_cost"])
    expect(line.locator("[data-last-price]")).to_contain_text(f"Last ordered from this supplier at {last['unit_cost']}")
    line.locator("input[name='lines-0-quantity']").fill("4")
    page.get_by_label("Funding source").select_option(index=1)
    page.get_by_role("button", name="Save the draft order").click()
    expect(page.locator(".flash-success")).to_be_visible()
    page.get_by_role("link", name="Printable order, with prices and total").click()
    expect(page.get_by_role("button", name="Print this order")).to_be_visible()  # shown once the script runs
    total = money_shown(Decimal(last["unit_cost"]) * 4, live.services.settings.currency)
    expect(page.locator("[data-order-total]")).to_have_text(total)
    screen.shot("printable-order")
