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
    visit(inventory, "d-1", 0, kits=2, syringes=100, syringes_collected=80, reversals_reported=1)
    visit(inventory, "d-2", 3, kits=1)
    visit(inventory, "d-3", 5, syringes=50, syringes_collected=10)
    # The seven days before: one visit on Tuesday 10.
    visit(inventory, "d-4", 9, kits=4, syringes=200, syringes_collected=50)
    flask_app.extensions["inventory"].projector.catch_up()

    page = html.unescape(people["admin"].get("/").get_data(as_text=True))

    found = charts(page)
    assert list(found) == ["weekly-naloxone", "weekly-syringe"]
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
