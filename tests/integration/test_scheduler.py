"""The worker's schedule, driven by a controllable clock (no sleeps).

The digest job is scheduled by a CronTrigger in the program's zone: its fire times, computed by that
very trigger, stay at 07:00 on the wall clock across both daylight-saving changes of America/New_York
(so they move by an hour in UTC), and the job run at each of those moments emails every purchasing user
a summary of the open alerts dated by the local day, to a real SMTP server. The alert check job, run
at a chosen moment, raises what the read models show and leaves its deliveries in the outbox.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from inventory.adapters.scheduler import build_scheduler, check_alerts_job, digest_job
from inventory.bootstrap import Services, build_services
from inventory.domain.alerts import Alert, digest_id
from inventory.domain.time_words import day_in_words
from inventory.notify.sender import Sender
from inventory.projections.deliveries import alerts_to_digest, deliveries
from tests.conftest import ADMIN, seed_catalog
from tests.integration.mailservers import SmtpServer, settings_for, smtp_server

ZONE = ZoneInfo("America/New_York")
BUYERS = ["buyer@example.org", "second-buyer@example.org"]


@pytest.fixture
def smtp() -> Iterator[SmtpServer]:
    with smtp_server() as server:
        yield server


@pytest.fixture
def services(database_url: str, tmp_path: Path, smtp: SmtpServer) -> Iterator[Services]:
    settings = settings_for(
        database_url,
        tmp_path,
        smtp.port,
        INVENTORY_TIMEZONE="America/New_York",
        INVENTORY_DIGEST_TIME="07:00",
        INVENTORY_ALERT_CHECK_MINUTES="10",
    )
    found = build_services(settings)
    try:
        app = found.app
        seed_catalog(app)
        for buyer in BUYERS:
            app.register_user(email=buyer, role="purchasing", actor=ADMIN)
        app.register_user(email="boss@example.org", role="admin", actor=ADMIN)
        app.register_user(email="van@example.org", role="coordinator", sites=["VAN-1"], actor=ADMIN)
        # One alert open, one raised and resolved: the digest lists the first only.
        moment = datetime(2026, 10, 20, 15, tzinfo=UTC)
        empty = Alert("out_of_stock", "VAN-1", "NALOX-4MG", None)
        empty.raise_episode(details={"on_hand": 0, "days_of_supply": 0.0}, occurred_at=moment)
        low = Alert("below_reorder_point", "WH", "SYR-1ML", None)
        low.raise_episode(details={"on_hand": 90, "reorder_point": 100, "days_of_supply": 4.5}, occurred_at=moment)
        low.resolve(details={"on_hand": 900}, occurred_at=moment + timedelta(days=1))
        app.save(empty, low)
        found.projector.catch_up()
        yield found
    finally:
        found.close()


def fire_times(services: Services, after: datetime, count: int) -> list[datetime]:
    """The digest job's next `count` fire times after a moment, from the trigger the scheduler was given."""
    scheduler = build_scheduler(services)
    trigger = scheduler.get_job("digest").trigger
    times: list[datetime] = []
    previous = None
    now = after
    for _ in range(count):
        fire = trigger.get_next_fire_time(previous, now)
        times.append(fire)
        previous, now = fire, fire + timedelta(seconds=1)
    return times


@pytest.mark.parametrize(
    ("start", "utc_hours"),
    [
        # Daylight time ends on Sunday 1 November 2026: 07:00 is 11:00 UTC before, 12:00 UTC after.
        (datetime(2026, 10, 29, 12, tzinfo=ZONE), [11, 11, 12, 12]),
        # It starts on Sunday 8 March 2026: 07:00 is 12:00 UTC before, 11:00 UTC after.
        (datetime(2026, 3, 5, 12, tzinfo=ZONE), [12, 12, 11, 11]),
    ],
)
def test_the_daily_digest_fires_at_seven_local_time_across_a_daylight_saving_change(
    services: Services, smtp: SmtpServer, start: datetime, utc_hours: list[int]
) -> None:
    times = fire_times(services, start, 4)

    local = [moment.astimezone(ZONE) for moment in times]
    days = [start.date() + timedelta(days=n) for n in range(1, 5)]
    assert [(m.date(), m.hour, m.minute) for m in local] == [(day, 7, 0) for day in days]
    assert [moment.astimezone(UTC).hour for moment in times] == utc_hours

    for moment in times:
        digest_job(services, clock=lambda moment=moment: moment)

    assert sorted(address for rcpt, _m in smtp.inbox.messages for address in rcpt) == sorted(BUYERS * 4)
    for buyer in BUYERS:
        messages = smtp.inbox.to(buyer)
        assert [m["Subject"] for m in messages] == [
            f"[Inventory] Daily digest for {day_in_words(day)}: 1 open alert" for day in days
        ]
        body = messages[0].get_content()
        assert "Out of stock" in body and "Site: VAN-1 (Outreach van)" in body and "On hand: 0" in body
        assert "SYR-1ML" not in body
        assert "https://inventory.example.org/alerts" in body


def test_a_digest_at_a_moment_between_two_local_days_is_dated_by_the_local_day(
    services: Services, smtp: SmtpServer
) -> None:
    # 03:30 UTC on 2 November is still 1 November in New York.
    digest_job(services, clock=lambda: datetime(2026, 11, 2, 3, 30, tzinfo=UTC))

    assert {m["Subject"] for _rcpt, m in smtp.inbox.messages} == {
        "[Inventory] Daily digest for Sun 1 Nov 2026: 1 open alert"
    }


def test_two_workers_running_the_digest_at_the_same_moment_send_it_once_and_the_log_says_to_whom(
    services: Services, smtp: SmtpServer
) -> None:
    # A second worker started by mistake: its own application and read store over the same database.
    other = build_services(services.settings)
    moment = datetime(2026, 11, 3, 12, tzinfo=UTC)  # 07:00 in New York
    start = threading.Barrier(2)
    errors: list[BaseException] = []

    def run(found: Services) -> None:
        try:
            start.wait(timeout=30)
            digest_job(found, clock=lambda: moment)
        except BaseException as error:
            errors.append(error)

    try:
        workers = [threading.Thread(target=run, args=(found,)) for found in (services, other)]
        for worker in workers:
            worker.start()
        for worker in workers:
            worker.join(timeout=60)
        # The same day again (a restarted worker catching up a missed run): nothing more is sent.
        digest_job(other, clock=lambda: moment + timedelta(hours=1))
    finally:
        other.close()

    assert errors == []
    assert sorted(address for rcpt, _m in smtp.inbox.messages for address in rcpt) == sorted(BUYERS)
    # What an auditor sees: the day's digest prepared once, and to whom it went.
    services.projector.catch_up()
    logged = services.store.fetchall(
        "SELECT event_type, summary FROM audit_log WHERE aggregate_id = ? ORDER BY position",
        [str(digest_id(date(2026, 11, 3)))],
    )
    assert [tuple(row) for row in logged] == [
        ("Digest.Prepared", "Daily digest for 2026-11-03 prepared: 1 open alert(s) for 2 people"),
        *(("Digest.Sent", f"Daily digest sent to {buyer}") for buyer in sorted(BUYERS)),
    ]
    # The next local day has a digest of its own.
    digest_job(services, clock=lambda: moment + timedelta(days=1))
    assert len(smtp.inbox.messages) == 2 * len(BUYERS)


def test_the_alert_check_job_raises_at_the_clocks_moment_and_the_outbox_then_holds_its_deliveries(
    services: Services, smtp: SmtpServer
) -> None:
    moment = datetime(2026, 11, 23, 14, 5, tzinfo=UTC)
    # Of the periodic job alone: without the projector's stock-change check, which would raise these
    # two as the new level is projected, at the real now (tests/web/pages/test_alerts_follow_stock.py).
    services.projector.on_stock_changed = None
    services.app.set_stock_level(
        site="WH", sku="NALOX-4MG", reorder_point=10, par_level=40, lead_time_days=7, actor=ADMIN
    )

    check_alerts_job(services, clock=lambda: moment)

    raised = {a["kind"]: a for a in alerts_to_digest(services.store) if (a["site"], a["sku"]) == ("WH", "NALOX-4MG")}
    assert sorted(raised) == ["below_reorder_point", "out_of_stock"]
    empty = raised["out_of_stock"]
    assert empty["raised_at"] == moment.isoformat() and empty["details"]["on_hand"] == 0
    rows = deliveries(services.store, empty["alert_id"])
    assert sorted(r["recipient"] for r in rows if r["channel"] == "email") == sorted(["boss@example.org", *BUYERS])
    assert Sender(services.app, services.store, services.settings, lambda: moment).run_once().sent == 2 * 3
    assert smtp.inbox.recipients() == sorted(["boss@example.org", *BUYERS] * 2)


def test_the_worker_schedules_the_check_delivery_and_digest_from_the_settings(services: Services) -> None:
    jobs = {job.id: job for job in build_scheduler(services).get_jobs()}

    assert sorted(jobs) == ["check_alerts", "deliver", "digest", "stop_notice"]
    assert jobs["check_alerts"].trigger.interval == timedelta(minutes=10)
    assert jobs["stop_notice"].trigger.interval == timedelta(minutes=1)  # the read models stopped: tell admins
    assert jobs["deliver"].trigger.interval == timedelta(seconds=30)
    assert str(jobs["digest"].trigger.timezone) == "America/New_York"


def digest_rows(services: Services, day: date) -> list[tuple[str, str, int]]:
    services.projector.catch_up()
    rows = deliveries(services.store, str(digest_id(day)))
    return sorted((row["recipient"], row["status"], row["attempts"]) for row in rows)


def test_a_digest_the_smtp_server_refused_at_seven_goes_out_on_a_later_delivery_run_once(
    services: Services, smtp: SmtpServer
) -> None:
    moment = datetime(2026, 11, 3, 12, tzinfo=UTC)  # 07:00 in New York
    smtp.inbox.refuse = "451 4.3.0 Mailbox busy, try again later"
    digest_job(services, clock=lambda: moment)
    assert smtp.inbox.messages == []
    assert digest_rows(services, date(2026, 11, 3)) == [(buyer, "pending", 1) for buyer in sorted(BUYERS)]

    # The delivery job (every 30 s) tries again once the backoff has passed, and the server takes it.
    smtp.inbox.refuse = None
    sender = Sender(services.app, services.store, services.settings, lambda: moment + timedelta(minutes=2))
    assert sender.run_once(only=("digest",)).sent == len(BUYERS)
    sender.run_once()  # the alerts' own emails go too; the digest not again
    assert sorted(address for rcpt, m in smtp.inbox.messages for address in rcpt if "digest" in m["Subject"]) == (
        sorted(BUYERS)
    )
    assert digest_rows(services, date(2026, 11, 3)) == [(buyer, "sent", 2) for buyer in sorted(BUYERS)]
    # The same day's job again (a restarted worker): prepared already, nothing more.
    digest_job(services, clock=lambda: moment + timedelta(hours=1))
    assert len([m for _r, m in smtp.inbox.messages if "digest" in m["Subject"]]) == len(BUYERS)


def test_a_digest_prepared_by_a_worker_that_died_before_sending_is_sent_by_the_next_one(
    services: Services, smtp: SmtpServer
) -> None:
    moment = datetime(2026, 11, 3, 12, tzinfo=UTC)
    # What a worker did before it was killed: the day's digest prepared, nothing sent.
    ids = [alert["alert_id"] for alert in alerts_to_digest(services.store)]
    assert services.app.prepare_digest(day=date(2026, 11, 3), alert_ids=ids, recipients=BUYERS, occurred_at=moment)

    # The next worker's digest job finds it prepared and leaves it; its delivery run sends it.
    digest_job(services, clock=lambda: moment + timedelta(minutes=5))
    assert smtp.inbox.messages == []
    services.projector.catch_up()
    Sender(services.app, services.store, services.settings, lambda: moment + timedelta(minutes=5)).run_once()
    digests = [(rcpt, m["Subject"]) for rcpt, m in smtp.inbox.messages if "digest" in m["Subject"]]
    assert sorted(digests) == [
        ([buyer], "[Inventory] Daily digest for Tue 3 Nov 2026: 1 open alert") for buyer in BUYERS
    ]


def test_a_digest_not_out_by_the_evening_is_dropped_for_the_next_days(services: Services, smtp: SmtpServer) -> None:
    moment = datetime(2026, 11, 3, 12, tzinfo=UTC)
    ids = [alert["alert_id"] for alert in alerts_to_digest(services.store)]
    services.app.prepare_digest(day=date(2026, 11, 3), alert_ids=ids, recipients=BUYERS, occurred_at=moment)
    services.projector.catch_up()

    late = Sender(services.app, services.store, services.settings, lambda: moment + timedelta(hours=21))
    late.run_once(only=("digest",))
    assert smtp.inbox.messages == []
    assert digest_rows(services, date(2026, 11, 3)) == [(buyer, "cancelled", 1) for buyer in sorted(BUYERS)]
