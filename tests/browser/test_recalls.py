"""In a real browser, on a phone (360 px) and a desk: a maker recalls a lot the van holds; the van's
coordinator gets the recall alert, follows it to the held stock and records the held kits as returned."""

from __future__ import annotations

import time
import uuid

from playwright.sync_api import expect

from inventory.projections import recall_queries
from inventory.projections.alerts import open_alerts
from tests.browser.conftest import ADMIN, COORDINATOR, Live, Screen

OPEN_RECALLS = "section[aria-labelledby='open-heading'] li.alert-card[data-kind='recalled']"  # not the resolved


def test_a_coordinator_gets_a_recall_alert_and_records_the_held_kits_as_returned(screen: Screen, live: Live) -> None:
    app, store = live.services.app, live.services.store
    maker_lot = f"RC{uuid.uuid4().hex[:6].upper()}"  # a lot of its own (the test runs once per screen size)
    app.receive_stock(site="VAN-1", sku="NALOX-4MG", lot=maker_lot, quantity=7, expires_on="2099-06-30",
                      funding_source="SOR", manufacturer="Emergent BioSolutions", manufacturer_lot=maker_lot,
                      actor=ADMIN)  # fmt: skip
    live.services.projector.catch_up()
    lots, sites = recall_queries.recall_scope(store, "Emergent BioSolutions", maker_lot)
    app.announce_recall(manufacturer="Emergent BioSolutions", manufacturer_lot=maker_lot, notice="FDA-TEST",
                        lots=lots, sites=sites, actor=ADMIN)  # fmt: skip
    live.services.projector.catch_up()
    live.services.projector.catch_up()  # the alert the hold raised

    screen.sign_in(COORDINATOR)
    page = screen.go("/alerts")
    alert = page.locator(OPEN_RECALLS).filter(has_text=maker_lot)
    expect(alert).to_contain_text("The maker has recalled this lot")
    screen.shot("recall-alert")
    alert.get_by_role("button", name="Pull it: record it as returned or destroyed").click()
    expect(page.get_by_role("heading", name="Held stock", level=1)).to_be_visible()
    held = page.locator(f"li.held-lot[data-lot='{maker_lot}']")
    expect(held).to_contain_text("Emergent BioSolutions recalled its lot")
    expect(held.locator(".held-quantity")).to_have_text("7")
    screen.shot("held-stock")
    assert screen.axe() == []

    held.get_by_label("Where it went").select_option("returned_to_supplier")
    expect(held.get_by_label("How many")).to_have_value("7")
    held.get_by_role("button", name=f"Record lot {maker_lot} as gone").click()
    expect(page.locator(".flash-success")).to_contain_text(
        f"7 kits of lot {maker_lot} recorded as returned to the supplier; 0 kits of it left here."
    )
    screen.shot("returned")
    figures = recall_queries.recall_figures(store, [{"sku": "NALOX-4MG", "lot": maker_lot}])
    assert figures.account["returned_to_supplier"] == -7 and figures.on_shelves == 0

    # The alert is over: nothing of that lot is on the van's shelf any more (resolved by whichever thread
    # of the server caught the write-off up; the page is opened once the read model says so).
    for _ in range(100):
        live.services.projector.catch_up()
        if not [a for a in open_alerts(store, ["VAN-1"]) if a["kind"] == "recalled" and a["lot"] == maker_lot]:
            break
        time.sleep(0.1)
    page = screen.go("/alerts")
    expect(page.locator(OPEN_RECALLS).filter(has_text=maker_lot)).to_have_count(0)
    assert screen.console_errors == []
