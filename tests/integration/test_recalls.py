"""A recall end to end, on a real SQLite file and a real PostgreSQL: one maker's lot received at the
warehouse, split across three sites by transfers (one still on its way), partly handed out and partly
issued to a partner; the recall holds every remaining unit in one save, seen by one projector batch;
alerts go to each site holding it; what is pulled is returned or destroyed; the account reconciles."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from openpyxl import load_workbook

from exports.reports import Source, recall_report
from inventory.application import InventoryApplication
from inventory.domain.errors import InsufficientStock, InvalidState, LotOnHold
from inventory.projections import all_projections, recall_queries
from inventory.projections.alerts import open_alerts
from inventory.projections.runner import Projector
from inventory.projections.store import read_store_for
from tests.conftest import ADMIN, seed_catalog
from tests.exports.test_libreoffice import convert, number

NOW = datetime(2026, 5, 12, 18, 30, tzinfo=UTC)
pytestmark = pytest.mark.clock(NOW)
MAKER, MAKER_LOT = "Emergent BioSolutions", "23A45"
VAN_COORDINATOR = "van@example.org"
KIT = "KIT-OR"


def at(days: float) -> datetime:
    return NOW - timedelta(days=days)


@pytest.fixture
def spread(app: InventoryApplication) -> dict[str, Any]:
    """120 kits of the maker's lot 23A45 at the warehouse as lot N-2345 (and 50 of another lot); 30 sent to
    the van, 30 to a drop-in, 20 to a second drop-in (still on its way when the recall comes); visits and a
    partner take some."""
    seed_catalog(app)
    for code in ("FIX-1", "FIX-2"):
        app.register_site(code=code, name=f"Drop-in {code}", kind="fixed", actor=ADMIN)
    app.register_user(email=VAN_COORDINATOR, role="coordinator", sites=["VAN-1"], actor=ADMIN)
    app.register_partner(code="SHELTER-1", name="Harbour Shelter", kind="shelter", contact_role="Manager", actor=ADMIN)
    app.receive_stock(site="WH", sku="NALOX-4MG", lot="N-2345", quantity=120, expires_on="2027-09-30",
                      funding_source="SOR", manufacturer=MAKER, manufacturer_lot=MAKER_LOT, actor=ADMIN,
                      occurred_at=at(20))  # fmt: skip
    app.receive_stock(site="WH", sku="NALOX-4MG", lot="N-OTHER", quantity=50, expires_on="2028-01-31",
                      funding_source="SOR", manufacturer=MAKER, manufacturer_lot="24B01", actor=ADMIN,
                      occurred_at=at(20))  # fmt: skip
    sent = {}
    for site, quantity in (("VAN-1", 30), ("FIX-1", 30), ("FIX-2", 20)):
        line = {"sku": "NALOX-4MG", "quantity": quantity, "lot": "N-2345"}
        transfer = app.dispatch_transfer(from_site="WH", to_site=site, actor=ADMIN, occurred_at=at(15), lines=[line])
        sent[site] = transfer["id"]
        if site != "FIX-2":
            app.receive_transfer(transfer_id=transfer["id"], actor=ADMIN, occurred_at=at(14))
    for index in range(4):  # 4 visits of 2 kits on the van, 3 of 1 at FIX-1
        app.record_encounter(key=f"van-visit-{index:04d}", site="VAN-1", actor=ADMIN, occurred_at=at(10 - index),
                             lines=[{"sku": "NALOX-4MG", "quantity": 2}])  # fmt: skip
    for index in range(3):
        app.record_encounter(key=f"fix-visit-{index:04d}", site="FIX-1", actor=ADMIN, occurred_at=at(9 - index),
                             lines=[{"sku": "NALOX-4MG", "quantity": 1, "lot": "N-2345"}])  # fmt: skip
    app.issue_to_partner(key="shelter-issue-1", site="FIX-1", partner="SHELTER-1", actor=ADMIN, occurred_at=at(5),
                         lines=[{"sku": "NALOX-4MG", "quantity": 5}])  # fmt: skip
    # FIX-1 makes 4 overdose response kits (one naloxone kit and ten syringes each) and hands one out.
    app.register_item(sku=KIT, name="Overdose response kit", category="kit", unit="kit", tracks_expiry=True,
                      actor=ADMIN)  # fmt: skip
    app.receive_stock(site="FIX-1", sku="SYR-1ML", lot="S-1", quantity=100, expires_on=None, funding_source="STATE",
                      actor=ADMIN, occurred_at=at(20))  # fmt: skip
    parts = [{"sku": "NALOX-4MG", "quantity": 1}, {"sku": "SYR-1ML", "quantity": 10}]
    app.set_kit_recipe(kit_sku=KIT, effective_from=at(30).date(), components=parts, actor=ADMIN)
    app.assemble_kits(site="FIX-1", kit_sku=KIT, quantity=4, lot="OR-1", actor=ADMIN, occurred_at=at(4))
    app.record_encounter(key="fix-kit-visit-1", site="FIX-1", actor=ADMIN, occurred_at=at(3),
                         lines=[{"sku": KIT, "quantity": 1}])  # fmt: skip
    return sent


@pytest.fixture
def projector(app: InventoryApplication, database_url: str) -> Iterator[Projector]:
    store = read_store_for(database_url)
    try:
        runner = Projector(app, store, all_projections(app.zone, b"recall-seal"))
        runner.on_stock_changed = lambda changed: app.check_stock_alerts(changed, store=store, now=NOW)
        yield runner
    finally:
        store.close()


def on_shelves(projector: Projector) -> dict[str, tuple[int, bool]]:
    figures = recall_queries.recall_figures(projector.store, [{"sku": "NALOX-4MG", "lot": "N-2345"}])
    return {row["site"]: (row["quantity"], row["held"]) for row in figures.on_hand}


def test_a_recall_holds_every_unit_left_everywhere_at_once_and_the_account_reconciles(
    app: InventoryApplication, spread: dict[str, Any], projector: Projector, tmp_path: Path
) -> None:
    projector.catch_up()
    # Before: 40 at the warehouse, 22 on the van (30 - 8), 18 at FIX-1 (30 - 3 - 5 - 4 in kits), 20 on the way
    # to FIX-2; and 3 kits made with it at FIX-1 (4 - 1 handed out).
    assert on_shelves(projector) == {"WH": (40, False), "VAN-1": (22, False), "FIX-1": (18, False)}
    head = projector.store.fetchall("SELECT MAX(position) FROM projection_tracking")[0][0]

    lots, sites = recall_queries.recall_scope(projector.store, "emergent  biosolutions", "23a45")
    recall = app.announce_recall(manufacturer="emergent  biosolutions", manufacturer_lot="23a45", notice="FDA-2026-118",
                                 lots=lots, sites=sites, actor=ADMIN, occurred_at=NOW - timedelta(hours=2))  # fmt: skip
    # Matched whatever the case and spacing, with the kits made with it.
    assert recall["lots"] == [{"sku": "NALOX-4MG", "lot": "N-2345"}, {"sku": KIT, "lot": "OR-1"}]
    # Announcing it again is the same recall, and holds nothing twice.
    again = app.announce_recall(manufacturer=MAKER, manufacturer_lot=MAKER_LOT, notice="", lots=lots, sites=sites,
                                actor=ADMIN)  # fmt: skip
    assert again["id"] == recall["id"]

    # One catch-up, in one batch, sees every hold: every unit left is held, and nothing else.
    assert projector.catch_up(batch_size=1000) > 0
    assert projector.store.fetchall("SELECT MAX(position) FROM projection_tracking")[0][0] > head
    assert on_shelves(projector) == {"WH": (40, True), "VAN-1": (22, True), "FIX-1": (18, True)}
    assert [(r["site"], r["sku"], r["lot"], r["quantity"]) for r in recall_queries.held_lots(projector.store)] == [
        ("FIX-1", KIT, "OR-1", 3), ("FIX-1", "NALOX-4MG", "N-2345", 18), ("VAN-1", "NALOX-4MG", "N-2345", 22),
        ("WH", "NALOX-4MG", "N-2345", 40),
    ]  # fmt: skip
    with pytest.raises(InsufficientStock, match="Another 3 are in held lots"):  # the kits made with it too
        app.record_encounter(key="after-recall-kit", site="FIX-1", actor=ADMIN, lines=[{"sku": KIT, "quantity": 1}])

    # Nothing more of it can go out, by first expiry first out or by name; the other lot still can.
    visit = app.record_encounter(
        key="after-recall-01", site="WH", actor=ADMIN, lines=[{"sku": "NALOX-4MG", "quantity": 2}]
    )
    assert [pick["lot"] for line in visit["lines"] for pick in line["lots"]] == ["N-OTHER"]
    with pytest.raises(LotOnHold, match="is held"):
        app.record_encounter(key="after-recall-02", site="VAN-1", actor=ADMIN,
                             lines=[{"sku": "NALOX-4MG", "quantity": 1, "lot": "N-2345"}])  # fmt: skip
    with pytest.raises(InsufficientStock, match="held lots"):
        app.record_encounter(
            key="after-recall-03", site="VAN-1", actor=ADMIN, lines=[{"sku": "NALOX-4MG", "quantity": 1}]
        )

    # The kits that were on their way arrive held, under the same recall.
    app.receive_transfer(transfer_id=spread["FIX-2"], actor=ADMIN, occurred_at=NOW - timedelta(hours=1))
    projector.catch_up()
    assert on_shelves(projector)["FIX-2"] == (20, True)

    # Each site holding it has a recall alert (and its coordinators an email, through the outbox).
    projector.catch_up()  # the alerts the last catch-up raised
    recalled = {(row["site"], row["sku"]): row for row in open_alerts(projector.store) if row["kind"] == "recalled"}
    assert sorted(recalled) == [("FIX-1", KIT), ("FIX-1", "NALOX-4MG"), ("FIX-2", "NALOX-4MG"), ("VAN-1", "NALOX-4MG"),
                                ("WH", "NALOX-4MG")]  # fmt: skip
    assert recalled[("VAN-1", "NALOX-4MG")]["details"]["quantity"] == 22
    emailed = projector.store.fetchall(
        "SELECT a.site, d.recipient FROM deliveries d JOIN delivery_alerts a ON a.alert_id = d.alert_id "
        "WHERE a.kind = 'recalled' AND d.channel = 'email' ORDER BY a.site"
    )
    assert emailed == [("VAN-1", VAN_COORDINATOR)]  # the van's coordinator, of the van's stock only

    # A recalled lot is not released while its recall is open.
    with pytest.raises(InvalidState, match="close the recall first"):
        app.release_lot(site="VAN-1", sku="NALOX-4MG", lot="N-2345", actor=ADMIN)
    with pytest.raises(
        InvalidState, match=r"still on a shelf \(3 at FIX-1, 18 at FIX-1, 20 at FIX-2, 22 at VAN-1, 40 at"
    ):
        app.close_recall(recall=recall["id"], sites=sites, actor=ADMIN)

    # Pulled: the warehouse and FIX-2 return theirs to the supplier, the van and FIX-1 destroy theirs (and the kits).
    for site, quantity, disposition in (("WH", 40, "returned_to_supplier"), ("FIX-2", 20, "returned_to_supplier"),
                                        ("VAN-1", 22, "destroyed"), ("FIX-1", 18, "destroyed")):  # fmt: skip
        app.write_off_lot(site=site, sku="NALOX-4MG", lot="N-2345", quantity=quantity, disposition=disposition,
                          actor=ADMIN)  # fmt: skip
    app.write_off_lot(site="FIX-1", sku=KIT, lot="OR-1", quantity=3, disposition="destroyed", actor=ADMIN)
    projector.catch_up()
    projector.catch_up()
    assert not [row for row in open_alerts(projector.store) if row["kind"] == "recalled"]  # each resolved

    figures = recall_queries.recall_figures(projector.store, recall["lots"])
    account = figures.account
    # Received = handed out + to partners + in kits + destroyed + returned (+ what is held: nothing now).
    assert account == {
        "received": 120, "assembled": 0, "adjusted": 0, "handed_out": -11, "to_partners": -5, "mailed": 0,
        "into_kits": -4, "destroyed": -40, "returned_to_supplier": -60, "write_off_undone": 0, "not_booked_in": 0,
    }  # fmt: skip
    assert sum(account.values()) == figures.on_shelves == 0
    kits = figures.account_of(KIT)
    assert (kits["assembled"], kits["handed_out"], kits["destroyed"]) == (4, -1, -3)
    assert sum(kits.values()) == figures.on_shelves_of(KIT) == 0
    assert app.close_recall(recall=recall["id"], sites=sites, actor=ADMIN)["closed"] is True
    projector.catch_up()
    check_the_workbook(app, projector, recall["id"], tmp_path)


def check_the_workbook(app: InventoryApplication, projector: Projector, recall_id: str, folder: Path) -> None:
    """The recall workbook read back (what it holds) and recalculated by LibreOffice (what its formulas say)."""
    path = folder / "recall.xlsx"
    recall_report(Source(app, projector.store, app.zone), str(path), recall_id=recall_id, who=ADMIN)
    book = load_workbook(path)
    moves = [row for row in book["Movements"].iter_rows(min_row=2, values_only=True) if row[0] != "Total"]
    naloxone = [row for row in moves if row[3] == "NALOX-4MG"]
    assert sum(row[7] for row in naloxone if row[8] == "Received") == 120
    assert sum(row[7] for row in naloxone if str(row[5]).startswith("Written off: destroyed")) == -40
    assert {row[2] for row in naloxone if row[5] == "Handed out (visit or shift)"} == {"VAN-1", "FIX-1"}
    assert sum(row[7] for row in moves if row[3] == KIT and row[5] == "Handed out (visit or shift)") == -1
    assert not any("visit-" in str(cell) for row in moves for cell in row)  # dates, sites, quantities: no visit keys

    computed = convert(path, folder)["Recall"]
    summary, kits = account_in(computed, "NALOX-4MG"), account_in(computed, KIT)
    assert number(summary["Received"]) == 120
    assert number(summary["Handed out at visits and on shifts"]) == -11
    assert number(summary["Issued to partner organisations"]) == -5
    assert number(summary["Put into kits (less kits taken apart)"]) == -4
    assert number(summary["Destroyed"]) == -40
    assert number(summary["Returned to the supplier"]) == -60
    assert number(kits["Kits made (less kits taken apart)"]) == 4
    assert number(kits["Destroyed"]) == -3
    for account in (summary, kits):
        assert number(account["On the shelves now (by the movements)"]) == 0
        assert number(account["On the shelves now (by the sites holding it)"]) == 0
        assert number(account["Check (0 when every unit is accounted for)"]) == 0


def account_in(rows: list[list[str]], sku: str) -> dict[str, str]:
    """One item's account on the Recall sheet, as LibreOffice computed it: label to value."""
    start = next(i for i, row in enumerate(rows) if row and row[0] == f"{sku}: every unit, received to now")
    found = {}
    for row in rows[start + 1 :]:
        if not row or not row[0]:
            break
        found[row[0]] = row[1]
    return found


def test_a_receipt_of_a_recalled_makers_lot_is_held_as_it_comes_in(
    app: InventoryApplication, spread: dict[str, Any], projector: Projector
) -> None:
    projector.catch_up()
    lots, sites = recall_queries.recall_scope(projector.store, MAKER, MAKER_LOT)
    recall = app.announce_recall(manufacturer=MAKER, manufacturer_lot=MAKER_LOT, notice="", lots=lots, sites=sites,
                                 actor=ADMIN)  # fmt: skip
    app.receive_stock(site="VAN-1", sku="NALOX-4MG", lot="N-LATE", quantity=6, expires_on="2027-09-30",
                      funding_source="SOR", manufacturer=MAKER, manufacturer_lot=" 23a45 ", actor=ADMIN)  # fmt: skip
    projector.catch_up()
    assert app.recall(recall["id"])["lots"] == [
        {"sku": "NALOX-4MG", "lot": "N-2345"},
        {"sku": KIT, "lot": "OR-1"},
        {"sku": "NALOX-4MG", "lot": "N-LATE"},
    ]
    held = {
        (r["site"], r["lot"]): r["quantity"] for r in recall_queries.held_lots(projector.store, recall=recall["id"])
    }
    assert held[("VAN-1", "N-LATE")] == 6


def test_a_damaged_lot_is_held_everywhere_then_released(
    app: InventoryApplication, spread: dict[str, Any], projector: Projector
) -> None:
    projector.catch_up()
    everywhere = [row["code"] for row in recall_queries.sites_with_lot(projector.store, "NALOX-4MG", "N-2345")]
    held = app.hold_lot(sku="NALOX-4MG", lot="N-2345", reason="quality_check", actor=ADMIN, sites=everywhere)
    assert sorted((row["site"], row["quantity"]) for row in held) == [("FIX-1", 18), ("VAN-1", 22), ("WH", 40)]
    released = app.release_lot(site="VAN-1", sku="NALOX-4MG", lot="N-2345", actor=ADMIN)
    assert released["held"] is False
    projector.catch_up()
    assert on_shelves(projector) == {"WH": (40, True), "VAN-1": (22, False), "FIX-1": (18, True)}
