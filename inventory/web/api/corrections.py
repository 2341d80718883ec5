"""API v1: void a visit, a shift tally, a transfer or a stock entry; correct a receipt, an adjustment or a count.

Each is recorded as a new event; the original stays in the log. Coordinators may do it at their
sites for entries they may record, within rules.CORRECTION_WINDOW of the recording; admins always.
A visit, tally or transfer voided again answers as the first time; send an Idempotency-Key to make any of
these safe to repeat.
"""

from __future__ import annotations

from typing import Any
from uuid import UUID

from flask.views import MethodView
from flask_smorest import Blueprint, abort

from inventory.application.access import Action
from inventory.domain.errors import InventoryError
from inventory.web.api import schemas as s
from inventory.web.api.auth import caller, require
from inventory.web.api.commands import command
from inventory.web.api.docs import ERRORS, documented
from inventory.web.services import services

blp = Blueprint("api_corrections", __name__, url_prefix="/api/v1", description="Voids and corrections")

# Which right a change to each kind of entry needs: the right to record it.
RIGHTS = {"receipt": Action.RECEIVE_STOCK, "adjustment": Action.ADJUST_STOCK, "count": Action.COUNT_STOCK}


def _site_of(kind: str, id_or_position: Any) -> str:
    """The site of what is to change (after the token is checked: an unknown entry is 404 to callers only)."""
    caller()
    try:
        site: str = services().app.entry_site(kind, id_or_position)
    except InventoryError as error:
        abort(404 if error.code == "not_found" else 422, message=error.message)
    return site


@blp.route("/encounters/<uuid:visit_id>/void")
class VisitVoid(MethodView):
    @command
    @blp.arguments(s.VoidIn)
    @blp.response(201, s.EncounterOut)
    @documented(*ERRORS)
    def post(self, body: dict[str, Any], visit_id: UUID) -> dict[str, Any]:
        """Void a visit recorded by mistake: its supplies go back to their lots on the visit's own time,
        and no report counts it. The visit stays in the log, marked void with the reason."""
        principal = require(Action.RECORD_ENCOUNTER, _site_of("visit", visit_id))
        return services().app.void_visit(
            visit_id=visit_id, actor=principal.email, within=principal.correction_window, **body
        )


@blp.route("/tallies/<uuid:tally_id>/void")
class TallyVoid(MethodView):
    @command
    @blp.arguments(s.VoidIn)
    @blp.response(201, s.TallyOut)
    @documented(*ERRORS)
    def post(self, body: dict[str, Any], tally_id: UUID) -> dict[str, Any]:
        """Void a shift tally recorded by mistake: what it handed out goes back on the shift's time."""
        principal = require(Action.RECORD_ENCOUNTER, _site_of("tally", tally_id))
        return services().app.void_tally(
            tally_id=tally_id, actor=principal.email, within=principal.correction_window, **body
        )


@blp.route("/transfers/<uuid:transfer_id>/void")
class TransferVoid(MethodView):
    @command
    @blp.arguments(s.VoidIn)
    @blp.response(201, s.TransferOut)
    @documented(*ERRORS)
    def post(self, body: dict[str, Any], transfer_id: UUID) -> dict[str, Any]:
        """Void a transfer entered by mistake (the wrong van, the wrong items): the stock goes back to the
        sender on the dispatch's own time and, if it was received, comes out of the receiver on the
        arrival's (refused if the receiver has used it since). Needs the right to move stock at the sender,
        and at the receiver once received. A cancelled transfer has nothing to void (409)."""
        caller()
        try:
            sites = services().app.transfer_void_sites(transfer_id)
        except InventoryError as error:
            abort(404 if error.code == "not_found" else 422, message=error.message)
        principal = None
        for site in sites:
            principal = require(Action.TRANSFER, site)
        assert principal is not None
        return services().app.void_transfer(
            transfer_id=transfer_id, actor=principal.email, within=principal.correction_window, **body
        )


def _entry(kind: str, position: int) -> Any:
    """The caller, once they may change the `kind` at `position` (404 if it is not one)."""
    caller()
    try:
        found = services().app.entry_kind(position)
    except InventoryError as error:
        abort(404 if error.code == "not_found" else 422, message=error.message)
    if found != kind:
        abort(404, message=f"There is no {kind} at position {position}.")
    return require(RIGHTS[kind], _site_of(kind, position))


def _void(kind: str, body: dict[str, Any], position: int) -> dict[str, Any]:
    principal = _entry(kind, position)
    return services().app.void_entry(position=position, actor=principal.email, within=principal.correction_window,
                                     **body)  # fmt: skip


def _correct(kind: str, body: dict[str, Any], position: int) -> dict[str, Any]:
    principal = _entry(kind, position)
    return services().app.correct_entry(position=position, actor=principal.email,
                                        within=principal.correction_window, **body)  # fmt: skip


VOID = (
    "Void a {kind} (named by the `position` its recording answered), undone on its own time. Refused if "
    "what was recorded after it used the stock it put in."
)
CORRECT = (
    "Correct a {kind}'s figure on its own time (a receipt typed 1000 for 100). A later count's "
    "variance is restated; the stock after that count is unchanged."
)


@blp.route("/receipts/<int(min=1):position>/void")
class ReceiptVoid(MethodView):
    @command
    @blp.arguments(s.VoidIn)
    @blp.response(201, s.LedgerOut)
    @documented(*ERRORS)
    @blp.doc(description=VOID.format(kind="receipt"))
    def post(self, body: dict[str, Any], position: int) -> dict[str, Any]:
        """Void a receipt."""
        return _void("receipt", body, position)


@blp.route("/adjustments/<int(min=1):position>/void")
class AdjustmentVoid(MethodView):
    @command
    @blp.arguments(s.VoidIn)
    @blp.response(201, s.LedgerOut)
    @documented(*ERRORS)
    @blp.doc(description=VOID.format(kind="adjustment"))
    def post(self, body: dict[str, Any], position: int) -> dict[str, Any]:
        """Void an adjustment."""
        return _void("adjustment", body, position)


@blp.route("/counts/<int(min=1):position>/void")
class CountVoid(MethodView):
    @command
    @blp.arguments(s.VoidIn)
    @blp.response(201, s.LedgerOut)
    @documented(*ERRORS)
    @blp.doc(description=VOID.format(kind="count"))
    def post(self, body: dict[str, Any], position: int) -> dict[str, Any]:
        """Void a count."""
        return _void("count", body, position)


@blp.route("/receipts/<int(min=1):position>/correction")
class ReceiptCorrection(MethodView):
    @command
    @blp.arguments(s.CorrectionIn)
    @blp.response(201, s.LedgerOut)
    @documented(*ERRORS)
    @blp.doc(description=CORRECT.format(kind="receipt"))
    def post(self, body: dict[str, Any], position: int) -> dict[str, Any]:
        """Correct a receipt's quantity."""
        return _correct("receipt", body, position)


@blp.route("/adjustments/<int(min=1):position>/correction")
class AdjustmentCorrection(MethodView):
    @command
    @blp.arguments(s.AdjustmentCorrectionIn)
    @blp.response(201, s.LedgerOut)
    @documented(*ERRORS)
    @blp.doc(description=CORRECT.format(kind="adjustment"))
    def post(self, body: dict[str, Any], position: int) -> dict[str, Any]:
        """Correct an adjustment's quantity."""
        return _correct("adjustment", body, position)


@blp.route("/counts/<int(min=1):position>/correction")
class CountCorrection(MethodView):
    @command
    @blp.arguments(s.CountCorrectionIn)
    @blp.response(201, s.LedgerOut)
    @documented(*ERRORS)
    @blp.doc(description=CORRECT.format(kind="count"))
    def post(self, body: dict[str, Any], position: int) -> dict[str, Any]:
        """Correct a count's figure."""
        return _correct("count", body, position)
