"""The alerts page: open episodes at the person's sites, acknowledging them, and those resolved this week."""

from __future__ import annotations

import re

from flask import Flask

from inventory.application import InventoryApplication
from inventory.domain.alerts import alert_id
from tests.web.conftest import ADMIN, STAFF, check_alerts
from tests.web.pages.conftest import Person, csrf_token

VAN_LOW = alert_id("below_reorder_point", "VAN-1", "NALOX-4MG")
WH_OUT = alert_id("out_of_stock", "WH", "SYR-1ML")


def cards(html: str) -> dict[str, str]:
    """Each open alert's card on the page, by alert id."""
    opened = html.split('id="open-heading"', 1)[1].split("</section>", 1)[0]
    return {
        m.group(1): m.group(2)
        for m in re.finditer(r'<li class="alert-card[^"]*" data-alert="([^"]+)"(.*?)</li>', opened, re.S)
    }


def test_purchasing_sees_every_sites_alerts_with_their_figures_and_filters_them(alerting: dict[str, Person]) -> None:
    buyer = alerting["purchasing"]
    page = buyer.get("/alerts")
    assert page.status_code == 200
    shown = cards(page.get_data(as_text=True))
    assert set(shown) == {str(VAN_LOW), str(WH_OUT), str(alert_id("below_reorder_point", "WH", "SYR-1ML"))}
    van = shown[str(VAN_LOW)]
    assert "Below reorder point" in van and "Naloxone 4 mg" in van and "VAN-1" in van
    assert re.search(r'class="on-hand">3<', van) and "Reorder at" in van and "Not acknowledged yet" in van
    assert 'name="csrf_token"' in van and "Acknowledge" in van

    only_van = cards(buyer.get("/alerts", site="VAN-1").get_data(as_text=True))
    assert set(only_van) == {str(VAN_LOW)}
    only_out = cards(buyer.get("/alerts", kind="out_of_stock").get_data(as_text=True))
    assert set(only_out) == {str(WH_OUT)}
    assert buyer.get("/alerts", site="NOWHERE").status_code == 404


def test_the_dashboard_lists_the_open_episodes_at_the_persons_sites(alerting: dict[str, Person]) -> None:
    def listed(who: Person) -> list[str]:
        html = who.get("/").get_data(as_text=True)
        section = html.split('id="alerts-heading"', 1)[1].split("</section>", 1)[0]
        return sorted(re.sub(r"<[^>]+>", "", item).strip() for item in re.findall(r"<li.*?</li>", section, re.S))

    assert listed(alerting["purchasing"]) == [
        "below reorder point NALOX-4MG at VAN-1: 3 on hand, below the reorder point of 10.",
        "below reorder point SYR-1ML at WH: 0 on hand, below the reorder point of 200.",
        "out of stock SYR-1ML is out of stock at WH.",
    ]
    assert listed(alerting["coordinator"]) == [
        "below reorder point NALOX-4MG at VAN-1: 3 on hand, below the reorder point of 10."
    ]


def test_a_shortage_links_to_raising_a_purchase_order_when_that_page_exists(
    flask_app: Flask, alerting: dict[str, Person]
) -> None:
    html = cards(alerting["purchasing"].get("/alerts").get_data(as_text=True))
    exists = "purchase_orders.new" in flask_app.view_functions
    assert ("/purchase-orders/new" in html[str(WH_OUT)] and "sku=SYR-1ML" in html[str(WH_OUT)]) == exists
    # A coordinator cannot buy: no link for them either way.
    coordinator = cards(alerting["coordinator"].get("/alerts").get_data(as_text=True))
    assert "purchase-orders" not in coordinator[str(VAN_LOW)]


def test_acknowledging_names_who_did_it_and_removes_the_button(
    inventory: InventoryApplication, alerting: dict[str, Person]
) -> None:
    buyer = alerting["purchasing"]
    response = buyer.post(f"/alerts/{VAN_LOW}/acknowledge", {"episode": "1"}, token_from="/alerts")
    assert response.status_code == 302 and response.headers["Location"].endswith("/alerts")
    assert inventory.alert(VAN_LOW)["acknowledged_by"] == STAFF["purchasing"]
    page = buyer.get("/alerts").get_data(as_text=True)
    assert "acknowledged." in page  # the flash
    van = cards(page)[str(VAN_LOW)]
    assert f"Acknowledged by {STAFF['purchasing']}" in van and "Acknowledge</button>" not in van

    # From a filtered list, back to the same filter.
    token = csrf_token(buyer.get("/alerts", site="WH").get_data(as_text=True))
    filtered = buyer.post_raw(
        f"/alerts/{WH_OUT}/acknowledge", {"episode": "1", "site": "WH", "csrf_token": token}, referer="/alerts?site=WH"
    )
    assert filtered.status_code == 302 and filtered.headers["Location"].endswith("/alerts?site=WH")
    assert inventory.alert(WH_OUT)["acknowledged_by"] == STAFF["purchasing"]

    # A stale page: the episode it names has been resolved since.
    token = csrf_token(buyer.get("/alerts").get_data(as_text=True))
    low_wh = alert_id("below_reorder_point", "WH", "SYR-1ML")
    stale = buyer.post_raw(f"/alerts/{low_wh}/acknowledge", {"episode": "7", "csrf_token": token}, referer="/alerts")
    assert stale.status_code == 409 and "nothing to acknowledge" in stale.get_data(as_text=True)
    assert inventory.alert(low_wh)["acknowledged_by"] is None
    missing = buyer.post_raw(
        f"/alerts/{alert_id('out_of_stock', 'WH', 'NALOX-4MG')}/acknowledge",
        {"episode": "1", "csrf_token": token},
        referer="/alerts",
    )
    assert missing.status_code == 404


def test_an_acknowledgement_without_the_csrf_token_is_refused(
    inventory: InventoryApplication, alerting: dict[str, Person]
) -> None:
    response = alerting["purchasing"].post_raw(f"/alerts/{VAN_LOW}/acknowledge", {"episode": "1"}, referer="/alerts")
    assert response.status_code == 400
    assert inventory.alert(VAN_LOW)["acknowledged_by"] is None


def test_a_coordinator_sees_only_their_site_and_may_not_acknowledge(
    inventory: InventoryApplication, alerting: dict[str, Person]
) -> None:
    coordinator = alerting["coordinator"]
    page = coordinator.get("/alerts")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert set(cards(html)) == {str(VAN_LOW)}
    assert "SYR-1ML" not in html and "Acknowledge</button>" not in html
    assert coordinator.get("/alerts", site="WH").status_code == 403
    for role in ("coordinator", "grant_manager", "auditor"):
        who = alerting[role]
        token = csrf_token(who.get("/alerts").get_data(as_text=True))
        refused = who.post_raw(
            f"/alerts/{VAN_LOW}/acknowledge", {"episode": "1", "csrf_token": token}, referer="/alerts"
        )
        assert refused.status_code == 403, role
    assert inventory.alert(VAN_LOW)["acknowledged_by"] is None


def test_restocking_moves_an_alert_to_the_resolved_section(
    flask_app: Flask, inventory: InventoryApplication, alerting: dict[str, Person]
) -> None:
    inventory.receive_stock(
        site="WH", sku="SYR-1ML", lot="S-9", quantity=1000, expires_on=None, funding_source="STATE", actor=ADMIN
    )
    check_alerts(flask_app)
    html = alerting["purchasing"].get("/alerts").get_data(as_text=True)
    assert set(cards(html)) == {str(VAN_LOW)}
    resolved = html.split('id="resolved-heading"', 1)[1]
    assert f'data-alert="{WH_OUT}"' in resolved and "resolved" in resolved
