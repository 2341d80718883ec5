"""A vending machine's sales, imported from the machine's own CSV export: each good row once, each bad row
listed with its line and what to fix, nothing new the second time; the sales are visits at the machine."""

from __future__ import annotations

import html
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from io import BytesIO
from zoneinfo import ZoneInfo

import pytest
from flask import Flask

from inventory.application import InventoryApplication
from inventory.domain import Encounter, dispense_id
from inventory.domain.errors import InvalidInput
from inventory.importing import vending
from inventory.importing.vending import VendingImport, import_dispenses
from inventory.projections import all_projections, queries, reach_queries
from inventory.projections.runner import Projector
from inventory.projections.store import read_store_for
from tests.conftest import ADMIN, seed_catalog
from tests.web.pages.conftest import PASSWORD, Person, csrf_token, person
from tests.web.pages.test_authorization_matrix import DEVELOPER_WORDS, shown_text

NOW = datetime(2026, 5, 12, 18, 30, tzinfo=UTC)
TODAY = NOW.date()
pytestmark = pytest.mark.clock(NOW)
IMPORTER = "machines@example.org"
MACHINE = "VEND-1"
# Four sales, the third with a month 13: three to record (4 naloxone kits, 10 syringes), one to fix.
EXPORT = """transaction_id,dispensed_at,sku,quantity
T-1001,2026-05-10 09:15,NALOX-4MG,1
T-1002,2026-05-10 10:00,SYR-1ML,10
T-1003,2026-13-01 10:00,NALOX-4MG,1
T-1004,2026-05-11T08:00:00-07:00,NALOX-4MG,3
"""
BAD_DATE = (
    "Line 4, dispensed_at: '2026-13-01 10:00' is not a date and time like 2026-11-30 14:05. Check the machine's export."
)


def stock_machine(app: InventoryApplication) -> None:
    """The catalog, a machine VEND-1, and 20 kits and 100 syringes sent to it from WH (nine days ago)."""
    seed_catalog(app)
    app.register_site(code=MACHINE, name="Library vending machine", kind="vending_machine", actor=ADMIN)
    for sku, lot, quantity, expires in (("NALOX-4MG", "N-1", 50, "2028-06-30"), ("SYR-1ML", "S-1", 500, None)):
        app.receive_stock(site="WH", sku=sku, lot=lot, quantity=quantity, expires_on=expires, funding_source="STATE",
                          actor=ADMIN, occurred_at=NOW - timedelta(days=10))  # fmt: skip
    sent = app.dispatch_transfer(
        from_site="WH",
        to_site=MACHINE,
        lines=[{"sku": "NALOX-4MG", "quantity": 20}, {"sku": "SYR-1ML", "quantity": 100}],
        actor=ADMIN,
        occurred_at=NOW - timedelta(days=9),
    )
    app.receive_transfer(transfer_id=sent["id"], actor=ADMIN, occurred_at=NOW - timedelta(days=9, hours=-1))


@pytest.fixture
def machine(app: InventoryApplication) -> InventoryApplication:
    stock_machine(app)
    return app


@pytest.fixture
def projector(machine: InventoryApplication, database_url: str) -> Iterator[Projector]:
    store = read_store_for(database_url)
    try:
        yield Projector(machine, store, all_projections(machine.zone, b"k"))
    finally:
        store.close()


def imported(app: InventoryApplication, text: str | bytes, zone: ZoneInfo | None = None) -> VendingImport:
    return import_dispenses(app, MACHINE, text, actor=IMPORTER, zone=zone or app.zone)


def on_hand(app: InventoryApplication, sku: str) -> int:
    return int(app.stock(MACHINE, sku)["on_hand"])


def said(result: VendingImport) -> list[str]:
    return [str(problem) for problem in result.problems]


def test_every_good_row_is_recorded_once_and_the_bad_one_is_listed_by_its_line(machine: InventoryApplication) -> None:
    first = imported(machine, EXPORT)
    assert (first.rows, first.recorded, first.already, first.refused) == (4, 3, 0, False)
    assert said(first) == [BAD_DATE]
    assert (on_hand(machine, "NALOX-4MG"), on_hand(machine, "SYR-1ML")) == (20 - 4, 100 - 10)
    assert first.summary() == "Read 4 sales for VEND-1: 3 new sales recorded, 0 already imported, 1 line to fix."

    # The same file again, by someone else: nothing new in the log, every good row already imported.
    head = machine.recorder.max_notification_id()
    again = import_dispenses(machine, MACHINE, EXPORT, actor="someone.else@example.org", zone=machine.zone)
    assert machine.recorder.max_notification_id() == head
    assert (again.rows, again.recorded, again.already) == (4, 0, 3)
    assert said(again) == [BAD_DATE]
    assert (on_hand(machine, "NALOX-4MG"), on_hand(machine, "SYR-1ML")) == (16, 90)


def test_the_sales_are_visits_at_the_machine_in_the_reports(
    machine: InventoryApplication, projector: Projector
) -> None:
    imported(machine, EXPORT)
    sale = machine.aggregate(dispense_id(MACHINE, "T-1004"))
    assert isinstance(sale, Encounter)
    assert (sale.site, sale.channel, sale.recipient, sale.key) == (
        MACHINE,
        "vending_machine",
        "unknown",
        "machine:T-1004",
    )
    assert sale.occurred_at == datetime(2026, 5, 11, 15, 0, tzinfo=UTC)
    assert [(line["sku"], line["quantity"]) for line in sale.lines] == [("NALOX-4MG", 3)]
    assert sale.participant_code is None

    projector.catch_up()
    store = projector.store
    reach = {(r["channel"], r["recipient"], r["sku"]): r["quantity"]
             for r in reach_queries.reach_by_channel(store, TODAY - timedelta(days=30), TODAY)}  # fmt: skip
    assert reach == {("vending_machine", "unknown", "NALOX-4MG"): 4, ("vending_machine", "unknown", "SYR-1ML"): 10}
    contacts = reach_queries.contacts_by_channel(store, TODAY - timedelta(days=30), TODAY)
    assert [(r["channel"], r["contacts"]) for r in contacts] == [("vending_machine", 3)]
    use = {row["sku"]: row for row in queries.consumption(store, TODAY, site=MACHINE)}
    assert (use["NALOX-4MG"]["used"], use["NALOX-4MG"]["on_hand"]) == (4, 16)
    assert use["NALOX-4MG"]["days_of_supply"] is not None and use["NALOX-4MG"]["days_of_supply"] > 0
    assert (use["SYR-1ML"]["used"], use["SYR-1ML"]["on_hand"]) == (10, 90)


def test_a_sale_imported_before_with_other_figures_is_listed_not_recorded(machine: InventoryApplication) -> None:
    imported(machine, EXPORT)
    head = machine.recorder.max_notification_id()
    changed = imported(machine, "transaction_id,dispensed_at,sku,quantity\nT-1001,2026-05-10 09:15,NALOX-4MG,2\n")
    assert machine.recorder.max_notification_id() == head
    assert (changed.recorded, changed.already) == (0, 0)
    assert said(changed) == [
        "Line 2, transaction_id: Transaction T-1001 was imported before with other figures (1 of NALOX-4MG, "
        "Sun 10 May, 09:15); the earlier figures stand. Check the machine's export: a sale it already sent should "
        "not change."
    ]
    assert on_hand(machine, "NALOX-4MG") == 16


def test_a_sale_twice_in_one_file_is_counted_once_and_other_figures_the_second_time_are_listed(
    machine: InventoryApplication,
) -> None:
    result = imported(
        machine,
        "transaction_id,dispensed_at,sku,quantity\n"
        "T-2001,2026-05-11 12:00,NALOX-4MG,1\n"
        "T-2002,2026-05-11 12:05,NALOX-4MG,1\n"
        "T-2001,2026-05-11 12:00,NALOX-4MG,1\n"
        "T-2002,2026-05-11 12:05,NALOX-4MG,2\n",
    )
    assert (result.rows, result.recorded, result.repeated) == (4, 2, 1)
    assert said(result) == [
        "Line 5, transaction_id: Transaction T-2002 is also on line 3 with other figures (1 of NALOX-4MG); a machine "
        "sends each sale once, so this line was not imported. Check the machine's export."
    ]
    assert on_hand(machine, "NALOX-4MG") == 18


def test_an_export_without_the_transaction_column_is_refused_whole(machine: InventoryApplication) -> None:
    head = machine.recorder.max_notification_id()
    result = imported(machine, "dispensed_at,sku,quantity\n2026-05-10 09:15,NALOX-4MG,1\n")
    assert machine.recorder.max_notification_id() == head
    assert result.refused and (result.rows, result.recorded) == (0, 0)
    assert len(result.problems) == 1
    problem = result.problems[0]
    assert (problem.line, problem.column) == (1, "transaction_id")
    assert "The header row has no transaction_id column" in problem.message
    assert result.summary().startswith("Nothing was imported for VEND-1: Line 1, transaction_id: The header row")
    assert imported(machine, "").refused


def test_a_sale_at_a_site_that_is_not_a_vending_machine_is_refused_in_words(machine: InventoryApplication) -> None:
    machine.receive_stock(site="VAN-1", sku="NALOX-4MG", lot="V-1", quantity=5, expires_on="2028-06-30",
                          funding_source="STATE", actor=ADMIN, occurred_at=NOW - timedelta(days=3))  # fmt: skip
    with pytest.raises(InvalidInput, match=r"^VAN-1 is not a vending machine: it is a mobile site\.") as refused:
        machine.record_dispense(site="VAN-1", transaction="T-1", sku="NALOX-4MG", quantity=1,
                                dispensed_at=NOW - timedelta(hours=1), actor=IMPORTER)  # fmt: skip
    assert refused.value.field == "site"
    result = import_dispenses(machine, "VAN-1", EXPORT, actor=IMPORTER, zone=machine.zone)
    assert result.refused and result.recorded == 0
    assert said(result)[0].startswith("The file: VAN-1 is not a vending machine")
    assert machine.stock("VAN-1", "NALOX-4MG")["on_hand"] == 5


def test_times_without_an_offset_are_in_the_programs_zone(machine: InventoryApplication) -> None:
    pacific = ZoneInfo("America/Los_Angeles")
    # Semicolons, a byte order mark, headers in other words and cases, the SKU as "product", no quantity.
    export = (
        "\ufeffTransaction ID;Dispensed At;Product\n"
        "T-3001;2026-05-11 09:00;NALOX-4MG\n"
        "T-3002;2026-05-11T09:00Z;SYR-1ML\n"
    )
    result = imported(machine, export.encode("utf-8"), zone=pacific)
    assert (result.recorded, result.problems) == (2, [])
    local = machine.aggregate(dispense_id(MACHINE, "T-3001"))
    assert local.occurred_at == datetime(2026, 5, 11, 16, 0, tzinfo=UTC)  # 09:00 in Los Angeles (UTC-7 in May)
    assert [line["quantity"] for line in local.lines] == [1]
    assert machine.aggregate(dispense_id(MACHINE, "T-3002")).occurred_at == datetime(2026, 5, 11, 9, 0, tzinfo=UTC)


def test_each_bad_cell_says_what_to_fix_and_the_rows_around_it_are_recorded(machine: InventoryApplication) -> None:
    soon = (NOW + timedelta(hours=2)).strftime("%Y-%m-%d %H:%M")
    result = imported(
        machine,
        "transaction_id,dispensed_at,sku,quantity\n"
        "T-4001,2026-05-11 10:00,FOO-9,1\n"
        f"T-4002,{soon},NALOX-4MG,1\n"
        "T-4003,2026-05-11 10:00,NALOX-4MG,500\n"
        "T-4004,2026-05-11 10:00,NALOX-4MG,2.5\n"
        "T 4005,2026-05-11 10:00,NALOX-4MG,1\n"
        ",2026-05-11 10:00,NALOX-4MG,1\n"
        "\n"
        "T-4006,2026-05-11,NALOX-4MG,1\n"
        "T-4007,2026-05-11 10:00,NALOX-4MG,1\n",
    )
    assert (result.rows, result.recorded) == (8, 1)
    problems = {problem.line: (problem.column, problem.message) for problem in result.problems}
    assert problems[2] == (
        "sku",
        "There is no item with SKU FOO-9. Use the program's SKU for the item, as listed under Items.",
    )
    assert problems[3][0] == "dispensed_at" and "is in the future (it is now Tue 12 May, 18:30)" in problems[3][1]
    assert problems[4][0] == "quantity" and problems[4][1].startswith("Only 20 kits of NALOX-4MG left at VEND-1; 500")
    assert "Record the transfer that stocked the machine" in problems[4][1]
    assert problems[5] == ("quantity", "'2.5' is not a whole number from 1 to 1,000. Check the machine's export.")
    assert problems[6][0] == "transaction_id" and problems[6][1].startswith("'T 4005' is not a transaction id")
    assert problems[7][0] == "transaction_id" and "empty" in problems[7][1]
    assert problems[9] == (
        "dispensed_at",
        "'2026-05-11' has no time of day, like 2026-11-30 14:05. Check the machine's export.",
    )
    assert set(problems) == {2, 3, 4, 5, 6, 7, 9}
    assert on_hand(machine, "NALOX-4MG") == 19


def test_an_export_longer_than_the_limit_is_read_up_to_it_and_says_so(
    machine: InventoryApplication, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(vending, "MAX_ROWS", 2)
    result = imported(machine, EXPORT)
    assert (result.rows, result.recorded) == (2, 2)
    assert said(result) == [
        "Line 4: The file has more than 2 sales: the first 2 were read and the rest were not. Split the export into "
        "smaller files (by date) and import the rest."
    ]


def test_an_export_that_is_not_utf8_is_read_up_to_the_line_that_is_not(machine: InventoryApplication) -> None:
    export = EXPORT.encode().replace(b"T-1003", b"T-\xff1003")
    result = imported(machine, export)
    assert (result.recorded, result.refused) == (2, False)
    [problem] = result.problems
    assert problem.line == 4 and "is not UTF-8 text" in problem.message
    assert imported(machine, b"\xfftransaction_id,dispensed_at,sku\n").refused


# ----- the page ------------------------------------------------------------------------------------------------


def coordinator(flask_app: Flask, inventory: InventoryApplication) -> Person:
    """The machine stocked, and its coordinator signed in."""
    stock_machine(inventory)
    inventory.register_user(email=IMPORTER, role="coordinator", sites=[MACHINE], password=PASSWORD, actor="cli")
    flask_app.extensions["inventory"].projector.catch_up()
    return person(flask_app, IMPORTER)


def upload(who: Person, text: str, name: str = "sales.csv") -> tuple[int, str]:
    path = f"/sites/{MACHINE}/vending-import"
    token = csrf_token(who.get(path).get_data(as_text=True))
    response = who.post_raw(path, {"csrf_token": token, "file": (BytesIO(text.encode()), name)}, referer=path)
    return response.status_code, html.unescape(response.get_data(as_text=True))


def test_the_page_imports_an_export_and_shows_the_counts_and_the_line_to_fix(
    flask_app: Flask, inventory: InventoryApplication
) -> None:
    who = coordinator(flask_app, inventory)
    form = who.get(f"/sites/{MACHINE}/vending-import")
    assert form.status_code == 200
    page = form.get_data(as_text=True)
    assert 'type="file"' in page and "transaction_id" in page and "dispensed_at" in page

    status, page = upload(who, EXPORT)
    assert status == 200
    assert "Read 4 sales for VEND-1: 3 new sales recorded, 0 already imported, 1 line to fix." in page
    assert 'data-count="recorded">3<' in page and 'data-count="to_fix">1<' in page
    assert "Line 4, dispensed_at" in page
    assert "'2026-13-01 10:00' is not a date and time like 2026-11-30 14:05. Check the machine's export." in page
    assert inventory.stock(MACHINE, "NALOX-4MG")["on_hand"] == 16
    assert not DEVELOPER_WORDS.findall(shown_text(page))

    status, page = upload(who, EXPORT)
    assert "Read 4 sales for VEND-1: 0 new sales recorded, 3 already imported, 1 line to fix." in page
    status, page = upload(who, "dispensed_at,sku\n2026-05-10 09:15,NALOX-4MG\n")
    assert status == 422 and "The header row has no transaction_id column" in page
    status, page = upload(who, EXPORT, name="sales.xlsx")
    assert status == 422 and "Upload the export as a .csv file" in page


def test_the_page_of_a_site_that_is_not_a_vending_machine_is_not_found(
    flask_app: Flask, inventory: InventoryApplication
) -> None:
    coordinator(flask_app, inventory)
    inventory.register_user(email="van@example.org", role="coordinator", sites=["VAN-1"], password=PASSWORD,
                            actor="cli")  # fmt: skip
    answer = person(flask_app, "van@example.org").get("/sites/VAN-1/vending-import")
    assert answer.status_code == 404
    assert "VAN-1 is not a vending machine" in html.unescape(answer.get_data(as_text=True))
