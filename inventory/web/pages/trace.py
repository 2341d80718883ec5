"""Trace forward and back, for auditors: from a lot (and so from a receipt or a purchase order) to every
movement of its units at every site; from a visit to the lots behind each unit, and the receipts, purchase
orders and funders behind those. Dates, sites and quantities only: never anything about a participant."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from flask import Blueprint, abort, render_template
from flask.typing import ResponseReturnValue

from inventory.application.access import Action
from inventory.domain import Encounter
from inventory.projections import recall_queries
from inventory.web.pages.common import page
from inventory.web.pages.movements import items_by_sku
from inventory.web.pages.recalls import MOVEMENT_WORDS
from inventory.web.services import services

bp = Blueprint("trace", __name__)


def _receipts(sku: str, lot: str) -> list[dict[str, Any]]:
    """A lot's receipts, each with the id of the purchase order it came on, when it came on one."""
    store = services().store
    orders = recall_queries.order_ids(store)
    return [
        dict(row, order=orders.get(str(row["reference"] or ""))) for row in recall_queries.lot_receipts(store, sku, lot)
    ]


@bp.get("/audit/orders/<order_id>")
@page(Action.READ_AUDIT)
def order(order_id: str) -> ResponseReturnValue:
    """Forward from a purchase order: the lots received against it, and where each went."""
    store = services().store
    rows = store.fetchall(
        "SELECT number, supplier, site, funding_source FROM purchase_orders WHERE id = ?", (order_id,)
    )
    if not rows:
        abort(404, description="There is no such purchase order.")
    number, supplier, site, funding = rows[0]
    lots = [
        dict(found, receipts=_receipts(found["sku"], found["lot"]),
             figures=recall_queries.recall_figures(store, [found]))
        for found in recall_queries.order_lots(store, number)
    ]  # fmt: skip
    return render_template(
        "pages/trace/order.html", number=number, supplier=supplier, site=site, funding=funding, lots=lots,
        items=items_by_sku(),
    )  # fmt: skip


@bp.get("/audit/lots/<sku>/<lot>")
@page(Action.READ_AUDIT)
def lot(sku: str, lot: str) -> ResponseReturnValue:
    """Forward from a lot's receipts: every movement of its units, and where what is left is now."""
    sku = sku.upper()
    receipts = _receipts(sku, lot)
    figures = recall_queries.recall_figures(services().store, [{"sku": sku, "lot": lot}])
    if not receipts and not figures.movements:
        abort(404, description=f"No movement of lot {lot} of {sku} is recorded.")
    return render_template(
        "pages/trace/lot.html", sku=sku, lot=lot, receipts=receipts, figures=figures, items=items_by_sku(),
        words={**MOVEMENT_WORDS, "received": "Received", "adjusted": "Adjusted", "counted": "Count difference"},
    )  # fmt: skip


@bp.get("/audit/visits/<visit_id>")
@page(Action.READ_AUDIT)
def visit(visit_id: str) -> ResponseReturnValue:
    """Back from a visit: each unit's lot, and the receipts, orders and funders behind that lot."""
    try:
        found = services().app.aggregate(UUID(visit_id))
    except ValueError:
        found = None
    if not isinstance(found, Encounter):
        abort(404, description="There is no such visit.")
    lines = [
        dict(line, lots=[dict(pick, receipts=_receipts(line["sku"], pick["lot"])) for pick in line["lots"]])
        for line in found.lines
    ]
    return render_template(
        "pages/trace/visit.html", visit=found, lines=lines, items=items_by_sku(),
        voided=getattr(found, "voided", None),
    )  # fmt: skip
