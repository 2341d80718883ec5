"""Verbs for purchase orders."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID, uuid4

from inventory.application import rules as check
from inventory.application.answers import (
    purchase_order_view,
)
from inventory.application.core import InventoryCore
from inventory.application.recalls import hold_if_recalled
from inventory.domain import (
    PurchaseOrder,
    Recall,
    StockLedger,
    ledger_id,
    recall_id,
)
from inventory.domain.errors import (
    InvalidInput,
    UnknownPurchaseOrder,
)
from inventory.domain.purchasing import (
    DRAFT,
    PARTLY_RECEIVED,
    RECEIVED,
    SUBMITTED,
)
from inventory.domain.text import NAME_LENGTH, clean_text


class PurchasingVerbs(InventoryCore):
    """Raise, submit, receive, cancel and close purchase orders."""

    def raise_purchase_order(
        self,
        *,
        supplier: str,
        site: str,
        funding_source: str,
        lines: list[dict[str, Any]],
        number: str | None = None,
        actor: str,
        occurred_at: datetime | None = None,
    ) -> dict[str, Any]:
        """Draft an order for a site, paid by one funding source."""
        moment = check.when(occurred_at, zone=self.zone)
        place = self._site(site)
        source = self._funding(funding_source)
        if not lines:
            raise InvalidInput("Add at least one line to the order.", field="lines")
        ordered: list[dict[str, Any]] = []
        for index, row in enumerate(lines):
            item = self._item(str(row.get("sku") or ""), field=f"lines[{index}].sku")
            if any(line["sku"] == item.sku for line in ordered):
                raise InvalidInput(f"{item.sku} appears twice; put its total on one line.", field=f"lines[{index}]")
            self._check_funding(source, item, self.business_day(moment))
            quantity = check.QUANTITY.check(row.get("quantity"), f"lines[{index}].quantity")
            cost = check.money(row.get("unit_cost"), f"lines[{index}].unit_cost")
            ordered.append({"sku": item.sku, "quantity": quantity, "unit_cost": cost})
        the_id = uuid4()
        order = PurchaseOrder._create(
            PurchaseOrder.Raised,
            id=the_id,
            number=clean_text(number, "number", max_length=40) if number else f"PO-{the_id.hex[:8].upper()}",
            supplier=clean_text(supplier, "supplier", max_length=NAME_LENGTH),
            site=place.code,
            funding_source=source.code,
            lines=ordered,
            actor=actor,
            occurred_at=moment,
        )
        self.save(order)
        return purchase_order_view(order)

    def _order(self, order_id: UUID | str) -> PurchaseOrder:
        try:
            the_id = order_id if isinstance(order_id, UUID) else UUID(str(order_id))
        except ValueError:
            raise UnknownPurchaseOrder(f"{order_id!r} is not a purchase order id.", field="purchase_order") from None
        order = self._get(PurchaseOrder, the_id)
        if order is None:
            raise UnknownPurchaseOrder(f"There is no purchase order {the_id}.", field="purchase_order")
        return order

    def submit_purchase_order(
        self, *, order_id: UUID | str, actor: str, occurred_at: datetime | None = None
    ) -> dict[str, Any]:
        """Send a drafted order to the supplier."""
        moment = check.when(occurred_at, zone=self.zone)
        the_id = self._order(order_id).id

        def attempt() -> dict[str, Any]:
            order = self._order(the_id)
            order.check_status((DRAFT,), "submitted")
            order.submit(actor=actor, occurred_at=moment)
            self.save(order)
            return purchase_order_view(order)

        return self._retrying([the_id], attempt)

    def receive_purchase_order(
        self,
        *,
        order_id: UUID | str,
        lines: list[dict[str, Any]],
        actor: str,
        occurred_at: datetime | None = None,
    ) -> dict[str, Any]:
        """Receive (part of) an order: each line is sku, lot, quantity, expiry and optional unit cost."""
        moment = check.when(occurred_at, zone=self.zone)
        first = self._order(order_id)
        if not lines:
            raise InvalidInput("Add at least one line received.", field="lines")
        rows = [check.receipt_line(row, f"lines[{index}]") for index, row in enumerate(lines)]
        skus = sorted({row.sku for row in rows})
        place = self._site(first.site)
        items = {sku: self._item(sku) for sku in skus}

        def attempt() -> dict[str, Any]:
            order = self._order(first.id)
            order.check_status((SUBMITTED, PARTLY_RECEIVED), "received")
            costs = {line["sku"]: line["unit_cost"] for line in order.lines}
            for sku in skus:
                wanted = sum(row.quantity for row in rows if row.sku == sku)
                if sku not in costs:
                    raise InvalidInput(f"{sku} is not on purchase order {order.number}.", field="lines")
                if wanted > order.outstanding(sku):
                    raise InvalidInput(
                        f"Only {order.outstanding(sku)} of {sku} are still outstanding on {order.number}; "
                        f"{wanted} were entered.",
                        field="lines",
                    )
            source = self._funding(order.funding_source)
            for sku in skus:
                # Rules are checked on the day stock arrives too: one may have started since the order.
                self._check_funding(source, items[sku], self.business_day(moment))
            ledgers: dict[str, StockLedger] = {}
            recalls: dict[UUID, Recall] = {}
            for row in rows:
                ledger = ledgers.get(row.sku) or self._open_ledger(place, items[row.sku])
                ledgers[row.sku] = ledger
                ledger.receive(
                    lot=row.lot,
                    quantity=row.quantity,
                    expires_on=row.expires_on,
                    funding_source=order.funding_source,
                    unit_cost=row.unit_cost if row.unit_cost is not None else costs[row.sku],
                    purchase_order=order.number,
                    reference=str(order.id),
                    manufacturer=None if row.maker is None else row.maker[0],
                    manufacturer_lot=None if row.maker is None else row.maker[1],
                    actor=actor,
                    occurred_at=moment,
                    zone=self.zone,
                )
                if row.maker is not None:
                    the_recall = recall_id(*row.maker)
                    recall = recalls.get(the_recall) or self._get(Recall, the_recall)
                    if recall is not None:
                        recalls[the_recall] = recall
                        hold_if_recalled(ledger, [row.lot], moment, actor, recall=recall)
            order.record_receipt(
                lines=[{"sku": r.sku, "lot": r.lot, "quantity": r.quantity} for r in rows],
                actor=actor,
                occurred_at=moment,
            )
            self.save(order, *ledgers.values(), *recalls.values())
            return purchase_order_view(order)

        makers = sorted({recall_id(*row.maker) for row in rows if row.maker is not None}, key=str)
        return self._retrying([first.id, *(ledger_id(place.code, sku) for sku in skus), *makers], attempt)

    def cancel_purchase_order(
        self, *, order_id: UUID | str, reason: str, actor: str, occurred_at: datetime | None = None
    ) -> dict[str, Any]:
        """Call off an order that has not been received in full."""
        moment = check.when(occurred_at, zone=self.zone)
        why = clean_text(reason, "reason", max_length=200)
        the_id = self._order(order_id).id

        def attempt() -> dict[str, Any]:
            order = self._order(the_id)
            order.check_status((DRAFT, SUBMITTED, PARTLY_RECEIVED), "cancelled")
            order.cancel(reason=why, actor=actor, occurred_at=moment)
            self.save(order)
            return purchase_order_view(order)

        return self._retrying([the_id], attempt)

    def close_purchase_order(
        self, *, order_id: UUID | str, actor: str, occurred_at: datetime | None = None
    ) -> dict[str, Any]:
        """Close an order: received in full, or nothing more is coming."""
        moment = check.when(occurred_at, zone=self.zone)
        the_id = self._order(order_id).id

        def attempt() -> dict[str, Any]:
            order = self._order(the_id)
            order.check_status((PARTLY_RECEIVED, RECEIVED), "closed")
            order.close(actor=actor, occurred_at=moment, shortfall=order.shortfall())
            self.save(order)
            return purchase_order_view(order)

        return self._retrying([the_id], attempt)

    def purchase_order(self, order_id: UUID | str) -> dict[str, Any]:
        """A purchase order with what has been received against it."""
        return purchase_order_view(self._order(order_id))
