"""API v1: held lots and recalls. Hold a lot at a site (or at every site it is at), release it, write held
stock off as destroyed or returned to the supplier; record a maker's recall (every lot received under its lot
number is held at once, everywhere), follow where each unit went, and close it."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

from flask.views import MethodView
from flask_smorest import Blueprint, abort
from marshmallow import Schema, fields, validate

from inventory.application.access import Action
from inventory.application.recalls import recalled_lot
from inventory.domain.holds import Disposition, HoldReason
from inventory.domain.text import CODE_LENGTH, NAME_LENGTH
from inventory.projections import recall_queries
from inventory.projections.recall_queries import ACCOUNT
from inventory.web.api import schemas as s
from inventory.web.api.auth import caller, require
from inventory.web.api.commands import command
from inventory.web.api.docs import ERRORS, documented
from inventory.web.services import services

blp = Blueprint("api_recalls", __name__, url_prefix="/api/v1", description="Held lots and recalls")


class HoldIn(s.Strict):
    site = s.Code(load_default=None, allow_none=True, metadata={"description": "None: every site that has the lot"})
    sku = s.Code(required=True)
    lot = s.Text(CODE_LENGTH, min_length=1, required=True)
    reason = fields.String(required=True, validate=validate.OneOf([r.value for r in HoldReason if r != "recall"]))
    occurred_at = s.moment()


class LotIn(s.Strict):
    site = s.Code(required=True)
    sku = s.Code(required=True)
    lot = s.Text(CODE_LENGTH, min_length=1, required=True)
    occurred_at = s.moment()


class WriteOffIn(LotIn):
    quantity = fields.Integer(required=True, validate=validate.Range(min=1))
    disposition = fields.String(required=True, validate=validate.OneOf([d.value for d in Disposition]))


class HeldOut(Schema):
    site = fields.String(required=True)
    sku = fields.String(required=True)
    lot = fields.String(required=True)
    quantity = fields.Integer(required=True)
    held = fields.Boolean(required=True)
    reason = fields.String(allow_none=True)
    recall = fields.String(allow_none=True)


class RecallIn(s.Strict):
    manufacturer = s.Text(NAME_LENGTH, min_length=1, required=True)
    manufacturer_lot = s.Text(CODE_LENGTH, min_length=1, required=True, metadata={"description": "As on the box"})
    notice = s.Text(CODE_LENGTH * 2, load_default="", metadata={"description": "The maker's or regulator's reference"})
    occurred_at = s.moment()


class CloseIn(s.Strict):
    occurred_at = s.moment()


class RecalledLot(Schema):
    sku = fields.String(required=True)
    lot = fields.String(required=True)


class RecallOut(Schema):
    id = fields.String(required=True)
    manufacturer = fields.String(required=True)
    manufacturer_lot = fields.String(required=True)
    notice = fields.String(required=True)
    lots = fields.List(fields.Nested(RecalledLot), required=True)
    announced_at = fields.DateTime(required=True)
    closed = fields.Boolean(required=True)


class RecalledOnHandOut(Schema):
    site = fields.String(required=True)
    sku = fields.String(required=True)
    lot = fields.String(required=True)
    quantity = fields.Integer(required=True)
    held = fields.Boolean(required=True)


class RecalledMovementOut(Schema):
    position = fields.Integer(required=True)
    business_date = fields.String(required=True)
    site = fields.String(required=True)
    sku = fields.String(required=True)
    lot = fields.String(required=True)
    kind = fields.String(required=True)
    quantity = fields.Integer(required=True)
    reason = fields.String(allow_none=True)
    other_site = fields.String(allow_none=True)


class RecallTrace(RecallOut):
    account = fields.Dict(
        keys=fields.String(validate=validate.OneOf(ACCOUNT)), values=fields.Integer(), required=True,
        metadata={"description": "The maker's item: each line signed; they add up to on_shelves"},
    )  # fmt: skip
    accounts = fields.Dict(
        keys=fields.String(), values=fields.Dict(keys=fields.String(), values=fields.Integer()), required=True,
        metadata={"description": "Each item's account: the maker's, and each kit made with it (in kits)"},
    )  # fmt: skip
    on_shelves = fields.Integer(required=True)
    on_hand = fields.List(fields.Nested(RecalledOnHandOut), required=True)
    movements = fields.List(fields.Nested(RecalledMovementOut), required=True)


def _recall(row: dict[str, Any]) -> dict[str, Any]:
    """A recall as the read model has it, with its times as times."""
    return dict(row, announced_at=datetime.fromisoformat(row["announced_at"]), closed=row["closed_at"] is not None)


def _everywhere(sku: str, lot: str) -> list[str]:
    return [row["code"] for row in recall_queries.sites_with_lot(services().store, sku.upper(), lot)]


@blp.route("/holds")
class Holds(MethodView):
    @command
    @blp.arguments(HoldIn)
    @blp.response(201, HeldOut(many=True))
    @documented(*ERRORS)
    def post(self, body: dict[str, Any]) -> list[dict[str, Any]]:
        """Hold a lot: nothing is issued or sent from it until it is released or written off. Without a site,
        at every site that has it (which needs the right to adjust stock at each of them)."""
        site = body.pop("site")
        sites = [site] if site else _everywhere(body["sku"], body["lot"])
        principal = caller()
        for place in sites or [None]:
            require(Action.ADJUST_STOCK, place)
        return services().app.hold_lot(actor=principal.email, sites=sites, **body)


@blp.route("/holds/release")
class Release(MethodView):
    @command
    @blp.arguments(LotIn)
    @blp.response(201, HeldOut)
    @documented(*ERRORS)
    def post(self, body: dict[str, Any]) -> dict[str, Any]:
        """Put a held lot back on the shelf (a lot held by an open recall stays held)."""
        principal = require(Action.ADJUST_STOCK, body["site"])
        return services().app.release_lot(actor=principal.email, **body)


@blp.route("/holds/write-off")
class WriteOff(MethodView):
    @command
    @blp.arguments(WriteOffIn)
    @blp.response(201, HeldOut)
    @documented(*ERRORS)
    def post(self, body: dict[str, Any]) -> dict[str, Any]:
        """Take held stock out for good: destroyed, or returned to the supplier."""
        principal = require(Action.ADJUST_STOCK, body["site"])
        return services().app.write_off_lot(actor=principal.email, **body)


@blp.route("/sites/<code>/held")
class SiteHeld(MethodView):
    @blp.response(200, HeldOut(many=True))
    @documented(401, 403, 404)
    def get(self, code: str) -> list[dict[str, Any]]:
        """The lots held at a site, with what is left of each."""
        require(Action.READ_STOCK, code.upper())
        return [dict(row, held=True) for row in recall_queries.held_lots(services().store, code.upper())]


@blp.route("/recalls")
class Recalls(MethodView):
    @blp.response(200, RecallOut(many=True))
    @documented(401, 403)
    def get(self) -> list[dict[str, Any]]:
        """Every recall, the latest first."""
        require(Action.READ_RECALLS)
        return [_recall(row) for row in recall_queries.recalls(services().store)]

    @command
    @blp.arguments(RecallIn)
    @blp.response(201, RecallOut)
    @documented(*ERRORS)
    def post(self, body: dict[str, Any]) -> dict[str, Any]:
        """Record a maker's recall of one of its lots: every lot of the program's received under it is held at
        every site at once, and each site holding it is alerted. The same recall again changes nothing."""
        principal = require(Action.RECALL)
        maker, maker_lot = recalled_lot(body.pop("manufacturer"), body.pop("manufacturer_lot"))
        lots, sites = recall_queries.recall_scope(services().store, maker, maker_lot)
        return services().app.announce_recall(
            manufacturer=maker, manufacturer_lot=maker_lot, lots=lots, sites=sites, actor=principal.email, **body
        )


@blp.route("/recalls/<uuid:recall_id>")
class RecallDetail(MethodView):
    @blp.response(200, RecallTrace)
    @documented(401, 403, 404)
    def get(self, recall_id: UUID) -> dict[str, Any]:
        """A recall and where every unit of its lots went: the account from received to on the shelves now."""
        require(Action.READ_RECALLS)
        store = services().store
        found = recall_queries.recall(store, str(recall_id))
        if found is None:
            abort(404, message=f"There is no recall {recall_id}.")
            raise AssertionError  # abort raises
        figures = recall_queries.recall_figures(store, found["lots"])
        return dict(
            _recall(found),
            account=figures.account,
            accounts={sku: figures.account_of(sku) for sku in figures.skus},
            on_shelves=figures.on_shelves,
            on_hand=figures.on_hand,
            movements=figures.movements,
        )


@blp.route("/recalls/<uuid:recall_id>/close")
class RecallClose(MethodView):
    @command
    @blp.arguments(CloseIn)
    @blp.response(201, RecallOut)
    @documented(*ERRORS)
    def post(self, body: dict[str, Any], recall_id: UUID) -> dict[str, Any]:
        """Close a recall once none of its stock is on any shelf."""
        principal = require(Action.RECALL)
        sites = [row["code"] for row in recall_queries.sites(services().store)]
        return services().app.close_recall(recall=recall_id, sites=sites, actor=principal.email, **body)
