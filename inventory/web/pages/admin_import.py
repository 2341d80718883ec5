"""Admin page: import the catalog and opening stock from the template workbook (or a .csv of one sheet)."""

from __future__ import annotations

import tempfile
from pathlib import Path

from flask import Response, render_template
from flask.typing import ResponseReturnValue
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from wtforms import BooleanField

from inventory.application.access import Action
from inventory.importing import UnreadableFile, build_template, import_file
from inventory.importing.sheets import SHEETS
from inventory.web.pages.admin import actor, bp
from inventory.web.pages.common import page
from inventory.web.services import services

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


class ImportForm(FlaskForm):
    file = FileField("Workbook (.xlsx) or one sheet as .csv", validators=[FileRequired("Choose the file to import.")])
    skip_invalid = BooleanField("Import the good rows anyway, and list the bad ones")


@bp.route("/import", methods=["GET", "POST"])
@page(Action.MANAGE_CATALOG)
def import_page() -> ResponseReturnValue:
    form = ImportForm()
    report = None
    status = 200
    if form.validate_on_submit():
        upload = form.file.data
        name = Path(upload.filename or "upload.xlsx").name
        with tempfile.TemporaryDirectory() as folder:
            path = Path(folder) / ("upload" + Path(name).suffix.lower())
            upload.save(path)
            try:
                report = import_file(
                    services().app, path, actor=actor(), name=name, skip_invalid=bool(form.skip_invalid.data)
                )
            except UnreadableFile as error:
                form.file.errors = [str(error)]
                status = 422
        if report is not None:
            if report.written:
                services().projector.read_your_writes()
            else:
                status = 422
    elif form.is_submitted():
        status = 422
    headers = {sheet.name: sheet.names for sheet in SHEETS}
    return render_template("pages/admin/import.html", form=form, report=report, headers=headers), status


@bp.get("/import/template.xlsx")
@page(Action.MANAGE_CATALOG)
def import_template() -> Response:
    return Response(
        build_template(),
        mimetype=XLSX,
        headers={"Content-Disposition": 'attachment; filename="inventory-import.xlsx"'},
    )
