"""The transfers and purchase orders lists: filtered, sorted and paged through links that keep the filters,
so a page can be bookmarked or sent; each transfer or order on exactly one page."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from flask import Flask

from inventory.application import InventoryApplication
from inventory.projections.paging import BAD_CURSOR
from tests.web.conftest import ADMIN, day
from tests.web.pages.conftest import Person
from tests.web.pages.test_transfer_pages import field_error

TRANSFER = re.compile(r'data-transfer="([0-9a-f-]{36})"')
ORDER = re.compile(r'data-order="([0-9a-f-]{36})"')
NEXT = re.compile(r'<a href="([^"]+)" role="button" class="outline" rel="next">')


def catch_up(flask_app: Flask) -> None:
    flask_app.extensions["inventory"].projector.catch_up()


def flat(pages: list[list[str]]) -> list[str]:
    return [the_id for page in pages for the_id in page]


def every_page(person: Person, path: str, pattern: re.Pattern[str]) -> list[list[str]]:
    """The ids on each page, following "next" from `path` to the last page."""
    pages = []
    while path:
        response = person.get(path)
        assert response.status_code == 200, response.get_data(as_text=True)[:300]
        body = response.get_data(as_text=True)
        pages.append(pattern.findall(body.split('id="all-heading"')[-1].split('id="recent-heading"')[0]))
        found = NEXT.search(body)
        path = found.group(1).replace("&amp;", "&") if found else ""
    return pages


@pytest.fixture
def sent(flask_app: Flask, inventory: InventoryApplication) -> dict[str, list[str]]:
    """56 transfers from the warehouse: 52 to VAN-1 (3 of them received), 4 to a third site (1 cancelled)."""
    inventory.register_site(code="FIX-1", name="Drop-in centre", kind="fixed", actor=ADMIN)
    inventory.receive_stock(
        site="WH", sku="SYR-1ML", lot="S-1", quantity=1000, expires_on=None, funding_source="STATE", actor=ADMIN
    )
    ids: dict[str, list[str]] = {"VAN-1": [], "FIX-1": [], "all": []}
    for n in range(56):
        to = "FIX-1" if n % 14 == 13 else "VAN-1"
        done = inventory.dispatch_transfer(
            from_site="WH", to_site=to, lines=[{"sku": "SYR-1ML", "quantity": 1}], actor=ADMIN
        )
        ids[to].append(str(done["id"]))
        ids["all"].append(str(done["id"]))
    for the_id in ids["VAN-1"][:3]:
        inventory.receive_transfer(transfer_id=the_id, actor=ADMIN)
    inventory.cancel_transfer(transfer_id=ids["FIX-1"][0], reason="Sent by mistake", actor=ADMIN)
    catch_up(flask_app)
    return ids


def test_transfers_page_through_filters_in_either_order_each_on_one_page(
    people: dict[str, Person], sent: dict[str, list[str]]
) -> None:
    admin = people["admin"]
    first = admin.get("/transfers").get_data(as_text=True)
    # The first view: 20 still on their way (oldest first, the rest a link away), then those done with.
    waiting = TRANSFER.findall(first.split('id="transit-heading"')[1].split('id="all-heading"')[0])
    assert waiting == sent["VAN-1"][3:23] and "Every transfer in transit, oldest first" in first
    done = TRANSFER.findall(first.split('id="all-heading"')[1])
    assert done == [sent["FIX-1"][0], *reversed(sent["VAN-1"][:3])]  # newest first

    gone = {*sent["VAN-1"][:3], sent["FIX-1"][0]}
    in_transit = [the_id for the_id in sent["all"] if the_id not in gone]  # in the order they were sent
    oldest = every_page(admin, "/transfers?status=in_transit&sort=oldest", TRANSFER)
    assert [len(page) for page in oldest] == [50, 2]
    assert flat(oldest) == in_transit
    newest = every_page(admin, "/transfers?status=in_transit", TRANSFER)
    assert flat(newest) == list(reversed(flat(oldest)))
    assert 'name="status"' in admin.get("/transfers?status=in_transit&sort=oldest").get_data(as_text=True)

    # A site's transfers are those from it or to it.
    to_fix = flat(every_page(admin, "/transfers?site=FIX-1", TRANSFER))
    assert sorted(to_fix) == sorted(sent["FIX-1"])
    assert len(flat(every_page(admin, "/transfers?site=WH", TRANSFER))) == 56


def test_transfers_sent_on_days_outside_the_range_are_not_listed(
    people: dict[str, Person], sent: dict[str, list[str]]
) -> None:
    admin = people["admin"]
    today = day(0)
    later = admin.get(f"/transfers?start={(today + timedelta(days=1)).isoformat()}")
    assert later.status_code == 200 and TRANSFER.findall(later.get_data(as_text=True)) == []
    assert "No transfer matches these filters." in later.get_data(as_text=True)
    backwards = admin.get(f"/transfers?start={today.isoformat()}&end={(today - timedelta(days=1)).isoformat()}")
    assert backwards.status_code == 422
    assert field_error(backwards.get_data(as_text=True), "end") == "Choose a date on or after the start date."


def test_a_coordinator_lists_only_their_sites_and_a_damaged_page_link_says_to_start_again(
    people: dict[str, Person], sent: dict[str, list[str]]
) -> None:
    coordinator = people["coordinator"]  # works at VAN-1 only
    theirs = flat(every_page(coordinator, "/transfers?status=in_transit", TRANSFER))
    assert sorted(theirs) == sorted(sent["VAN-1"][3:])
    other = coordinator.get("/transfers?site=FIX-1")
    assert (
        other.status_code == 422 and field_error(other.get_data(as_text=True), "site") == "Choose a site from the list."
    )
    damaged = coordinator.get("/transfers?status=in_transit&after=not-a-cursor")
    assert damaged.status_code == 422 and BAD_CURSOR in damaged.get_data(as_text=True).replace("&#39;", "'")


def test_purchase_orders_are_found_by_number_status_and_site_and_paged(
    people: dict[str, Person], flask_app: Flask, inventory: InventoryApplication
) -> None:
    numbers = {}
    for n in range(53):
        site = "VAN-1" if n % 2 else "WH"
        order = inventory.raise_purchase_order(
            supplier="Harm Reduction Supply Co", site=site, funding_source="STATE",
            lines=[{"sku": "NALOX-4MG", "quantity": 10 + n}], number=f"PO-{100 + n}", actor=ADMIN,
        )  # fmt: skip
        numbers[f"PO-{100 + n}"] = str(order["id"])
    for number in ("PO-100", "PO-101"):
        inventory.submit_purchase_order(order_id=numbers[number], actor=ADMIN)
    inventory.cancel_purchase_order(order_id=numbers["PO-102"], reason="No longer needed", actor=ADMIN)
    catch_up(flask_app)
    buyer = people["purchasing"]

    first = buyer.get("/purchase-orders").get_data(as_text=True)
    open_part, finished = first.split('id="recent-heading"')
    assert len(ORDER.findall(open_part)) == 50 and ORDER.findall(finished) == [numbers["PO-102"]]
    opened = flat(every_page(buyer, "/purchase-orders", ORDER))
    assert sorted(opened) == sorted(v for k, v in numbers.items() if k != "PO-102")

    # PO-11 starts PO-110 to PO-119; in number order, oldest first.
    by_number = every_page(buyer, "/purchase-orders?number=po-11&status=any&sort=oldest", ORDER)
    assert by_number == [[numbers[f"PO-{n}"] for n in range(110, 120)]]
    submitted = every_page(buyer, "/purchase-orders?status=submitted", ORDER)
    assert sorted(submitted[0]) == sorted([numbers["PO-100"], numbers["PO-101"]])
    at_the_van = flat(every_page(buyer, "/purchase-orders?site=VAN-1&status=any", ORDER))
    assert sorted(at_the_van) == sorted(numbers[f"PO-{100 + n}"] for n in range(1, 53, 2))
    nothing = buyer.get("/purchase-orders?number=PO-9")
    assert nothing.status_code == 200 and "No order matches these filters." in nothing.get_data(as_text=True)


def test_the_stock_overview_is_found_by_site_item_and_status(
    people: dict[str, Person], flask_app: Flask, inventory: InventoryApplication
) -> None:
    inventory.set_stock_level(
        site="VAN-1", sku="NALOX-4MG", reorder_point=10, par_level=30, lead_time_days=3, actor=ADMIN
    )
    for site, sku, quantity in (("VAN-1", "NALOX-4MG", 4), ("VAN-1", "SYR-1ML", 200), ("WH", "NALOX-4MG", 50)):
        inventory.receive_stock(
            site=site, sku=sku, lot=f"{site}-{sku}", quantity=quantity, expires_on="2030-01-31" if "NALOX" in sku
            else None, funding_source="STATE", actor=ADMIN,
        )  # fmt: skip
    catch_up(flask_app)
    admin = people["admin"]

    def shown(**query: str) -> list[tuple[str, str]]:
        page = admin.get("/stock", **query)
        assert page.status_code == 200, page.get_data(as_text=True)[:300]
        body = page.get_data(as_text=True)
        found = []
        for section in body.split('<section class="report-site"')[1:]:
            site = re.search(r'data-site="([^"]+)"', section)
            assert site is not None
            found += [(site.group(1), sku) for sku in re.findall(r'<tr class="status-\w+" data-sku="([^"]+)"', section)]
        return found

    assert shown() == [("VAN-1", "NALOX-4MG"), ("VAN-1", "SYR-1ML"), ("WH", "NALOX-4MG")]
    assert shown(site="WH") == [("WH", "NALOX-4MG")]
    assert shown(item="syringe") == [("VAN-1", "SYR-1ML")]  # by name, whatever the case
    assert shown(item="nalox") == [("VAN-1", "NALOX-4MG"), ("WH", "NALOX-4MG")]  # by code
    assert shown(status="short") == [("VAN-1", "NALOX-4MG")]  # 4 against a reorder point of 10
    assert shown(site="VAN-1", sort="on_hand") == [("VAN-1", "NALOX-4MG"), ("VAN-1", "SYR-1ML")]
    assert "Nothing matches these filters." in admin.get("/stock", item="cooker").get_data(as_text=True)
    wrong = people["coordinator"].get("/stock", site="WH")  # not one of the coordinator's sites
    assert wrong.status_code == 422
    assert field_error(wrong.get_data(as_text=True), "site") == "Choose a site from the list."
