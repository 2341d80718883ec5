"""API v1: transfers between sites, and purchase orders."""

from __future__ import annotations

from typing import Any

from flask.views import MethodView
from flask_smorest import Blueprint
from marshmallow import RAISE

from inventory.application.access import Action
from inventory.projections.order_queries import FINISHED, UNFINISHED, order_page
from inventory.projections.queries import days_as_moments
from inventory.projections.transfer_queries import STATUSES, transfer_page
from inventory.web.api import schemas as s
from inventory.web.api.auth import require
from inventory.web.api.commands import command
from inventory.web.api.docs import ERRORS, documented, paged
from inventory.web.api.packs import lines_in_units
from inventory.web.services import services

blp = Blueprint("api_transfers", __name__, url_prefix="/api/v1", description="Transfers and purchase orders")


@blp.route("/transfers")
class Transfers(MethodView):
    @blp.arguments(s.TransferQuery, location="query", unknown=RAISE)
    @blp.response(200, s.TransferPageOut)
    @documented(401, 403, 422)
    def get(self, query: dict[str, Any]) -> dict[str, Any]:
        """Transfers from or to the caller's sites (or `site`), newest sent first unless `order=oldest`,
        a page at a time."""
        site = query["site"].upper() if query["site"] else None
        principal = require(Action.READ_STOCK, site)
        sent_from, sent_before = days_as_moments(query["sent_from"], query["sent_to"], services().app.zone)
        found = paged(
            lambda: transfer_page(
                services().store,
                sites=[site] if site else (None if principal.all_sites else sorted(principal.sites)),
                statuses=(query["status"],) if query["status"] else STATUSES,
                sent_from=sent_from,
                sent_before=sent_before,
                newest_first=query["order"] == "newest",
                after=query["cursor"],
                limit=query["limit"],
            )
        )
        rows = [
            {**row, **{part: s.dated(row[part]) for part in ("lines", "received", "shortfall")}} for row in found.rows
        ]
        return {"transfers": rows, "next_cursor": found.next}

    @command
    @blp.arguments(s.TransferIn)
    @blp.response(201, s.TransferOut)
    @documented(*ERRORS)
    def post(self, body: dict[str, Any]) -> dict[str, Any]:
        """Send stock from one site to another: it leaves the sender now and is in transit. A line's quantity
        may be in one of the item's packs (`pack`); it is recorded in units of issue."""
        principal = require(Action.TRANSFER, body["from_site"])
        return services().app.dispatch_transfer(actor=principal.email, **lines_in_units(body))


@blp.route("/transfers/<uuid:transfer_id>")
class TransferOne(MethodView):
    @blp.response(200, s.TransferOut)
    @documented(401, 403, 404)
    def get(self, transfer_id: Any) -> dict[str, Any]:
        """A transfer with what was sent, what arrived and any shortfall."""
        principal = require(Action.READ_STOCK)
        transfer = services().app.transfer(transfer_id)
        if not principal.can(Action.READ_STOCK, transfer["from_site"]):
            require(Action.READ_STOCK, transfer["to_site"])
        return transfer


@blp.route("/transfers/<uuid:transfer_id>/receive")
class TransferReceive(MethodView):
    @command
    @blp.arguments(s.TransferReceiveIn)
    @blp.response(200, s.TransferOut)
    @documented(*ERRORS, 404)
    def post(self, body: dict[str, Any], transfer_id: Any) -> dict[str, Any]:
        """Book a transfer in at the receiving site; what did not arrive is recorded as shortfall."""
        app = services().app
        principal = require(Action.TRANSFER, app.transfer(transfer_id)["to_site"])
        return app.receive_transfer(transfer_id=transfer_id, actor=principal.email, **body)


@blp.route("/transfers/<uuid:transfer_id>/cancel")
class TransferCancel(MethodView):
    @command
    @blp.arguments(s.TransferCancelIn)
    @blp.response(200, s.TransferOut)
    @documented(*ERRORS, 404)
    def post(self, body: dict[str, Any], transfer_id: Any) -> dict[str, Any]:
        """Call a transfer off while in transit: the stock goes back to the sender."""
        app = services().app
        principal = require(Action.TRANSFER, app.transfer(transfer_id)["from_site"])
        return app.cancel_transfer(transfer_id=transfer_id, actor=principal.email, **body)


@blp.route("/purchase-orders")
class PurchaseOrders(MethodView):
    @blp.arguments(s.PurchaseOrderQuery, location="query", unknown=RAISE)
    @blp.response(200, s.PurchaseOrderPageOut)
    @documented(401, 403, 422)
    def get(self, query: dict[str, Any]) -> dict[str, Any]:
        """Purchase orders at the caller's sites (or `site`), newest raised first unless `order=oldest`; given a
        `number` (or its start), in number order. A page at a time."""
        site = query["site"].upper() if query["site"] else None
        principal = require(Action.READ_STOCK, site)
        raised_from, raised_before = days_as_moments(query["raised_from"], query["raised_to"], services().app.zone)
        found = paged(
            lambda: order_page(
                services().store,
                statuses=(query["status"],) if query["status"] else UNFINISHED + FINISHED,
                sites=[site] if site else (None if principal.all_sites else sorted(principal.sites)),
                number=query["number"].strip().upper() if query["number"] else None,
                raised_from=raised_from,
                raised_before=raised_before,
                newest_first=query["order"] == "newest",
                after=query["cursor"],
                limit=query["limit"],
            )
        )
        return {"purchase_orders": found.rows, "next_cursor": found.next}

    @command
    @blp.arguments(s.PurchaseOrderIn)
    @blp.response(201, s.PurchaseOrderOut)
    @documented(*ERRORS)
    def post(self, body: dict[str, Any]) -> dict[str, Any]:
        """Draft an order for a site, paid by one funding source; a line's quantity may be in one of the
        item's packs (`pack`), and is recorded in units of issue."""
        principal = require(Action.PURCHASE, body["site"])
        return services().app.raise_purchase_order(actor=principal.email, **lines_in_units(body))


@blp.route("/purchase-orders/<uuid:order_id>")
class PurchaseOrderOne(MethodView):
    @blp.response(200, s.PurchaseOrderOut)
    @documented(401, 403, 404)
    def get(self, order_id: Any) -> dict[str, Any]:
        """A purchase order with quantities ordered, received and outstanding."""
        require(Action.READ_STOCK)
        order = services().app.purchase_order(order_id)
        require(Action.READ_STOCK, order["site"])
        return order


@blp.route("/purchase-orders/<uuid:order_id>/submit")
class PurchaseOrderSubmit(MethodView):
    @command
    @blp.arguments(s.OrderStepIn)
    @blp.response(200, s.PurchaseOrderOut)
    @documented(*ERRORS, 404)
    def post(self, body: dict[str, Any], order_id: Any) -> dict[str, Any]:
        """Send a drafted order to the supplier: its quantities are now on order."""
        app = services().app
        principal = require(Action.PURCHASE, app.purchase_order(order_id)["site"])
        return app.submit_purchase_order(order_id=order_id, actor=principal.email, **body)


@blp.route("/purchase-orders/<uuid:order_id>/receipts")
class PurchaseOrderReceipts(MethodView):
    @command
    @blp.arguments(s.OrderReceiptIn)
    @blp.response(201, s.PurchaseOrderOut)
    @documented(*ERRORS, 404)
    def post(self, body: dict[str, Any], order_id: Any) -> dict[str, Any]:
        """Receive (part of) an order into the site's stock: lots, expiries and costs; a line's quantity may be
        in one of the item's packs (`pack`), and is recorded in units of issue."""
        app = services().app
        principal = require(Action.RECEIVE_STOCK, app.purchase_order(order_id)["site"])
        return app.receive_purchase_order(order_id=order_id, actor=principal.email, **lines_in_units(body))
