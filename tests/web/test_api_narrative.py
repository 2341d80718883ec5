"""A small program run end to end through the HTTP API only, with every figure checked.

Only the first admin is bootstrapped through the application (as `inventory users create` does);
everything after that is a request. Steps are dated in the past (receipts ten days ago, visits on
several days since) so stock as of a date and the stock card have history to show.
"""

from __future__ import annotations

import json
from datetime import date
from typing import Any

from tests.web.conftest import ADMIN, ADMIN_PASSWORD, Caller, check_alerts, day, error, noon, ok

SITES = "/api/v1/sites"
ITEMS = "/api/v1/items"
FUNDING = "/api/v1/funding-sources"
RECEIPTS = "/api/v1/receipts"
ENCOUNTERS = "/api/v1/encounters"
TRANSFERS = "/api/v1/transfers"


def lot(site: str, sku: str, code: str, quantity: int, expires: int | None, funding: str | None) -> dict[str, Any]:
    """A stock row as the API answers it; `expires` is days from today (negative: already past)."""
    return {
        "site": site,
        "sku": sku,
        "lot": code,
        "quantity": quantity,
        "expires_on": day(-expires).isoformat() if expires is not None else None,
        "funding_source": funding,
    }


def pick(code: str, quantity: int, expires: int | None, funding: str) -> dict[str, Any]:
    """A lot an issue took from, as encounters and transfers answer it."""
    row = lot("", "", code, quantity, expires, funding)
    del row["site"], row["sku"]
    return row


def stock(caller: Caller, **query: Any) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = ok(caller.get("/api/v1/stock", **query), 200)
    return rows


def stock_card(caller: Caller, site: str, sku: str, start: int, end: int) -> dict[str, Any]:
    query = {"site": site, "sku": sku, "from": day(start).isoformat(), "to": day(end).isoformat()}
    card: dict[str, Any] = ok(caller.get("/api/v1/stock-card", **query), 200)
    return card


def movements(card: dict[str, Any]) -> list[tuple[str, str, str, int, int]]:
    """(business date, kind, lot, quantity, running balance) of each row of a stock card."""
    return [(r["business_date"], r["kind"], r["lot"], r["quantity"], r["balance"]) for r in card["rows"]]


def receive(caller: Caller, site: str, sku: str, code: str, quantity: int, expires: int | None, funding: str) -> Any:
    body = {
        "site": site,
        "sku": sku,
        "lot": code,
        "quantity": quantity,
        "expires_on": day(-expires).isoformat() if expires is not None else None,
        "funding_source": funding,
        "unit_cost": "18.50" if sku == "NALOX-4MG" else "0.12",
        "occurred_at": noon(10),
    }
    return caller.post(RECEIPTS, body)


def visit(caller: Caller, key: str, site: str, days_ago: int, *lines: dict[str, Any], **extra: Any) -> Any:
    return caller.post(ENCOUNTERS, {"site": site, "lines": list(lines), "occurred_at": noon(days_ago), **extra}, key)


def line(sku: str, quantity: int, lot_code: str | None = None) -> dict[str, Any]:
    found: dict[str, Any] = {"sku": sku, "quantity": quantity}
    if lot_code is not None:
        found["lot"] = lot_code
    return found


def whole_feed(caller: Caller, page: int) -> tuple[list[dict[str, Any]], int]:
    """Every event in the feed, read `page` at a time with after/limit, checking each page's cursor."""
    events: list[dict[str, Any]] = []
    after, head = 0, None
    while True:
        body = ok(caller.get("/api/v1/events", after=after, limit=page), 200)
        head = body["head"] if head is None else head
        assert body["head"] == head
        assert len(body["events"]) <= page
        if not body["events"]:
            assert body["next_after"] == after
            return events, head
        assert body["next_after"] == body["events"][-1]["position"]
        events.extend(body["events"])
        after = body["next_after"]


def test_a_small_program_runs_end_to_end_through_the_api(client: Any, first_admin: str) -> None:
    # ----- the admin signs in for a token ----------------------------------------------------
    signed_in = ok(client.post("/api/v1/tokens", json={"email": ADMIN, "password": ADMIN_PASSWORD}))
    assert signed_in["email"] == ADMIN and signed_in["role"] == "admin" and signed_in["sites"] == []
    admin = Caller(client, signed_in["token"])

    # ----- the catalog: a warehouse and a van, three items, a federal and a state fund ----------
    warehouse = ok(admin.post(SITES, {"code": "WH", "name": "Central warehouse", "kind": "warehouse"}))
    assert warehouse["id"] and warehouse["code"] == "WH" and warehouse["kind"] == "warehouse"
    assert warehouse["open"] is True and warehouse["levels"] == {}
    van = ok(admin.post(SITES, {"code": "VAN-1", "name": "Outreach van", "kind": "mobile"}))
    assert van["code"] == "VAN-1" and van["id"] != warehouse["id"]
    naloxone = ok(
        admin.post(
            ITEMS,
            {"sku": "NALOX-4MG", "name": "Naloxone 4 mg", "category": "naloxone", "unit": "kit", "tracks_expiry": True},
        )
    )
    assert naloxone["id"] and naloxone["sku"] == "NALOX-4MG" and naloxone["tracks_expiry"] is True
    assert naloxone["retired"] is False and naloxone["pack_size"] == 1
    ok(
        admin.post(
            ITEMS,
            {
                "sku": "SYR-1ML",
                "name": "Syringe 1 mL",
                "category": "syringe",
                "unit": "syringe",
                "tracks_expiry": False,
            },
        )
    )
    ok(
        admin.post(
            ITEMS,
            {
                "sku": "FTS",
                "name": "Fentanyl test strip",
                "category": "test_strip",
                "unit": "strip",
                "tracks_expiry": False,
            },
        )
    )
    federal = ok(
        admin.post(
            FUNDING,
            {
                "code": "SOR",
                "name": "State Opioid Response",
                "federal": True,
                "restrictions": [{"category": "syringe", "starts_on": "2018-01-01"}],
            },
        )
    )
    assert federal["id"] and federal["federal"] is True
    assert federal["restrictions"] == [{"category": "syringe", "starts_on": "2018-01-01", "ends_on": None}]
    ok(admin.post(FUNDING, {"code": "STATE", "name": "State fund", "federal": False}))
    assert [s["code"] for s in ok(admin.get(SITES), 200)] == ["VAN-1", "WH"]
    assert [i["sku"] for i in ok(admin.get(ITEMS), 200)] == ["FTS", "NALOX-4MG", "SYR-1ML"]

    # ----- stock levels --------------------------------------------------------------------------
    levels = {
        ("VAN-1", "NALOX-4MG"): (20, 60, 7),
        ("VAN-1", "SYR-1ML"): (100, 500, 7),
        ("VAN-1", "FTS"): (10, 50, 7),
        ("WH", "NALOX-4MG"): (50, 200, 14),
    }
    for (site, sku), (point, par, lead) in levels.items():
        body = {"reorder_point": point, "par_level": par, "lead_time_days": lead}
        assert ok(admin.put(f"/api/v1/sites/{site}/levels/{sku}", body), 200) == dict(body, site=site, sku=sku)
    van_levels = next(s for s in ok(admin.get(SITES), 200) if s["code"] == "VAN-1")["levels"]
    assert van_levels["NALOX-4MG"] == {"reorder_point": 20, "par_level": 60, "lead_time_days": 7}

    # ----- day -10: deliveries ---------------------------------------------------------------
    assert stock(admin) == []
    ok(receive(admin, "WH", "NALOX-4MG", "N-OLD", 30, -3, "SOR"))  # expires 3 days ago
    ok(receive(admin, "WH", "NALOX-4MG", "N-SOON", 40, 30, "SOR"))  # expires in 30 days
    received = ok(receive(admin, "WH", "NALOX-4MG", "N-LATE", 100, 400, "STATE"))
    assert received["site"] == "WH" and received["sku"] == "NALOX-4MG" and received["on_hand"] == 170
    assert [(x["lot"], x["quantity"]) for x in received["lots"]] == [("N-OLD", 30), ("N-SOON", 40), ("N-LATE", 100)]
    ok(receive(admin, "WH", "SYR-1ML", "S-1", 1000, None, "STATE"))

    # Federal money may not buy syringes: refused, with the rule in the message, nothing recorded.
    refused = error(receive(admin, "WH", "SYR-1ML", "S-FED", 500, None, "SOR"), 409, "funding_restricted")
    assert "SOR" in refused["message"] and "SYR-1ML" in refused["message"]
    assert "no syringe purchases from Mon 1 Jan 2018 with no end date" in refused["message"]
    assert refused["fields"] == {"funding_source": [refused["message"]]}

    ok(receive(admin, "VAN-1", "NALOX-4MG", "N-VAN", 10, 200, "STATE"))
    ok(receive(admin, "VAN-1", "SYR-1ML", "S-V", 200, None, "STATE"))
    ok(receive(admin, "VAN-1", "FTS", "F-1", 5, None, "STATE"))

    as_received = [
        lot("VAN-1", "FTS", "F-1", 5, None, "STATE"),
        lot("VAN-1", "NALOX-4MG", "N-VAN", 10, 200, "STATE"),
        lot("VAN-1", "SYR-1ML", "S-V", 200, None, "STATE"),
        lot("WH", "NALOX-4MG", "N-OLD", 30, -3, "SOR"),
        lot("WH", "NALOX-4MG", "N-SOON", 40, 30, "SOR"),
        lot("WH", "NALOX-4MG", "N-LATE", 100, 400, "STATE"),
        lot("WH", "SYR-1ML", "S-1", 1000, None, "STATE"),
    ]
    assert stock(admin) == as_received

    # ----- day -9: the warehouse sends naloxone and syringes to the van ---------------------------
    sent = ok(
        admin.post(
            TRANSFERS,
            {
                "from_site": "WH",
                "to_site": "VAN-1",
                "lines": [line("NALOX-4MG", 25), line("SYR-1ML", 300)],
                "occurred_at": noon(9),
            },
        )
    )
    assert sent["id"] and sent["status"] == "in_transit"
    assert (sent["from_site"], sent["to_site"]) == ("WH", "VAN-1")
    # First expiry, first out: the lot expiring soonest goes.
    assert sent["lines"] == [
        dict(pick("N-OLD", 25, -3, "SOR"), sku="NALOX-4MG"),
        dict(pick("S-1", 300, None, "STATE"), sku="SYR-1ML"),
    ]
    assert sent["received"] == [] and sent["shortfall"] == []

    # In transit: it has left the warehouse and is not yet at the van.
    assert ok(admin.get(f"{TRANSFERS}/{sent['id']}"), 200) == sent
    assert stock(admin, site="WH") == [
        lot("WH", "NALOX-4MG", "N-OLD", 5, -3, "SOR"),
        lot("WH", "NALOX-4MG", "N-SOON", 40, 30, "SOR"),
        lot("WH", "NALOX-4MG", "N-LATE", 100, 400, "STATE"),
        lot("WH", "SYR-1ML", "S-1", 700, None, "STATE"),
    ]
    assert stock(admin, site="VAN-1") == as_received[:3]

    # ----- day -8: the van books it in; two kits are missing ----------------------------------
    arrived = ok(
        admin.post(
            f"{TRANSFERS}/{sent['id']}/receive",
            {
                "received": [
                    {"sku": "NALOX-4MG", "lot": "N-OLD", "quantity": 23},
                    {"sku": "SYR-1ML", "lot": "S-1", "quantity": 300},
                ],
                "note": "one box crushed",
                "occurred_at": noon(8),
            },
        ),
        200,
    )
    assert arrived["status"] == "received"
    assert arrived["received"] == [
        dict(pick("N-OLD", 23, -3, "SOR"), sku="NALOX-4MG"),
        dict(pick("S-1", 300, None, "STATE"), sku="SYR-1ML"),
    ]
    assert arrived["shortfall"] == [dict(pick("N-OLD", 2, -3, "SOR"), sku="NALOX-4MG")]
    assert ok(admin.get(f"{TRANSFERS}/{sent['id']}"), 200)["status"] == "received"

    # ----- days -7 to -4: visits to the van ---------------------------------------------------
    first = ok(
        visit(
            admin,
            "visit-day7-0001",
            "VAN-1",
            7,
            line("NALOX-4MG", 2),
            line("SYR-1ML", 10),
            participant_code="K7QX",
            reversals_reported=1,
            syringes_collected=8,
            refill_reason="used_on_overdose",
        )
    )
    assert first["id"] and first["key"] == "visit-day7-0001" and first["site"] == "VAN-1"
    assert first["actor"] == ADMIN and first["occurred_at"] == noon(7)
    assert (first["participant_code"], first["reversals_reported"], first["syringes_collected"]) == ("K7QX", 1, 8)
    assert first["refill_reason"] == "used_on_overdose"
    # FEFO: the transferred lot expires first; syringes have no expiry, so the lot code decides.
    assert first["lines"] == [
        {"sku": "NALOX-4MG", "category": "naloxone", "quantity": 2, "lots": [pick("N-OLD", 2, -3, "SOR")]},
        {"sku": "SYR-1ML", "category": "syringe", "quantity": 10, "lots": [pick("S-1", 10, None, "STATE")]},
    ]
    assert ok(visit(admin, "visit-day6-0001", "VAN-1", 6, line("NALOX-4MG", 3)))["lines"][0]["lots"] == [
        pick("N-OLD", 3, -3, "SOR")
    ]
    # Twenty kits: the last 18 of the soonest lot, then 2 from the next.
    assert ok(visit(admin, "visit-day5-0001", "VAN-1", 5, line("NALOX-4MG", 20)))["lines"][0]["lots"] == [
        pick("N-OLD", 18, -3, "SOR"),
        pick("N-VAN", 2, 200, "STATE"),
    ]
    fourth = ok(
        visit(
            admin,
            "visit-day4-0001",
            "VAN-1",
            4,
            line("NALOX-4MG", 1, "N-VAN"),
            line("SYR-1ML", 50),
            line("FTS", 5),
        )
    )
    assert [x["lots"] for x in fourth["lines"]] == [
        [pick("N-VAN", 1, 200, "STATE")],
        [pick("S-1", 50, None, "STATE")],
        [pick("F-1", 5, None, "STATE")],
    ]

    # ----- day -3: damaged syringes; day -2: a count of the van's naloxone --------------------
    adjusted = ok(
        admin.post(
            "/api/v1/adjustments",
            {
                "site": "VAN-1",
                "sku": "SYR-1ML",
                "lot": "S-V",
                "quantity": -5,
                "reason": "damaged",
                "note": "crushed in the van door",
                "occurred_at": noon(3),
            },
        )
    )
    assert adjusted["on_hand"] == 240 + 195
    assert [(x["lot"], x["quantity"]) for x in adjusted["lots"]] == [("S-1", 240), ("S-V", 195)]
    counted = ok(
        admin.post(
            "/api/v1/counts",
            {"site": "VAN-1", "sku": "NALOX-4MG", "lot": "N-VAN", "counted": 6, "occurred_at": noon(2)},
        )
    )
    assert counted["variance"] == -1  # 10 received, 2 and 1 handed out: 7 expected, 6 found
    assert counted["on_hand"] == 6 and counted["lots"] == [pick("N-VAN", 6, 200, "STATE")]

    # ----- day -1: an expired lot cannot be handed out; FEFO passes over it -------------------
    expired = error(visit(admin, "visit-day1-0001", "WH", 1, line("NALOX-4MG", 1, "N-OLD")), 409, "lot_expired")
    assert "N-OLD" in expired["message"] and "expired" in expired["message"]
    assert expired["fields"] == {"lot": [expired["message"]]}
    at_warehouse = ok(visit(admin, "visit-day1-0002", "WH", 1, line("NALOX-4MG", 4)))
    assert at_warehouse["lines"][0]["lots"] == [pick("N-SOON", 4, 30, "SOR")]

    # ----- unknown names are answered 422, naming them ----------------------------------------
    nowhere = error(visit(admin, "visit-day1-0003", "NOWHERE", 1, line("NALOX-4MG", 1)), 422, "unknown_site")
    assert "NOWHERE" in nowhere["message"] and nowhere["fields"] == {"site": [nowhere["message"]]}
    no_item = error(visit(admin, "visit-day1-0004", "VAN-1", 1, line("NALOX-2MG", 1)), 422, "unknown_item")
    assert "NALOX-2MG" in no_item["message"] and no_item["fields"] == {"lines[0].sku": [no_item["message"]]}

    unknown_sku = error(receive(admin, "VAN-1", "NALOX-8MG", "X-1", 1, 100, "STATE"), 422, "unknown_item")
    assert unknown_sku["fields"] == {"sku": ["There is no item with SKU NALOX-8MG."]}
    unknown_fund = error(receive(admin, "VAN-1", "NALOX-4MG", "X-1", 1, 100, "GRANT-9"), 422, "unknown_funding_source")
    assert unknown_fund["fields"] == {"funding_source": ["There is no funding source with code GRANT-9."]}

    # ----- a malformed request is answered 422 with every field's message ------------------------
    malformed = error(admin.post(RECEIPTS, {"site": "", "quantity": "many", "bogus": 1}), 422, "invalid_input")
    assert malformed["fields"] == {
        "bogus": ["Unknown field."],
        "funding_source": ["Missing data for required field."],
        "lot": ["Missing data for required field."],
        "quantity": ["Not a valid integer."],
        "site": ["site is required."],
        "sku": ["Missing data for required field."],
    }
    assert malformed["message"] == "Some fields are missing or wrong: bogus, funding_source, lot, quantity, site, sku."
    nested = error(
        visit(admin, "visit-day1-0005", "VAN-1", 1, {"sku": "NALOX-4MG", "quantity": 0}, reversals_reported=-1),
        422,
        "invalid_input",
    )
    assert nested["fields"] == {
        "lines[0].quantity": ["Enter a whole number from 1 to 10,000,000."],
        "reversals_reported": ["Enter a whole number from 0 to 1,000."],
    }

    # ----- stock now ----------------------------------------------------------------------------
    now = [
        lot("VAN-1", "NALOX-4MG", "N-VAN", 6, 200, "STATE"),
        lot("VAN-1", "SYR-1ML", "S-1", 240, None, "STATE"),
        lot("VAN-1", "SYR-1ML", "S-V", 195, None, "STATE"),
        lot("WH", "NALOX-4MG", "N-OLD", 5, -3, "SOR"),
        lot("WH", "NALOX-4MG", "N-SOON", 36, 30, "SOR"),
        lot("WH", "NALOX-4MG", "N-LATE", 100, 400, "STATE"),
        lot("WH", "SYR-1ML", "S-1", 700, None, "STATE"),
    ]
    assert stock(admin) == now
    assert stock(admin, site="VAN-1", sku="SYR-1ML") == now[1:3]
    assert stock(admin, as_of=day(0).isoformat()) == now

    # ----- stock as of past dates -----------------------------------------------------------------
    assert stock(admin, as_of=day(11).isoformat()) == []
    assert stock(admin, as_of=day(10).isoformat()) == as_received
    assert stock(admin, as_of=day(9).isoformat(), site="VAN-1") == as_received[:3]  # the transfer is on the road
    assert stock(admin, as_of=day(9).isoformat(), site="WH", sku="SYR-1ML") == [
        lot("WH", "SYR-1ML", "S-1", 700, None, "STATE")
    ]
    assert stock(admin, as_of=day(8).isoformat(), site="VAN-1", sku="NALOX-4MG") == [
        lot("VAN-1", "NALOX-4MG", "N-OLD", 23, -3, "SOR"),
        lot("VAN-1", "NALOX-4MG", "N-VAN", 10, 200, "STATE"),
    ]
    assert stock(admin, as_of=day(5).isoformat(), site="VAN-1", sku="NALOX-4MG") == [
        lot("VAN-1", "NALOX-4MG", "N-VAN", 8, 200, "STATE")
    ]
    assert stock(admin, as_of=day(4).isoformat(), site="VAN-1", sku="FTS") == []
    assert stock(admin, as_of=day(3).isoformat(), site="VAN-1", sku="NALOX-4MG") == [
        lot("VAN-1", "NALOX-4MG", "N-VAN", 7, 200, "STATE")
    ]
    assert stock(admin, as_of=day(2).isoformat(), site="VAN-1", sku="NALOX-4MG") == now[:1]

    # ----- the stock card ---------------------------------------------------------------------------
    card = stock_card(admin, "VAN-1", "NALOX-4MG", 8, 2)
    assert (card["site"], card["sku"], card["opening"], card["closing"]) == ("VAN-1", "NALOX-4MG", 10, 6)
    assert movements(card) == [
        (day(8).isoformat(), "transfer_in", "N-OLD", 23, 33),
        (day(7).isoformat(), "distributed", "N-OLD", -2, 31),
        (day(6).isoformat(), "distributed", "N-OLD", -3, 28),
        (day(5).isoformat(), "distributed", "N-OLD", -18, 10),
        (day(5).isoformat(), "distributed", "N-VAN", -2, 8),
        (day(4).isoformat(), "distributed", "N-VAN", -1, 7),
        (day(2).isoformat(), "counted", "N-VAN", -1, 6),
    ]
    assert card["warnings"] == [] and not any(r["warning"] for r in card["rows"])
    assert card["rows"][0]["other_site"] == "WH" and card["rows"][0]["reference"] == sent["id"]
    assert card["rows"][1]["reference"] == first["id"] and card["rows"][-1]["reason"] == "count_variance"
    assert {r["actor"] for r in card["rows"]} == {ADMIN}
    narrow = stock_card(admin, "VAN-1", "NALOX-4MG", 6, 5)
    assert (narrow["opening"], narrow["closing"], len(narrow["rows"])) == (31, 8, 3)
    syringes = stock_card(admin, "VAN-1", "SYR-1ML", 10, 0)
    assert syringes["opening"] == 0 and syringes["closing"] == 435
    assert movements(syringes) == [
        (day(10).isoformat(), "received", "S-V", 200, 200),
        (day(8).isoformat(), "transfer_in", "S-1", 300, 500),
        (day(7).isoformat(), "distributed", "S-1", -10, 490),
        (day(4).isoformat(), "distributed", "S-1", -50, 440),
        (day(3).isoformat(), "adjusted", "S-V", -5, 435),
    ]
    assert syringes["rows"][-1]["reason"] == "damaged"
    warehouse_card = stock_card(admin, "WH", "NALOX-4MG", 30, 0)
    assert warehouse_card["opening"] == 0 and warehouse_card["closing"] == 141
    assert [r["kind"] for r in warehouse_card["rows"]] == ["received"] * 3 + ["transfer_out", "distributed"]
    assert warehouse_card["rows"][3]["other_site"] == "VAN-1"

    # ----- alerts: the level alerts follow the stock; the worker's check adds what time brings ---------
    def shown(found: list[dict[str, Any]]) -> list[tuple[str, str, str, str | None]]:
        return [(a["kind"], a["site"], a["sku"], a["lot"]) for a in found]

    raised_by_stock = ok(admin.get("/api/v1/alerts"), 200)
    assert sorted(shown(raised_by_stock)) == [
        ("below_reorder_point", "VAN-1", "FTS", None),
        ("below_reorder_point", "VAN-1", "NALOX-4MG", None),
        ("out_of_stock", "VAN-1", "FTS", None),
    ]
    check_alerts(client.application)
    alerts = ok(admin.get("/api/v1/alerts"), 200)
    # Newest first: the three the check raised just now, then those the stock raised, latest first.
    assert shown(alerts) == [
        ("runs_out_within_lead_time", "VAN-1", "NALOX-4MG", None),
        ("expired_on_hand", "WH", "NALOX-4MG", "N-OLD"),
        ("expiring_soon", "WH", "NALOX-4MG", "N-SOON"),
        ("out_of_stock", "VAN-1", "FTS", None),
        ("below_reorder_point", "VAN-1", "NALOX-4MG", None),
        ("below_reorder_point", "VAN-1", "FTS", None),
    ]
    # Each says its figures as they were when it was raised. The levels were set before any stock came,
    # so each (site, item) started out of stock and below its reorder point; deliveries ended those
    # episodes but one (FTS stayed below 10); FTS ran out again and NALOX-4MG fell below 20 again at 8.
    assert [a["on_hand"] for a in alerts] == [6, 5, 36, 0, 8, 0]
    assert [a["episode"] for a in alerts] == [1, 1, 1, 2, 2, 1] and len({a["id"] for a in alerts}) == 6
    assert [a["reorder_point"] for a in alerts] == [20, None, None, 10, 20, 10]
    assert [a["expires_on"] for a in alerts] == [None, day(3).isoformat(), day(-30).isoformat(), None, None, None]
    assert alerts[4]["message"] == "NALOX-4MG at VAN-1: 8 on hand, below the reorder point of 20."
    assert alerts[0]["message"].startswith("NALOX-4MG at VAN-1: 6 on hand lasts ")
    assert ok(admin.get("/api/v1/alerts", kind="out_of_stock"), 200) == alerts[3:4]
    assert ok(admin.get("/api/v1/alerts", site="WH"), 200) == alerts[1:3]

    # ----- the events feed: the whole log, in order, a page at a time ----------------------------
    events, head = whole_feed(admin, page=7)
    assert [e["position"] for e in events] == list(range(1, head + 1))
    assert whole_feed(admin, page=1000) == (events, head)
    kinds = [e["type"] for e in events]
    # Between the commands, the level alerts their stock changes raised and resolved, by the system;
    # the three the check raised come last, each started and raised in one save.
    assert [kind for kind in kinds if not kind.startswith("Alert.")] == EXPECTED_LOG
    assert kinds[-6:] == ["Alert.Started", "Alert.Raised"] * 3
    assert sorted(kind for kind in kinds if kind.startswith("Alert.")) == sorted(
        # eight when the levels were set (four items, out of stock and below the reorder point), seven
        # of them ended by deliveries, two raised again by visits; then the check's three
        ["Alert.Started"] * 11 + ["Alert.Raised"] * 13 + ["Alert.Resolved"] * 7
    )
    assert [e["actor"] for e in events] == [
        "cli" if i < 2 else "system" if kind.endswith(".Opened") or kind.startswith("Alert.") else ADMIN
        for i, kind in enumerate(kinds)
    ]
    assert [e["data"].get("quantity") for e in events if e["type"] == "StockLedger.Received"] == [
        30,
        40,
        100,
        1000,
        10,
        200,
        5,
    ]
    keys = [e["data"]["key"] for e in events if e["type"] == "Encounter.Recorded"]
    assert keys == ["visit-day7-0001", "visit-day6-0001", "visit-day5-0001", "visit-day4-0001", "visit-day1-0002"]
    counted_event = next(e for e in events if e["type"] == "StockLedger.Counted")
    assert (counted_event["data"]["counted"], counted_event["data"]["variance"]) == (6, -1)
    # Secrets are stored as hashes, and even the hashes stay out of the feed.
    password_set = next(e for e in events if e["type"] == "User.PasswordSet")
    assert password_set["data"]["password_hash"] == "[redacted]"
    token_issued = next(e for e in events if e["type"] == "User.TokenIssued")
    assert token_issued["data"]["secret_hash"] == "[redacted]"
    feed_text = json.dumps(events)
    # The token is inv_<user>_<token id>_<secret>; the secret (43 characters) may itself hold "_".
    secret = signed_in["token"].split("_", 3)[3]
    assert len(secret) == 43
    assert "$argon2" not in feed_text and secret not in feed_text
    assert ADMIN_PASSWORD not in feed_text

    # ----- and the seal holds over all of it --------------------------------------------------------
    seal = ok(admin.get("/api/v1/audit/verify"), 200)
    assert seal["ok"] is True and seal["head_position"] == head and seal["first_bad_position"] is None


EXPECTED_LOG = [
    # the first admin, then the token the admin signed in for
    "User.Registered",
    "User.PasswordSet",
    "User.TokenIssued",
    # catalog
    "Site.Registered",
    "Site.Registered",
    "Item.Registered",
    "Item.Registered",
    "Item.Registered",
    "FundingSource.Registered",
    "FundingSource.Registered",
    "Site.StockLevelSet",
    "Site.StockLevelSet",
    "Site.StockLevelSet",
    "Site.StockLevelSet",
    # receipts (the federal syringe receipt was refused and left no trace)
    "StockLedger.Opened",
    "StockLedger.Received",
    "StockLedger.Received",
    "StockLedger.Received",
    "StockLedger.Opened",
    "StockLedger.Received",
    "StockLedger.Opened",
    "StockLedger.Received",
    "StockLedger.Opened",
    "StockLedger.Received",
    "StockLedger.Opened",
    "StockLedger.Received",
    # the transfer, sent and booked in
    "Transfer.Dispatched",
    "StockLedger.Dispatched",
    "StockLedger.Dispatched",
    "Transfer.Received",
    "StockLedger.Arrived",
    "StockLedger.Arrived",
    # four visits to the van
    "Encounter.Recorded",
    "StockLedger.Distributed",
    "StockLedger.Distributed",
    "Encounter.Recorded",
    "StockLedger.Distributed",
    "Encounter.Recorded",
    "StockLedger.Distributed",
    "Encounter.Recorded",
    "StockLedger.Distributed",
    "StockLedger.Distributed",
    "StockLedger.Distributed",
    # damaged syringes, a count
    "StockLedger.Adjusted",
    "StockLedger.Counted",
    # the expired lot was refused; the warehouse visit that followed
    "Encounter.Recorded",
    "StockLedger.Distributed",
]


def test_stock_is_found_by_site_and_sku_in_any_case_as_commands_take_them(staff: dict[str, Caller]) -> None:
    root = staff["admin"]
    body = {"site": "van-1", "sku": "nalox-4mg", "lot": "N-1", "quantity": 5, "expires_on": "2099-01-01"}
    ok(root.post(RECEIPTS, dict(body, funding_source="state")))
    expected = [lot("VAN-1", "NALOX-4MG", "N-1", 5, (date(2099, 1, 1) - day(0)).days, "STATE")]

    assert stock(root, site="VAN-1", sku="NALOX-4MG") == expected
    assert stock(root, site="van-1") == expected
    assert stock(root, sku="nalox-4mg") == expected
    assert stock(root, site="van-1", as_of="2099-01-01") == expected
