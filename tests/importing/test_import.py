"""Importing the catalog and opening stock: every bad row reported before anything is written."""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Any

from inventory.application import InventoryApplication
from inventory.importing import import_file
from tests.conftest import ADMIN
from tests.importing.workbooks import CATALOG, opening_rows, workbook


def head(app: InventoryApplication) -> int:
    return int(app.recorder.max_notification_id() or 0)


def five_bad_rows(tmp_path: Path) -> tuple[Path, list[list[Any]]]:
    """A 500-row workbook (8 catalog rows, 492 opening stock rows) with 5 bad rows of different kinds."""
    rows = opening_rows(487)
    bad = [
        ["VAN-9", "NALOX-4MG", "BAD1", "2027-06-30", 5, "SOR", None],  # unknown site
        ["WH", "NALOX-4MG", "BAD2", "03/01/2027", 5, "SOR", None],  # ambiguous date
        ["WH", "SYR-1ML", "BAD3", None, -20, "STATE", None],  # negative quantity
        ["WH", "NALOX-4MG", "BAD4", None, 5, "SOR", None],  # missing expiry
        ["WH", "SYR-1ML", "BAD5", None, 500, "SOR", None],  # syringes on a fund that may not buy them
    ]
    for position, row in zip((10, 100, 200, 300, 480), bad, strict=True):
        rows.insert(position, row)
    path = workbook(tmp_path / "stock.xlsx", {**CATALOG, "Opening stock": rows})
    return path, rows


def test_five_bad_rows_are_reported_with_their_reasons_and_nothing_is_written(
    app: InventoryApplication, tmp_path: Path
) -> None:
    path, _rows = five_bad_rows(tmp_path)
    before = head(app)
    report = import_file(app, path, actor=ADMIN)
    assert report.rows == 500
    assert not report.written
    assert head(app) == before
    found = [(p.sheet, p.row, p.column) for p in report.problems]
    # Header is row 1, so the opening row at list position n is sheet row n + 2.
    assert found == [
        ("Opening stock", 12, "site"),
        ("Opening stock", 102, "expires_on"),
        ("Opening stock", 202, "quantity"),
        ("Opening stock", 302, "expires_on"),
        ("Opening stock", 482, "funding_source"),
    ]
    messages = [p.message for p in report.problems]
    assert "There is no site VAN-9" in messages[0]
    assert "could be read two ways" in messages[1] and "2027-03-01" in messages[1]
    assert "must be 1 or more (got -20)" in messages[2]
    assert "NALOX-4MG tracks expiry" in messages[3]
    assert "SOR may not pay for syringe" in messages[4] and "another funding source" in messages[4]
    assert "Nothing was imported: 5 row(s)" in report.summary()


def test_skipping_bad_rows_writes_the_good_ones_and_the_stock_on_hand_matches_the_file(
    app: InventoryApplication, tmp_path: Path
) -> None:
    path, rows = five_bad_rows(tmp_path)
    report = import_file(app, path, actor=ADMIN, skip_invalid=True)
    assert report.written and report.bad_rows == 5
    assert report.recorded == {"sites": 2, "items": 3, "funding sources": 2, "lots": 487}
    expected: Counter[tuple[str, str]] = Counter()
    for site, sku, lot, _expiry, quantity, _fund, _cost in rows:
        if not str(lot).startswith("BAD"):
            expected[(site, sku)] += quantity
    for (site, sku), quantity in expected.items():
        assert app.stock(site, sku)["on_hand"] == quantity
    assert app.funding_source("SOR")["restrictions"][0]["category"] == "syringe"
    assert len(app.funding_source("SOR")["restrictions"]) == 2


def test_importing_the_same_file_twice_leaves_the_log_unchanged(app: InventoryApplication, tmp_path: Path) -> None:
    path = workbook(tmp_path / "stock.xlsx", {**CATALOG, "Opening stock": opening_rows(30)})
    first = import_file(app, path, actor=ADMIN)
    assert first.recorded["lots"] == 30
    after_first = head(app)
    again = import_file(app, path, actor=ADMIN)
    assert head(app) == after_first
    assert again.nothing_new and again.already == 2 + 3 + 2 + 30
    assert again.summary().startswith("Nothing new")


def test_a_fixed_file_records_only_the_rows_left_out_before(app: InventoryApplication, tmp_path: Path) -> None:
    rows = opening_rows(6)
    rows.append(["WH", "SYR-1ML", "LATE", None, -5, "STATE", None])
    import_file(app, workbook(tmp_path / "a.xlsx", {**CATALOG, "Opening stock": rows}), actor=ADMIN, skip_invalid=True)
    on_hand = app.stock("WH", "SYR-1ML")["on_hand"]
    rows[-1][4] = 5
    report = import_file(app, workbook(tmp_path / "b.xlsx", {**CATALOG, "Opening stock": rows}), actor=ADMIN)
    assert report.recorded == {"sites": 0, "items": 0, "funding sources": 0, "lots": 1}
    assert app.stock("WH", "SYR-1ML")["on_hand"] == on_hand + 5


def test_opening_balances_name_the_importing_user_and_the_file(app: InventoryApplication, tmp_path: Path) -> None:
    path = workbook(tmp_path / "stock.xlsx", {**CATALOG, "Opening stock": opening_rows(1)})
    report = import_file(app, path, actor=ADMIN)
    ledger = app.ledger_aggregate("WH", "NALOX-4MG")
    assert ledger is not None
    received = [e for e in app.events.get(ledger.id) if type(e).__name__ == "Received"]
    assert len(received) == 1
    assert received[0].actor == ADMIN
    assert received[0].reference == f"Opening balance: stock.xlsx (sha256 {report.digest[:12]}), Opening stock row 2"


def test_duplicates_and_conflicts_with_registered_data_are_reported(app: InventoryApplication, tmp_path: Path) -> None:
    app.register_site(code="WH", name="Old warehouse", kind="warehouse", actor=ADMIN)
    rows = opening_rows(3)
    rows.append(list(rows[1]))
    sites = [*CATALOG["Sites"], ["VAN-1", "Outreach van", "mobile"]]
    report = import_file(
        app, workbook(tmp_path / "d.xlsx", {**CATALOG, "Sites": sites, "Opening stock": rows}), actor=ADMIN
    )
    found = {(p.sheet, p.row, p.column): p.message for p in report.problems}
    assert "already registered as 'Old warehouse'" in found[("Sites", 2, "name")]
    assert found[("Sites", 4, "code")].startswith("Duplicate row: row 3 already has VAN-1")
    assert found[("Opening stock", 5, "lot")].startswith("Duplicate row: row 3 already has lot")
    assert len(found) == 3


def test_a_fund_that_may_not_pay_is_checked_against_registered_rules_too(
    app: InventoryApplication, tmp_path: Path
) -> None:
    import_file(app, workbook(tmp_path / "catalog.xlsx", CATALOG), actor=ADMIN)
    stock = workbook(tmp_path / "stock.xlsx", {"Opening stock": [["WH", "SYR-1ML", "S1", None, 100, "SOR", None]]})
    before = head(app)
    report = import_file(app, stock, actor=ADMIN)
    assert [(p.row, p.column) for p in report.problems] == [(2, "funding_source")]
    assert head(app) == before


def test_a_site_registered_by_someone_else_during_the_import_is_reported_not_a_crash(
    app: InventoryApplication, tmp_path: Path
) -> None:
    path = workbook(tmp_path / "stock.xlsx", {**CATALOG, "Opening stock": opening_rows(4)})
    calls: list[int] = []

    def meanwhile(step: int) -> None:
        calls.append(step)
        if len(calls) == 3:  # the Sites sheet is checked: another admin adds VAN-1 by hand
            app.register_site(code="VAN-1", name="Van added by hand", kind="mobile", actor="other@example.org")

    report = import_file(app, path, actor=ADMIN, progress=meanwhile)
    assert [(p.sheet, p.row, p.column) for p in report.problems] == [("Sites", 3, "code")]
    assert "already registered" in report.problems[0].message
    assert report.recorded["sites"] == 1 and report.recorded["lots"] == 4
    assert app.site("VAN-1")["name"] == "Van added by hand"


def test_the_same_file_imported_twice_at_the_same_moment_records_its_stock_once(
    database_url: str, tmp_path: Path
) -> None:
    # Two application instances (as two web workers or an upload and the command line) on one database.
    import threading

    path = workbook(tmp_path / "stock.xlsx", {**CATALOG, "Opening stock": opening_rows(40)})
    apps = [InventoryApplication(database_url), InventoryApplication(database_url)]
    gate = threading.Barrier(2)
    reports: list[Any] = []
    errors: list[BaseException] = []

    def run(app: InventoryApplication) -> None:
        try:
            gate.wait(timeout=30)
            reports.append(import_file(app, path, actor=ADMIN))
        except BaseException as error:
            errors.append(error)

    try:
        threads = [threading.Thread(target=run, args=(app,)) for app in apps]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=120)
        assert errors == [] and len(reports) == 2
        assert sorted(report.nothing_new for report in reports) == [False, True]
        events = apps[0].recorder.select_notifications(start=1, limit=10_000)
        opening = Counter(
            (n.originator_id, apps[0].mapper.to_domain_event(n).lot)
            for n in events
            if n.topic.endswith("StockLedger.Received")
        )
        assert len(opening) == 40 and set(opening.values()) == {1}
    finally:
        for app in apps:
            app.close()
