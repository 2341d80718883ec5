"""Recording a visit through the page: quick picks, steppers, recorded once, refusals next to their field."""

from __future__ import annotations

import re
from html.parser import HTMLParser

import pytest
from flask import Flask

from inventory.application import InventoryApplication
from inventory.projections import queries
from tests.conftest import days_ago
from tests.web.conftest import ADMIN, day
from tests.web.pages.conftest import Person, csrf_token

FORM = "/sites/VAN-1/encounters/new"
NALOX = "qty_NALOX-4MG"
SYR = "qty_SYR-1ML"


class FormReader(HTMLParser):
    """What a browser would send from the page's form, and which inputs have a <label>."""

    def __init__(self) -> None:
        super().__init__()
        self.values: dict[str, str] = {}
        self.controls: list[dict[str, str]] = []
        self.labelled: set[str] = set()
        self._select: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = {name: value or "" for name, value in attrs}
        if tag == "label" and found.get("for"):
            self.labelled.add(found["for"])
        elif tag in {"input", "select", "textarea"}:
            self.controls.append(dict(found, tag=tag))
            if tag == "select":
                self._select = found.get("name")
                self.values.setdefault(found["name"], "")
            elif found.get("type") not in {"submit", "button"}:
                self.values[found["name"]] = found.get("value", "")
        elif tag == "option" and self._select and "selected" in found:
            self.values[self._select] = found.get("value", "")

    def handle_endtag(self, tag: str) -> None:
        if tag == "select":
            self._select = None


def read_form(html: str) -> FormReader:
    reader = FormReader()
    reader.feed(html)
    return reader


def field_error(html: str, field_id: str) -> str:
    """The error shown next to a field (empty if none)."""
    found = re.search(rf'id="{re.escape(field_id)}-error"[^>]*>([^<]*)<', html)
    return found.group(1) if found else ""


def catch_up(flask_app: Flask) -> None:
    found = flask_app.extensions["inventory"]
    found.projector.catch_up_for_reader(found.projector.head())


def on_hand(flask_app: Flask, site: str, sku: str) -> int:
    catch_up(flask_app)
    rows = queries.stock_levels(flask_app.extensions["inventory"].store, site, sku)
    return int(rows[0]["on_hand"]) if rows else 0


def visits(flask_app: Flask, site: str = "VAN-1") -> dict[str, int]:
    """Today's encounters at the site, with reversals and syringes collected, from the read model."""
    catch_up(flask_app)
    rows = queries.daily_encounters(flask_app.extensions["inventory"].store, day(1), day(-1), site)
    keys = ("encounters", "reversals_reported", "syringes_collected")
    return {key: sum(int(row[key]) for row in rows) for key in keys}


@pytest.fixture
def stocked(flask_app: Flask, inventory: InventoryApplication, people: dict[str, Person]) -> dict[str, Person]:
    """20 naloxone kits and 100 syringes at VAN-1, 50 kits at WH; the read models caught up."""
    expiry = day(-365)
    receipts = [
        ("VAN-1", "NALOX-4MG", "N-1", 20, expiry, "SOR"),
        ("VAN-1", "SYR-1ML", "S-1", 100, None, "STATE"),
        ("WH", "NALOX-4MG", "N-WH", 50, expiry, "SOR"),
    ]
    for site, sku, lot, quantity, expires_on, funding in receipts:
        inventory.receive_stock(
            site=site, sku=sku, lot=lot, quantity=quantity, expires_on=expires_on, funding_source=funding, actor=ADMIN
        )
    catch_up(flask_app)
    return people


def fresh_form(person: Person, path: str = FORM) -> dict[str, str]:
    """The form's values as a browser would send them (CSRF token and key included)."""
    page = person.get(path)
    assert page.status_code == 200, page.get_data(as_text=True)[:500]
    return read_form(page.get_data(as_text=True)).values


def test_a_quick_pick_then_record_visit_hands_out_exactly_the_bundle(
    flask_app: Flask, stocked: dict[str, Person]
) -> None:
    coordinator = stocked["coordinator"]
    form = fresh_form(coordinator)
    assert form[NALOX] == "0" and form[SYR] == "0"

    # Tap 1: the quick pick (sent as a plain submit button, as without script) fills the steppers only.
    picked = coordinator.post_raw(FORM, {**form, "bundle": "naloxone-2-syringes-10"})
    assert picked.status_code == 200
    filled = read_form(picked.get_data(as_text=True)).values
    assert filled[NALOX] == "2" and filled[SYR] == "10"
    assert filled["key"] == form["key"]
    assert on_hand(flask_app, "VAN-1", "NALOX-4MG") == 20 and visits(flask_app)["encounters"] == 0

    # Tap 2: Record visit.
    recorded = coordinator.post_raw(FORM, filled)
    assert recorded.status_code == 302 and recorded.headers["Location"].split("?recorded=")[0].endswith(FORM)
    assert on_hand(flask_app, "VAN-1", "NALOX-4MG") == 18
    assert on_hand(flask_app, "VAN-1", "SYR-1ML") == 90
    assert visits(flask_app)["encounters"] == 1

    # The next visitor gets a fresh form: new key, zeroes, the new on-hand, and the confirmation.
    after = coordinator.get(FORM).get_data(as_text=True)
    assert "Visit recorded: Naloxone 4 mg: 2, Syringe 1 mL: 10." in after
    assert "18 on hand" in after and "90 on hand" in after
    again = read_form(after).values
    assert again["key"] != form["key"] and again[NALOX] == "0"


def test_steppers_and_the_optional_fields_are_recorded(flask_app: Flask, stocked: dict[str, Person]) -> None:
    coordinator = stocked["coordinator"]
    form = fresh_form(coordinator)
    answer = coordinator.post_raw(
        FORM,
        {
            **form,
            NALOX: "3",
            SYR: "",
            "participant_code": "k7qx2m",
            "reversals_reported": "1",
            "syringes_collected": "20",
            "refill_reason": "used_on_overdose",
        },
    )
    assert answer.status_code == 302, answer.get_data(as_text=True)
    assert on_hand(flask_app, "VAN-1", "NALOX-4MG") == 17
    assert on_hand(flask_app, "VAN-1", "SYR-1ML") == 100
    assert visits(flask_app) == {"encounters": 1, "reversals_reported": 1, "syringes_collected": 20}
    shown = coordinator.get(FORM).get_data(as_text=True)
    assert "20 used syringes collected; 1 overdose reversal reported" in shown
    assert "K7QX2M" not in shown  # the participant code is not echoed back


def test_the_same_form_sent_twice_records_one_visit(flask_app: Flask, stocked: dict[str, Person]) -> None:
    coordinator = stocked["coordinator"]
    form = {**fresh_form(coordinator), NALOX: "1", SYR: "10"}
    first = coordinator.post_raw(FORM, form)
    second = coordinator.post_raw(FORM, form)
    assert first.status_code == second.status_code == 302
    assert on_hand(flask_app, "VAN-1", "NALOX-4MG") == 19
    assert on_hand(flask_app, "VAN-1", "SYR-1ML") == 90
    assert visits(flask_app)["encounters"] == 1


def test_handing_out_more_than_on_hand_is_refused_next_to_the_item(
    flask_app: Flask, stocked: dict[str, Person]
) -> None:
    coordinator = stocked["coordinator"]
    form = {**fresh_form(coordinator), NALOX: "25", SYR: "10", "participant_code": "K7QX2M", "syringes_collected": "5"}
    answer = coordinator.post_raw(FORM, form)
    assert answer.status_code == 409
    html = answer.get_data(as_text=True)
    assert "Only 20 kits of NALOX-4MG left at VAN-1; 25 requested." in field_error(html, NALOX)
    assert field_error(html, SYR) == ""
    kept = read_form(html).values
    assert (kept[NALOX], kept[SYR], kept["participant_code"], kept["syringes_collected"]) == ("25", "10", "K7QX2M", "5")
    assert kept["key"] == form["key"]
    assert on_hand(flask_app, "VAN-1", "NALOX-4MG") == 20 and on_hand(flask_app, "VAN-1", "SYR-1ML") == 100
    assert visits(flask_app)["encounters"] == 0


def test_only_expired_stock_is_refused_next_to_the_item(
    flask_app: Flask, inventory: InventoryApplication, stocked: dict[str, Person]
) -> None:
    inventory.receive_stock(
        site="VAN-1",
        sku="NALOX-4MG",
        lot="N-OLD",
        quantity=5,
        expires_on=day(2),
        funding_source="SOR",
        actor=ADMIN,
        occurred_at=days_ago(30),
    )
    catch_up(flask_app)
    coordinator = stocked["coordinator"]
    form = fresh_form(coordinator)
    assert "25 on hand (5 expired, cannot be handed out)" in coordinator.get(FORM).get_data(as_text=True)
    answer = coordinator.post_raw(FORM, {**form, NALOX: "22"})
    assert answer.status_code == 409
    assert "Another 5 are in expired lots and cannot be issued." in field_error(answer.get_data(as_text=True), NALOX)
    assert on_hand(flask_app, "VAN-1", "NALOX-4MG") == 25


def test_a_visit_with_nothing_at_all_says_what_to_do(flask_app: Flask, stocked: dict[str, Person]) -> None:
    coordinator = stocked["coordinator"]
    answer = coordinator.post_raw(FORM, {**fresh_form(coordinator), "participant_code": "QX7RT2"})
    assert answer.status_code == 422
    html = answer.get_data(as_text=True)
    assert "enter a quantity for at least one item, or tap a quick pick" in html
    assert read_form(html).values["participant_code"] == "QX7RT2"
    assert visits(flask_app)["encounters"] == 0


def test_a_visit_that_only_returns_syringes_is_recorded_without_touching_stock(
    flask_app: Flask, stocked: dict[str, Person]
) -> None:
    coordinator = stocked["coordinator"]
    before = on_hand(flask_app, "VAN-1", "NALOX-4MG")
    answer = coordinator.post_raw(
        FORM, {**fresh_form(coordinator), "syringes_collected": "30", "reversals_reported": "1"}
    )
    assert answer.status_code == 302, answer.get_data(as_text=True)[:800]
    totals = visits(flask_app)
    assert totals["encounters"] == 1
    assert totals["syringes_collected"] == 30 and totals["reversals_reported"] == 1
    assert on_hand(flask_app, "VAN-1", "NALOX-4MG") == before


def test_a_participant_code_that_looks_like_a_date_is_refused_next_to_it(
    flask_app: Flask, stocked: dict[str, Person]
) -> None:
    coordinator = stocked["coordinator"]
    answer = coordinator.post_raw(FORM, {**fresh_form(coordinator), NALOX: "1", "participant_code": "AB19850312"})
    assert answer.status_code == 422
    html = answer.get_data(as_text=True)
    assert "must not contain a date" in field_error(html, "participant_code")
    assert 'aria-invalid="true"' in re.search(r"<input[^>]*id=\"participant_code\"[^>]*>", html).group(0)  # type: ignore[union-attr]
    assert read_form(html).values[NALOX] == "1"
    assert on_hand(flask_app, "VAN-1", "NALOX-4MG") == 20 and visits(flask_app)["encounters"] == 0


def test_a_coordinator_cannot_record_at_another_site(flask_app: Flask, stocked: dict[str, Person]) -> None:
    coordinator = stocked["coordinator"]
    assert coordinator.get("/sites/WH/encounters/new").status_code == 403
    token = csrf_token(coordinator.get(FORM).get_data(as_text=True))
    form = {"csrf_token": token, "key": "a" * 32, "qty_NALOX-4MG": "2"}
    assert coordinator.post_raw("/sites/WH/encounters/new", form, referer=FORM).status_code == 403
    assert on_hand(flask_app, "WH", "NALOX-4MG") == 50 and visits(flask_app, "WH")["encounters"] == 0
    assert coordinator.get("/sites/NOWHERE/encounters/new").status_code == 404


def test_choosing_a_site(stocked: dict[str, Person]) -> None:
    only_one = stocked["coordinator"].get("/encounters")
    assert only_one.status_code == 302 and only_one.headers["Location"].endswith(FORM)
    admin = stocked["admin"].get("/encounters")
    assert admin.status_code == 200
    html = admin.get_data(as_text=True)
    assert 'href="/sites/WH/encounters/new"' in html and f'href="{FORM}"' in html
    assert stocked["purchasing"].get("/encounters").status_code == 403


def test_every_input_has_a_label(stocked: dict[str, Person]) -> None:
    reader = read_form(stocked["coordinator"].get(FORM).get_data(as_text=True))
    shown = [c for c in reader.controls if c.get("type") not in {"hidden", "submit", "button"}]
    assert {c["id"] for c in shown} >= {NALOX, SYR, "participant_code", "reversals_reported", "refill_reason"}
    assert [c["id"] for c in shown if c["id"] not in reader.labelled] == []


def test_quick_picks_follow_what_the_site_stocks(flask_app: Flask, stocked: dict[str, Person]) -> None:
    # WH has naloxone but no syringes: only the naloxone-only picks are offered there.
    html = stocked["admin"].get("/sites/WH/encounters/new").get_data(as_text=True)
    offered = re.findall(r'name="bundle" value="([^"]+)"', html)
    assert offered == ["naloxone-1", "naloxone-4-for-others"]
