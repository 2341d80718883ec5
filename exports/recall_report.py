"""The recall workbook: where every unit of a recalled maker's lot went, reconciling to what was received.

Sheets: Recall (what was recalled, and the account of every unit as formulas over the Movements sheet,
checked against what the Sites sheet says is on the shelves); Sites (each site holding it now); Movements
(every movement of its lots: received, transfers, visits and shifts, partners, mail, write-offs; dates,
sites and quantities only, never anything about a person); Provenance.
"""

from __future__ import annotations

from datetime import date
from typing import IO, Any

from openpyxl import Workbook

from exports.cells import INTEGER, Formula
from exports.provenance import Provenance, write_provenance
from exports.sheets import Column, SheetWriter, column_range
from inventory.domain.holds import HOLD_REASONS
from inventory.projections.recall_queries import ACCOUNT, ACCOUNT_WORDS, RecallFigures, account_line

MOVEMENT_WORDS = {
    "received": "Received",
    "distributed": "Handed out (visit or shift)",
    "transfer_out": "Sent to another site",
    "transfer_in": "Arrived from another site",
    "returned": "Back from a cancelled transfer",
    "adjusted": "Adjusted",
    "counted": "Count difference",
    "to_partner": "Issued to a partner",
    "mailed": "Mailed",
    "written_off": "Written off",
}

MOVEMENT_COLUMNS = [
    Column("Log position", 10, INTEGER),
    Column("Date", 11),
    Column("Site", 11),
    Column("Item", 13),
    Column("Lot", 14),
    Column("Movement", 28),
    Column("Other site or partner", 16),
    Column("Quantity", 10, INTEGER, summed=True),
    Column("Account line", 44),
]
SITE_COLUMNS = [
    Column("Site", 11),
    Column("Item", 13),
    Column("Lot", 14),
    Column("On the shelf now", 12, INTEGER, summed=True),
    Column("Held", 9),
]


def write_recall_report(
    recall: dict[str, Any], figures: RecallFigures, provenance: Provenance, target: str | IO[bytes]
) -> None:
    workbook = Workbook(write_only=True)
    summary = SheetWriter(workbook, "Recall", (52, 14, 60))
    sites = SheetWriter(workbook, "Sites", [c.width for c in SITE_COLUMNS], freeze="A2")
    moves = SheetWriter(workbook, "Movements", [c.width for c in MOVEMENT_COLUMNS], freeze="A2")

    site_table = sites.table(
        SITE_COLUMNS,
        ([row["site"], row["sku"], row["lot"], row["quantity"], "held" if row["held"] else "not held"]
         for row in figures.on_hand),
    )  # fmt: skip
    move_table = moves.table(
        MOVEMENT_COLUMNS,
        (
            [
                row["position"],
                date.fromisoformat(row["business_date"]),
                row["site"],
                row["sku"],
                row["lot"],
                _movement(row),
                row["other_site"] or "",
                row["quantity"],
                ACCOUNT_WORDS[account_line(row["kind"], row["reason"])],
            ]
            for row in figures.movements
        ),
        autofilter=True,
    )

    summary.heading(f"Recall of {recall['manufacturer']} lot {recall['manufacturer_lot']}")
    summary.facts(
        [
            ("Maker", recall["manufacturer"]),
            ("Maker's lot number", recall["manufacturer_lot"]),
            ("Notice", recall["notice"] or "(none recorded)"),
            ("Recorded on", date.fromisoformat(str(recall["announced_at"])[:10])),
            ("Program lots it covers", ", ".join(f"{lot['sku']} lot {lot['lot']}" for lot in figures.lots) or "none"),
            ("Status", "closed: every unit accounted for" if recall.get("closed_at") else "open"),
            ("Why held", HOLD_REASONS["recall"]),
        ]
    )
    quantities = f"Movements!{column_range(move_table, 7, absolute=True)}"
    lines = f"Movements!{column_range(move_table, 8, absolute=True)}"
    items = f"Movements!{column_range(move_table, 3, absolute=True)}"
    site_items = f"Sites!{column_range(site_table, 1, absolute=True)}"
    shelves = f"Sites!{column_range(site_table, 3, absolute=True)}"
    for sku in figures.skus:
        # One account per item: the maker's item first, then each kit made with it (kits are counted in kits).
        summary.blank()
        summary.table(
            [Column(f"{sku}: every unit, received to now", 52), Column("Units", 14, INTEGER, summed=True),
             Column("", 60)],
            ([ACCOUNT_WORDS[line], Formula(f'=SUMIFS({quantities},{lines},"{ACCOUNT_WORDS[line]}",{items},"{sku}")'),
              "adds" if line in ("received", "assembled") else "signed: what left is negative"] for line in ACCOUNT),
            totals="On the shelves now (by the movements)",
        )  # fmt: skip
        total_row = summary.row
        summary.append(["On the shelves now (by the sites holding it)",
                        Formula(f'=SUMIF({site_items},"{sku}",{shelves})')], (None, INTEGER))  # fmt: skip
        summary.append(["Check (0 when every unit is accounted for)", Formula(f"=B{total_row}-B{summary.row}")],
                       (None, INTEGER))  # fmt: skip
        held = sum(row["quantity"] for row in figures.on_hand if row["held"] and row["sku"] == sku)
        summary.append(["Held now", held], (None, INTEGER))
    summary.blank()
    summary.append(["How to read it", "Each account line is a SUMIFS over the Movements sheet, by item and line."])
    write_provenance(workbook, provenance)
    workbook.save(target)


def _movement(row: dict[str, Any]) -> str:
    words = MOVEMENT_WORDS.get(row["kind"], str(row["kind"]).replace("_", " "))
    reason = str(row["reason"] or "")
    if row["kind"] == "written_off" and not reason.startswith("void:"):
        return f"{words}: {reason.replace('_', ' ')}"
    if reason.startswith(("void:", "corrected:")):
        return f"{words} (undone or corrected)"
    return words
