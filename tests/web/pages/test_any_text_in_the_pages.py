"""Any text in any field of any page form never breaks the service (issue 16, must-show 2, the pages).

Each form below is read from its page as a browser would (tests/web/pages/forms.py), filled so that
it succeeds as it is, and then sent with one field changed to generated text (tests/web/any_text.py):
every visible text box, and the hidden fields, choices, dates and numbers a tampered form could
change. Forms post bytes: a lone surrogate arrives as its raw UTF-8 bytes, which the server reads as
U+FFFD, so whether the rule must refuse it is judged on what the server receives.

Every answer: never a 5xx. Text the rule refuses, in a text box: a 422 with the refusal shown by that
field or naming it. Any refusal: nothing added to the log. After the run: every ledger's versions run
1..n without a gap, and every read model equals a rebuild from the log.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime
from urllib.parse import quote
from uuid import uuid4

import pytest
from flask import Flask
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from inventory.application import InventoryApplication
from tests.conftest import read_model_rows
from tests.web.any_text import refusable, texts
from tests.web.pages.conftest import HTTPS, Person, person
from tests.web.pages.forms import Form, post_forms
from tests.web.test_any_text_in_the_api import ledgers_are_gapless

ADMIN = "root@example.org"
# The forms carry fixed dates (a tally on 10 November), so the module runs on a fixed day, with the
# stock there since before them.
pytestmark = pytest.mark.clock(datetime(2026, 12, 1, 15, 0, tzinfo=UTC))
STOCKED = datetime(2026, 11, 1, 9, 0, tzinfo=UTC)
Values = Callable[[str], dict[str, str]]


@dataclass(frozen=True)
class Page:
    """A form page: where it is (with {transfer} for a fresh transfer in transit, {order} for a fresh
    submitted purchase order, {deactivated} for a fresh deactivated account) and what makes it succeed."""

    path: str
    filled: Values
    who: str = "admin"
    form: int = 0  # which POST form on the page
    action: str = ""  # where that form posts, when not back to the page
    answered: tuple[int, ...] = (200, 302, 303)  # how the filled form is answered


PAGES = [
    Page("/sites/VAN-1/encounters/new", lambda n: {"qty_NALOX-4MG": "1", "participant_code": "K7QX"}, "coordinator"),
    Page("/sites/VAN-1/tally", lambda n: {"shift_date": "2026-11-10", "starts_at": "08:00", "ends_at": "16:00",
                                          "visits": "2", "lines-0-quantity": "1"}, "coordinator"),
    Page("/sites/WH/receive", lambda n: {"sku": "NALOX-4MG", "quantity": "2", "lot": f"L-{n}",
                                         "expires_on": "2030-01-31", "funding_source": "STATE"}),
    Page("/sites/WH/transfers/new", lambda n: {"to_site": "VAN-1", "lines-0-quantity": "1", "lines-0-lot": "N-WH"}),
    Page("/transfers/{transfer}/receive", lambda n: {"note": "all there"}),
    Page("/transfers/{transfer}/cancel", lambda n: {"reason": "Entered by mistake"}),
    Page("/sites/WH/count", lambda n: {"lines-0-counted": "100000"}),
    Page("/sites/WH/adjust", lambda n: {"sku": "NALOX-4MG", "lot": "N-WH", "reason": "found", "quantity": "1",
                                        "note": "on the shelf"}),
    Page("/admin/sites/new", lambda n: {"code": f"S-{n}", "name": "A site", "kind": "fixed"}),
    Page("/admin/items/new", lambda n: {"sku": f"I-{n}", "name": "An item", "category": "other", "unit": "box"}),
    Page("/admin/items/NALOX-4MG/units", lambda n: {"packs-0-name": "case", "packs-0-units": "24",
                                                    "doses_per_unit": "2"}),
    Page("/admin/funding/new", lambda n: {"code": f"F-{n}", "name": "A fund"}),
    Page("/admin/funding/STATE/rules", lambda n: {"restrictions-0-category": "sharps",
                                                  "restrictions-0-starts_on": "2020-01-01"}),
    Page("/admin/levels/WH/NALOX-4MG", lambda n: {"reorder_point": "5", "par_level": "10", "lead_time_days": "3"}),
    Page("/admin/users/new", lambda n: {"email": f"u{n}@example.org", "role": "purchasing",
                                        "password": "a long password", "again": "a long password"}),
    Page("/admin/users/buyer@example.org", lambda n: {"role": "purchasing"}),
    Page("/admin/users/{deactivated}/reactivate", lambda n: {"password": "a long password",
                                                            "again": "a long password"}),
    Page("/admin/users/buyer@example.org/password", lambda n: {"password": "a long password",
                                                               "again": "a long password"}),
    Page("/purchase-orders/new", lambda n: {"site": "WH", "supplier": "Matrix Supply", "funding_source": "STATE",
                                            "number": f"PO-{n}", "lines-0-sku": "NALOX-4MG",
                                            "lines-0-quantity": "5", "lines-0-unit_cost": "1.25"}),
    Page("/purchase-orders/{order}/receive", lambda n: {"lines-0-lot": f"L-{n}", "lines-0-expires_on": "2030-01-31"}),
    Page("/exports", lambda n: {"grant-start": "2026-11-01", "grant-end": "2026-11-30"},
         action="/exports/grant-report"),
    Page("/exports", lambda n: {"stock-on": "2026-11-18"}, form=1, action="/exports/stock-report"),
    Page("/exports", lambda n: {"log-start": "2026-11-01", "log-end": "2026-11-30"}, form=2,
         action="/exports/distribution-log"),
    Page("/partners/new", lambda n: {"code": f"P-{n}", "name": "A shelter", "kind": "shelter",
                                     "contact_role": "Shelter manager"}),
    Page("/partners/SHELTER-1", lambda n: {"starts_on": "2026-10-01", "ends_on": "2026-10-31",
                                           "kits_distributed": "3", "reversals_reported": "0"}, "coordinator"),
    Page("/sites/VAN-1/partner-issues/new", lambda n: {"partner": "SHELTER-1", "lines-0-quantity": "1"},
         "coordinator"),
    Page("/sites/VAN-1/mail-orders", lambda n: {"lines-0-quantity": "1", "carrier": "Post",
                                                "tracking": f"RR{100_000_000 + int(n)}CA"}, "coordinator"),
    Page("/recalls", lambda n: {"manufacturer": "Fuzz Pharma", "manufacturer_lot": f"FZ-{n}", "notice": "FDA-1"},
         action="/recalls/new"),
    Page("/sign-in", lambda n: {"email": f"nobody{n}@example.org", "password": "wrong password"}, who="nobody",
         answered=(401,)),
]  # fmt: skip
# Page forms with no field to fill (a button that confirms), and forms left to their own tests.
NO_FIELDS = {
    "admin.close_site",
    "admin.reopen_site",
    "admin.retire_item",
    "admin.deactivate_user",
    "alerts.acknowledge",
    "alerts.snooze",  # a date (tests/web/pages/test_alert_snooze_and_assign.py sends bad ones)
    "alerts.assign",  # a choice from a list of accounts (the same tests send unknown ones)
    "audit.seal",
    "purchase_orders.submit",
    "purchase_orders.cancel",
    "purchase_orders.close",
    "auth.sign_out",
    "account.end_session_of",
    "account.end_other_sessions",
    "account.revoke_token",
    "admin.end_user_session",
    "admin.end_user_sessions",
    "admin.revoke_user_token",
    "corrections.undo_visit",
    "corrections.change_entry",
    "corrections.void_transfer",
    "mail.returned",  # a button
    "mail.void",  # a reason from a list
    "partners.void_issue",  # a reason from a list
    "holds.site_held",  # a lot and a reason from lists (tests/web/pages/test_held_stock_pages.py)
    "holds.write_off",  # a number and a choice from a list (the same tests)
    "holds.release",  # a button
    "recalls.close",  # a button
    "kits.site_kits",  # a kit from a list, a number and a lot (tests/web/pages/test_kit_pages.py sends bad ones)
    "kits.take_apart",  # a kit lot from a list and a number
    "kits.recipe",  # parts from a list, numbers and a date
}  # fmt: skip  (a reason from a list, a number)
FILES = {"admin.import_page", "vending.import_dispenses"}  # an uploaded workbook: the import's own tests send bad cells


def encoded(data: dict[str, str]) -> bytes:
    """A form body as a browser sends it, any character included (a lone surrogate as its raw bytes)."""
    return "&".join(
        f"{quote(name)}={quote(value.encode('utf-8', 'surrogatepass'), safe='')}" for name, value in data.items()
    ).encode()


def received(text: str) -> str:
    """What the server reads from a form field: invalid UTF-8 becomes U+FFFD."""
    return text.encode("utf-8", "surrogatepass").decode("utf-8", "replace")


@pytest.fixture
def program(flask_app: Flask, inventory: InventoryApplication, people: dict[str, Person]) -> dict[str, Person]:
    for site, lot in (("WH", "N-WH"), ("VAN-1", "N-VAN")):
        inventory.receive_stock(site=site, sku="NALOX-4MG", lot=lot, quantity=100_000, expires_on=date(2030, 1, 31),
                                funding_source="STATE", actor=ADMIN, occurred_at=STOCKED)  # fmt: skip
    inventory.register_partner(code="SHELTER-1", name="Harbour Shelter", kind="shelter", contact_role="Manager",
                               actor=ADMIN)  # fmt: skip
    flask_app.extensions["inventory"].projector.catch_up()
    return {**people, "nobody": person(flask_app, "nobody@example.org", signed_in=False)}


def test_every_page_form_that_takes_input_is_fuzzed(flask_app: Flask) -> None:
    """A new page form must be listed in PAGES (or say why not), so that the test below covers it."""
    urls = flask_app.url_map.bind("localhost")
    listed = {
        urls.match(
            (page.action or page.path).format(transfer=uuid4(), deactivated="x@example.org", order=uuid4()),
            method="POST",
        )[0]
        for page in PAGES
    }
    posting = {
        rule.endpoint
        for rule in flask_app.url_map.iter_rules()
        if "POST" in (rule.methods or set()) and not rule.rule.startswith("/api/")
    }
    assert posting - listed - NO_FIELDS - FILES == set()
    assert not listed & (NO_FIELDS | FILES)


def test_any_text_in_any_field_of_any_page_form_is_taken_or_refused_beside_it(
    flask_app: Flask, inventory: InventoryApplication, program: dict[str, Person]
) -> None:
    projector = flask_app.extensions["inventory"].projector
    counter = iter(range(1, 10**9))

    def fresh_path(page: Page) -> str:
        if "{transfer}" in page.path:
            sent = inventory.dispatch_transfer(from_site="WH", to_site="VAN-1", actor=ADMIN,
                                               lines=[{"sku": "NALOX-4MG", "quantity": 1, "lot": "N-WH"}])  # fmt: skip
            projector.catch_up()
            return page.path.format(transfer=sent["id"])
        if "{order}" in page.path:
            lines = [{"sku": "NALOX-4MG", "quantity": 10}]
            order = inventory.raise_purchase_order(supplier="Matrix Supply", site="WH", funding_source="STATE",
                                                   lines=lines, actor=ADMIN)  # fmt: skip
            inventory.submit_purchase_order(order_id=order["id"], actor=ADMIN)
            projector.catch_up()
            return page.path.format(order=order["id"])
        if "{deactivated}" in page.path:
            email = f"left-{next(counter)}@example.org"
            inventory.register_user(email=email, role="purchasing", actor=ADMIN)
            inventory.deactivate_user(email=email, actor=ADMIN)
            projector.catch_up()
            return page.path.format(deactivated=email)
        return page.path

    def the_form(page: Page, path: str) -> tuple[Person, Form]:
        who = program[page.who]
        shown = who.get(path)
        assert shown.status_code == 200, (path, shown.status_code)
        return who, post_forms(shown.get_data(as_text=True))[page.form]

    def send(page: Page, field: str | None, text: str) -> tuple[int, str]:
        path = fresh_path(page)
        who, form = the_form(page, path)
        data = {**form.data(), **page.filled(str(next(counter)))}
        if field is not None:
            data[field] = text
        head = projector.head()
        answer = who.client.post(form.action or path, data=encoded(data), base_url=HTTPS,
                                 content_type="application/x-www-form-urlencoded",
                                 headers={"Referer": HTTPS + path})  # fmt: skip
        body = answer.get_data(as_text=True)
        assert answer.status_code < 500, (path, field, repr(text[:80]), answer.status_code, body[:500])
        if answer.status_code >= 400:
            assert projector.head() == head, (path, field, repr(text[:80]), answer.status_code)
        return answer.status_code, body

    fields: list[tuple[Page, str, bool]] = []
    for page in PAGES:
        status, body = send(page, None, "")
        assert status in page.answered and 'class="field-error"' not in body, (page.path, status, body[:800])
        _, form = the_form(page, fresh_path(page))
        for one in form.fields:
            if one.name != "csrf_token" and one.kind not in ("submit", "button", "file"):
                fields.append((page, one.name, one.is_text and one.kind != "password"))

    @settings(max_examples=250, deadline=None, derandomize=True, database=None,
              suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])  # fmt: skip
    @given(st.sampled_from(fields), texts)
    def fuzz(target: tuple[Page, str, bool], text: str) -> None:
        page, field, is_text = target
        status, body = send(page, field, text)
        if is_text and refusable(received(text)):
            assert status == 422, (page.path, field, repr(text[:80]), status)
            assert f'id="{field}-error"' in body or f"{field.rsplit('-', 1)[-1]}: character" in body, (
                page.path, field, repr(text[:80]), body[:1500])  # fmt: skip

    for page, field, _ in fields:
        for text in ("N\x00", "\ufffe", "\x1b[2J", "\u0301" * 10_000, "\ud800"):
            send(page, field, text)
    fuzz()

    assert len(fields) >= 60
    ledgers_are_gapless(flask_app)
    projector.catch_up()
    caught_up = read_model_rows(projector)
    projector.rebuild()
    assert read_model_rows(projector) == caught_up
    exports = flask_app.extensions.get("export_jobs")
    assert exports is None or exports.drain(timeout=120)
