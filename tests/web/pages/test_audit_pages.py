"""The audit pages: the history with its filters, stock at a past date (as known now and then), the seal check."""

from __future__ import annotations

import html
import re
import sqlite3
from contextlib import closing

import pytest
from flask import Flask

from inventory.adapters.persistence import persistence_env
from inventory.application import InventoryApplication
from inventory.domain.time_words import day_in_words
from inventory.projections import queries
from inventory.projections.event_words import EVENT_WORDS
from inventory.projections.replay import stock_known_at
from inventory.web.pages.audit import event_types
from tests.web.conftest import day
from tests.web.pages.conftest import Person
from tests.web.pages.test_stock_pages import at, catch_up, hand_out, receive, table_rows

STOCK_AT = "/audit/stock-at"


def positions(html: str) -> list[int]:
    """The log positions of the history's rows, in the order shown."""
    return [int(cells[0]) for cells in table_rows(html, data_position="*")]


def history(html: str) -> list[list[str]]:
    """Rows of the history: position, recorded, who, event, site, business date, summary."""
    return table_rows(html, data_position="*")


def a_fortnight(flask_app: Flask, inventory: InventoryApplication) -> None:
    receive(inventory, "VAN-1", "NALOX-4MG", "N-1", 30, funding_source="SOR", occurred_at=at(10))
    hand_out(inventory, "audit-page-0001", "VAN-1", "NALOX-4MG", 2, at(5))
    receive(inventory, "WH", "SYR-1ML", "S-1", 500, occurred_at=at(8))
    hand_out(inventory, "audit-page-0002", "VAN-1", "NALOX-4MG", 3, at(1))
    catch_up(flask_app)


def test_the_history_shows_the_newest_entries_first_and_filters_narrow_them(
    flask_app: Flask, inventory: InventoryApplication, people: dict[str, Person]
) -> None:
    a_fortnight(flask_app, inventory)
    auditor = people["auditor"]
    head = int(inventory.recorder.max_notification_id() or 0)

    page = auditor.get("/audit")
    assert page.status_code == 200
    everything = history(page.get_data(as_text=True))
    shown = [int(row[0]) for row in everything]
    assert shown[0] == head and shown == sorted(shown, reverse=True)
    assert {row[2] for row in everything} >= {"coord@example.org", "root@example.org"}

    by_coordinator = history(auditor.get("/audit", actor="Coord@Example.org ").get_data(as_text=True))
    assert by_coordinator and len(by_coordinator) < len(everything)
    assert {row[2] for row in by_coordinator} == {"coord@example.org"}
    assert {row[3] for row in by_coordinator} == {"Visit recorded", "Handed out at a visit"}

    receipts = history(auditor.get("/audit", event="StockLedger.Received").get_data(as_text=True))
    assert [(row[3], row[4]) for row in receipts] == [("Stock received", "WH"), ("Stock received", "VAN-1")]
    assert "Received 500 SYR-1ML lot S-1 at WH" in receipts[0][6]
    assert receipts[0][5] == day_in_words(day(8), day(0).year)  # the business date, not the day it was recorded

    at_the_van = history(auditor.get("/audit", site="VAN-1", event="StockLedger.Received").get_data(as_text=True))
    assert [row[4] for row in at_the_van] == ["VAN-1"]

    tomorrow = auditor.get("/audit", start=day(-1).isoformat()).get_data(as_text=True)
    assert history(tomorrow) == [] and "No entries match these filters." in tomorrow
    today = history(auditor.get("/audit", start=day(0).isoformat(), end=day(0).isoformat()).get_data(as_text=True))
    assert len(today) == len(everything)  # everything was recorded today, whatever its business date


def older_link(page: str) -> str:
    """The address of the "Older entries" link on a page of the history."""
    found = re.search(r'<a href="([^"]+)" role="button" class="outline" rel="next">Older entries</a>', page)
    assert found, "no link to older entries"
    return html.unescape(found.group(1))


def test_the_history_pages_back_by_position(
    flask_app: Flask, inventory: InventoryApplication, people: dict[str, Person]
) -> None:
    for n in range(30):
        receive(inventory, "WH", "SYR-1ML", "S-1", 10 + n)
    catch_up(flask_app)
    auditor = people["auditor"]

    everything = auditor.get("/audit").get_data(as_text=True)
    newest = positions(everything)
    assert len(newest) == 50
    assert newest == sorted(newest, reverse=True)

    older = auditor.get(older_link(everything)).get_data(as_text=True)
    next_page = positions(older)
    assert next_page and max(next_page) == newest[-1] - 1
    assert not set(next_page) & set(newest)
    assert "First page" in older


def test_a_filtered_history_keeps_its_filters_on_the_older_link(
    flask_app: Flask, inventory: InventoryApplication, people: dict[str, Person]
) -> None:
    for n in range(55):
        receive(inventory, "WH", "SYR-1ML", "S-1", 10 + n)
    catch_up(flask_app)

    html = people["auditor"].get("/audit", event="StockLedger.Received").get_data(as_text=True)
    rows = history(html)
    assert len(rows) == 50 and {row[3] for row in rows} == {"Stock received"}
    link = older_link(html)
    assert link.startswith("/audit?event=StockLedger.Received&after=")

    older = history(people["auditor"].get(link).get_data(as_text=True))
    assert len(older) == 5 and {row[3] for row in older} == {"Stock received"}
    assert not {row[0] for row in older} & {row[0] for row in rows}


def test_bad_filters_are_answered_next_to_their_fields(flask_app: Flask, people: dict[str, Person]) -> None:
    refused = people["auditor"].get("/audit", start="soon", event="Nothing.Happened")
    assert refused.status_code == 422
    html = refused.get_data(as_text=True)
    assert 'id="start-error"' in html and "Enter a date like 2026-03-31." in html
    assert 'id="event-error"' in html and "Choose an event from the list." in html
    assert 'value="soon"' in html


def test_stock_at_a_past_business_date_is_what_the_read_model_says(
    flask_app: Flask, inventory: InventoryApplication, people: dict[str, Person]
) -> None:
    a_fortnight(flask_app, inventory)
    expected = queries.stock_as_of(flask_app.extensions["inventory"].store, day(3))
    assert [(r["site"], r["lot"], r["quantity"]) for r in expected] == [("VAN-1", "N-1", 28), ("WH", "S-1", 500)]

    page = people["auditor"].get(STOCK_AT, as_of=day(3).isoformat())

    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert f"End of {day_in_words(day(3), day(0).year)}, as known now" in html
    for lot in expected:
        [row] = table_rows(html, data_sku=lot["sku"], data_lot=lot["lot"])
        assert row[0] == f"{lot['sku']} {lot['lot']}" and row[-1] == f"{lot['quantity']:,}"

    only_the_van = people["auditor"].get(STOCK_AT, as_of=day(3).isoformat(), site="VAN-1").get_data(as_text=True)
    assert table_rows(only_the_van, data_lot="N-1") and not table_rows(only_the_van, data_lot="S-1")


def test_stock_as_known_then_ignores_entries_recorded_later_even_when_backdated(
    flask_app: Flask, inventory: InventoryApplication, people: dict[str, Person]
) -> None:
    receive(inventory, "VAN-1", "NALOX-4MG", "N-1", 30, funding_source="SOR", occurred_at=at(10))
    catch_up(flask_app)
    then = int(inventory.recorder.max_notification_id() or 0)
    # Entered afterwards, dated five days ago: now the end of day 3 had 28, but at position `then` it had 30.
    hand_out(inventory, "audit-page-0101", "VAN-1", "NALOX-4MG", 2, at(5))
    catch_up(flask_app)
    assert [r["quantity"] for r in stock_known_at(inventory, inventory.zone, then)] == [30]

    page = people["auditor"].get(STOCK_AT, as_of=day(3).isoformat(), position=str(then))

    assert page.status_code == 200
    html = page.get_data(as_text=True)
    # In page order: as known now, as known then, and the difference between them.
    [now, known_then, difference] = table_rows(html, data_sku="NALOX-4MG", data_lot="N-1")
    assert now[-1] == "28" and known_then[-1] == "30"
    assert difference == ["VAN-1 · NALOX-4MG N-1", "30", "28", "-2"]
    assert f"As the log knew it at position {then}" in html
    assert f"Replayed {then} entries in " in html


def test_stock_at_asks_for_something_it_can_answer(
    flask_app: Flask, inventory: InventoryApplication, people: dict[str, Person]
) -> None:
    a_fortnight(flask_app, inventory)
    auditor = people["auditor"]
    head = int(inventory.recorder.max_notification_id() or 0)

    assert auditor.get(STOCK_AT).status_code == 200  # just the form

    beyond = auditor.get(STOCK_AT, position=str(head + 1))
    assert beyond.status_code == 422
    assert f"The log ends at position {head}." in beyond.get_data(as_text=True)
    assert f'value="{head + 1}"' in beyond.get_data(as_text=True)

    both = auditor.get(STOCK_AT, position="3", known_on=day(1).isoformat())
    assert both.status_code == 422
    assert "Give a record date or a log position, not both." in both.get_data(as_text=True)

    nothing = auditor.get(STOCK_AT, site="VAN-1")
    assert nothing.status_code == 422
    assert "Choose a business date, a record date or a log position." in nothing.get_data(as_text=True)


def test_the_seal_check_on_an_untouched_log_says_intact_up_to_the_head(
    flask_app: Flask, inventory: InventoryApplication, people: dict[str, Person]
) -> None:
    a_fortnight(flask_app, inventory)
    head = int(inventory.recorder.max_notification_id() or 0)
    auditor = people["auditor"]

    assert "Intact up to" not in auditor.get("/audit/seal").get_data(as_text=True)  # the GET only offers the check
    checked = auditor.post("/audit/seal", {})

    assert checked.status_code == 200
    html = checked.get_data(as_text=True)
    assert f"Intact up to position {head}." in html and "Tampered" not in html


def test_the_seal_check_needs_the_forms_csrf_token(flask_app: Flask, people: dict[str, Person]) -> None:
    refused = people["auditor"].post_raw("/audit/seal", {})
    assert refused.status_code == 400
    assert "Intact" not in refused.get_data(as_text=True)


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_the_seal_check_names_the_first_position_changed_behind_the_applications_back(
    flask_app: Flask, inventory: InventoryApplication, people: dict[str, Person], database_url: str
) -> None:
    a_fortnight(flask_app, inventory)
    store = flask_app.extensions["inventory"].store
    [later, earlier] = [row["position"] for row in queries.audit_page(store, event_type="StockLedger.Received").rows]
    # Someone with the database file (and not the key) appends a space to two sealed events.
    with closing(sqlite3.connect(persistence_env(database_url)["SQLITE_DBNAME"], isolation_level=None)) as db:
        db.execute("BEGIN IMMEDIATE")
        for position in (later, earlier):
            db.execute("UPDATE stored_events SET state = CAST(state || x'20' AS BLOB) WHERE rowid = ?", (position,))
        db.execute("COMMIT")

    checked = people["auditor"].post("/audit/seal", {})

    assert checked.status_code == 200
    html = checked.get_data(as_text=True)
    assert f"Tampered: the log was changed at position {earlier}." in html
    assert f"First bad position {earlier}: the event differs from the one sealed." in html
    assert f"Entries up to position {earlier - 1} are intact" in html
    assert "Intact up to" not in html


def test_only_auditors_and_admins_reach_the_audit_pages(people: dict[str, Person]) -> None:
    for path in ("/audit", STOCK_AT, "/audit/seal"):
        assert people["admin"].get(path).status_code == 200, path
        for role in ("coordinator", "purchasing", "grant_manager"):
            assert people[role].get(path).status_code == 403, (role, path)
    # Even with a good CSRF token (from a page they may see), the seal check is refused.
    assert people["coordinator"].post("/audit/seal", {}, token_from="/").status_code == 403


def test_every_kind_of_event_is_named_in_words_in_the_history_and_its_filter(
    flask_app: Flask, people: dict[str, Person]
) -> None:
    """A new kind of event gets its words in EVENT_WORDS: the history never shows `StockLedger.Received`."""
    assert set(event_types()) <= set(EVENT_WORDS), sorted(set(event_types()) - set(EVENT_WORDS))
    assert len(set(EVENT_WORDS.values())) == len(EVENT_WORDS)  # no two kinds read the same
    html = people["auditor"].get("/audit").get_data(as_text=True)
    options = re.findall(r'<option[^>]*value="([^"]*)"[^>]*>([^<]*)</option>', html)
    events = {value: label for value, label in options if value in EVENT_WORDS}
    assert events == {name: EVENT_WORDS[name] for name in event_types()}
    assert not any("." in label for label in events.values())
