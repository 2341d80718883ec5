"""The daily digest: each active purchasing user gets one email summarising every open alert.

Once per local day, however many workers run the job: the first to record the day's `Digest` sends
it; any other finds it prepared and sends nothing. Who it reached is recorded after sending, one
`Digest.Sent` per person, from the outbox like an alert's email (inventory.projections.deliveries).
"""

from __future__ import annotations

import logging
from datetime import datetime
from zoneinfo import ZoneInfo

from inventory.bootstrap import Services
from inventory.domain.alerts import digest_id
from inventory.domain.users import Role
from inventory.notify.sender import Sender
from inventory.projections import staff
from inventory.projections.deliveries import DIGEST, alerts_to_digest, deliveries
from inventory.projections.store import ReadStore

log = logging.getLogger(__name__)


def purchasing(store: ReadStore) -> list[str]:
    """Active purchasing staff, by email."""
    return staff.active_emails(store, Role.PURCHASING)


def send_digest(services: Services, now: datetime) -> list[str]:
    """Prepare the day's digest of open alerts for each purchasing user, then send it.

    Nothing when no alert is open, nobody is in purchasing, or no SMTP host is set; nothing either
    when another worker prepared the day's digest (it sends it). The sending goes through the outbox:
    a person the server refused now is tried again by the delivery job, with backoff, and a digest a
    worker prepared and died before sending is sent by the next worker's delivery run. Returns who it
    reached in this run.
    """
    app, store, settings = services.app, services.store, services.settings
    if not settings.smtp_host:
        return []
    alerts = alerts_to_digest(store)
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
    services.projector.catch_up()  # the outbox now holds a delivery per person
    Sender(app, store, settings, lambda: now).run_once(only=(DIGEST,))
    the_id = str(digest_id(day))
    sent = [d["recipient"] for d in deliveries(store, the_id) if d["channel"] == DIGEST and d["status"] == "sent"]
    log.info("digest of %s open alerts sent to %s of %s people", len(alerts), len(sent), len(recipients))
    return sent
