"""Plain-value views of aggregates, as the application's verbs return them."""

from __future__ import annotations

from typing import Any

from inventory.domain import Encounter, PurchaseOrder, StockLedger, Transfer


def ledger_view(ledger: StockLedger) -> dict[str, Any]:
    """A ledger's lots, soonest expiry first; empty lots left out."""
    lots = sorted(
        (lot for lot in ledger.lots.values() if lot.quantity),
        key=lambda lot: (lot.expires_on is None, lot.expires_on, lot.code),
    )
    return {
        "site": ledger.site,
        "sku": ledger.sku,
        "on_hand": ledger.on_hand,
        "version": ledger.version,
        "lots": [
            {
                "lot": lot.code,
                "quantity": lot.quantity,
                "expires_on": lot.expires_on,
                "funding_source": lot.funding_source,
            }
            for lot in lots
        ],
    }


def encounter_view(encounter: Encounter) -> dict[str, Any]:
    """An encounter as recorded; the same for the first answer and every repeat."""
    return {
        "id": str(encounter.id),
        "key": encounter.key,
        "site": encounter.site,
        "occurred_at": encounter.occurred_at,
        "recorded_at": encounter.created_on,
        "lines": [dict(line, lots=[dict(pick) for pick in line["lots"]]) for line in encounter.lines],
        "participant_code": encounter.participant_code,
        "reversals_reported": encounter.reversals_reported,
        "syringes_collected": encounter.syringes_collected,
        "refill_reason": encounter.refill_reason,
        "recipient": encounter.recipient,
        "for_others": encounter.for_others,
        "channel": encounter.channel,
        "actor": encounter.actor,
        "voided": getattr(encounter, "voided", None),
    }


def transfer_view(transfer: Transfer) -> dict[str, Any]:
    """A transfer with what was sent, what arrived and what went missing."""
    return {
        "id": str(transfer.id),
        "from_site": transfer.from_site,
        "to_site": transfer.to_site,
        "status": transfer.status,
        "lines": [dict(line) for line in transfer.lines],
        "received": [dict(line) for line in transfer.received],
        "shortfall": [dict(line) for line in transfer.shortfall],
        "voided": getattr(transfer, "voided", None),
    }


def purchase_order_view(order: PurchaseOrder) -> dict[str, Any]:
    """A purchase order with quantities ordered, received and outstanding."""
    return {
        "id": str(order.id),
        "number": order.number,
        "supplier": order.supplier,
        "site": order.site,
        "funding_source": order.funding_source,
        "status": order.status,
        "lines": [
            dict(
                line,
                received=order.received.get(line["sku"], 0),
                outstanding=order.outstanding(line["sku"]),
            )
            for line in order.lines
        ],
    }
