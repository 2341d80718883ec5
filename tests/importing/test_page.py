"""The admin import page: download the template, upload a file, see each bad row with what to fix."""

from __future__ import annotations

from io import BytesIO
from pathlib import Path

from flask import Flask

from inventory.application import InventoryApplication
from tests.importing.workbooks import CATALOG, opening_rows, workbook
from tests.web.pages.conftest import PASSWORD, Person, csrf_token, person

ADMIN = "importer@example.org"


def admin(flask_app: Flask, inventory: InventoryApplication) -> Person:
    inventory.register_user(email=ADMIN, role="admin", password=PASSWORD, actor="cli")
    return person(flask_app, ADMIN)


def upload(who: Person, path: Path, **fields: str) -> tuple[int, str]:
    token = csrf_token(who.get("/admin/import").get_data(as_text=True))
    data = {"csrf_token": token, "file": (BytesIO(path.read_bytes()), path.name), **fields}
    response = who.post_raw("/admin/import", data, referer="/admin/import")
    return response.status_code, response.get_data(as_text=True)


def test_the_admin_page_links_the_import_and_its_template_downloads(
    flask_app: Flask, inventory: InventoryApplication
) -> None:
    who = admin(flask_app, inventory)
    assert "/admin/import" in who.get("/admin").get_data(as_text=True)
    template = who.get("/admin/import/template.xlsx")
    assert template.status_code == 200
    assert template.data[:2] == b"PK"


def test_a_bad_row_is_shown_with_its_place_and_nothing_is_written_until_told(
    flask_app: Flask, inventory: InventoryApplication, tmp_path: Path
) -> None:
    who = admin(flask_app, inventory)
    rows = opening_rows(4)
    rows[1][3] = "03/01/2028"
    path = workbook(tmp_path / "stock.xlsx", {**CATALOG, "Opening stock": rows})
    status, html = upload(who, path)
    assert status == 422
    assert "Nothing was imported: 1 row(s) of 12 need fixing" in html
    assert 'data-sheet="Opening stock" data-row="3"' in html
    assert "Opening stock, row 3, column expires_on" in html
    assert "could be read two ways" in html
    assert "VAN-1 | SYR-1ML | S00001" in html
    status, html = upload(who, path, skip_invalid="y")
    assert status == 200
    assert "Imported from stock.xlsx: 2 sites, 3 items, 2 funding sources, 3 lots." in html
    assert inventory.stock("WH", "NALOX-4MG")["on_hand"] == rows[0][4]
    status, html = upload(who, path, skip_invalid="y")
    assert "Nothing new: everything in stock.xlsx was already recorded." in html


def test_a_file_that_is_not_a_workbook_is_refused_next_to_the_file_field(
    flask_app: Flask, inventory: InventoryApplication, tmp_path: Path
) -> None:
    who = admin(flask_app, inventory)
    (tmp_path / "notes.txt").write_text("hello")
    status, html = upload(who, tmp_path / "notes.txt")
    assert status == 422
    assert "notes.txt is not an .xlsx or .csv file" in html
