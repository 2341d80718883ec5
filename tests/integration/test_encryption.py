"""Encryption at rest, switched on by INVENTORY_CIPHER_KEY: what is stored can't be read without the
key, the program works as before with it, and starting with the wrong key (or none) stops at once with
a message that says what to fix, changing nothing.
"""

from __future__ import annotations

import base64
import os
import sqlite3
from contextlib import closing
from datetime import date
from urllib.parse import parse_qs, urlparse

import psycopg
import pytest

from inventory.adapters.encryption import WrongCipherKey
from inventory.adapters.settings import load_settings
from inventory.bootstrap import Services, build_services
from inventory.domain.errors import InvalidInput
from inventory.projections import queries
from tests.conftest import ADMIN, seed_catalog

KEY = base64.b64encode(os.urandom(32)).decode()
OTHER_KEY = base64.b64encode(os.urandom(32)).decode()
PLAIN_WORDS = [b"NALOX-4MG", b"Central warehouse", b"LOT-SECRET-1", b"State harm reduction fund"]


def services_for(database_url: str, cipher_key: str | None) -> Services:
    settings = {"INVENTORY_DATABASE_URL": database_url, "INVENTORY_ENV": "development"}
    if cipher_key:
        settings["INVENTORY_CIPHER_KEY"] = cipher_key
    return build_services(load_settings(settings))


def stored_states(database_url: str) -> list[bytes]:
    """Every stored event's state, read straight from the database, as someone with the disk would."""
    parsed = urlparse(database_url)
    if parsed.scheme == "sqlite":
        with closing(sqlite3.connect(parsed.path[1:])) as db:
            return [bytes(state) for (state,) in db.execute("SELECT state FROM stored_events")]
    schema = parse_qs(parsed.query)["schema"][0]
    with psycopg.connect(database_url.split("?")[0]) as conn:
        rows = conn.execute(f'SELECT state FROM "{schema}".inventoryapplication_events').fetchall()
    return [bytes(state) for (state,) in rows]


def record_some(found: Services) -> None:
    seed_catalog(found.app)
    found.app.receive_stock(
        site="WH",
        sku="NALOX-4MG",
        lot="LOT-SECRET-1",
        quantity=40,
        expires_on=date(2031, 1, 31),
        funding_source="STATE",
        actor=ADMIN,
    )


def test_with_a_key_no_stored_event_reveals_its_contents_and_the_program_reads_them_back(database_url: str) -> None:
    found = services_for(database_url, KEY)
    try:
        record_some(found)
        found.projector.catch_up()
        [row] = [r for r in queries.stock_on_hand(found.store, "WH") if r["lot"] == "LOT-SECRET-1"]
        assert row["quantity"] == 40
    finally:
        found.close()

    states = stored_states(database_url)
    assert len(states) >= 8
    for word in PLAIN_WORDS:
        assert not any(word in state for state in states), word

    # A restart with the same key reads everything back.
    again = services_for(database_url, KEY)
    try:
        assert again.projector.rebuild() == again.projector.head()
        assert [r["quantity"] for r in queries.stock_on_hand(again.store, "WH")] == [40]
    finally:
        again.close()


def test_without_a_key_the_same_events_are_stored_readable(database_url: str) -> None:
    # The control for the test above: the words are there when encryption is off.
    found = services_for(database_url, None)
    try:
        record_some(found)
    finally:
        found.close()
    states = stored_states(database_url)
    for word in PLAIN_WORDS:
        assert any(word in state for state in states), word


@pytest.mark.parametrize(
    ("written_with", "started_with", "says"),
    [
        (KEY, OTHER_KEY, "INVENTORY_CIPHER_KEY does not decrypt this database's events"),
        (KEY, None, "they were written encrypted. Set INVENTORY_CIPHER_KEY"),
        (None, KEY, "or they were written without encryption"),
    ],
    ids=["wrong-key", "no-key", "key-for-a-plain-log"],
)
def test_starting_with_the_wrong_key_stops_with_a_clear_error_and_changes_nothing(
    database_url: str, written_with: str | None, started_with: str | None, says: str
) -> None:
    found = services_for(database_url, written_with)
    try:
        record_some(found)
    finally:
        found.close()
    before = stored_states(database_url)

    with pytest.raises(WrongCipherKey) as refused:
        services_for(database_url, started_with)
    assert says in str(refused.value) and "nothing has been changed" in str(refused.value)
    assert stored_states(database_url) == before


@pytest.mark.parametrize("bad", ["abc", "not base64 at all!", base64.b64encode(b"short").decode()])
def test_a_malformed_key_is_refused_at_start_up_saying_what_a_key_looks_like(bad: str) -> None:
    with pytest.raises(InvalidInput, match="base64-encoded AES key of 16, 24 or 32 bytes"):
        load_settings({"INVENTORY_ENV": "development", "INVENTORY_CIPHER_KEY": bad})


def test_production_refuses_to_start_on_missing_or_demo_keys_naming_each(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("INVENTORY_SECRET_KEY", raising=False)
    monkeypatch.delenv("INVENTORY_SEAL_KEY", raising=False)
    with pytest.raises(InvalidInput) as refused:
        load_settings({"INVENTORY_ENV": "production"})
    message = str(refused.value)
    assert "INVENTORY_SECRET_KEY is not set" in message and "INVENTORY_SEAL_KEY is not set" in message
    with pytest.raises(InvalidInput, match="INVENTORY_SEAL_KEY is the demo's key; set a random one"):
        load_settings(
            {"INVENTORY_ENV": "production", "INVENTORY_SECRET_KEY": "x" * 40, "INVENTORY_SEAL_KEY": "dev-only-seal-key"}
        )
    settings = load_settings(
        {"INVENTORY_ENV": "production", "INVENTORY_SECRET_KEY": "s" * 40, "INVENTORY_SEAL_KEY": "k" * 40}
    )
    assert settings.secret_key == "s" * 40 and settings.seal_key == b"k" * 40 and settings.cipher_key is None
    # Development keeps the demo's keys.
    assert load_settings({"INVENTORY_ENV": "development"}).secret_key == "dev-only-not-secret"
