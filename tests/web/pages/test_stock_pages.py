"""The stock pages: sites at a glance, lots at one site, and the stock card with its running balance."""

from __future__ import annotations

import html as htmlmod
import re
from datetime import UTC, date, datetime, time
from html.parser import HTMLParser
from typing import Any

import pytest
from flask import Flask

from inventory.application import InventoryApplication
from inventory.projections import queries
from tests.conftest import hand_out_as_release_0_2_did
from tests.web.conftest import day
from tests.web.pages.conftest import Person

# These tests run from noon of a fixed day (tests/clock.py), so "today" is the same from start to end.
pytestmark = pytest.mark.clock(datetime(2026, 11, 18, 12, 0, tzinfo=UTC))
FAR = date(2028, 10, 18)  # an expiry date about two years ahead
SOON = date(2026, 12, 18)  # within the 60 days that count as "expiring soon"


def at(days_ago: int, hour: int = 12) -> datetime:
    """A moment on a past business day (the tests' program runs on UTC)."""
    return datetime.combine(day(days_ago), time(hour), UTC)


class Rows(HTMLParser):
    """Every table row of a page: its attributes and the text of each cell, whitespace collapsed."""

    def __init__(self) -> None:
        super().__init__()
        self.rows: list[tuple[dict[str, str], list[str]]] = []
        self._cell: list[str] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "tr":
            self.rows.append(({k: v or "" for k, v in attrs}, []))
        elif tag in ("td", "th") and self.rows:
            self._cell = []
        elif tag == "br" and self._cell is not None:
            self._cell.append(" ")

    def handle_endtag(self, tag: str) -> None:
        if tag in ("td", "th") and self._cell is not None:
            self.rows[-1][1].append(" ".join("".join(self._cell).split()))
            self._cell = None

    def handle_data(self, data: str) -> None:
        if self._cell is not None:
            self._cell.append(data)


def table_rows(html: str, **wanted: str) -> list[list[str]]:
    """The cells of the rows whose attributes include `wanted` (data_lot="N-1" matches data-lot; "*" any value)."""
    parser = Rows()
    parser.feed(html)
    want = {key.replace("_", "-"): value for key, value in wanted.items()}
    return [
        cells
        for attrs, cells in parser.rows
        if all(k in attrs and (v == "*" or attrs[k] == v) for k, v in want.items())
    ]


def receive(inventory: InventoryApplication, site: str, sku: str, lot: str, quantity: int, **extra: Any) -> None:
    extra.setdefault("expires_on", FAR if sku == "NALOX-4MG" else None)
    extra.setdefault("funding_source", "STATE")
    inventory.receive_stock(site=site, sku=sku, lot=lot, quantity=quantity, actor="root@example.org", **extra)


def hand_out(inventory: InventoryApplication, key: str, site: str, sku: str, quantity: int, when: datetime) -> None:
    inventory.record_encounter(
        key=key, site=site, lines=[{"sku": sku, "quantity": quantity}], actor="coord@example.org", occurred_at=when
    )


def catch_up(flask_app: Flask) -> None:
    flask_app.extensions["inventory"].projector.catch_up()


def naloxone_at_the_van(inventory: InventoryApplication, flask_app: Flask) -> None:
    """A worked example: 30 kits in, 2 out, 20 in (expiring soon), 3 out (first-expiry-first-out: the new lot)."""
    receive(inventory, "VAN-1", "NALOX-4MG", "N-1", 30, funding_source="SOR", occurred_at=at(10))
    hand_out(inventory, "stock-page-0001", "VAN-1", "NALOX-4MG", 2, at(5))
    receive(inventory, "VAN-1", "NALOX-4MG", "N-2", 20, expires_on=SOON, occurred_at=at(3))
    hand_out(inventory, "stock-page-0002", "VAN-1", "NALOX-4MG", 3, at(1))
    receive(inventory, "WH", "NALOX-4MG", "W-SECRET-1", 400, occurred_at=at(8))
    catch_up(flask_app)


def test_the_site_page_shows_each_lot_received_with_its_quantity_and_flags_the_one_expiring_soon(
    flask_app: Flask, inventory: InventoryApplication, people: dict[str, Person]
) -> None:
    naloxone_at_the_van(inventory, flask_app)

    page = people["coordinator"].get("/sites/VAN-1/stock")

    assert page.status_code == 200
    html = page.get_data(as_text=True)
    [n1] = table_rows(html, data_lot="N-1")
    [n2] = table_rows(html, data_lot="N-2")
    assert n1 == ["N-1 SOR", "Wed 18 Oct 2028", "28"]  # FAR and SOON as people read them
    assert n2 == ["N-2 STATE", "Fri 18 Dec Expires soon", "17"]
    assert "/sites/VAN-1/stock/NALOX-4MG" in html  # the item's stock card
    # 5 kits handed out over the 10 days in stock (from the morning after the first delivery): 45 last 90 days.
    text = " ".join(re.sub(r"<[^>]+>", " ", html).split())
    assert 'data-days-of-supply="90.0"' in html
    assert "Lasts about 90 days at 0.5 a day, the average of the last four weeks' days in stock" in htmlmod.unescape(
        text
    )


def test_the_stock_overview_shows_on_hand_per_site_and_links_each_site(
    flask_app: Flask, inventory: InventoryApplication, people: dict[str, Person]
) -> None:
    naloxone_at_the_van(inventory, flask_app)
    inventory.set_stock_level(
        site="VAN-1", sku="NALOX-4MG", reorder_point=50, par_level=80, lead_time_days=7, actor="root@example.org"
    )
    catch_up(flask_app)

    html = people["auditor"].get("/stock").get_data(as_text=True)

    assert 'href="/sites/WH/stock"' in html and 'href="/sites/VAN-1/stock"' in html
    rows = table_rows(html, data_sku="NALOX-4MG")
    assert ["Naloxone 4 mg NALOX-4MG", "45", "50 / 80", "Below reorder"] in rows
    assert any(cells[1] == "400" for cells in rows)  # the warehouse


def test_the_stock_card_lists_every_movement_with_its_running_balance(
    flask_app: Flask, inventory: InventoryApplication, people: dict[str, Person]
) -> None:
    naloxone_at_the_van(inventory, flask_app)

    page = people["coordinator"].get("/sites/VAN-1/stock/nalox-4mg")

    assert page.status_code == 200
    html = page.get_data(as_text=True)
    # Newest first, with the balance now on top and the opening balance at the foot of the last page.
    [closing] = table_rows(html, **{"class": "closing"})
    assert closing[1:] == ["Balance now", "", "45"]
    movements = table_rows(html, **{"class": "movement"})
    assert [(c[0], c[1].split(" Lot ")[0], c[2], c[3]) for c in movements] == [
        ("Tue 17 Nov", "Handed out", "-3", "45"),
        ("Sun 15 Nov", "Received", "+20", "48"),
        ("Fri 13 Nov", "Handed out", "-2", "28"),
        ("Sun 8 Nov", "Received", "+30", "30"),  # day(10): the dates as people read them
    ]
    assert "Lot N-2" in movements[0][1]  # first expiry, first out
    assert table_rows(html, **{"class": "opening"})[0][-1] == "0"
    assert html.index('class="closing"') < html.index('class="movement"') < html.index('class="opening"')
    assert "Data-quality warning" not in html and "Below zero" not in html and "Older movements" not in html


def test_the_stock_card_defaults_to_90_days_and_takes_a_date_range(
    flask_app: Flask, inventory: InventoryApplication, people: dict[str, Person]
) -> None:
    naloxone_at_the_van(inventory, flask_app)
    coordinator = people["coordinator"]

    default = coordinator.get("/sites/VAN-1/stock/NALOX-4MG").get_data(as_text=True)
    assert f'value="{day(89).isoformat()}"' in default and f'value="{day(0).isoformat()}"' in default

    narrow = coordinator.get("/sites/VAN-1/stock/NALOX-4MG", start=day(4).isoformat(), end=day(2).isoformat())
    html = narrow.get_data(as_text=True)
    assert [c[0] for c in table_rows(html, **{"class": "movement"})] == ["Sun 15 Nov"]  # day(3)
    assert table_rows(html, **{"class": "opening"})[0][-1] == "28"
    assert table_rows(html, **{"class": "closing"})[0][-1] == "48"

    backwards = coordinator.get("/sites/VAN-1/stock/NALOX-4MG", start=day(2).isoformat(), end=day(4).isoformat())
    assert backwards.status_code == 422
    assert "Choose a date on or after the start date." in backwards.get_data(as_text=True)
    nonsense = coordinator.get("/sites/VAN-1/stock/NALOX-4MG", start="last tuesday")
    assert nonsense.status_code == 422
    assert "Enter a date like 2026-03-31." in nonsense.get_data(as_text=True)
    assert 'value="last tuesday"' in nonsense.get_data(as_text=True)


def test_a_backdated_issue_that_drives_a_past_balance_below_zero_is_shown_as_a_warning(
    flask_app: Flask, inventory: InventoryApplication, people: dict[str, Person]
) -> None:
    receive(inventory, "VAN-1", "SYR-1ML", "S-1", 200, occurred_at=at(3))
    # Entered afterwards with the wrong date: six days ago, before the delivery it drew from (refused
    # since release 0.3.0, but a log from an earlier release can hold it).
    hand_out_as_release_0_2_did(inventory, "VAN-1", "SYR-1ML", "S-1", 50, at(6), "coord@example.org")
    catch_up(flask_app)

    html = people["coordinator"].get("/sites/VAN-1/stock/SYR-1ML").get_data(as_text=True)

    assert "Data-quality warning" in html
    assert "goes below zero on Thu 12 Nov 2026" in html  # day(6)
    [flagged] = table_rows(html, **{"class": "movement warning-row"})
    assert flagged[0] == "Thu 12 Nov" and "Below zero" in flagged[1] and flagged[3] == "-50"
    assert [c[3] for c in table_rows(html, **{"class": "movement"})] == ["150"]


def test_an_unknown_item_is_404(flask_app: Flask, people: dict[str, Person]) -> None:
    assert people["coordinator"].get("/sites/VAN-1/stock/NO-SUCH-SKU").status_code == 404
    assert people["auditor"].get("/sites/NOWHERE/stock").status_code == 404


def test_a_coordinator_sees_only_their_own_sites(
    flask_app: Flask, inventory: InventoryApplication, people: dict[str, Person]
) -> None:
    naloxone_at_the_van(inventory, flask_app)
    coordinator = people["coordinator"]

    for path in ("/sites/WH/stock", "/sites/WH/stock/NALOX-4MG"):
        refused = coordinator.get(path)
        assert refused.status_code == 403, path
        assert "W-SECRET-1" not in refused.get_data(as_text=True) and "400" not in refused.get_data(as_text=True)

    overview = coordinator.get("/stock").get_data(as_text=True)
    assert 'href="/sites/VAN-1/stock"' in overview
    assert "/sites/WH/stock" not in overview and 'data-site="WH"' not in overview

    # The auditor reads every site.
    warehouse = people["auditor"].get("/sites/WH/stock")
    assert warehouse.status_code == 200 and "W-SECRET-1" in warehouse.get_data(as_text=True)


def test_stock_on_the_page_matches_the_read_model(
    flask_app: Flask, inventory: InventoryApplication, people: dict[str, Person]
) -> None:
    naloxone_at_the_van(inventory, flask_app)
    html = people["purchasing"].get("/sites/WH/stock").get_data(as_text=True)
    for lot in queries.stock_on_hand(flask_app.extensions["inventory"].store, "WH"):
        [row] = table_rows(html, data_lot=lot["lot"])
        assert row[-1] == f"{lot['quantity']:,}"


def test_a_long_stock_card_pages_newest_first_at_50_rows_and_its_balances_run_on_across_pages(
    flask_app: Flask, inventory: InventoryApplication, people: dict[str, Person]
) -> None:
    """A van's card after months of visits: a page holds 50 movements, "Older movements" goes on from the
    last one shown, and each balance is the one after the movement below it plus that movement."""
    receive(inventory, "VAN-1", "SYR-1ML", "S-1", 5000, occurred_at=at(80, 8))
    for n in range(119):  # 119 visits over 60 days, two on some days
        hand_out(inventory, f"paging-{n:04d}", "VAN-1", "SYR-1ML", 1 + n % 7, at(60 - n // 2, 9 + n % 2))
    catch_up(flask_app)
    coordinator = people["coordinator"]
    card = "/sites/VAN-1/stock/SYR-1ML"

    seen: list[list[str]] = []
    url: str | None = card
    pages = 0
    while url:
        html = coordinator.get(url).get_data(as_text=True)
        pages += 1
        rows = table_rows(html, **{"class": "movement"})
        assert len(rows) == (50 if pages < 3 else 20), (pages, len(rows))
        seen.extend(rows)
        found = re.search(r'<a href="([^"]+)" rel="next"', html)
        url = htmlmod.unescape(found.group(1)) if found else None
        if pages > 1:
            assert "Back to the newest" in html and 'class="closing"' not in html
    assert pages == 3 and 'class="opening"' in html
    total = 5000 - sum(1 + n % 7 for n in range(119))
    balances = [int(row[3].replace(",", "")) for row in seen]
    changes = [int(row[2].replace(",", "").replace("\u2212", "-")) for row in seen]
    assert balances[0] == total
    assert all(balances[i + 1] == balances[i] - changes[i] for i in range(len(seen) - 1))
    assert balances[-1] == 5000 and changes[-1] == 5000
    assert coordinator.get(card, older="999999-0").status_code == 404
