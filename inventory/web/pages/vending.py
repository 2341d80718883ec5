"""Import what a vending machine dispensed, from the machine's own CSV export, at the machine's site."""

from __future__ import annotations

import tempfile
from pathlib import Path

from flask import Blueprint, abort, render_template
from flask.typing import ResponseReturnValue
from flask_wtf import FlaskForm
from flask_wtf.file import FileAllowed, FileField, FileRequired

from inventory.application.access import Action
from inventory.domain.values import SiteKind
from inventory.importing import vending as machine_export
from inventory.web.pages.common import page, principal
from inventory.web.pages.movements import site_kind, site_name
from inventory.web.services import services

bp = Blueprint("vending", __name__)
SHOWN = 200  # lines to fix listed on the page; the rest are counted


class VendingImportForm(FlaskForm):
    file = FileField(
        "The machine's export (.csv)",
        validators=[
            FileRequired("Choose the machine's export to import."),
            FileAllowed(["csv", "txt"], 'Upload the export as a .csv file (in a spreadsheet: save as "CSV UTF-8").'),
        ],
    )


@bp.route("/sites/<site>/vending-import", methods=["GET", "POST"])
@page(Action.RECORD_ENCOUNTER)
def import_dispenses(site: str) -> ResponseReturnValue:
    """Upload the machine's export; each sale is recorded once, and each line to fix is listed."""
    if site_kind(site) != SiteKind.VENDING_MACHINE:
        abort(404, description=f"{site} is not a vending machine: what it hands out is recorded as visits or tallies.")
    form = VendingImportForm()
    result = None
    status = 200
    if form.validate_on_submit():
        result = _imported(site, form)
        status = 422 if result.refused else 200
    elif form.is_submitted():
        status = 422
    return render_template(
        "pages/vending/import.html",
        form=form,
        site=site,
        site_name=site_name(site),
        result=result,
        shown=SHOWN,
        max_rows=machine_export.MAX_ROWS,
    ), status


def _imported(site: str, form: VendingImportForm) -> machine_export.VendingImport:
    """The upload, saved aside while it is read (a stream, never whole in memory), and imported."""
    app = services().app
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "export.csv"
        form.file.data.save(path)
        result = machine_export.import_dispenses(app, site, path, actor=principal().email, zone=app.zone)
    services().projector.read_your_writes()
    return result
