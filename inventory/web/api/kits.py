"""API v1: kits. What goes into one kit (versioned by the day it applies from), assembling kits at a site
from the parts on its shelf, and taking kits apart."""

from __future__ import annotations

from typing import Any

from flask.views import MethodView
from flask_smorest import Blueprint
from marshmallow import Schema, fields, validate

from inventory.application.access import Action
from inventory.application.kits import MAX_KITS, MAX_PARTS, MAX_PER_KIT
from inventory.domain.text import CODE_LENGTH
from inventory.web.api import schemas as s
from inventory.web.api.auth import require
from inventory.web.api.commands import command
from inventory.web.api.docs import ERRORS, documented
from inventory.web.services import services

blp = Blueprint("api_kits", __name__, url_prefix="/api/v1", description="Kits")


class PartIn(s.Strict):
    sku = s.Code(required=True)
    quantity = fields.Integer(required=True, validate=validate.Range(min=1, max=MAX_PER_KIT))


class RecipeIn(s.Strict):
    effective_from = s.Day(required=True)
    components = fields.List(fields.Nested(PartIn), required=True, validate=validate.Length(min=1, max=MAX_PARTS))


class PartOut(Schema):
    sku = fields.String(required=True)
    quantity = fields.Integer(required=True)


class VersionOut(Schema):
    effective_from = fields.Date(required=True)
    components = fields.List(fields.Nested(PartOut), required=True)


class RecipeOut(Schema):
    kit_sku = fields.String(required=True)
    versions = fields.List(fields.Nested(VersionOut), required=True)


class AssembleIn(s.Strict):
    site = s.Code(required=True)
    kit_sku = s.Code(required=True)
    quantity = fields.Integer(required=True, validate=validate.Range(min=1, max=MAX_KITS))
    lot = s.Text(CODE_LENGTH, min_length=1, load_default=None, allow_none=True)
    occurred_at = s.moment()


class TakeApartIn(s.Strict):
    site = s.Code(required=True)
    kit_sku = s.Code(required=True)
    lot = s.Text(CODE_LENGTH, min_length=1, required=True)
    quantity = fields.Integer(required=True, validate=validate.Range(min=1, max=MAX_KITS))
    occurred_at = s.moment()


class KitPartOut(Schema):
    sku = fields.String(required=True)
    lot = fields.String(required=True)
    quantity = fields.Integer(required=True)
    expires_on = fields.Date(allow_none=True)
    funding_source = fields.String(allow_none=True)


class KitLotOut(Schema):
    lot = fields.String(required=True)
    quantity = fields.Integer(required=True)
    expires_on = fields.Date(allow_none=True)
    components = fields.List(fields.Nested(KitPartOut), required=True)


class AssembledOut(Schema):
    site = fields.String(required=True)
    kit_sku = fields.String(required=True)
    quantity = fields.Integer(required=True)
    lots = fields.List(fields.Nested(KitLotOut), required=True)


class TakenApartOut(Schema):
    site = fields.String(required=True)
    kit_sku = fields.String(required=True)
    lot = fields.String(required=True)
    quantity = fields.Integer(required=True)
    parts = fields.List(fields.Nested(KitPartOut), required=True)


@blp.route("/items/<sku>/recipe")
class Recipe(MethodView):
    @blp.response(200, RecipeOut)
    @documented(401, 403, 404)
    def get(self, sku: str) -> dict[str, Any]:
        """What goes into one kit, version by version."""
        require(Action.READ_STOCK)
        return services().app.kit_recipe(sku)

    @command
    @blp.arguments(RecipeIn)
    @blp.response(200, RecipeOut)
    @documented(*ERRORS)
    def put(self, body: dict[str, Any], sku: str) -> dict[str, Any]:
        """Set what goes into one kit from `effective_from` on (a version from the same day replaces it)."""
        principal = require(Action.MANAGE_CATALOG)
        return services().app.set_kit_recipe(kit_sku=sku, actor=principal.email, **body)


@blp.route("/kit-assemblies")
class Assemblies(MethodView):
    @command
    @blp.arguments(AssembleIn)
    @blp.response(201, AssembledOut)
    @documented(*ERRORS)
    def post(self, body: dict[str, Any]) -> dict[str, Any]:
        """Make kits at a site: parts leave the shelf first expiry first, each part's funder checked against its
        rules; the kits go into kit lots of one make-up each."""
        principal = require(Action.ADJUST_STOCK, body["site"])
        return services().app.assemble_kits(actor=principal.email, **body)


@blp.route("/kit-assemblies/take-apart")
class TakeApart(MethodView):
    @command
    @blp.arguments(TakeApartIn)
    @blp.response(201, TakenApartOut)
    @documented(*ERRORS)
    def post(self, body: dict[str, Any]) -> dict[str, Any]:
        """Take kits apart: their parts go back to the lots they came from."""
        principal = require(Action.ADJUST_STOCK, body["site"])
        return services().app.take_apart_kits(actor=principal.email, **body)
