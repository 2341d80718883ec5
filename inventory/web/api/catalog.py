"""API v1: sites, items, funding sources and stock levels."""

from __future__ import annotations

from typing import Any

from flask.views import MethodView
from flask_smorest import Blueprint, abort

from inventory.application.access import Action
from inventory.domain.errors import UnknownItem, UnknownSite
from inventory.projections import queries
from inventory.web.api import schemas as s
from inventory.web.api.auth import caller, require
from inventory.web.api.commands import command
from inventory.web.api.docs import ERRORS, documented
from inventory.web.services import services

blp = Blueprint("api_catalog", __name__, url_prefix="/api/v1", description="Sites, items, funding sources, levels")


def _codes(rows: list[dict[str, Any]], key: str) -> list[str]:
    return [str(row[key]) for row in rows]


@blp.route("/sites")
class Sites(MethodView):
    @blp.response(200, s.SiteOut(many=True))
    @documented(401)
    def get(self) -> list[dict[str, Any]]:
        """List the sites the caller may see."""
        found = services()
        visible = caller().visible_sites(_codes(queries.sites(found.store), "code"))
        return [found.app.site(code) for code in visible]

    @command
    @blp.arguments(s.SiteIn)
    @blp.response(201, s.SiteOut)
    @documented(*ERRORS)
    def post(self, body: dict[str, Any]) -> dict[str, Any]:
        """Register a warehouse, fixed site or mobile van."""
        principal = require(Action.MANAGE_CATALOG)
        return services().app.register_site(actor=principal.email, **body)


@blp.route("/items")
class Items(MethodView):
    @blp.response(200, s.ItemOut(many=True))
    @documented(401)
    def get(self) -> list[dict[str, Any]]:
        """List the catalog."""
        caller()
        found = services()
        return [found.app.item(sku) for sku in _codes(queries.items(found.store), "sku")]

    @command
    @blp.arguments(s.ItemIn)
    @blp.response(201, s.ItemOut)
    @documented(*ERRORS)
    def post(self, body: dict[str, Any]) -> dict[str, Any]:
        """Add an item to the catalog."""
        principal = require(Action.MANAGE_CATALOG)
        return services().app.register_item(actor=principal.email, **body)


@blp.route("/items/<string:sku>/units")
class ItemUnits(MethodView):
    @command
    @blp.arguments(s.ItemUnitsIn)
    @blp.response(200, s.ItemOut)
    @documented(*ERRORS, 404)
    def put(self, body: dict[str, Any], sku: str) -> dict[str, Any]:
        """Set the packs an item comes in (the supplier's first: orders round up to it) and its doses per unit;
        stock stays recorded in units of issue."""
        principal = require(Action.MANAGE_CATALOG)
        try:
            return services().app.change_item_units(sku=sku, actor=principal.email, **body)
        except UnknownItem as error:
            abort(404, message=error.message)
            raise  # unreachable: abort raises


@blp.route("/funding-sources")
class FundingSources(MethodView):
    @blp.response(200, s.FundingSourceOut(many=True))
    @documented(401)
    def get(self) -> list[dict[str, Any]]:
        """List funding sources with their rules."""
        caller()
        found = services()
        return [found.app.funding_source(code) for code in _codes(queries.funding_sources(found.store), "code")]

    @command
    @blp.arguments(s.FundingSourceIn)
    @blp.response(201, s.FundingSourceOut)
    @documented(*ERRORS)
    def post(self, body: dict[str, Any]) -> dict[str, Any]:
        """Add a grant or donor, with the categories it may not pay for and when."""
        principal = require(Action.MANAGE_CATALOG)
        return services().app.register_funding_source(actor=principal.email, **body)


@blp.route("/sites/<string:code>/levels/<string:sku>")
class Levels(MethodView):
    @command
    @blp.arguments(s.LevelIn)
    @blp.response(200, s.LevelSetOut)
    @documented(*ERRORS, 404)
    def put(self, body: dict[str, Any], code: str, sku: str) -> dict[str, Any]:
        """Set the reorder point, par level and lead time of an item at a site."""
        principal = require(Action.SET_LEVELS, code)
        try:
            return services().app.set_stock_level(site=code, sku=sku, actor=principal.email, **body)
        except (UnknownSite, UnknownItem) as error:
            abort(404, message=error.message)
            raise  # unreachable: abort raises
