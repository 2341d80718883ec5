"""User text is written as text, never as a formula, whatever it starts with.

The workbook's sheet XML is read directly: every <f> element must be one the export writes itself
(sums, SUMIF, the row checks, values and rates), built only from cell references; every piece of
user text must sit in a string cell.
"""

from __future__ import annotations

import io
import re
import zipfile
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from openpyxl import load_workbook

from exports.distribution_log import Visits, write_distribution_log
from exports.grant_figures import Balance, GrantFigures, months
from exports.grant_report import write_grant_report
from exports.provenance import Provenance
from exports.reports import Source, grant_report
from exports.stock_report import write_stock_report
from tests.conftest import ADMIN, saved_as_before
from tests.exports.conftest import ZONE, _program

STARTS = ["=", "+", "-", "@", "\t", "\r", "\uff1d"]
# What the export's own formulas may contain: functions it uses, cell references, operators, "".
OWN_FORMULA = re.compile(r'^(?:SUMIF|SUM|IF|\$?[A-Z]{1,3}\$?\d+|[-+*/:=(),]|""|\d+)+$')
CELL = re.compile(r'<c r="([A-Z]+\d+)"([^>]*)>(.*?)</c>', re.S)

hostile = st.builds(lambda start, rest: start + rest, st.sampled_from(STARTS), st.text(max_size=30))


def cells(workbook: bytes) -> list[tuple[str, str, str, str]]:
    """(sheet file, reference, attributes, inner XML) of every cell in the workbook."""
    found = []
    with zipfile.ZipFile(io.BytesIO(workbook)) as archive:
        for name in archive.namelist():
            if name.startswith("xl/worksheets/sheet"):
                xml = archive.read(name).decode()
                found += [(name, ref, attrs, inner) for ref, attrs, inner in CELL.findall(xml)]
    return found


def assert_no_user_formula(workbook: bytes, texts: list[str]) -> None:
    formulas = [re.search(r"<f>(.*?)</f>", inner, re.S) for _, _, _, inner in cells(workbook)]
    for found in formulas:
        if found is not None:
            assert OWN_FORMULA.match(found.group(1).replace("&quot;", '"')), found.group(1)
    # And each text reads back as the very text, from a string cell (openpyxl says "s" for those).
    book = load_workbook(io.BytesIO(workbook))
    strings = {
        cell.value
        for sheet in book.worksheets
        for row in sheet.iter_rows()
        for cell in row
        if cell.data_type == "s" and isinstance(cell.value, str)
    }
    for text in texts:
        assert _as_stored(text) in strings, repr(text)


def _as_stored(text: str) -> str:
    # XML 1.0 cannot hold most control characters: the export replaces them, and XML parsers
    # read a lone carriage return back as a line feed.
    cleaned = re.sub(r"[\x00-\x08\x0b\x0c\x0e-\x1f]", "\ufffd", text)
    return cleaned.replace("\r\n", "\n").replace("\r", "\n")


def provenance(who: str) -> Provenance:
    return Provenance(
        "Grant report", who, (("funding source", "all"),), 10, (10, "ab" * 32), False, "UTC", datetime.now(UTC)
    )


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(name=hostile, lot=hostile, reference=hostile, actor=hostile, funder=hostile, code=hostile)
def test_text_starting_like_a_formula_is_written_as_text(
    name: str, lot: str, reference: str, actor: str, funder: str, code: str
) -> None:
    start, end = date(2026, 1, 1), date(2026, 2, 28)
    balance = Balance(opening=5, closing=7)
    balance.add("received", 2)
    movement = {
        "position": 1,
        "business_date": "2026-01-05",
        "occurred_at": "2026-01-05T10:00:00+00:00",
        "recorded_at": "2026-01-05T10:00:00+00:00",
        "site": "WH",
        "sku": "NALOX-4MG",
        "lot": lot,
        "funding_source": "SOR",
        "expires_on": None,
        "kind": "received",
        "reason": None,
        "quantity": 2,
        "reference": reference,
        "other_site": None,
        "actor": actor,
    }
    figures = GrantFigures(
        funding_source="SOR",
        start=start,
        end=end,
        items={"NALOX-4MG": {"name": name, "category": "naloxone", "unit": "kit"}},
        funding_names={"SOR": funder},
        by_site={("WH", "NALOX-4MG"): balance},
        by_month={("2026-01", "NALOX-4MG"): balance},
        months=months(start, end),
        activity=[("2026-01", "WH", 3, 1, 10, 5, 0)],
        receipts=[dict(movement, purchase_order=None, note=reference, unit_cost=Decimal("1.50"))],
        ledger=[movement],
    )
    buffer = io.BytesIO()
    write_grant_report(figures, provenance(actor), buffer)
    assert_no_user_formula(buffer.getvalue(), [name, lot, reference, actor])

    lots = [
        {
            "site": "WH",
            "sku": "NALOX-4MG",
            "name": name,
            "category": "naloxone",
            "unit": "kit",
            "lot": lot,
            "expires_on": "2027-01-01",
            "funding_source": "SOR",
            "quantity": 4,
            "unit_cost": None,
        }
    ]
    buffer = io.BytesIO()
    write_stock_report(lots, date(2026, 3, 1), provenance(actor), buffer)
    assert_no_user_formula(buffer.getvalue(), [name, lot, actor])

    visit = {
        "position": 3,
        "business_date": "2026-01-05",
        "occurred_at": "2026-01-05T10:00:00+00:00",
        "site": "WH",
        "participant_code": code,
        "reversals_reported": 0,
        "syringes_collected": 0,
        "refill_reason": None,
        "actor": actor,
        "lines": [{"sku": "NALOX-4MG", "quantity": 1}],
        "recipient": "person_who_uses_drugs",
        "for_others": 0,
        "channel": "fixed_site",
    }
    # A partner's and a parcel's rows on their own sheets, a carrier typed as a formula among them.
    issue = {"business_date": "2026-01-05", "occurred_at": "2026-01-05T10:00:00+00:00", "site": "WH",
             "partner": "SHELTER-1", "actor": actor, "lines": [{"sku": "NALOX-4MG", "quantity": 5}]}  # fmt: skip
    parcel = {"business_date": "2026-01-05", "occurred_at": "2026-01-05T10:00:00+00:00", "site": "WH",
              "carrier": '=HYPERLINK("http://x.example","post")', "recipient": "other", "for_others": 0,
              "returned_on": None, "actor": actor, "lines": [{"sku": "NALOX-4MG", "quantity": 1}]}  # fmt: skip
    buffer = io.BytesIO()
    visits = Visits([visit], ["NALOX-4MG"], [issue], [parcel])
    write_distribution_log(visits, provenance(actor), buffer, participant_codes=True)
    assert_no_user_formula(buffer.getvalue(), [code, actor, parcel["carrier"]])


def test_names_lots_and_references_recorded_through_the_application_stay_text(sqlite_url: str, tmp_path: Path) -> None:
    """End to end: text a person typed into the product, exported, is still text in the workbook."""
    app, store, projector = _program(sqlite_url)
    app.register_site(code="EVIL-1", name='=HYPERLINK("http://x.example","click")', kind="fixed", actor=ADMIN)
    app.register_item(
        sku="EVIL-KIT", name="+1+cmd|' /C calc'!A0", category="other", unit="kit", tracks_expiry=False, actor=ADMIN
    )
    app.register_funding_source(code="EVIL-FUND", name="@SUM(1+1)", federal=False, actor=ADMIN)
    day = datetime.now(ZONE)
    app.receive_stock(
        site="EVIL-1",
        sku="EVIL-KIT",
        lot="EVIL-LOT",
        quantity=3,
        funding_source="EVIL-FUND",
        reference="-2+3",
        expires_on=None,
        actor=ADMIN,
        occurred_at=day,
    )
    # Lot numbers are refused today unless they start with a letter or digit; a log from before may
    # still hold one that reads as a formula.
    ledger = app.ledger_aggregate("EVIL-1", "EVIL-KIT")
    ledger.receive(lot="=1+2", quantity=1, expires_on=None, funding_source="EVIL-FUND", unit_cost=None,
                   purchase_order=None, reference=None, actor=ADMIN, occurred_at=day)  # fmt: skip
    saved_as_before(app, ledger)
    path = tmp_path / "evil.xlsx"
    projector.catch_up()
    grant_report(
        Source(app, store, app.zone),
        str(path),
        funding_source="EVIL-FUND",
        start=day.date(),
        end=day.date(),
        who="=cmd|' /C calc'!A0",
    )
    try:
        assert_no_user_formula(path.read_bytes(), ["=1+2", "-2+3", "+1+cmd|' /C calc'!A0", "=cmd|' /C calc'!A0"])
    finally:
        app.close()
        store.close()
