"""The worker's schedule (APScheduler 3, in `inventory worker` only; web processes never schedule).

- the alert check every INVENTORY_ALERT_CHECK_MINUTES (default 5);
- delivery of the outbox every INVENTORY_DELIVERY_SECONDS (default 30), from start-up on, when an SMTP
  host or a webhook is configured;
- the daily digest at INVENTORY_DIGEST_TIME (default 07:00) in INVENTORY_TIMEZONE.

Each job is a plain function of the services and a clock, so tests run them at any moment they
choose; the scheduler only decides when. Jobs log their failures and never raise into it.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime, time
from zoneinfo import ZoneInfo

from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger

from inventory.bootstrap import Services
from inventory.notify.digest import send_digest
from inventory.notify.sender import Clock, Sender, utc_now
from inventory.notify.stopped import tell_admins

log = logging.getLogger(__name__)


def check_alerts_job(services: Services, clock: Clock = utc_now) -> None:
    """Bring the read models up to date, raise and resolve alerts as of now, then project what changed."""
    app = services.app
    try:
        now = clock()
        services.projector.catch_up()
        app.check_alerts(app.business_day(now), now, store=services.store)
        services.projector.catch_up()
    except Exception:
        log.exception("the alert check failed; it runs again at the next interval")


def deliver_job(sender: Sender) -> None:
    """Send whatever the outbox holds that is due."""
    sender.run_once()


def digest_job(services: Services, clock: Clock = utc_now) -> None:
    """Email the day's digest of open alerts to purchasing."""
    try:
        send_digest(services, clock())
    except Exception:
        log.exception("the daily digest failed")


def stop_notice_job(services: Services) -> None:
    """Email the admins once if the read models stopped at an event they cannot apply."""
    try:
        tell_admins(services.store, services.settings)
    except Exception:
        log.exception("telling the admins that the read models stopped failed; it is tried again in a minute")


def digest_trigger(digest_time: str, timezone: str) -> CronTrigger:
    """Every day at that wall-clock time in the program's zone, whatever its UTC offset that day."""
    at = time.fromisoformat(digest_time)
    return CronTrigger(hour=at.hour, minute=at.minute, timezone=ZoneInfo(timezone))


def build_scheduler(services: Services, clock: Clock = utc_now) -> BackgroundScheduler:
    """The worker's scheduler with its jobs, not started."""
    settings = services.settings
    scheduler = BackgroundScheduler(
        timezone=ZoneInfo(settings.timezone),
        # A run missed while the process was busy or stopped is run once, not once per missed slot.
        job_defaults={"coalesce": True, "max_instances": 1, "misfire_grace_time": 300},
    )
    scheduler.add_job(
        check_alerts_job,
        IntervalTrigger(minutes=settings.alert_check_minutes),
        args=(services, clock),
        id="check_alerts",
        name="alert check",
    )
    sender = Sender(services.app, services.store, settings, clock)
    if sender.channels():
        scheduler.add_job(
            deliver_job,
            IntervalTrigger(seconds=settings.delivery_seconds),
            args=(sender,),
            id="deliver",
            name="delivery",
            # At once too: what a stopped worker left pending goes out as soon as one starts again.
            next_run_time=datetime.now(UTC),
        )
    else:
        log.warning("no INVENTORY_SMTP_HOST nor INVENTORY_ALERT_WEBHOOK_URL: alerts are shown in the app only")
    if settings.smtp_host:
        scheduler.add_job(
            stop_notice_job,
            IntervalTrigger(minutes=1),
            args=(services,),
            id="stop_notice",
            name="read models stopped notice",
            next_run_time=datetime.now(UTC),
        )
    scheduler.add_job(
        digest_job,
        digest_trigger(settings.digest_time, settings.timezone),
        args=(services, clock),
        id="digest",
        name="daily digest",
    )
    return scheduler
