"""Alerts snoozed until a day (back that day if still going on), assigned to someone who sees them, and the
history of each episode."""

from __future__ import annotations

import html
import re
from datetime import UTC, datetime, timedelta

import pytest
from flask import Flask

from inventory.application import InventoryApplication
from inventory.domain.alerts import alert_id
from inventory.domain.errors import InvalidInput, InvalidState
from tests.clock import Clock
from tests.web.conftest import ADMIN, STAFF, check_alerts
from tests.web.pages.conftest import Person, person
from tests.web.pages.test_alert_pages import cards

VAN_LOW = str(alert_id("below_reorder_point", "VAN-1", "NALOX-4MG"))
NOW = datetime(2026, 11, 18, 15, 0, tzinfo=UTC)  # a Wednesday afternoon
pytestmark = pytest.mark.clock(NOW)


def snoozed(page: str) -> list[str]:
    part = page.split('id="snoozed-heading"', 1)
    if len(part) == 1:
        return []
    return re.findall(r'data-alert="([^"]+)"', part[1].split("</section>", 1)[0])


def test_a_snoozed_alert_leaves_the_open_list_and_comes_back_on_its_day(
    flask_app: Flask, alerting: dict[str, Person], clock: Clock
) -> None:
    buyer = alerting["purchasing"]
    page = buyer.get("/alerts").get_data(as_text=True)
    assert VAN_LOW in cards(page)
    assert 'min="2026-11-19"' in page and 'max="2026-12-18"' in page  # tomorrow to 30 days ahead

    done = buyer.post(f"/alerts/{VAN_LOW}/snooze", {"episode": "1", "until": "2026-11-20"}, token_from="/alerts")
    assert done.status_code == 302
    page = html.unescape(buyer.get("/alerts").get_data(as_text=True))
    assert "Below reorder point: NALOX-4MG at VAN-1 snoozed until Fri 20 Nov." in page
    assert VAN_LOW not in cards(page) and snoozed(page) == [VAN_LOW]
    assert "Back on Fri 20 Nov if it still holds" in page
    dashboard = buyer.get("/").get_data(as_text=True)
    assert "NALOX-4MG at VAN-1: 3 on hand" not in html.unescape(dashboard)

    clock.at(NOW + timedelta(days=1))  # Thursday: still asleep (signed in again: a session ends after 12 hours)
    buyer = person(flask_app, STAFF["purchasing"])
    assert VAN_LOW not in cards(buyer.get("/alerts").get_data(as_text=True))
    clock.at(datetime(2026, 11, 20, 0, 5, tzinfo=UTC))  # just after midnight on Friday: back
    buyer = person(flask_app, STAFF["purchasing"])
    page = html.unescape(buyer.get("/alerts").get_data(as_text=True))
    assert VAN_LOW in cards(page) and snoozed(page) == []
    assert "back from snooze since Fri 20 Nov" in cards(page)[VAN_LOW]


def test_a_snooze_must_be_for_a_day_ahead_within_30_days_and_of_the_open_episode(
    flask_app: Flask, inventory: InventoryApplication, alerting: dict[str, Person]
) -> None:
    buyer = alerting["purchasing"]
    for until, said in (
        ("2026-11-18", "Snooze it until a day after today (Wed 18 Nov)."),
        ("2026-12-19", "Snooze it for at most 30 days, until Fri 18 Dec at the latest"),
        ("soon", "Enter a date like 2026-03-31."),
    ):
        refused = buyer.post(f"/alerts/{VAN_LOW}/snooze", {"episode": "1", "until": until}, token_from="/alerts")
        assert refused.status_code == 422, until
        assert said in html.unescape(refused.get_data(as_text=True)), until
    with pytest.raises(InvalidState, match="resolved since you saw it"):
        inventory.snooze_alert(alert_id=VAN_LOW, episode=2, until=NOW.date() + timedelta(days=2), actor=ADMIN)
    assert VAN_LOW in cards(buyer.get("/alerts").get_data(as_text=True))
    # Only purchasing and admins act on alerts; a coordinator sees them.
    coordinator = alerting["coordinator"]
    page = coordinator.get("/alerts").get_data(as_text=True)
    assert "Snooze" not in page
    refused = coordinator.post(f"/alerts/{VAN_LOW}/snooze", {"episode": "1", "until": "2026-11-20"},
                               token_from="/alerts")  # fmt: skip
    assert refused.status_code == 403


def test_an_alert_is_assigned_to_someone_who_sees_it_and_its_history_says_what_happened(
    flask_app: Flask, inventory: InventoryApplication, alerting: dict[str, Person]
) -> None:
    buyer = alerting["purchasing"]
    page = buyer.get("/alerts").get_data(as_text=True)
    # The van's coordinator sees the van's alerts, so may be given one; the auditor too (all sites).
    choices = re.findall(rf'<select id="to-{VAN_LOW}" name="to">(.*?)</select>', page, re.S)[0]
    assert STAFF["coordinator"] in choices and STAFF["purchasing"] in choices
    done = buyer.post(f"/alerts/{VAN_LOW}/assign", {"episode": "1", "to": STAFF["coordinator"]}, token_from="/alerts")
    assert done.status_code == 302
    assert f"Assigned to {STAFF['coordinator']}" in cards(buyer.get("/alerts").get_data(as_text=True))[VAN_LOW]
    # Someone who does not see alerts at that site cannot be given it.
    inventory.register_user(email="east@example.org", role="coordinator", sites=["WH"], actor=ADMIN)
    with pytest.raises(InvalidInput, match=r"east@example\.org does not see alerts at VAN-1"):
        inventory.assign_alert(alert_id=VAN_LOW, episode=1, to="east@example.org", actor=ADMIN)
    refused = buyer.post(f"/alerts/{VAN_LOW}/assign", {"episode": "1", "to": "nobody@example.org"},
                         token_from="/alerts")  # fmt: skip
    assert "There is no account nobody@example.org." in html.unescape(refused.get_data(as_text=True))

    # Acknowledged, snoozed; then stock comes in and it ends: the history tells it in order.
    buyer.post(f"/alerts/{VAN_LOW}/acknowledge", {"episode": "1"}, token_from="/alerts")
    buyer.post(f"/alerts/{VAN_LOW}/snooze", {"episode": "1", "until": "2026-11-25"}, token_from="/alerts")
    inventory.receive_stock(site="VAN-1", sku="NALOX-4MG", lot="VANLOT-4", quantity=40, expires_on="2030-01-31",
                            funding_source="STATE", actor=ADMIN)  # fmt: skip
    check_alerts(flask_app)
    history = html.unescape(alerting["auditor"].get(f"/alerts/{VAN_LOW}").get_data(as_text=True))
    said = [" ".join(re.sub(r"<[^>]+>", " ", line).split().__iter__()).split(" · ", 1)[1]
            for line in re.findall(r'<li data-event="\w+">(.*?)</li>', history, re.S)]  # fmt: skip
    assert said == [
        "Raised. NALOX-4MG at VAN-1: 3 on hand, below the reorder point of 10.",
        f"Assigned to {STAFF['coordinator']} by {STAFF['purchasing']}.",
        f"Acknowledged by {STAFF['purchasing']}.",
        f"Snoozed until Wed 25 Nov by {STAFF['purchasing']}.",
        "Resolved: the condition ended (43 on hand).",
    ], said
    audit = html.unescape(alerting["auditor"].get("/audit", event="Alert.Snoozed").get_data(as_text=True))
    assert "Alert (episode 1) snoozed until Wed 25 Nov" in audit
    assert alerting["coordinator"].get(f"/alerts/{VAN_LOW}").status_code == 200
    assert alerting["coordinator"].get(f"/alerts/{alert_id('out_of_stock', 'WH', 'SYR-1ML')}").status_code == 403
