"""The grant report workbook: Summary (with a chart), By site, By month, Receipts, Ledger, Provenance."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import date, datetime
from typing import IO, Any
from zoneinfo import ZoneInfo

from openpyxl import Workbook
from openpyxl.chart import BarChart, Reference
from openpyxl.chart.data_source import AxDataSource, StrRef
from openpyxl.utils import get_column_letter

from exports.cells import INTEGER, MONEY, PERCENT, Formula
from exports.grant_figures import (
    DISTRIBUTED,
    MAILED,
    RECEIVED,
    SIGN,
    TO_PARTNERS,
    TRANSFERRED_IN,
    TRANSFERRED_OUT,
    Balance,
    GrantFigures,
)
from exports.provenance import Provenance, write_provenance
from exports.sheets import Column, SheetWriter, column_range
from inventory.domain.partners import PARTNER_KINDS
from inventory.domain.reach import channel_label
from inventory.domain.time_words import day_in_words
from inventory.projections import reach_queries

HEADINGS = {
    RECEIVED: "Received",
    TRANSFERRED_IN: "Transferred in",
    TRANSFERRED_OUT: "Transferred out",
    DISTRIBUTED: "Distributed",
    TO_PARTNERS: "Issued to partners",
    MAILED: "Mailed (less parcels returned)",
    "count_variance": "Count variance",
    "into_kits": "Put into kits (less taken apart)",
    "assembled": "Kits assembled (less taken apart)",
    "destroyed": "Written off: destroyed",
    "returned_to_supplier": "Written off: returned to the supplier",
}


def flow_heading(flow: str) -> str:
    return HEADINGS.get(flow) or f"Adjusted: {flow.replace('_', ' ')}"


def _balance_columns(figures: GrantFigures) -> tuple[list[str], list[Column]]:
    flows = [RECEIVED, TRANSFERRED_IN, TRANSFERRED_OUT, DISTRIBUTED, TO_PARTNERS, MAILED, *figures.adjustment_columns]
    columns = [
        Column("Opening balance", 11, INTEGER, summed=True),
        *(Column(flow_heading(flow), 11, INTEGER, summed=True) for flow in flows),
        Column("Closing balance", 11, INTEGER, summed=True),
        Column("Check (0 when the row reconciles)", 13, INTEGER, summed=True),
    ]
    return flows, columns


def _balance_values(balance: Balance, flows: Sequence[str], row: int, first_column: int) -> list[Any]:
    """Opening, flows, closing, and the check formula for a row that starts at `first_column` (0-based)."""
    letters = [get_column_letter(first_column + 1 + index) for index in range(len(flows) + 2)]
    signs = ("+" if SIGN.get(flow, 1) > 0 else "-" for flow in flows)
    terms = "".join(f"{sign}{letter}{row}" for sign, letter in zip(signs, letters[1:], strict=False))
    check = Formula(f"={letters[0]}{row}{terms}-{letters[-1]}{row}")
    return [balance.opening, *(balance.flows.get(flow, 0) for flow in flows), balance.closing, check]


def _item(figures: GrantFigures, sku: str) -> list[Any]:
    item = figures.items.get(sku, {})
    return [item.get("category", ""), sku, item.get("name", ""), item.get("unit", "")]


def write_grant_report(
    figures: GrantFigures,
    provenance: Provenance,
    target: str | IO[bytes],
    progress: Callable[[int], None] | None = None,
) -> None:
    """Write the workbook to a path or a binary stream (progress: rows written)."""
    workbook = Workbook(write_only=True)
    _summary(workbook, figures, provenance)
    _by_site(workbook, figures, progress)
    _by_month(workbook, figures, progress)
    _receipts(workbook, figures, provenance, progress)
    _ledger(workbook, figures, provenance, progress)
    write_provenance(workbook, provenance)
    workbook.save(target)


def funder_label(figures: GrantFigures) -> str:
    code = figures.funding_source
    if code is None:
        return "All funding sources"
    return f"{code} · {figures.funding_names.get(code, 'unknown funding source')}"


SUMMARY_HEADER_ROW = 6


def _summary(workbook: Workbook, figures: GrantFigures, provenance: Provenance) -> None:
    flows, balance_columns = _balance_columns(figures)
    widths = [14, 14, 30, 10, *(11 for _ in balance_columns)]
    sheet = SheetWriter(workbook, "Summary", widths, freeze=f"D{SUMMARY_HEADER_ROW + 1}")
    sheet.heading(f"Grant report: {funder_label(figures)}")
    period = f"{day_in_words(figures.start)} to {day_in_words(figures.end)}"
    sheet.append([f"Period {period} (business dates, both included)"])
    sealed = f"seal head {provenance.seal[0]}, hash {provenance.seal[1]}" if provenance.seal else "nothing sealed yet"
    sheet.append([f"Figures as known at log position {provenance.position}; {sealed}."])
    sheet.append(
        [
            "Quantities are in each item's unit of issue. Transferred in includes stock returned by cancelled "
            "transfers; adjustments and count variances are signed (+ found, - lost)."
        ]
    )
    sheet.blank()
    columns = [Column("Category", 14), Column("SKU", 14), Column("Item", 30), Column("Unit", 10), *balance_columns]
    first = SUMMARY_HEADER_ROW + 1
    ordered = sorted(figures.by_item.items(), key=lambda pair: (_category(figures, pair[0]), pair[0]))
    rows = [
        [*_item(figures, sku), *_balance_values(balance, flows, first + index, 4)]
        for index, (sku, balance) in enumerate(ordered)
    ]
    items = sheet.table(columns, rows, autofilter=True)
    sheet.blank()
    sheet.heading("By category")
    categories = sorted({str(row[0]) for row in rows})
    keys = column_range(items, 0, absolute=True)
    category_rows = [
        [
            category,
            *(
                Formula(f"=SUMIF({keys},$A{sheet.row + 2 + index},{column_range(items, 4 + n)})")
                for n in range(len(balance_columns))
            ),
        ]
        for index, category in enumerate(categories)
    ]
    sheet.table([Column("Category"), *balance_columns], category_rows, totals=None)
    sheet.blank()
    _doses(sheet, figures)
    _kit_parts(sheet, figures)
    _activity(sheet, figures)
    sheet.blank()
    _who_it_went_to(sheet, figures)
    sheet.blank()
    _partners(sheet, figures)
    sheet.blank()
    _monthly_chart(sheet, figures)


def _doses(sheet: SheetWriter, figures: GrantFigures) -> None:
    """What left in doses, for the items counted in doses (a naloxone kit of two sprays: 2): each figure is the
    units above times the doses in one. Nothing when no item is counted in doses."""
    rows = []
    for sku, balance in sorted(figures.by_item.items()):
        per = figures.items.get(sku, {}).get("doses_per_unit")
        if per:
            out = [balance.flows.get(flow, 0) for flow in (DISTRIBUTED, TO_PARTNERS, MAILED)]
            rows.append([*_item(figures, sku)[1:], per, *(value for units in out for value in (units, units * per))])
    if not rows:
        return
    sheet.heading("Doses: the units above that are counted in doses, times the doses in one unit")
    columns = [Column("SKU"), Column("Item"), Column("Unit"), Column("Doses in one unit", number_format=INTEGER)]
    for heading in ("Distributed", "Issued to partners", "Mailed (less parcels returned)"):
        columns += [
            Column(heading, number_format=INTEGER),
            Column(f"{heading}: doses", number_format=INTEGER, summed=True),
        ]
    sheet.table(columns, rows)
    sheet.blank()


def _kit_parts(sheet: SheetWriter, figures: GrantFigures) -> None:
    """What was inside the kits handed out, each part under the funder that paid for its own lot (a funder that
    may not buy syringes is never shown a kit's syringes). Nothing when no kit was handed out."""
    if not figures.kit_parts:
        return
    sheet.heading("Inside the kits handed out: each part under the funder that paid for it")
    columns = [Column("Kit"), Column("Part (SKU)"), Column("Part"), Column("Unit"), Column("Paid by"),
               Column("Units handed out inside kits", number_format=INTEGER, summed=True)]  # fmt: skip
    rows = [
        [
            row["kit_sku"],
            row["sku"],
            figures.items.get(row["sku"], {}).get("name", row["sku"]),
            figures.items.get(row["sku"], {}).get("unit", ""),
            figures.funding_names.get(row["funding_source"], row["funding_source"] or "(none recorded)"),
            row["quantity"],
        ]
        for row in figures.kit_parts
    ]
    sheet.table(columns, rows)
    sheet.blank()


def _category(figures: GrantFigures, sku: str) -> str:
    return str(figures.items.get(sku, {}).get("category", ""))


def _activity(sheet: SheetWriter, figures: GrantFigures) -> None:
    sheet.heading("Program activity by site (all funding sources: visits are not paid by a funder)")
    by_site: dict[str, list[int]] = {}
    for _month, site, visits, reversals, given, collected, on_tallies in figures.activity:
        totals = by_site.setdefault(site, [0, 0, 0, 0, 0])
        for index, value in enumerate((visits, on_tallies, reversals, given, collected)):
            totals[index] += value
    first = sheet.row + 2
    rate = '=IF(E{row}=0,"",F{row}/E{row})'
    rows = [
        [site, *totals, Formula(rate.format(row=first + index))]
        for index, (site, totals) in enumerate(sorted(by_site.items()))
    ]
    sheet.table(
        [
            Column("Site"),
            Column("Encounters", number_format=INTEGER, summed=True),
            Column("of which counted on shift tallies", number_format=INTEGER, summed=True),
            Column("Overdose reversals reported", number_format=INTEGER, summed=True),
            Column("Syringes distributed", number_format=INTEGER, summed=True),
            Column("Syringes collected", number_format=INTEGER, summed=True),
            Column("Return rate (collected ÷ distributed)", number_format=PERCENT, total_expression=rate),
        ],
        rows,
    )


def _who_it_went_to(sheet: SheetWriter, figures: GrantFigures) -> None:
    """Units by channel and recipient type (they add up to Distributed, Issued to partners and Mailed), and the
    program's contacts by channel with those collecting for others."""
    sheet.heading("Who it went to: units handed out, issued and mailed, by channel and recipient type")
    rows = [
        [
            row["channel_label"],
            reach_queries.recipient_label(figures.recipient_labels, row["recipient"]),
            *_item(figures, row["sku"])[1:],
            row["quantity"],
        ]
        for row in figures.reach
    ]
    sheet.table(
        [Column("Channel"), Column("Recipient type"), Column("SKU"), Column("Item"), Column("Unit"),
         Column("Quantity", number_format=INTEGER)],
        rows,
        totals=None,
    )  # fmt: skip
    sheet.blank()
    sheet.heading("Contacts by channel (all funding sources), with people reached through those collecting for others")
    contacts = [
        [
            channel_label(row["channel"]),
            reach_queries.recipient_label(figures.recipient_labels, row["recipient"]),
            row["contacts"],
            row["collecting_for_others"],
            row["people_reached"],
        ]
        for row in figures.contacts
    ]
    sheet.table(
        [Column("Channel"), Column("Recipient type"),
         Column("Contacts (visits, parcels, dispenses)", number_format=INTEGER, summed=True),
         Column("of which collecting for others", number_format=INTEGER, summed=True),
         Column("Other people reached (their estimate)", number_format=INTEGER, summed=True)],
        contacts,
    )  # fmt: skip


def _partners(sheet: SheetWriter, figures: GrantFigures) -> None:
    """What partners were issued (in Issued to partners above), and what they reported handing out onward: their
    own figures, never added to the program's."""
    sheet.heading("Partner organisations: supplies issued to them in the period")
    issued = [
        [
            figures.partners.get(partner, {}).get("name", partner),
            partner,
            PARTNER_KINDS.get(figures.partners.get(partner, {}).get("kind", ""), ""),
            *_item(figures, sku)[1:],
            quantity,
        ]
        for (partner, sku), quantity in figures.partner_issues.items()
    ]
    sheet.table(
        [Column("Partner"), Column("Code"), Column("Kind"), Column("SKU"), Column("Item"), Column("Unit"),
         Column("Issued", number_format=INTEGER)],
        issued,
        totals=None,
    )  # fmt: skip
    sheet.blank()
    sheet.heading(
        "What partners reported back (reports for periods ending in this one; their own figures, not counted above)"
    )
    reported = [
        [
            figures.partners.get(row["partner"], {}).get("name", row["partner"]),
            row["partner"],
            _day(row["starts_on"]),
            _day(row["ends_on"]),
            row["kits_distributed"],
            row["reversals_reported"],
            row["kits_remaining"],
        ]
        for row in sorted(figures.partner_reports, key=lambda r: (r["partner"], r["starts_on"]))
    ]
    sheet.table(
        [Column("Partner"), Column("Code"), Column("From"), Column("To"),
         Column("Naloxone kits handed out onward", number_format=INTEGER, summed=True),
         Column("Overdose reversals reported", number_format=INTEGER, summed=True),
         Column("Kits left at the end", number_format=INTEGER)],
        reported,
    )  # fmt: skip


def _monthly_chart(sheet: SheetWriter, figures: GrantFigures) -> None:
    sheet.heading("Distributed by month")
    skus = sorted({sku for (_month, sku), balance in figures.by_month.items() if balance.flows.get(DISTRIBUTED)})
    rows = [
        [month.label, *(figures.by_month.get((month.label, sku), Balance()).flows.get(DISTRIBUTED, 0) for sku in skus)]
        for month in figures.months
    ]
    placed = sheet.table([Column("Month"), *(Column(sku, number_format=INTEGER, summed=True) for sku in skus)], rows)
    if not skus or not rows:
        return
    chart = BarChart()
    chart.title = "Units distributed by month"
    chart.y_axis.title = "Units"
    chart.x_axis.title = "Month"
    data = Reference(sheet.sheet, min_col=2, max_col=1 + len(skus), min_row=placed.header_row, max_row=placed.last)
    chart.add_data(data, titles_from_data=True)
    # Months are labels, not numbers: a string reference, so spreadsheets show "2026-01", not 1, 2, 3.
    months = Reference(sheet.sheet, min_col=1, min_row=placed.first, max_row=placed.last)
    for series in chart.series:
        series.cat = AxDataSource(strRef=StrRef(f=str(months)))
    chart.x_axis.delete = False  # openpyxl 3.1 hides both axes unless told otherwise
    chart.y_axis.delete = False
    chart.width, chart.height = 22, 10
    sheet.sheet.add_chart(chart, f"B{sheet.row + 3}")


def _by_site(workbook: Workbook, figures: GrantFigures, progress: Callable[[int], None] | None) -> None:
    flows, balance_columns = _balance_columns(figures)
    columns = [Column("Site", 11), Column("Category", 14), Column("SKU", 14), Column("Item", 30), Column("Unit", 10)]
    sheet = SheetWriter(workbook, "By site", [c.width for c in (*columns, *balance_columns)], freeze="F2")
    rows = (
        [site, *_item(figures, sku), *_balance_values(balance, flows, 2 + index, 5)]
        for index, ((site, sku), balance) in enumerate(figures.by_site.items())
    )
    sheet.table([*columns, *balance_columns], rows, autofilter=True, progress=progress)


def _by_month(workbook: Workbook, figures: GrantFigures, progress: Callable[[int], None] | None) -> None:
    flows, balance_columns = _balance_columns(figures)
    columns = [
        Column("Month", 9),
        Column("From", 11),
        Column("To", 11),
        Column("Category", 14),
        Column("SKU", 14),
        Column("Item", 30),
        Column("Unit", 10),
    ]
    sheet = SheetWriter(workbook, "By month", [c.width for c in (*columns, *balance_columns)], freeze="H2")
    bounds = {month.label: month for month in figures.months}
    rows = (
        [
            label,
            bounds[label].first,
            bounds[label].last,
            *_item(figures, sku),
            *_balance_values(balance, flows, 2 + index, 7),
        ]
        for index, ((label, sku), balance) in enumerate(figures.by_month.items())
    )
    sheet.table([*columns, *balance_columns], rows, totals=None, autofilter=True, progress=progress)


def _day(value: str | None) -> date | None:
    return date.fromisoformat(value) if value else None


def _moment(value: str | None, zone: ZoneInfo) -> datetime | None:
    """A stored ISO time in the program's time zone, without its offset (spreadsheets hold none)."""
    return datetime.fromisoformat(value).astimezone(zone).replace(tzinfo=None, microsecond=0) if value else None


def _receipts(
    workbook: Workbook, figures: GrantFigures, provenance: Provenance, progress: Callable[[int], None] | None
) -> None:
    columns = [
        Column("Business date", 11),
        Column("Site", 11),
        Column("Category", 12),
        Column("SKU", 13),
        Column("Item", 28),
        Column("Lot", 16),
        Column("Expires", 11),
        Column("Quantity", 10, INTEGER, summed=True),
        Column("Unit cost", 12, MONEY),
        Column("Value", 12, MONEY, summed=True),
        Column("Purchase order", 14),
        Column("Delivery reference", 24),
        Column("Funding source", 12),
        Column("Recorded by", 26),
    ]
    sheet = SheetWriter(workbook, "Receipts", [c.width for c in columns], freeze="A2")
    rows = (
        [
            _day(row["business_date"]),
            row["site"],
            *_item(figures, row["sku"])[:3],
            row["lot"],
            _day(row["expires_on"]),
            row["quantity"],
            row["unit_cost"],
            Formula(f'=IF(I{2 + index}="","",H{2 + index}*I{2 + index})'),
            row["purchase_order"],
            row["note"],
            row["funding_source"],
            row["actor"],
        ]
        for index, row in enumerate(figures.receipts)
    )
    sheet.table(columns, rows, autofilter=True, progress=progress)


MOVEMENTS = {
    "received": "Received",
    "distributed": "Distributed",
    "transfer_out": "Transferred out",
    "transfer_in": "Transferred in",
    "returned": "Returned (transfer cancelled)",
    "adjusted": "Adjusted",
    "counted": "Count variance",
    "to_partner": "Issued to a partner",
    "mailed": "Mailed",
    "written_off": "Written off (held stock)",
    "into_kits": "Put into kits (or back from kits)",
    "assembled": "Kits assembled (or taken apart)",
}


def _ledger(
    workbook: Workbook, figures: GrantFigures, provenance: Provenance, progress: Callable[[int], None] | None
) -> None:
    zone = ZoneInfo(provenance.zone)
    columns = [
        Column("Log position", 9),
        Column("Business date", 11),
        Column("Happened at", 16),
        Column("Recorded at", 16),
        Column("Site", 11),
        Column("Category", 12),
        Column("SKU", 13),
        Column("Lot", 16),
        Column("Expires", 11),
        Column("Funding source", 12),
        Column("Movement", 16),
        Column("Reason", 14),
        Column("Quantity (+ in, - out)", 11, INTEGER, summed=True),
        Column("Reference", 24),
        Column("Other site or partner", 11),
        Column("Recorded by", 26),
    ]
    sheet = SheetWriter(workbook, "Ledger", [c.width for c in columns], freeze="B2")
    rows = (
        [
            row["position"],
            _day(row["business_date"]),
            _moment(row["occurred_at"], zone),
            _moment(row["recorded_at"], zone),
            row["site"],
            _category(figures, row["sku"]),
            row["sku"],
            row["lot"],
            _day(row["expires_on"]),
            row["funding_source"],
            MOVEMENTS.get(row["kind"], row["kind"]),
            (row["reason"] or "").replace("_", " ") or None,  # an adjustment's reason, "shift tally", …
            row["quantity"],
            row["reference"] if row["kind"] not in ("distributed", "mailed") else None,  # one person's
            row["other_site"],
            row["actor"],
        ]
        for row in figures.ledger
    )
    sheet.table(columns, rows, autofilter=True, progress=progress)
