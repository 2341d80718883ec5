"""The stock and expiry report: on hand by site, item and lot, with days to expiry and value."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from decimal import Decimal
from typing import IO, Any

from openpyxl import Workbook

from exports.cells import INTEGER, MONEY, Formula
from exports.provenance import Provenance, write_provenance
from exports.sheets import Column, SheetWriter
from exports.snapshot import Snapshot
from inventory.projections import report_queries as rq


def gather_lots(snapshot: Snapshot, funding_source: str | None) -> list[dict[str, Any]]:
    """Lots on hand; each lot's unit cost as received, else from the purchase order it was received on."""
    reader = snapshot.reader
    costs = rq.order_costs(reader)
    received_at = rq.lot_costs(reader)
    references = rq.received_lots(reader)
    lots = []
    for lot in rq.lots_on_hand(reader):
        if funding_source and lot["funding_source"] != funding_source:
            continue
        cost: Decimal | None = received_at.get((lot["sku"], lot["lot"])) or costs.get(
            (references.get((lot["sku"], lot["lot"]), ""), lot["sku"])
        )
        lots.append(dict(lot, unit_cost=cost))
    return lots


COLUMNS = [
    Column("Site", 11),
    Column("Category", 12),
    Column("SKU", 13),
    Column("Item", 28),
    Column("Unit", 9),
    Column("Lot", 16),
    Column("Funding source", 12),
    Column("Expires", 11),
    Column("Days to expiry", 9, INTEGER),
    Column("Quantity", 10, INTEGER, summed=True),
    Column("Unit cost", 12, MONEY),
    Column("Value", 12, MONEY, summed=True),
]


def write_stock_report(
    lots: list[dict[str, Any]],
    on: date,
    provenance: Provenance,
    target: str | IO[bytes],
    progress: Callable[[int], None] | None = None,
) -> None:
    """Write the workbook (progress: rows written)."""
    workbook = Workbook(write_only=True)
    sheet = SheetWriter(workbook, "Stock and expiry", [c.width for c in COLUMNS], freeze="D2")
    rows = []
    for index, lot in enumerate(lots):
        expires = date.fromisoformat(lot["expires_on"]) if lot["expires_on"] else None
        row = 2 + index
        rows.append(
            [
                lot["site"],
                lot["category"],
                lot["sku"],
                lot["name"],
                lot["unit"],
                lot["lot"],
                lot["funding_source"],
                expires,
                (expires - on).days if expires else None,
                lot["quantity"],
                lot["unit_cost"],
                Formula(f'=IF(K{row}="","",J{row}*K{row})'),
            ]
        )
    sheet.table(COLUMNS, rows, autofilter=True, progress=progress)
    write_provenance(workbook, provenance)
    workbook.save(target)
