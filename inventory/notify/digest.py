"""The daily digest: each active purchasing user gets one email summarising every open alert.

Once per local day, however many workers run the job: the first to record the day's `Digest` sends
it; any other finds it prepared and sends nothing. Who it reached is recorded after sending.
"""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from inventory.notify import email
from inventory.notify.outbox import open_alerts
from inventory.notify.sender import names
from inventory.projections.store import ReadStore
from inventory.settings import Settings

log = logging.getLogger(__name__)


def purchasing(store: ReadStore) -> list[str]:
    """Active purchasing staff, by email."""
    rows = store.fetchall("SELECT email FROM staff WHERE active = 1 AND role = 'purchasing' ORDER BY email")
    return [str(row[0]) for row in rows]


def send_digest(app: Any, store: ReadStore, settings: Settings, now: datetime) -> list[str]:
    """Email the open alerts to each purchasing user (nothing when none is open, or no SMTP host is set).

    Returns who it was sent to (nobody if another worker has the day's digest); a failure for one
    person is logged and does not stop the others.
    """
    if not settings.smtp_host:
        return []
    alerts = open_alerts(store)
    if not alerts:
        return []
    day = now.astimezone(ZoneInfo(settings.timezone)).date()
    recipients = purchasing(store)
    if not recipients:
        return []
    ids = [str(alert["alert_id"]) for alert in alerts]
    if not app.prepare_digest(day=day, alert_ids=ids, recipients=recipients, occurred_at=now):
        log.info("the digest for %s was already prepared by another worker", day)
        return []
    known = names(store)
    sent = []
    for to in recipients:
        message = email.digest_message(alerts, known, settings, to, day)
        try:
            email.send(settings, message)
        except Exception:
            log.exception("the digest for %s could not be sent", to)
            continue
        sent.append(to)
    if sent:
        app.record_digest_sent(day=day, recipients=sent, occurred_at=now)
    log.info("digest of %s open alerts sent to %s people", len(alerts), len(sent))
    return sent
