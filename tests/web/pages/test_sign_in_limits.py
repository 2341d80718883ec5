"""Sign-in limits: the sign-in page and POST /api/v1/tokens share one count in the database, taken before
the password is checked; per account and address, per account, and per address (without locking out the
other people at that address); the address is the client's, behind INVENTORY_TRUSTED_PROXIES proxies.
"""

from __future__ import annotations

import threading
import time
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient
from werkzeug.test import TestResponse

from inventory.adapters.settings import load_settings
from inventory.application import InventoryApplication
from inventory.application.access import Principal
from inventory.domain.errors import InvalidInput
from inventory.stores.sign_in_counts import (
    ACCOUNT_ADDRESS_LIMIT,
    ACCOUNT_LIMIT,
    ADDRESS_LIMIT,
    BUSY_ADDRESS_ACCOUNT_LIMIT,
    WINDOW,
)
from inventory.web import create_app
from tests.clock import Clock
from tests.web.conftest import SEAL_KEY, STAFF, error, ok
from tests.web.pages.conftest import PASSWORD, Person, csrf_token

TARGET = STAFF["grant_manager"]  # the account under attack
BYSTANDER = STAFF["auditor"]  # someone else at the same address, with the right password
ATTEMPTS = 100


def at(app: Flask, address: str, *, proxy: str | None = None) -> Person:
    """A browser (not signed in) at `address`; behind a proxy, the request comes from `proxy` and
    carries the address in X-Forwarded-For."""
    client = app.test_client()
    client.environ_base["REMOTE_ADDR"] = proxy or address
    if proxy:
        client.environ_base["HTTP_X_FORWARDED_FOR"] = address
    return Person(TARGET, client)


def sign_in(who: Person, email: str, password: str) -> TestResponse:
    return who.post("/sign-in", {"email": email, "password": password})


def token(client: FlaskClient, email: str, password: str) -> TestResponse:
    return client.post("/api/v1/tokens", json={"email": email, "password": password})


@pytest.fixture
def password_checks(inventory: InventoryApplication, monkeypatch: pytest.MonkeyPatch) -> Iterator[list[str]]:
    """Every password the application checks from now on, by email; each check takes 50 ms, about a
    tenth of a real argon2id check, so that attempts sent together overlap as they would in production."""
    checked: list[str] = []
    lock = threading.Lock()
    real = inventory.check_password

    def check_password(email: str, password: str) -> Principal | None:
        with lock:
            checked.append(email)
        time.sleep(0.05)
        return real(email, password)

    monkeypatch.setattr(inventory, "check_password", check_password)
    yield checked


def test_a_hundred_wrong_passwords_at_once_get_no_more_checks_than_the_limit(
    flask_app: Flask, people: dict[str, Person], password_checks: list[str]
) -> None:
    """Half through the sign-in page, half through the token route, all released at the same moment."""
    pages = [Person(TARGET, flask_app.test_client()) for _ in range(ATTEMPTS // 2)]
    forms = [csrf_token(page.get("/sign-in").get_data(as_text=True)) for page in pages]
    clients = [flask_app.test_client() for _ in range(ATTEMPTS - len(pages))]
    together = threading.Barrier(ATTEMPTS, timeout=120)

    def by_page(n: int) -> int:
        form = {"email": TARGET, "password": f"guess number {n}", "csrf_token": forms[n]}
        together.wait()
        return pages[n].post_raw("/sign-in", form, referer="/sign-in").status_code

    def by_api(n: int) -> int:
        together.wait()
        return token(clients[n], TARGET, f"guess number {n}").status_code

    with ThreadPoolExecutor(ATTEMPTS) as pool:
        sent = [pool.submit(by_page, n) for n in range(len(pages))] + [
            pool.submit(by_api, n) for n in range(len(clients))
        ]
        statuses = Counter(future.result(timeout=300) for future in sent)

    assert password_checks == [TARGET] * ACCOUNT_ADDRESS_LIMIT
    assert statuses == {401: ACCOUNT_ADDRESS_LIMIT, 429: ATTEMPTS - ACCOUNT_ADDRESS_LIMIT}
    # Someone else at the same address still signs in, on the page and for a token.
    assert sign_in(Person(BYSTANDER, flask_app.test_client()), BYSTANDER, PASSWORD).status_code == 302
    ok(token(flask_app.test_client(), BYSTANDER, PASSWORD))
    # While the account under attack is refused even with its right password, without a check.
    assert sign_in(Person(TARGET, flask_app.test_client()), TARGET, PASSWORD).status_code == 429
    assert password_checks.count(TARGET) == ACCOUNT_ADDRESS_LIMIT


def test_the_token_route_counts_failed_passwords_with_the_sign_in_page(
    flask_app: Flask, people: dict[str, Person], clock: Clock
) -> None:
    here = at(flask_app, "198.51.100.10")
    for n in range(ACCOUNT_ADDRESS_LIMIT):
        error(token(here.client, TARGET, f"wrong {n}"), 401, "unauthorized")

    refused = token(here.client, TARGET, PASSWORD)

    body = error(refused, 429, "too_many_requests")
    assert WINDOW - 60 <= int(refused.headers["Retry-After"]) <= WINDOW
    assert body["message"].startswith("Too many failed sign-ins. Try again in 15 minutes, at ")
    page = sign_in(here, TARGET, PASSWORD)
    assert page.status_code == 429 and "Retry-After" in page.headers
    # Another address may still try that account: one address cannot lock a person out everywhere.
    assert sign_in(at(flask_app, "203.0.113.20"), TARGET, PASSWORD).status_code == 302
    # The window ends, and the right password works again from the first address.
    clock.advance(seconds=WINDOW + 1)
    ok(token(here.client, TARGET, PASSWORD))


def test_an_account_is_limited_across_addresses(flask_app: Flask, people: dict[str, Person]) -> None:
    per_address = ACCOUNT_ADDRESS_LIMIT
    for n in range(ACCOUNT_LIMIT):
        where = at(flask_app, f"198.51.100.{n // per_address + 1}")
        assert sign_in(where, TARGET, f"wrong {n}").status_code == 401

    assert sign_in(at(flask_app, "203.0.113.77"), TARGET, PASSWORD).status_code == 429
    error(token(at(flask_app, "203.0.113.78").client, TARGET, PASSWORD), 429, "too_many_requests")
    assert sign_in(at(flask_app, "203.0.113.77"), BYSTANDER, PASSWORD).status_code == 302


def test_a_busy_address_slows_guessing_and_locks_out_no_one_else(flask_app: Flask, people: dict[str, Person]) -> None:
    """Behind one address (an office, a proxy), someone guesses at email after email."""
    office = "192.0.2.50"
    for n in range(ADDRESS_LIMIT + 1):
        assert sign_in(at(flask_app, office), f"guess{n}@example.org", "password1").status_code == 401

    # A colleague at the same address signs in, on the page and for a token.
    assert sign_in(at(flask_app, office), BYSTANDER, PASSWORD).status_code == 302
    ok(token(at(flask_app, office).client, BYSTANDER, PASSWORD))
    # The guesser gets fewer tries per email from there: BUSY_ADDRESS_ACCOUNT_LIMIT, not ACCOUNT_ADDRESS_LIMIT.
    for _ in range(BUSY_ADDRESS_ACCOUNT_LIMIT - 1):
        assert sign_in(at(flask_app, office), "guess0@example.org", "password2").status_code == 401
    assert sign_in(at(flask_app, office), "guess0@example.org", "password3").status_code == 429
    error(token(at(flask_app, office).client, "guess0@example.org", "password3"), 429, "too_many_requests")
    # ... and so does anyone there who fails that often, while from elsewhere that email is not refused.
    for _ in range(BUSY_ADDRESS_ACCOUNT_LIMIT):
        assert sign_in(at(flask_app, office), TARGET, "not it").status_code == 401
    assert sign_in(at(flask_app, office), TARGET, PASSWORD).status_code == 429
    assert sign_in(at(flask_app, "203.0.113.9"), "guess0@example.org", "password4").status_code == 401
    assert sign_in(at(flask_app, "203.0.113.9"), TARGET, PASSWORD).status_code == 302


@pytest.fixture
def behind_a_proxy(database_url: str, tmp_path: Path, flask_app: Flask) -> Iterator[Flask]:
    """A second web app on the same database, with INVENTORY_TRUSTED_PROXIES=1 (one HTTPS proxy in front)."""
    app = create_app(
        {
            "INVENTORY_DATABASE_URL": database_url,
            "INVENTORY_SEAL_KEY": SEAL_KEY,
            "INVENTORY_INSTANCE_PATH": str(tmp_path / "instance"),
            "INVENTORY_TRUSTED_PROXIES": "1",
            "TESTING": True,
        }
    )
    try:
        yield app
    finally:
        app.extensions["inventory"].close()


PROXY = "10.0.0.2"


def test_behind_a_trusted_proxy_each_client_is_counted_at_its_own_address(
    behind_a_proxy: Flask, people: dict[str, Person]
) -> None:
    # The client adds an X-Forwarded-For of its own, a different one each time: the proxy appends the
    # address it saw, and only that last entry is believed.
    for n in range(ACCOUNT_ADDRESS_LIMIT):
        guesser = at(behind_a_proxy, f"198.51.100.{n}, 203.0.113.5", proxy=PROXY)
        assert sign_in(guesser, TARGET, f"wrong {n}").status_code == 401

    assert sign_in(at(behind_a_proxy, "198.51.100.99, 203.0.113.5", proxy=PROXY), TARGET, PASSWORD).status_code == 429
    # The person behind the same proxy, at their own address, signs in.
    assert sign_in(at(behind_a_proxy, "203.0.113.6", proxy=PROXY), TARGET, PASSWORD).status_code == 302


def test_without_trusted_proxies_x_forwarded_for_is_ignored(flask_app: Flask, people: dict[str, Person]) -> None:
    """Anyone can send the header: without INVENTORY_TRUSTED_PROXIES, a changing X-Forwarded-For buys
    a guesser nothing, and the address counted is the connection's."""
    for n in range(ACCOUNT_ADDRESS_LIMIT):
        assert sign_in(at(flask_app, f"198.51.100.{n}", proxy=PROXY), TARGET, f"wrong {n}").status_code == 401

    assert sign_in(at(flask_app, "203.0.113.6", proxy=PROXY), TARGET, PASSWORD).status_code == 429
    assert sign_in(at(flask_app, "203.0.113.6"), TARGET, PASSWORD).status_code == 302


def test_trusted_proxies_is_a_small_count() -> None:
    assert load_settings({"INVENTORY_ENV": "development"}).trusted_proxies == 0
    assert load_settings({"INVENTORY_ENV": "development", "INVENTORY_TRUSTED_PROXIES": "1"}).trusted_proxies == 1
    for wrong in ("yes", "-1", "6"):
        with pytest.raises(InvalidInput, match="number of proxies in front of the service"):
            load_settings({"INVENTORY_ENV": "development", "INVENTORY_TRUSTED_PROXIES": wrong})
