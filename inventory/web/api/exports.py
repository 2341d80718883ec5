"""API v1: the grant report as an Excel workbook."""

from __future__ import annotations

import io
from typing import Any

from flask import Response, send_file
from flask.views import MethodView
from flask_smorest import Blueprint
from marshmallow import RAISE, Schema, fields, validate

from exports.reports import Source, grant_report
from inventory.application.access import Action
from inventory.web.api.auth import require
from inventory.web.api.docs import documented
from inventory.web.api.schemas import Code, Day
from inventory.web.services import services

blp = Blueprint("api_exports", __name__, url_prefix="/api/v1", description="Exports: Excel workbooks")

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


class GrantReportQuery(Schema):
    class Meta:
        unknown = RAISE

    funding_source = Code(load_default=None, metadata={"description": "A funding source's code; all when left out."})
    from_ = Day(required=True, data_key="from", metadata={"description": "First business date."})
    to = Day(required=True, metadata={"description": "Last business date (at most ten years on)."})
    known_at = fields.Integer(
        load_default=None,
        validate=validate.Range(min=1, max=2**62),
        metadata={"description": "The figures as the log knew them at this position: the same report it gave then."},
    )


def filename(query: dict[str, Any]) -> str:
    who = (query["funding_source"] or "all").upper()
    return f"grant-report-{who}-{query['from_'].isoformat()}-to-{query['to'].isoformat()}.xlsx"


@blp.route("/exports/grant-report.xlsx")
class GrantReport(MethodView):
    @blp.arguments(GrantReportQuery, location="query", unknown=RAISE)
    @blp.response(
        200,
        {"type": "string", "format": "binary"},
        content_type=XLSX,
        description="The workbook: Summary, By site, By month, Receipts, Ledger and Provenance sheets.",
    )
    @documented(401, 403, 422)
    def get(self, query: dict[str, Any]) -> Response:
        """A grant report for one funding source (or all) and a period, reconciled to the unit."""
        principal = require(Action.EXPORT)
        found = services()
        found.projector.catch_up()
        buffer = io.BytesIO()
        grant_report(
            Source(found.app, found.store, found.app.zone),
            buffer,
            funding_source=query["funding_source"],
            start=query["from_"],
            end=query["to"],
            who=principal.email,
            position=query["known_at"],
        )
        buffer.seek(0)
        return send_file(buffer, mimetype=XLSX, as_attachment=True, download_name=filename(query))
