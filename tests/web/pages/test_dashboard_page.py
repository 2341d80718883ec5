"""The dashboard: a chart per category in its own units, the week still running marked as partial, and the
last seven days' visits, reversals, syringes collected and return rate beside the seven before."""

from __future__ import annotations

import html
import json
import re
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from flask import Flask

from inventory.application import InventoryApplication
from tests.web.conftest import ADMIN
from tests.web.pages.conftest import Person

# A Thursday noon: the week so far is Monday to Thursday, four days.
NOW = datetime(2026, 11, 19, 12, 0, tzinfo=UTC)
pytestmark = pytest.mark.clock(NOW)


def charts(page: str) -> dict[str, dict[str, Any]]:
    found = re.findall(r'<script type="application/json" data-weekly-chart="([^"]+)">(.*?)</script>', page, re.S)
    return {name: json.loads(html.unescape(body)) for name, body in found}


def tile(page: str, name: str) -> tuple[str, str]:
    found = re.search(
        rf'data-tile="{name}">.*?<strong class="tile-figure">([^<]*)</strong>\s*'
        r'<small class="muted">the seven days before: ([^<]*)</small>',
        page,
        re.S,
    )
    assert found, f"no tile {name}"
    return found.group(1), found.group(2)


def visit(inventory: InventoryApplication, key: str, days_ago: int, **figures: Any) -> None:
    lines = [{"sku": sku, "quantity": q} for sku, q in (("NALOX-4MG", figures.pop("kits", 0)),
                                                        ("SYR-1ML", figures.pop("syringes", 0))) if q]  # fmt: skip
    inventory.record_encounter(key=key, site="VAN-1", lines=lines, actor=ADMIN,
                               occurred_at=NOW - timedelta(days=days_ago), **figures)  # fmt: skip


def test_each_category_has_its_own_chart_and_the_running_week_is_marked(
    flask_app: Flask, inventory: InventoryApplication, people: dict[str, Person]
) -> None:
    for sku, lot, quantity, expiry in (("NALOX-4MG", "V-1", 400, "2030-01-31"), ("SYR-1ML", "VS-1", 20_000, None)):
        inventory.receive_stock(site="VAN-1", sku=sku, lot=lot, quantity=quantity, expires_on=expiry,
                                funding_source="STATE", actor=ADMIN, occurred_at=NOW - timedelta(days=60))  # fmt: skip
    # This week (Monday 16 to Thursday 19): two visits; the last seven days also hold Saturday 14's.
    visit(inventory, "dash-0001", 0, kits=2, syringes=100, syringes_collected=80, reversals_reported=1)
    visit(inventory, "dash-0002", 3, kits=1)
    visit(inventory, "dash-0003", 5, syringes=50, syringes_collected=10)
    # The seven days before: one visit on Tuesday 10.
    visit(inventory, "dash-0004", 9, kits=4, syringes=200, syringes_collected=50)
    flask_app.extensions["inventory"].projector.catch_up()

    page = html.unescape(people["admin"].get("/").get_data(as_text=True))

    found = charts(page)
    assert list(found) == ["weekly-naloxone", "weekly-syringe", "who-naloxone", "who-syringe"]
    # Who it went to, the last four weeks: by channel (the van's), split by recipient (not asked by these visits).
    who = found["who-naloxone"]
    assert (who["labels"], [s["label"] for s in who["series"]], who["series"][0]["data"]) == (
        ["Mobile van"],
        ["Not recorded"],
        [7],
    )
    naloxone, syringes = found["weekly-naloxone"], found["weekly-syringe"]
    assert naloxone["unit"] == "kits" and syringes["unit"] == "syringes"
    assert [s["label"] for s in naloxone["series"]] == ["Naloxone 4 mg"]
    assert [s["label"] for s in syringes["series"]] == ["Syringe 1 mL"]
    assert naloxone["labels"][-1] == "16 Nov (so far)" and naloxone["partial"] == 11
    assert naloxone["series"][0]["data"][-3:] == [0, 4, 3]  # weeks of 2, 9 and 16 November
    assert syringes["series"][0]["data"][-3:] == [0, 250, 100]
    assert "This week is shown so far (4 days), in a lighter shade" in page

    assert tile(page, "visits") == ("3", "1")
    assert tile(page, "reversals") == ("1", "0")
    assert tile(page, "collected") == ("90", "50")
    assert tile(page, "return-rate") == ("60%", "25%")  # 90 of 150 handed out; 50 of 200


def attention(page: str) -> dict[str, list[str]]:
    """The items of "Needs your attention" by kind, as people read them."""
    found: dict[str, list[str]] = {}
    for kind, text in re.findall(r'<li data-attention="(\w+)">(.*?)</li>', page, re.S):
        found.setdefault(kind, []).append(" ".join(re.sub(r"<[^>]+>", " ", html.unescape(text)).split()))
    return found


def test_each_role_finds_what_needs_its_attention_at_the_top_of_its_home_page(
    flask_app: Flask, inventory: InventoryApplication, people: dict[str, Person]
) -> None:
    inventory.receive_stock(site="WH", sku="NALOX-4MG", lot="W-1", quantity=100, expires_on="2030-01-31",
                            funding_source="STATE", actor=ADMIN, occurred_at=NOW - timedelta(days=40))  # fmt: skip
    # Kits on their way to the van; syringe levels at the van, which has none; an order drafted, one part-received.
    inventory.dispatch_transfer(from_site="WH", to_site="VAN-1", lines=[{"sku": "NALOX-4MG", "quantity": 10}],
                                actor=ADMIN, occurred_at=NOW - timedelta(days=30))  # fmt: skip
    inventory.set_stock_level(site="VAN-1", sku="SYR-1ML", reorder_point=10, par_level=50, lead_time_days=2,
                              actor=ADMIN)  # fmt: skip
    draft = inventory.raise_purchase_order(supplier="Supply Co", site="WH", funding_source="STATE", number="PO-DRAFT",
                                           lines=[{"sku": "NALOX-4MG", "quantity": 24}], actor=ADMIN)  # fmt: skip
    partly = inventory.raise_purchase_order(supplier="Supply Co", site="WH", funding_source="STATE", number="PO-PART",
                                            lines=[{"sku": "NALOX-4MG", "quantity": 24}], actor=ADMIN)  # fmt: skip
    inventory.submit_purchase_order(order_id=partly["id"], actor=ADMIN)
    inventory.receive_purchase_order(order_id=partly["id"], actor=ADMIN, lines=[
        {"sku": "NALOX-4MG", "lot": "W-2", "quantity": 20, "expires_on": "2030-01-31"}])  # fmt: skip
    inventory.record_encounter(key="attn-october", site="WH", lines=[{"sku": "NALOX-4MG", "quantity": 1}],
                               actor=ADMIN, occurred_at=datetime(2026, 10, 20, 12, tzinfo=UTC))  # fmt: skip
    twice = inventory.record_encounter(key="attn-twice-1", site="WH", lines=[{"sku": "NALOX-4MG", "quantity": 1}],
                                       actor=ADMIN, occurred_at=NOW - timedelta(hours=1))  # fmt: skip
    inventory.void_visit(visit_id=twice["id"], reason="entered_twice", actor=ADMIN)
    projector = flask_app.extensions["inventory"].projector
    projector.catch_up()
    inventory.check_alerts(NOW.date(), NOW, store=flask_app.extensions["inventory"].store)
    projector.catch_up()
    del draft

    seen = {role: attention(who.get("/").get_data(as_text=True)) for role, who in people.items()}

    assert set(seen["coordinator"]) == {"alerts", "transfers"}  # works at VAN-1: syringes out, kits on the way
    assert seen["coordinator"]["transfers"] == [
        "1 transfer on the way to VAN-1: book them in when they arrive. See the transfers"
    ]
    assert set(seen["purchasing"]) == {"alerts", "orders"}
    assert seen["purchasing"]["orders"] == [
        "1 purchase order drafted and not yet sent: PO-DRAFT. See the orders",
        "PO-PART from Supply Co is partly received: 4 still to come. Open the order",
    ]
    assert set(seen["grant_manager"]) == {"alerts", "report"}
    assert seen["grant_manager"]["report"] == [
        "October 2026 has closed: its grant report (up to Sat 31 Oct) is ready to download. Go to the reports"
    ]
    assert set(seen["auditor"]) == {"alerts", "corrections"}
    assert seen["auditor"]["corrections"] == [
        # The visit undone, and its kits back on the lot: two entries in the log, as the audit history lists them.
        "2 entries in the log since Fri 13 Nov put earlier ones right (undone, voided, corrected, or a count "
        "restated): each says what it changed and who did it. Review them"
    ]
    assert set(seen["admin"]) == {"alerts", "orders", "corrections", "report"}
