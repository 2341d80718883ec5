"""The grant report opens in LibreOffice Calc, which recalculates every formula: the totals it shows
are the values worked out here from the events, and every row's check is zero.

LibreOffice (Debian's libreoffice-calc-nogui, installed by .ci/run) runs headless and converts each
sheet to CSV after recalculating; openpyxl writes formulas without cached values, so every total in
the CSV was computed by LibreOffice itself.
"""

from __future__ import annotations

import csv
import os
import shutil
import subprocess
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

import pytest

from exports.reports import grant_report
from tests.conftest import IN_CI
from tests.exports.conftest import ZONE, Program
from tests.exports.test_reconciliation import COLUMNS
from tests.exports.workbooks import expected_summary, moved_from_events

# Every sheet, UTF-8, raw values (not as displayed), one CSV file per sheet.
CSV_FILTER = "csv:Text - txt - csv (StarCalc):44,34,76,1,,0,false,true,false,false,false,-1"


def soffice() -> str:
    found = shutil.which("soffice") or shutil.which("libreoffice")
    if found is None:
        if IN_CI:
            pytest.fail("LibreOffice (soffice) is required under CI=true: apt-get install libreoffice-calc-nogui")
        pytest.skip("LibreOffice (soffice) is not installed")
    return found


def convert(workbook: Path, folder: Path) -> dict[str, list[list[str]]]:
    """Each sheet as LibreOffice computed it, read from the CSV it wrote."""
    profile = folder / "profile"  # a profile of its own: no clash with another LibreOffice running
    subprocess.run(
        [
            soffice(),
            f"-env:UserInstallation=file://{profile}",
            "--headless",
            "--norestore",
            "--convert-to",
            CSV_FILTER,
            "--outdir",
            str(folder),
            str(workbook),
        ],
        check=True,
        capture_output=True,
        timeout=120,
        env={**os.environ, "HOME": str(folder)},
    )
    sheets = {}
    for path in folder.glob(f"{workbook.stem}-*.csv"):
        with path.open(newline="", encoding="utf-8") as handle:
            sheets[path.stem.removeprefix(f"{workbook.stem}-")] = list(csv.reader(handle))
    return sheets


def rows_after(rows: list[list[str]], first_heading: str) -> tuple[list[str], list[list[str]], list[str]]:
    """A table's header, its data rows and its Total row."""
    start = next(i for i, row in enumerate(rows) if row and row[0] == first_heading)
    body = []
    for row in rows[start + 1 :]:
        if row[0] == "Total":
            return rows[start], body, row
        body.append(row)
    raise AssertionError(f"no Total row under {first_heading}")


def number(text: str) -> Decimal:
    return Decimal(text.replace(",", "").rstrip("%") or "0")


def test_libreoffice_recalculates_every_total_to_the_figures_from_the_events(
    generated: Program, tmp_path: Path
) -> None:
    start, end = generated.last_day - timedelta(days=45), generated.last_day - timedelta(days=3)
    workbook = tmp_path / "grant.xlsx"
    grant_report(generated.source, str(workbook), funding_source="SOR", start=start, end=end, who="t@example.org")
    sheets = convert(workbook, tmp_path)
    assert {"Summary", "By site", "By month", "Receipts", "Ledger", "Provenance"} <= set(sheets)

    moved = moved_from_events(generated.app, ZONE)
    expected = expected_summary(moved, "SOR", start, end)
    header, body, totals = rows_after(sheets["Summary"], "Category")
    for heading, key in COLUMNS.items():
        want = sum(row.get(key, 0) for row in expected.values())
        if heading not in header:  # a column the period has nothing for (write-offs, kits) is left out
            assert want == 0, heading
            continue
        assert number(totals[header.index(heading)]) == want, heading
    check = header.index("Check (0 when the row reconciles)")
    assert body and all(number(row[check]) == 0 for row in body)
    assert number(totals[check]) == 0

    # By site: the same totals, and every row's check is zero there too.
    header, body, site_totals = rows_after(sheets["By site"], "Site")
    for heading in (heading for heading in COLUMNS if heading in header):
        assert number(site_totals[header.index(heading)]) == number(totals[header.index(heading) - 1]), heading
    assert all(number(row[header.index("Check (0 when the row reconciles)")]) == 0 for row in body)

    # Receipts: quantity and value totals (value = quantity x unit cost).
    header, body, receipt_totals = rows_after(sheets["Receipts"], "Business date")
    received = [m for m in moved if m.kind == "received" and m.funding_source == "SOR" and start <= m.day <= end]
    assert number(receipt_totals[header.index("Quantity")]) == sum(m.quantity for m in received)
    quantity, cost = header.index("Quantity"), header.index("Unit cost")
    # Every receipt states its cost: as received, or on the purchase order it was received against.
    assert body and all(row[cost] for row in body)
    value = sum((number(row[quantity]) * number(row[cost]) for row in body), Decimal(0))
    assert value > 0
    assert number(receipt_totals[header.index("Value")]) == value

    # Ledger: the net of every movement in the period is closing minus opening.
    header, body, ledger_totals = rows_after(sheets["Ledger"], "Log position")
    in_period = [m for m in moved if m.funding_source == "SOR" and start <= m.day <= end]
    assert len(body) == len(in_period)
    assert number(ledger_totals[header.index("Quantity (+ in, - out)")]) == sum(m.quantity for m in in_period)

    # Program activity: encounters and the return rate as LibreOffice computes it.
    header, body, activity = rows_after(sheets["Summary"], "Site")
    given = number(activity[header.index("Syringes distributed")])
    collected = number(activity[header.index("Syringes collected")])
    assert given > 0
    rate = number(activity[header.index("Return rate (collected ÷ distributed)")])
    assert abs(rate / 100 - collected / given) < Decimal("0.0001")
