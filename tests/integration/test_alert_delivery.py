"""Delivering alerts over real servers: an SMTP server (aiosmtpd) and an HTTP server for the webhook.

An alert raised in the log becomes one email per person it concerns (purchasing and admins, and the
coordinators of its site) and one webhook POST, each recorded as `Alert.Notified`; sending again sends
nothing; a second episode is delivered again; a refusing or hung-up SMTP server is retried with backoff
until it takes the message; two senders working at once deliver each message exactly once.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from inventory.bootstrap import Services, build_services
from inventory.domain.alerts import Alert
from inventory.notify.sender import Sender
from inventory.projections.deliveries import deliveries
from tests.conftest import ADMIN, seed_catalog
from tests.integration.mailservers import Hooks, SmtpServer, hanging_up, settings_for, smtp_server, webhook_server

T0 = datetime(2026, 11, 23, 14, 0, tzinfo=UTC)
BUYER = "buyer@example.org"
BOSS = "boss@example.org"
VAN = "van@example.org"
DEPOT = "depot@example.org"
GRANTS = "grants@example.org"
GONE = "gone@example.org"
# An out-of-stock naloxone alert at the van concerns these people, and no one else.
CONCERNED = sorted([BUYER, BOSS, VAN])


class Clock:
    """The time the sender sees, moved by the test."""

    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)


@pytest.fixture
def smtp() -> Iterator[SmtpServer]:
    with smtp_server() as server:
        yield server


@pytest.fixture
def hook() -> Iterator[tuple[str, Hooks]]:
    with webhook_server() as found:
        yield found


@pytest.fixture
def services(database_url: str, tmp_path: Path, smtp: SmtpServer, hook: tuple[str, Hooks]) -> Iterator[Services]:
    found = build_services(settings_for(database_url, tmp_path, smtp.port, INVENTORY_ALERT_WEBHOOK_URL=hook[0]))
    try:
        program(found)
        yield found
    finally:
        found.close()


def program(services: Services) -> None:
    """Sites, items and staff: some the van's alerts concern, some they do not."""
    app = services.app
    seed_catalog(app)
    app.register_user(email=BUYER, role="purchasing", actor=ADMIN)
    app.register_user(email=BOSS, role="admin", actor=ADMIN)
    app.register_user(email=VAN, role="coordinator", sites=["VAN-1"], actor=ADMIN)
    app.register_user(email=DEPOT, role="coordinator", sites=["WH"], actor=ADMIN)
    app.register_user(email=GRANTS, role="grant_manager", actor=ADMIN)
    app.register_user(email=GONE, role="purchasing", actor=ADMIN)
    app.deactivate_user(email=GONE, actor=ADMIN)


def out_of_stock(site: str = "VAN-1", sku: str = "NALOX-4MG") -> dict[str, Any]:
    return {
        "site": site,
        "sku": sku,
        "lot": None,
        "on_hand": 0,
        "on_order": 0,
        "in_transit": 0,
        "reorder_point": 10,
        "par_level": 40,
        "lead_time_days": 3,
        "average_daily_use": 2.5,
        "days_of_supply": 0.0,
        "expires_on": None,
    }


def raise_alert(services: Services, site: str = "VAN-1", sku: str = "NALOX-4MG", when: datetime = T0) -> Alert:
    """Start (or reload) the condition's aggregate and raise its next episode, through the application."""
    app = services.app
    the_id = Alert.create_id("out_of_stock", site, sku)
    alert: Alert = app.repository.get(the_id) if the_id in app.repository else Alert("out_of_stock", site, sku, None)
    alert.raise_episode(details=out_of_stock(site, sku), occurred_at=when)
    app.save(alert)
    services.projector.catch_up()
    return alert


def notified(services: Services, alert: Alert) -> list[tuple[int, str, tuple[str, ...]]]:
    """The alert's Notified events in the log: (episode, channel, recipients)."""
    events = services.app.events.get(alert.id)
    return sorted((e.episode, e.channel, tuple(e.recipients)) for e in events if type(e).__name__ == "Notified")


def test_an_alert_is_emailed_once_to_each_person_it_concerns_and_posted_once_to_the_webhook(
    services: Services, smtp: SmtpServer, hook: tuple[str, Hooks]
) -> None:
    _url, hooks = hook
    clock = Clock(T0)
    sender = Sender(services.app, services.store, services.settings, clock)
    alert = raise_alert(services)

    report = sender.run_once()

    assert (report.sent, report.failed) == (len(CONCERNED) + 1, 0)
    assert smtp.inbox.recipients() == CONCERNED
    for person in CONCERNED:
        [message] = smtp.inbox.to(person)
        body = message.get_content()
        assert message["Subject"] == "[Inventory] Out of stock: NALOX-4MG at VAN-1"
        assert "Site: VAN-1 (Outreach van)" in body
        assert "Item: NALOX-4MG (Naloxone 4 mg nasal)" in body
        assert "On hand: 0" in body
        assert "Days of supply: 0.0" in body
        assert "https://inventory.example.org/alerts" in body
    [post] = hooks.posts
    assert post["alert"] | {"id": None} == {
        "id": None,
        "kind": "out_of_stock",
        "episode": 1,
        "site": "VAN-1",
        "sku": "NALOX-4MG",
        "lot": None,
        "on_hand": 0,
        "days_of_supply": 0.0,
        "expires_on": None,
        "link": "https://inventory.example.org/alerts",
    }
    assert "VAN-1" in post["text"] and "https://inventory.example.org/alerts" in post["text"]

    # Sending again (a second run, the projector catching up in between) sends nothing more.
    clock.advance(hours=2)
    services.projector.catch_up()
    assert sender.run_once().sent == 0
    assert len(smtp.inbox.messages) == len(CONCERNED) and len(hooks.posts) == 1
    assert notified(services, alert) == sorted(
        [(1, "email", (person,)) for person in CONCERNED] + [(1, "webhook", ("webhook",))]
    )
    assert {row["status"] for row in deliveries(services.store, str(alert.id))} == {"sent"}

    # Restocked: resolved. A second shortage is a second episode, delivered again.
    alert = services.app.repository.get(alert.id)
    alert.resolve(details={"on_hand": 40}, occurred_at=T0 + timedelta(days=1))
    services.app.save(alert)
    raise_alert(services, when=T0 + timedelta(days=5))
    clock.advance(days=5)
    assert sender.run_once().sent == len(CONCERNED) + 1
    assert smtp.inbox.recipients() == sorted(CONCERNED * 2)
    assert [p["alert"]["episode"] for p in hooks.posts] == [1, 2]
    services.projector.catch_up()
    assert [n for n in notified(services, alert) if n[0] == 2] == sorted(
        [(2, "email", (person,)) for person in CONCERNED] + [(2, "webhook", ("webhook",))]
    )


def test_an_alert_resolved_before_it_was_sent_is_not_sent(services: Services, smtp: SmtpServer) -> None:
    alert = raise_alert(services)
    alert.resolve(details={"on_hand": 40}, occurred_at=T0 + timedelta(minutes=1))
    services.app.save(alert)
    services.projector.catch_up()

    assert Sender(services.app, services.store, services.settings, Clock(T0)).run_once().sent == 0
    assert smtp.inbox.messages == []
    assert {row["status"] for row in deliveries(services.store, str(alert.id))} == {"cancelled"}


def test_a_refusing_or_hanging_up_smtp_server_is_retried_with_backoff_until_it_takes_the_message(
    services: Services, smtp: SmtpServer, hook: tuple[str, Hooks]
) -> None:
    clock = Clock(T0)
    sender = Sender(services.app, services.store, services.settings, clock)
    alert = raise_alert(services)

    # The server answers 451 to every message: each fails, the webhook goes out all the same.
    smtp.inbox.refuse = "451 4.3.0 Mailbox busy, try again later"
    assert (sender.run_once().sent, smtp.inbox.attempts) == (1, len(CONCERNED))
    rows = [row for row in deliveries(services.store, str(alert.id)) if row["channel"] == "email"]
    assert {(row["status"], row["attempts"]) for row in rows} == {("pending", 1)}
    assert all("451" in row["last_error"] for row in rows)

    # Not due again before the first backoff (a minute) has passed.
    clock.advance(seconds=30)
    assert (sender.run_once().failed, smtp.inbox.attempts) == (0, len(CONCERNED))
    clock.advance(seconds=31)
    assert (sender.run_once().failed, smtp.inbox.attempts) == (len(CONCERNED), 2 * len(CONCERNED))

    # The server is stopped (connection refused), then something on its port hangs up at once.
    smtp.stop()
    clock.advance(minutes=2)
    assert sender.run_once().failed == len(CONCERNED)
    with hanging_up(smtp.port):
        clock.advance(minutes=4)
        assert sender.run_once().failed == len(CONCERNED)
    rows = [row for row in deliveries(services.store, str(alert.id)) if row["channel"] == "email"]
    assert {(row["status"], row["attempts"]) for row in rows} == {("pending", 4)}
    assert all("Disconnected" in row["last_error"] for row in rows)

    # Back, and accepting: nothing goes before the backoff (8 minutes now), then everything, once.
    smtp.inbox.refuse = None
    smtp.start()
    clock.advance(minutes=7)
    assert sender.run_once().sent == 0
    clock.advance(minutes=1, seconds=1)
    assert sender.run_once().sent == len(CONCERNED)
    clock.advance(hours=1)
    assert sender.run_once().sent == 0
    assert smtp.inbox.recipients() == CONCERNED
    services.projector.catch_up()
    assert [n for n in notified(services, alert) if n[1] == "email"] == [(1, "email", (p,)) for p in CONCERNED]


def test_two_senders_at_once_deliver_every_message_exactly_once(
    services: Services, smtp: SmtpServer, hook: tuple[str, Hooks]
) -> None:
    _url, hooks = hook
    alerts = [raise_alert(services, site, sku) for site in ("VAN-1", "WH") for sku in ("NALOX-4MG", "SYR-1ML")]
    per_site = {"VAN-1": CONCERNED, "WH": sorted([BUYER, BOSS, DEPOT])}
    expected = Counter((f"{a.sku} at {a.site}", person) for a in alerts for person in per_site[a.site])
    # A second worker: its own application and read store over the same database.
    other = build_services(services.settings)
    done = threading.Event()
    errors: list[BaseException] = []

    def work(found: Services) -> None:
        sender = Sender(found.app, found.store, found.settings)
        try:
            deadline = time.monotonic() + 60
            while not done.is_set() and time.monotonic() < deadline:
                sender.run_once(limit=2)
        except BaseException as error:
            errors.append(error)

    try:
        workers = [threading.Thread(target=work, args=(found,)) for found in (services, other)]
        for worker in workers:
            worker.start()
        deadline = time.monotonic() + 60
        while len(smtp.inbox.messages) + len(hooks.posts) < expected.total() + len(alerts):
            assert time.monotonic() < deadline, "the senders did not deliver everything within a minute"
            time.sleep(0.05)
        time.sleep(0.5)  # long enough for a duplicate to arrive, if there were one
        done.set()
        for worker in workers:
            worker.join(timeout=30)
    finally:
        done.set()
        other.close()

    assert errors == []
    got = Counter(
        (str(message["Subject"]).split(": ", 1)[1], person) for rcpt, message in smtp.inbox.messages for person in rcpt
    )
    assert got == expected
    assert sorted((p["alert"]["site"], p["alert"]["sku"]) for p in hooks.posts) == sorted(
        (a.site, a.sku) for a in alerts
    )
    services.projector.catch_up()
    for alert in alerts:
        logged = Counter((n[1], n[2]) for n in notified(services, alert))
        assert set(logged.values()) == {1} and len(logged) == len(per_site[alert.site]) + 1


@pytest.mark.postgres
@pytest.mark.slow
def test_two_worker_processes_against_one_postgresql_database_deliver_every_alert_exactly_once(
    postgres_url: str, tmp_path: Path, smtp: SmtpServer, hook: tuple[str, Hooks]
) -> None:
    url, hooks = hook
    settings = settings_for(postgres_url, tmp_path, smtp.port, INVENTORY_ALERT_WEBHOOK_URL=url)
    found = build_services(settings)
    program(found)
    env = {
        **os.environ,
        "INVENTORY_DATABASE_URL": postgres_url,
        "INVENTORY_INSTANCE_PATH": str(tmp_path),
        "INVENTORY_SMTP_HOST": "127.0.0.1",
        "INVENTORY_SMTP_PORT": str(smtp.port),
        "INVENTORY_SMTP_SECURITY": "none",
        "INVENTORY_ALERT_WEBHOOK_URL": url,
        "INVENTORY_BASE_URL": "https://inventory.example.org",
        "INVENTORY_DELIVERY_SECONDS": "1",
    }
    inventory = shutil.which("inventory") or str(Path(sys.executable).with_name("inventory"))
    workers: list[subprocess.Popen[bytes]] = []
    try:
        for number in range(2):
            with (tmp_path / f"worker-{number}.log").open("wb") as log:
                workers.append(
                    subprocess.Popen(
                        [inventory, "worker", "--interval", "0.2"], cwd=tmp_path, env=env, stdout=log, stderr=log
                    )
                )
        alerts = [raise_alert(found, site, sku) for site in ("VAN-1", "WH") for sku in ("NALOX-4MG", "SYR-1ML")]
        per_site = {"VAN-1": CONCERNED, "WH": sorted([BUYER, BOSS, DEPOT])}
        expected = Counter((f"{a.sku} at {a.site}", person) for a in alerts for person in per_site[a.site])
        deadline = time.monotonic() + 60
        while len(smtp.inbox.messages) + len(hooks.posts) < expected.total() + len(alerts):
            assert all(w.poll() is None for w in workers), "a worker exited"
            assert time.monotonic() < deadline, "the workers did not deliver everything within a minute"
            time.sleep(0.1)
        time.sleep(3)  # three more delivery runs in each worker: time for a duplicate to arrive, if any
        for worker in workers:
            worker.send_signal(signal.SIGTERM)
        for number, worker in enumerate(workers):
            assert worker.wait(timeout=30) == 0, (tmp_path / f"worker-{number}.log").read_text()[-3000:]

        got = Counter(
            (str(m["Subject"]).split(": ", 1)[1], person) for rcpt, m in smtp.inbox.messages for person in rcpt
        )
        assert got == expected
        assert sorted((p["alert"]["site"], p["alert"]["sku"]) for p in hooks.posts) == sorted(
            (a.site, a.sku) for a in alerts
        )
        for alert in alerts:
            logged = Counter((n[1], n[2]) for n in notified(found, alert))
            assert set(logged.values()) == {1} and len(logged) == len(per_site[alert.site]) + 1
    finally:
        for worker in workers:
            if worker.poll() is None:
                worker.kill()
                worker.wait(timeout=30)
        found.close()
