"""Every row of a grant report reconciles, read back from the written file.

opening + received + transferred in - transferred out - distributed +/- adjustments = closing, on
every row of Summary, By site and By month; each period's closing is the next period's opening;
closing balances equal the stock read models at the period's end; and the figures equal those
worked out from the ledger events themselves.
"""

from __future__ import annotations

import itertools
import re
import zipfile
from collections import defaultdict
from datetime import date, timedelta
from pathlib import Path

import pytest

from exports.reports import grant_report
from inventory.projections import queries
from tests.conftest import ADMIN
from tests.exports.conftest import ZONE, Program
from tests.exports.workbooks import Table, expected_summary, flows, moved_from_events, sheets, table

ADJUSTED = {
    "Adjusted: damaged": "adjusted:damaged",
    "Adjusted: lost": "adjusted:lost",
    "Adjusted: expired": "adjusted:expired",
    "Adjusted: found": "adjusted:found",
    "Adjusted: returned": "adjusted:returned",
    "Adjusted: correction": "adjusted:correction",
    "Count variance": "adjusted:count_variance",
}
# Only in a report whose period holds them: the demo writes off recalled kits and assembles kits.
WRITTEN_OFF_AND_KITS = {
    "Written off: destroyed": "written_off:destroyed",
    "Written off: returned to the supplier": "written_off:returned_to_supplier",
    "Put into kits (less taken apart)": "into_kits",
    "Kits assembled (less taken apart)": "assembled",
}
COLUMNS = {
    "Opening balance": "opening",
    "Received": "received",
    "Transferred in": "transfer_in",
    "Transferred out": "transfer_out",
    "Distributed": "distributed",
    "Issued to partners": "to_partner",
    "Mailed (less parcels returned)": "mailed",
    **ADJUSTED,
    **WRITTEN_OFF_AND_KITS,
    "Closing balance": "closing",
}


def write(program: Program, path: Path, funding: str | None, start: date, end: date) -> dict[str, Table]:
    grant_report(program.source, str(path), funding_source=funding, start=start, end=end, who="tests@example.org")
    found = sheets(path)
    return {
        "summary": table(found["Summary"], "Category"),
        "by site": table(found["By site"], "Site"),
        "by month": table(found["By month"], "Month"),
    }


def assert_rows_reconcile(tables: dict[str, Table]) -> None:
    for name, found in tables.items():
        assert found.rows, f"{name} has no rows"
        for record in found.records():
            assert flows(record) == record["Closing balance"], (name, record)


def closing_by(found: Table, *keys: str) -> dict[tuple[str, ...], int]:
    return {tuple(r[k] for k in keys): int(r["Closing balance"]) for r in found.records()}


def opening_by(found: Table, *keys: str) -> dict[tuple[str, ...], int]:
    return {tuple(r[k] for k in keys): int(r["Opening balance"]) for r in found.records()}


def stock_at_end(program: Program, day: date, funding: str | None) -> dict[tuple[str, str], int]:
    """Stock at the end of `day` from the stock card read model, by site and item (non-zero only)."""
    totals: dict[tuple[str, str], int] = defaultdict(int)
    for lot in queries.stock_as_of(program.store, day):
        if funding is None or lot["funding_source"] == funding:
            totals[(lot["site"], lot["sku"])] += int(lot["quantity"])
    return {key: value for key, value in totals.items() if value}


def check_two_periods(program: Program, tmp_path: Path, funding: str | None, start: date, middle: date) -> None:
    first = write(program, tmp_path / "first.xlsx", funding, start, middle)
    second = write(program, tmp_path / "second.xlsx", funding, middle + timedelta(days=1), program.last_day)
    assert_rows_reconcile(first)
    assert_rows_reconcile(second)
    # Each closing balance is the next period's opening, by item and by site.
    for name, keys in (("summary", ("SKU",)), ("by site", ("Site", "SKU"))):
        closing = {k: v for k, v in closing_by(first[name], *keys).items() if v}
        opening = {k: v for k, v in opening_by(second[name], *keys).items() if v}
        assert closing == opening, name
    # Month by month too: each month's closing is the next month's opening.
    months = second["by month"].records()
    for sku in {r["SKU"] for r in months}:
        rows = sorted((r for r in months if r["SKU"] == sku), key=lambda r: r["Month"])
        for before, after in itertools.pairwise(rows):
            assert before["Closing balance"] == after["Opening balance"], (sku, before["Month"])
    # Closing balances are the stock read models' answers at the period's end.
    for tables, end in ((first, middle), (second, program.last_day)):
        closing = {(s, k): v for (s, k), v in closing_by(tables["by site"], "Site", "SKU").items() if v}
        assert closing == stock_at_end(program, end, funding)
    # The last period ends with the last activity: its closing is the stock on hand now.
    on_hand: dict[tuple[str, str], int] = defaultdict(int)
    for lot in queries.stock_on_hand(program.store):
        if funding is None or lot["funding_source"] == funding:
            on_hand[(lot["site"], lot["sku"])] += int(lot["quantity"])
    closing = {k: v for k, v in closing_by(second["by site"], "Site", "SKU").items() if v}
    assert closing == {k: v for k, v in on_hand.items() if v}


def assert_matches_events(
    program: Program, tables: dict[str, Table], funding: str | None, start: date, end: date
) -> None:
    expected = expected_summary(moved_from_events(program.app, ZONE), funding, start, end)
    for record in tables["summary"].records():
        sku = record["SKU"]
        for heading, key in COLUMNS.items():
            assert int(record.get(heading) or 0) == expected.get(sku, {}).get(key, 0), (sku, heading)
    shown = {r["SKU"] for r in tables["summary"].records()}
    assert {sku for sku, row in expected.items() if any(row.values())} == shown


@pytest.mark.parametrize("funding", ["SOR", "STATE-HR", "DONATIONS", None])
def test_the_demo_programs_grant_reports_reconcile_across_two_periods(
    demo: Program, tmp_path: Path, funding: str | None
) -> None:
    check_two_periods(demo, tmp_path, funding, date(2026, 2, 1), date(2026, 2, 28))


def test_the_demo_programs_report_shows_what_the_events_say(demo: Program, tmp_path: Path) -> None:
    start, end = date(2026, 2, 10), date(2026, 3, 5)
    tables = write(demo, tmp_path / "report.xlsx", "SOR", start, end)
    assert_matches_events(demo, tables, "SOR", start, end)


def test_the_demo_writes_off_and_assembles_kits_so_those_columns_are_checked(demo: Program, tmp_path: Path) -> None:
    """The demo exercises the write-off and kit columns (else the demo's checks above prove less of them)."""
    tables = write(demo, tmp_path / "all.xlsx", None, date(2026, 1, 1), demo.last_day)
    totals: dict[str, int] = defaultdict(int)
    for record in tables["by site"].records():
        for heading in WRITTEN_OFF_AND_KITS:
            totals[heading] += abs(int(record.get(heading) or 0))
    assert totals["Put into kits (less taken apart)"] and totals["Kits assembled (less taken apart)"], totals
    assert totals["Written off: destroyed"] or totals["Written off: returned to the supplier"], totals


@pytest.mark.parametrize("funding", ["SOR", "STATE", "GIFTS", None])
def test_a_generated_programs_grant_reports_reconcile(generated: Program, tmp_path: Path, funding: str | None) -> None:
    start = generated.last_day - timedelta(days=55)
    middle = generated.last_day - timedelta(days=20)
    check_two_periods(generated, tmp_path, funding, start, middle)
    tables = write(generated, tmp_path / "whole.xlsx", funding, start, generated.last_day)
    assert_matches_events(generated, tables, funding, start, generated.last_day)


def test_every_adjustment_reason_and_cancelled_transfers_are_in_the_generated_program(
    generated: Program, tmp_path: Path
) -> None:
    """The generated program exercises what the columns are for (else the checks above prove less)."""
    tables = write(generated, tmp_path / "all.xlsx", None, generated.last_day - timedelta(days=70), generated.last_day)
    totals = defaultdict(int)
    for record in tables["by site"].records():
        for heading in ADJUSTED:
            totals[heading] += abs(int(record[heading]))
    assert all(totals[heading] for heading in ADJUSTED), totals
    kinds = {row[0] for row in generated.store.fetchall("SELECT DISTINCT kind FROM stock_movements")}
    assert {"returned", "transfer_in", "transfer_out", "counted", "adjusted", "to_partner", "mailed"} <= kinds
    reasons = {row[0] for row in generated.store.fetchall("SELECT DISTINCT reason FROM stock_movements")}
    assert "parcel returned" in reasons


@pytest.mark.parametrize("funding", ["SOR", None])
def test_who_it_went_to_adds_up_to_what_left_and_partners_figures_stand_apart(
    generated: Program, tmp_path: Path, funding: str | None
) -> None:
    """Units by channel and recipient type = distributed + issued to partners + mailed, per item; the partner
    channel = the partner section's issues; and what partners reported handing out onward is shown as they
    reported it, in no column of the program's own."""
    start, end = generated.last_day - timedelta(days=55), generated.last_day
    path = tmp_path / "who.xlsx"
    tables = write(generated, path, funding, start, end)
    summary = sheets(path)["Summary"]
    left = {
        r["SKU"]: int(r["Distributed"]) + int(r["Issued to partners"]) + int(r["Mailed (less parcels returned)"])
        for r in tables["summary"].records()
    }
    who = table(summary, "Channel").records()
    by_sku: dict[str, int] = defaultdict(int)
    for record in who:
        by_sku[record["SKU"]] += int(record["Quantity"])
    assert {k: v for k, v in by_sku.items() if v} == {k: v for k, v in left.items() if v}
    partner_channel = sum(int(r["Quantity"]) for r in who if r["Channel"] == "Partner organisation")
    issued = table(summary, "Partner").records()
    assert (
        partner_channel
        == sum(int(r["Issued"]) for r in issued)
        == sum(int(r["Issued to partners"]) for r in tables["summary"].records())
    )
    assert partner_channel > 0 and {r["Code"] for r in issued} == {"SHELTER-1"}
    mailed = sum(int(r["Quantity"]) for r in who if r["Channel"] == "Mail")
    assert mailed == sum(int(r["Mailed (less parcels returned)"]) for r in tables["summary"].records()) > 0
    # The partner's own figures: in their table, never in a balance (they are not the program's stock).
    generated.app.report_back(partner="SHELTER-1", starts_on=start, ends_on=end - timedelta(days=1),
                              kits_distributed=987_654, reversals_reported=3, kits_remaining=12,
                              actor=ADMIN)  # fmt: skip
    again = tmp_path / "who-again.xlsx"
    tables_again = write(generated, again, funding, start, end)
    reported = table(
        sheets(again)["Summary"], "Partner", after=_row_of(sheets(again)["Summary"], "What partners")
    ).records()
    assert [(r["Code"], r["Naloxone kits handed out onward"]) for r in reported] == [("SHELTER-1", 987_654)]
    assert tables_again["summary"].records() == tables["summary"].records()
    assert all(987_654 not in row for t in tables_again.values() for row in t.rows)


def _row_of(rows: list[list[object]], starting: str) -> int:
    return next(i for i, row in enumerate(rows) if row and isinstance(row[0], str) and row[0].startswith(starting))


def test_a_generated_programs_report_reconciles_on_each_database(generated_on: Program, tmp_path: Path) -> None:
    start = generated_on.last_day - timedelta(days=55)
    tables = write(generated_on, tmp_path / "report.xlsx", "SOR", start, generated_on.last_day)
    assert_rows_reconcile(tables)
    assert_matches_events(generated_on, tables, "SOR", start, generated_on.last_day)


def test_the_summary_charts_monthly_distribution_from_its_own_table(demo: Program, tmp_path: Path) -> None:
    path = tmp_path / "chart.xlsx"
    grant_report(demo.source, str(path), funding_source=None, start=date(2026, 2, 1), end=date(2026, 3, 10), who="t")
    rows = sheets(path)["Summary"]
    monthly = table(rows, "Month")
    assert [r[0] for r in monthly.rows] == ["2026-02", "2026-03"]
    first = rows.index(monthly.rows[0]) + 1  # 1-based row of the first month
    with zipfile.ZipFile(path) as archive:
        chart = archive.read("xl/charts/chart1.xml").decode()
    series = re.findall(r"<val><numRef><f>'Summary'!\$([A-Z]+)\$(\d+):\$[A-Z]+\$(\d+)</f>", chart)
    assert len(series) == len([h for h in monthly.header if h]) - 1  # one series per item distributed
    assert {(int(a), int(b)) for _, a, b in series} == {(first, first + 1)}
    assert f"<cat><strRef><f>'Summary'!$A${first}:$A${first + 1}</f>" in chart


def test_the_summary_states_the_doses_of_items_counted_in_doses(demo: Program, tmp_path: Path) -> None:
    """The demo's naloxone spray kits hold 2 doses each: what left in kits is stated in doses too, each figure
    the kits of the item's own row times 2; items not counted in doses are not listed."""
    path = tmp_path / "doses.xlsx"
    grant_report(demo.source, str(path), funding_source=None, start=date(2026, 2, 1), end=date(2026, 3, 10), who="t")
    rows = sheets(path)["Summary"]
    items = {r["SKU"]: r for r in table(rows, "Category").records()}
    doses = table(rows, "SKU").records()
    assert [r["SKU"] for r in doses] == ["NALOX-4MG"]
    [kits] = doses
    assert kits["Unit"] == "kit" and kits["Doses in one unit"] == 2
    for heading in ("Distributed", "Issued to partners", "Mailed (less parcels returned)"):
        assert kits[heading] == items["NALOX-4MG"][heading], heading
        assert kits[f"{heading}: doses"] == 2 * kits[heading], heading
    assert kits["Distributed"] > 0
