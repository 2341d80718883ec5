"""API v1: receipts, encounters, adjustments, counts; stock, stock card and alerts."""

from __future__ import annotations

from typing import Any

from flask.views import MethodView
from flask_smorest import Blueprint, abort
from marshmallow import RAISE

from inventory.application.access import Action
from inventory.projections import queries
from inventory.projections.alerts import open_alert_page, sentence
from inventory.projections.card_pages import card_page
from inventory.projections.paging import list_page
from inventory.web.api import schemas as s
from inventory.web.api.auth import require
from inventory.web.api.commands import command, request_key
from inventory.web.api.docs import ERRORS, PAGE_HEADERS, bad_cursor, documented, page_headers, paged
from inventory.web.api.packs import in_units_of_issue
from inventory.web.services import services

blp = Blueprint("api_stock", __name__, url_prefix="/api/v1", description="Stock: record and read")


def key_names_it(description: str) -> dict[str, Any]:
    """The required Idempotency-Key header of a command whose record the key names (a visit, a tally)."""
    return {
        "in": "header",
        "name": "Idempotency-Key",
        "required": True,
        "schema": {"type": "string", "minLength": 8, "maxLength": 100},
        "description": description,
    }


def _upper(code: str | None) -> str | None:
    return code.upper() if code else None


@blp.route("/receipts")
class Receipts(MethodView):
    @command
    @blp.arguments(s.ReceiptIn)
    @blp.response(201, s.LedgerOut)
    @documented(*ERRORS)
    def post(self, body: dict[str, Any]) -> dict[str, Any]:
        """Record a delivery into a site's stock (lot, expiry, funding source, cost); a quantity sent with a
        `pack` is in that pack of the item's, and recorded in units of issue."""
        principal = require(Action.RECEIVE_STOCK, body["site"])
        return services().app.receive_stock(actor=principal.email, **in_units_of_issue(body))


@blp.route("/encounters")
class Encounters(MethodView):
    @command
    @blp.arguments(s.EncounterIn)
    @blp.response(201, s.EncounterOut)
    @documented(*ERRORS)
    @blp.doc(
        parameters=[
            key_names_it("Names the visit: a repeat with the same key records nothing new and answers the same.")
        ]
    )
    def post(self, body: dict[str, Any]) -> dict[str, Any]:
        """Record one anonymous visit. The Idempotency-Key header is required and names the visit."""
        principal = require(Action.RECORD_ENCOUNTER, body["site"])
        key = request_key(required=True)
        assert key is not None
        return services().app.record_encounter(key=key, actor=principal.email, **body)


@blp.route("/tallies")
class Tallies(MethodView):
    @command
    @blp.arguments(s.TallyIn)
    @blp.response(201, s.TallyOut)
    @documented(*ERRORS)
    @blp.doc(
        parameters=[
            key_names_it("Names the tally: a repeat with the same key records nothing new and answers the same.")
        ]
    )
    def post(self, body: dict[str, Any]) -> dict[str, Any]:
        """Record a shift's totals (a night too busy to record each visit): stock falls as for visits,
        on the shift's date; its visits count with the encounters."""
        principal = require(Action.RECORD_ENCOUNTER, body["site"])
        key = request_key(required=True)
        assert key is not None
        return services().app.record_shift_tally(key=key, actor=principal.email, **body)


@blp.route("/discarded-visits")
class DiscardedVisits(MethodView):
    @command
    @blp.arguments(s.DiscardIn)
    @blp.response(201, s.DiscardOut)
    @documented(*ERRORS)
    @blp.doc(parameters=[key_names_it("The key the visit was kept with on the phone: the visit discarded.")])
    def post(self, body: dict[str, Any]) -> dict[str, Any]:
        """Discard a visit kept offline that the server refused, with a reason from a fixed list, so an
        auditor sees it was not lost. Refused (409) if the visit with this key was recorded after all."""
        principal = require(Action.RECORD_ENCOUNTER, body["site"])
        key = request_key(required=True)
        assert key is not None
        return services().app.discard_offline_visit(key=key, actor=principal.email, **body)


@blp.route("/adjustments")
class Adjustments(MethodView):
    @command
    @blp.arguments(s.AdjustmentIn)
    @blp.response(201, s.LedgerOut)
    @documented(*ERRORS)
    def post(self, body: dict[str, Any]) -> dict[str, Any]:
        """Correct a lot up or down with a reason (damaged, lost, expired, found, returned, correction)."""
        principal = require(Action.ADJUST_STOCK, body["site"])
        return services().app.adjust_stock(actor=principal.email, **body)


@blp.route("/counts")
class Counts(MethodView):
    @command
    @blp.arguments(s.CountIn)
    @blp.response(201, s.LedgerOut)
    @documented(*ERRORS)
    def post(self, body: dict[str, Any]) -> dict[str, Any]:
        """Record a physical count of a lot (`counted` in units of issue, or in the item's `pack`); the answer
        includes the variance."""
        principal = require(Action.COUNT_STOCK, body["site"])
        return services().app.count_stock(actor=principal.email, **in_units_of_issue(body, quantity="counted"))


@blp.route("/stock")
class Stock(MethodView):
    @blp.arguments(s.StockQuery, location="query", unknown=RAISE)
    @blp.response(200, s.StockRowOut(many=True), headers=PAGE_HEADERS)
    @documented(401, 403, 422)
    def get(self, query: dict[str, Any]) -> tuple[list[dict[str, Any]], int, dict[str, str]]:
        """Lots on hand by site and item, the first to expire first, a page at a time (the next page's
        address in `Link`); with as_of, at the end of that business day."""
        site, sku, as_of = _upper(query["site"]), _upper(query["sku"]), query["as_of"]
        principal = require(Action.READ_STOCK, site)
        store = services().store
        sites = [site] if site else (None if principal.all_sites else sorted(principal.sites))
        if as_of:  # summed from the daily totals up to that day, then paged
            rows = queries.stock_as_of(store, as_of, site, sku)
            rows = queries.in_lot_order([row for row in rows if sites is None or row["site"] in sites])
            found = paged(lambda: list_page(rows, key=queries.LOT_KEY, after=query["cursor"], limit=query["limit"]))
        else:
            found = paged(lambda: queries.stock_page(store, sites, sku, after=query["cursor"], limit=query["limit"]))
        return s.dated(found.rows), 200, page_headers(found)


@blp.route("/stock-card")
class StockCard(MethodView):
    @blp.arguments(s.StockCardQuery, location="query", unknown=RAISE)
    @blp.response(200, s.StockCardOut)
    @documented(401, 403, 422)
    def get(self, query: dict[str, Any]) -> dict[str, Any]:
        """Every movement of an item at a site between two business dates, with the running balance."""
        site, sku = query["site"].upper(), query["sku"].upper()
        require(Action.READ_STOCK, site)
        if query["to"] < query["from_"]:
            abort(422, message="'to' must not be before 'from'.", errors={"to": ["must not be before 'from'"]})
        store = services().store
        found = card_page(
            store, site, sku, query["from_"], query["to"], query["cursor"], query["limit"],
            newest_first=query["order"] == "newest",
        )  # fmt: skip
        if found is None:
            bad_cursor()
        return {
            "site": site,
            "sku": sku,
            "opening": found.opening,
            "rows": found.rows,
            "closing": found.closing,
            "warnings": [queries.below_zero_warning(site, sku, day) for day in found.below_zero_days(query["from_"])],
            "next_cursor": found.older,
        }


@blp.route("/alerts")
class Alerts(MethodView):
    @blp.arguments(s.AlertQuery, location="query", unknown=RAISE)
    @blp.response(200, s.AlertOut(many=True), headers=PAGE_HEADERS)
    @documented(401, 403, 422)
    def get(self, query: dict[str, Any]) -> tuple[list[dict[str, Any]], int, dict[str, str]]:
        """Open alert episodes: out of stock, below the reorder point, running out within the lead time,
        expiring within the horizon or expired on hand, newest first (raised by the worker's alert check),
        a page at a time (the next page's address in `Link`)."""
        site = query["site"].upper() if query["site"] else None
        principal = require(Action.READ_ALERTS, site)
        sites = [site] if site else (None if principal.all_sites else principal.sites)
        found = paged(
            lambda: open_alert_page(services().store, sites, query["kind"], after=query["cursor"], limit=query["limit"])
        )
        return [episode_out(alert) for alert in found.rows], 200, page_headers(found)


def episode_out(alert: dict[str, Any]) -> dict[str, Any]:
    """An open episode in the API's shape: its figures flattened, with one sentence that says it."""
    details = alert["details"]
    return {
        "id": alert["id"],
        "episode": alert["episode"],
        "raised_at": alert["raised_at"],
        "acknowledged_by": alert["acknowledged_by"],
        "kind": alert["kind"],
        "site": alert["site"],
        "sku": alert["sku"],
        "lot": alert["lot"],
        "on_hand": details.get("on_hand", 0),
        "reorder_point": details.get("reorder_point"),
        "days_of_supply": details.get("days_of_supply"),
        "expires_on": details.get("expires_on"),
        "message": sentence(alert),
    }
