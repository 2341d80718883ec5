"""The API's lists page alike: `limit` rows, then `cursor` set to the answer's `next_cursor` until it is null;
each row on exactly one page, a damaged cursor refused with what to do, and the OpenAPI document says so."""

from __future__ import annotations

from typing import Any

from flask import Flask

from inventory.application import InventoryApplication
from inventory.projections.paging import BAD_CURSOR
from tests.web.conftest import ADMIN, Caller, check_alerts, day, error, ok


def every_page(caller: Caller, path: str, rows: str, **query: Any) -> list[list[dict[str, Any]]]:
    pages, cursor = [], None
    while True:
        answer = ok(caller.get(path, **query, **({"cursor": cursor} if cursor else {})), 200)
        pages.append(answer[rows])
        cursor = answer["next_cursor"]
        if cursor is None:
            return pages


def catch_up(flask_app: Flask) -> None:
    flask_app.extensions["inventory"].projector.catch_up()


def test_transfers_and_orders_page_by_cursor_within_the_callers_sites(
    flask_app: Flask, inventory: InventoryApplication, staff: dict[str, Caller]
) -> None:
    inventory.register_site(code="FIX-1", name="Drop-in centre", kind="fixed", actor=ADMIN)
    inventory.receive_stock(
        site="WH", sku="SYR-1ML", lot="S-1", quantity=100, expires_on=None, funding_source="STATE", actor=ADMIN
    )
    sent = [
        str(inventory.dispatch_transfer(
            from_site="WH", to_site="FIX-1" if n % 5 == 4 else "VAN-1", lines=[{"sku": "SYR-1ML", "quantity": 1}],
            actor=ADMIN,
        )["id"])
        for n in range(12)
    ]  # fmt: skip
    for n in range(7):
        inventory.raise_purchase_order(
            supplier="Supply Co", site="VAN-1" if n % 2 else "WH", funding_source="STATE",
            lines=[{"sku": "NALOX-4MG", "quantity": 5}], number=f"PO-{20 + n}", actor=ADMIN,
        )  # fmt: skip
    catch_up(flask_app)
    admin, coordinator = staff["admin"], staff["coordinator"]  # the coordinator works at VAN-1 only

    pages = every_page(admin, "/api/v1/transfers", "transfers", limit=5, order="oldest")
    assert [len(page) for page in pages] == [5, 5, 2]
    assert [row["id"] for page in pages for row in page] == sent
    newest = every_page(admin, "/api/v1/transfers", "transfers", limit=5)
    assert [row["id"] for page in newest for row in page] == list(reversed(sent))
    assert newest[0][0]["status"] == "in_transit" and newest[0][0]["lines"][0]["quantity"] == 1

    theirs = every_page(coordinator, "/api/v1/transfers", "transfers", limit=4)
    assert {row["to_site"] for page in theirs for row in page} == {"VAN-1"}
    assert sum(len(page) for page in theirs) == 10
    error(coordinator.get("/api/v1/transfers", site="FIX-1"), 403)
    later = ok(admin.get("/api/v1/transfers", sent_from=day(-1).isoformat()), 200)
    assert later == {"transfers": [], "next_cursor": None}

    orders = every_page(admin, "/api/v1/purchase-orders", "purchase_orders", limit=3, order="oldest")
    assert [row["number"] for page in orders for row in page] == [f"PO-{20 + n}" for n in range(7)]
    found = ok(admin.get("/api/v1/purchase-orders", number="po-2", status="draft", limit=50), 200)
    assert len(found["purchase_orders"]) == 7 and found["next_cursor"] is None
    at_van = every_page(coordinator, "/api/v1/purchase-orders", "purchase_orders", limit=2)
    assert [row["number"] for page in at_van for row in page] == ["PO-25", "PO-23", "PO-21"]


def test_a_damaged_cursor_or_a_limit_out_of_range_says_what_to_do(staff: dict[str, Caller]) -> None:
    admin = staff["admin"]
    for path, query in (
        ("/api/v1/transfers", {}),
        ("/api/v1/purchase-orders", {}),
        ("/api/v1/stock-card", {"site": "WH", "sku": "SYR-1ML", "from": day(3).isoformat(), "to": day(0).isoformat()}),
    ):
        damaged = error(admin.get(path, cursor="bm90IG91cnM", **query), 422)
        assert damaged["fields"] == {"cursor": [BAD_CURSOR]}, path
        too_many = error(admin.get(path, limit=201, **query), 422)
        assert too_many["fields"] == {"limit": ["Ask for 1 to 200 rows."]}, path


def test_the_stock_card_pages_either_way_with_its_balances(
    flask_app: Flask, inventory: InventoryApplication, staff: dict[str, Caller]
) -> None:
    inventory.receive_stock(
        site="VAN-1", sku="SYR-1ML", lot="S-1", quantity=100, expires_on=None, funding_source="STATE", actor=ADMIN
    )
    for n in range(1, 8):
        inventory.adjust_stock(site="VAN-1", sku="SYR-1ML", lot="S-1", quantity=-n, reason="damaged", actor=ADMIN)
    catch_up(flask_app)
    query = {"site": "VAN-1", "sku": "SYR-1ML", "from": day(0).isoformat(), "to": day(0).isoformat(), "limit": 3}
    pages, cursor, answers = [], None, []
    while True:
        answer = ok(staff["admin"].get("/api/v1/stock-card", **query, **({"cursor": cursor} if cursor else {})), 200)
        answers.append(answer)
        pages.append([(row["quantity"], row["balance"]) for row in answer["rows"]])
        if (cursor := answer["next_cursor"]) is None:
            break
    # Oldest first (as before pages): the receipt, then 1, 2, … 7 taken off, each with the balance after it.
    assert pages == [[(100, 100), (-1, 99), (-2, 97)], [(-3, 94), (-4, 90), (-5, 85)], [(-6, 79), (-7, 72)]]
    assert answers[0]["opening"] == 0 and answers[0]["closing"] is None
    assert answers[-1]["opening"] is None and answers[-1]["closing"] == 72
    newest = ok(staff["admin"].get("/api/v1/stock-card", **query, order="newest"), 200)
    assert [(row["quantity"], row["balance"]) for row in newest["rows"]] == [(-7, 72), (-6, 79), (-5, 85)]
    assert newest["closing"] == 72 and newest["opening"] is None


def test_the_openapi_document_says_how_lists_page(client: Any) -> None:
    document = client.get("/api/v1/openapi.json").get_json()
    for path in ("/api/v1/transfers", "/api/v1/purchase-orders", "/api/v1/stock-card"):
        names = {parameter["name"] for parameter in document["paths"][path]["get"]["parameters"]}
        assert {"limit", "cursor"} <= names, path


def test_lots_on_hand_and_open_alerts_page_with_a_link_to_the_next_page(
    flask_app: Flask, inventory: InventoryApplication, staff: dict[str, Caller]
) -> None:
    for n in range(7):
        inventory.receive_stock(
            site="VAN-1" if n % 2 else "WH", sku="SYR-1ML", lot=f"S-{n}", quantity=10, expires_on=None,
            funding_source="STATE", actor=ADMIN,
        )  # fmt: skip
    inventory.adjust_stock(site="WH", sku="SYR-1ML", lot="S-2", quantity=-10, reason="damaged", actor=ADMIN)
    catch_up(flask_app)
    admin = staff["admin"]
    lots, path = [], "/api/v1/stock?limit=2"
    while path:
        answer = admin.client.get(path, headers=admin.headers())
        assert answer.status_code == 200
        lots.append([(row["site"], row["lot"]) for row in answer.get_json()])
        link = answer.headers.get("Link")
        assert (link is None) == (answer.headers.get("X-Next-Cursor") is None)
        path = link.split(";")[0].strip("<>").removeprefix("http://localhost") if link else ""
    # By site, item and lot; the used-up lot is not listed.
    assert lots == [
        [("VAN-1", "S-1"), ("VAN-1", "S-3")],
        [("VAN-1", "S-5"), ("WH", "S-0")],
        [("WH", "S-4"), ("WH", "S-6")],
    ]
    theirs = ok(staff["coordinator"].get("/api/v1/stock", limit=50), 200)
    assert [row["lot"] for row in theirs] == ["S-1", "S-3", "S-5"]
    as_of = ok(admin.get("/api/v1/stock", as_of=day(0).isoformat(), limit=4), 200)
    assert [row["lot"] for row in as_of] == ["S-1", "S-3", "S-5", "S-0"]
    error(admin.get("/api/v1/stock", cursor="bm90IG91cnM"), 422)

    # Three shortages: a page of one at a time, each once, newest raised first as the whole list has them.
    for site, sku in (("VAN-1", "SYR-1ML"), ("VAN-1", "NALOX-4MG"), ("WH", "NALOX-4MG")):
        inventory.set_stock_level(site=site, sku=sku, reorder_point=100, par_level=200, lead_time_days=7, actor=ADMIN)
    check_alerts(flask_app)
    whole = ok(admin.get("/api/v1/alerts", limit=200), 200)
    assert len(whole) >= 3
    one_by_one, cursor = [], None
    while True:
        answer = admin.get("/api/v1/alerts", limit=1, **({"cursor": cursor} if cursor else {}))
        one_by_one += ok(answer, 200)
        if (cursor := answer.headers.get("X-Next-Cursor")) is None:
            break
    assert [(a["id"], a["episode"]) for a in one_by_one] == [(a["id"], a["episode"]) for a in whole]


def test_the_openapi_document_says_how_array_lists_page(client: Any) -> None:
    document = client.get("/api/v1/openapi.json").get_json()
    for path in ("/api/v1/stock", "/api/v1/alerts"):
        operation = document["paths"][path]["get"]
        assert {"limit", "cursor"} <= {parameter["name"] for parameter in operation["parameters"]}, path
        assert {"Link", "X-Next-Cursor"} <= set(operation["responses"]["200"]["headers"]), path
