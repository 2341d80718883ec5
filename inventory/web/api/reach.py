"""API v1: who it went to. Partner organisations, supplies issued to them and their reports back; mail
orders and parcels that came back; the recipient types an admin adds.

An issue to a partner and a mail order are named by the Idempotency-Key header, like a visit: the same key
and body again records nothing and answers the same. No address, name or phone is taken anywhere here.
"""

from __future__ import annotations

from datetime import date
from typing import Any
from uuid import UUID

from flask.views import MethodView
from flask_smorest import Blueprint, abort
from marshmallow import Schema, fields, validate

from inventory.application import rules
from inventory.application.access import Action
from inventory.application.mail import CARRIER_LENGTH
from inventory.application.partners import REPORTED_KITS, REPORTED_REVERSALS
from inventory.domain.errors import InventoryError
from inventory.domain.partners import PartnerKind
from inventory.domain.text import NAME_LENGTH
from inventory.projections import reach_queries
from inventory.web.api import schemas as s
from inventory.web.api.auth import caller, require
from inventory.web.api.commands import command, request_key
from inventory.web.api.docs import ERRORS, documented
from inventory.web.api.stock import key_names_it
from inventory.web.services import services

blp = Blueprint("api_reach", __name__, url_prefix="/api/v1", description="Partners, mail orders, recipient types")


class PartnerIn(s.Strict):
    code = s.Code(required=True)
    name = s.Text(NAME_LENGTH, min_length=1, required=True, metadata={"description": "The organisation's name"})
    kind = fields.String(required=True, validate=validate.OneOf([k.value for k in PartnerKind]))
    contact_role = s.Text(
        NAME_LENGTH, min_length=1, required=True, metadata={"description": "A role (Shelter manager), never a name"}
    )


class PartnerOut(Schema):
    code = fields.String(required=True)
    name = fields.String(required=True)
    kind = fields.String(required=True)
    contact_role = fields.String(required=True)
    retired = fields.Boolean(required=True)


class PartnerIssueIn(s.Strict):
    site = s.Code(required=True)
    partner = s.Code(required=True)
    lines = fields.List(fields.Nested(s.IssueLineIn), required=True, validate=validate.Length(min=1, max=30))
    occurred_at = s.moment()


class PartnerIssueOut(Schema):
    id = fields.String(required=True)
    key = fields.String(required=True)
    site = fields.String(required=True)
    partner = fields.String(required=True)
    lines = fields.List(fields.Nested(s.EncounterLineOut), required=True)
    occurred_at = fields.DateTime(required=True)
    recorded_at = fields.DateTime(required=True)
    actor = fields.String(required=True)
    voided = fields.String(allow_none=True)


class ReportBackIn(s.Strict):
    starts_on = s.Day(required=True)
    ends_on = s.Day(required=True)
    kits_distributed = fields.Integer(required=True, validate=s.within(REPORTED_KITS))
    reversals_reported = fields.Integer(load_default=0, validate=s.within(REPORTED_REVERSALS))
    kits_remaining = fields.Integer(load_default=None, allow_none=True, validate=s.within(REPORTED_KITS))


class ReportBackOut(Schema):
    partner = fields.String(required=True)
    starts_on = fields.Date(required=True)
    ends_on = fields.Date(required=True)
    kits_distributed = fields.Integer(required=True)
    reversals_reported = fields.Integer(required=True)
    kits_remaining = fields.Integer(required=True, allow_none=True)


class MailOrderIn(s.Strict):
    site = s.Code(required=True)
    lines = fields.List(fields.Nested(s.IssueLineIn), required=True, validate=validate.Length(min=1, max=30))
    carrier = s.Text(CARRIER_LENGTH, min_length=1, required=True)
    tracking = s.Text(60, min_length=1, required=True, metadata={"description": "As on the label; never an address"})
    recipient = s.recipient_type()
    for_others = fields.Integer(load_default=0, validate=s.within(rules.VISIT_FOR_OTHERS))
    occurred_at = s.moment()


class MailOrderOut(Schema):
    id = fields.String(required=True)
    key = fields.String(required=True)
    site = fields.String(required=True)
    lines = fields.List(fields.Nested(s.EncounterLineOut), required=True)
    carrier = fields.String(required=True)
    tracking = fields.String(required=True)
    recipient = fields.String(required=True)
    for_others = fields.Integer(required=True)
    occurred_at = fields.DateTime(required=True)
    recorded_at = fields.DateTime(required=True)
    returned_at = fields.DateTime(required=True, allow_none=True)
    actor = fields.String(required=True)
    voided = fields.String(allow_none=True)


class ParcelBackIn(s.Strict):
    occurred_at = s.moment()


class RecipientTypeIn(s.Strict):
    code = fields.String(required=True, validate=validate.Length(min=2, max=40))
    name = s.Text(NAME_LENGTH, min_length=1, required=True)


class RecipientTypeOut(Schema):
    code = fields.String(required=True)
    name = fields.String(required=True)


def _partner_of(partner: str) -> str:
    """The partner a report is for, if the caller may report for it (a partner account: its own only)."""
    principal = require(Action.REPORT_FOR_PARTNER)
    code = partner.upper()
    if reach_queries.partner(services().store, code) is None:
        abort(404, message=f"There is no partner organisation {code}.")
    if not principal.may_report_for(code):
        abort(403, message="This account may report only for its own partner organisation.")
    return code


def _site_of_mail(mail_order_id: UUID) -> str:
    caller()
    try:
        site: str = services().app.mail_order(mail_order_id)["site"]
    except InventoryError as error:
        abort(404, message=error.message)
    return site


def _site_of_issue(issue_id: UUID) -> str:
    caller()
    try:
        site: str = services().app.partner_issue(issue_id)["site"]
    except InventoryError as error:
        abort(404, message=error.message)
    return site


@blp.route("/partners")
class Partners(MethodView):
    @blp.response(200, PartnerOut(many=True))
    @documented(401, 403)
    def get(self) -> list[dict[str, Any]]:
        """Every partner organisation the program supplies."""
        require(Action.SUPPLY_PARTNERS)
        return reach_queries.partners(services().store)

    @command
    @blp.arguments(PartnerIn)
    @blp.response(201, PartnerOut)
    @documented(*ERRORS)
    def post(self, body: dict[str, Any]) -> dict[str, Any]:
        """Add a partner organisation (an organisation with its contact's role, never a person's details)."""
        principal = require(Action.MANAGE_CATALOG)
        return services().app.register_partner(actor=principal.email, **body)


@blp.route("/partner-issues")
class PartnerIssues(MethodView):
    @command
    @blp.arguments(PartnerIssueIn)
    @blp.response(201, PartnerIssueOut)
    @documented(*ERRORS)
    @blp.doc(parameters=[key_names_it("Names the issue: a repeat with the same key records nothing new.")])
    def post(self, body: dict[str, Any]) -> dict[str, Any]:
        """Issue supplies in bulk from a site to a partner: they leave the site on their date, lot by lot."""
        principal = require(Action.SUPPLY_PARTNERS, body["site"])
        key = request_key(required=True)
        assert key is not None
        return services().app.issue_to_partner(key=key, actor=principal.email, **body)


@blp.route("/partner-issues/<uuid:issue_id>/void")
class PartnerIssueVoid(MethodView):
    @command
    @blp.arguments(s.VoidIn)
    @blp.response(201, PartnerIssueOut)
    @documented(*ERRORS)
    def post(self, body: dict[str, Any], issue_id: UUID) -> dict[str, Any]:
        """Void an issue to a partner recorded by mistake: its supplies go back on the issue's own time."""
        principal = require(Action.SUPPLY_PARTNERS, _site_of_issue(issue_id))
        return services().app.void_partner_issue(
            issue_id=issue_id, actor=principal.email, within=principal.correction_window, **body
        )


@blp.route("/partners/<partner>/reports")
class PartnerReports(MethodView):
    @blp.response(200, ReportBackOut(many=True))
    @documented(401, 403, 404)
    def get(self, partner: str) -> list[dict[str, Any]]:
        """A partner's reports back, newest period first."""
        code = _partner_of(partner)
        return [
            dict(row, starts_on=date.fromisoformat(row["starts_on"]), ends_on=date.fromisoformat(row["ends_on"]))
            for row in reach_queries.partner_reports(services().store, code)
        ]

    @command
    @blp.arguments(ReportBackIn)
    @blp.response(201, ReportBackOut)
    @documented(*ERRORS)
    def post(self, body: dict[str, Any], partner: str) -> dict[str, Any]:
        """What a partner handed out onward in a period; the same period again replaces its report."""
        code = _partner_of(partner)
        return services().app.report_back(partner=code, actor=caller().email, **body)


@blp.route("/mail-orders")
class MailOrders(MethodView):
    @command
    @blp.arguments(MailOrderIn)
    @blp.response(201, MailOrderOut)
    @documented(*ERRORS)
    @blp.doc(parameters=[key_names_it("Names the parcel: a repeat with the same key records nothing new.")])
    def post(self, body: dict[str, Any]) -> dict[str, Any]:
        """Record a parcel packed and sent from a site: carrier and tracking reference only, never an address."""
        principal = require(Action.RECORD_ENCOUNTER, body["site"])
        key = request_key(required=True)
        assert key is not None
        return services().app.send_mail_order(key=key, actor=principal.email, **body)


@blp.route("/mail-orders/<uuid:mail_order_id>/returned")
class ParcelBack(MethodView):
    @command
    @blp.arguments(ParcelBackIn)
    @blp.response(201, MailOrderOut)
    @documented(*ERRORS)
    def post(self, body: dict[str, Any], mail_order_id: UUID) -> dict[str, Any]:
        """The parcel came back undelivered: its supplies are back in their lots from that moment."""
        principal = require(Action.RECORD_ENCOUNTER, _site_of_mail(mail_order_id))
        return services().app.parcel_returned(mail_order=mail_order_id, actor=principal.email, **body)


@blp.route("/mail-orders/<uuid:mail_order_id>/void")
class MailOrderVoid(MethodView):
    @command
    @blp.arguments(s.VoidIn)
    @blp.response(201, MailOrderOut)
    @documented(*ERRORS)
    def post(self, body: dict[str, Any], mail_order_id: UUID) -> dict[str, Any]:
        """Void a mail order recorded by mistake (it was never sent): its supplies go back on its own time."""
        principal = require(Action.RECORD_ENCOUNTER, _site_of_mail(mail_order_id))
        return services().app.void_mail_order(
            mail_order_id=mail_order_id, actor=principal.email, within=principal.correction_window, **body
        )


@blp.route("/recipient-types")
class RecipientTypes(MethodView):
    @blp.response(200, RecipientTypeOut(many=True))
    @documented(401)
    def get(self) -> list[dict[str, str]]:
        """The recipient types a hand-out may name: the built-in ones and those an admin added."""
        caller()
        return [{"code": c, "name": n} for c, n in reach_queries.recipient_types(services().store).items()]

    @command
    @blp.arguments(RecipientTypeIn)
    @blp.response(201, RecipientTypeOut)
    @documented(*ERRORS)
    def post(self, body: dict[str, Any]) -> dict[str, Any]:
        """Add a recipient type (a code of small letters, digits and _, and its label)."""
        principal = require(Action.MANAGE_CATALOG)
        found = services().app.add_recipient_type(actor=principal.email, **body)
        return {"code": found["code"], "name": found["name"]}
