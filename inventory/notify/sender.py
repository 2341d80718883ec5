"""The sender: claims due deliveries from the outbox, sends them, and records each one in the log.

A claim is one atomic UPDATE that pushes the rows' next attempt a lease into the future (SQLite: inside
BEGIN IMMEDIATE; PostgreSQL: rows picked FOR UPDATE SKIP LOCKED), so two workers never hold the same
delivery. After sending, `Alert.Notified` is recorded in the log before the row is marked sent: the
outbox marks it sent from that event too, so only a crash between sending and recording can send a
message twice (once the lease runs out), and nothing is ever left unsent. A failure is logged and
tried again after an exponential backoff, capped; the sender never raises out of `run_once`.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from contextlib import suppress
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

from inventory.adapters import mail as email
from inventory.adapters import webhook
from inventory.adapters.settings import Settings
from inventory.application import InventoryApplication
from inventory.projections import queries
from inventory.projections.deliveries import DIGEST, EMAIL, WEBHOOK, alerts_by_id, digest_of
from inventory.projections.store import ReadStore, Row

log = logging.getLogger(__name__)

Clock = Callable[[], datetime]
LEASE = timedelta(minutes=10)  # a claimed row is tried again after this if its worker died mid-send
BACKOFF = timedelta(minutes=1)  # after the first failure; doubled each time
BACKOFF_CAP = timedelta(hours=1)
MAX_ATTEMPTS = 48  # about two days of hourly retries before a delivery is marked failed
BATCH = 100  # deliveries per run at most (the next run carries on)
DIGEST_KEPT = timedelta(hours=20)  # a digest not out by then is dropped: the next day's replaces it


def utc_now() -> datetime:
    return datetime.now(UTC)


def stamp(moment: datetime) -> str:
    """A fixed-width UTC time, so the database compares them as text in time order."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def backoff(attempts: int) -> timedelta:
    """How long to wait after the `attempts`-th failure: 1, 2, 4 … minutes, at most an hour."""
    wait: timedelta = BACKOFF * 2 ** min(max(attempts - 1, 0), 10)
    return min(wait, BACKOFF_CAP)


@dataclass(frozen=True)
class Report:
    sent: int = 0
    failed: int = 0


class Sender:
    """Delivers what the outbox holds over the channels configured in `settings`."""

    def __init__(self, app: InventoryApplication, store: ReadStore, settings: Settings, clock: Clock = utc_now) -> None:
        self.app = app
        self.store = store
        self.settings = settings
        self.clock = clock

    def channels(self) -> list[str]:
        """The channels this process can deliver over (an email needs an SMTP host, the webhook a URL)."""
        email_on, webhook_on = self.settings.smtp_host, self.settings.alert_webhook_url
        return [c for c, on in ((EMAIL, email_on), (DIGEST, email_on), (WEBHOOK, webhook_on)) if on]

    def run_once(self, limit: int = BATCH, only: tuple[str, ...] = ()) -> Report:
        """Send due deliveries, up to `limit`; never raises: failures are logged and retried later.

        Rows are claimed one at a time, just before each is sent, so a lease never runs out while a
        row waits behind slow sends, and a second worker shares the work instead of waiting for it.
        `only` limits the run to these channels (the digest job sends the digest and nothing else).
        """
        sent = failed = 0
        try:
            if not self.settings.alert_webhook_url:
                self._skip_webhooks()
            names: dict[str, str] | None = None
            for _ in range(limit):
                rows = self.claim(self.clock(), 1, only)
                if not rows:
                    break
                names = self._names() if names is None else names
                if rows[0][3] == DIGEST:
                    delivered = self._deliver_digest(rows[0], names)
                else:
                    delivered = self._deliver(rows[0], self._alerts({rows[0][1]}), names)
                if delivered:
                    sent += 1
                else:
                    failed += 1
        except Exception:
            log.exception("delivering alerts failed; trying again on the next run")
        return Report(sent, failed)

    # ----- claiming -------------------------------------------------------------------------

    def claim(self, now: datetime, limit: int = BATCH, only: tuple[str, ...] = ()) -> list[Row]:
        """Take due deliveries for this worker alone: (id, alert_id, episode, channel, recipient, attempts)."""
        channels = [channel for channel in self.channels() if not only or channel in only]
        if not channels:
            return []
        marks = ", ".join("?" for _ in channels)
        lock = " FOR UPDATE SKIP LOCKED" if self.store.dialect == "postgres" else ""
        sql = (
            "UPDATE deliveries SET attempts = attempts + 1, next_attempt_at = ? WHERE id IN ("
            f"SELECT id FROM deliveries WHERE status = 'pending' AND next_attempt_at <= ? AND channel IN ({marks}) "
            f"ORDER BY position, id LIMIT ?{lock}) "
            "RETURNING id, alert_id, episode, channel, recipient, attempts"
        )
        with self.store.transaction(projector_lock=False) as tx:
            rows = tx.fetchall(sql, (stamp(now + LEASE), stamp(now), *channels, limit))
        return sorted(rows, key=lambda row: str(row[0]))

    def _skip_webhooks(self) -> None:
        with self.store.transaction(projector_lock=False) as tx:
            tx.execute(
                "UPDATE deliveries SET status = 'skipped', last_error = 'no webhook configured' "
                "WHERE channel = ? AND status = 'pending'",
                (WEBHOOK,),
            )

    # ----- sending --------------------------------------------------------------------------

    def _deliver(self, row: Row, alerts: dict[str, dict[str, Any]], names: dict[str, str]) -> bool:
        the_id, alert_id, episode, channel, recipient, attempts = row
        alert = alerts.get(alert_id)
        try:
            if alert is None:
                raise LookupError(f"alert {alert_id} is not in the outbox")
            if channel == EMAIL:
                email.send(self.settings, email.alert_message(alert, names, self.settings, recipient))
            else:
                webhook.post(str(self.settings.alert_webhook_url), webhook.payload(alert, names, self.settings))
        except Exception as error:
            self._failed(the_id, int(attempts), error)
            return False
        now = self.clock()
        try:
            self.app.record_notification(
                alert_id=alert_id, episode=int(episode), channel=channel, recipients=[recipient], occurred_at=now
            )
        except Exception:
            # Sent all the same: marking the row stops a second message; the log misses this one entry.
            log.exception("alert %s episode %s: sent by %s but not recorded in the log", alert_id, episode, channel)
        with self.store.transaction(projector_lock=False) as tx:
            tx.execute(
                "UPDATE deliveries SET status = 'sent', sent_at = ?, last_error = NULL WHERE id = ?",
                (now.astimezone(UTC).isoformat(), the_id),
            )
        log.info("alert %s episode %s sent by %s", alert_id, episode, channel)
        return True

    def _deliver_digest(self, row: Row, names: dict[str, str]) -> bool:
        """The day's digest to one person, listing the alerts it was prepared with (as they stand now)."""
        the_id, digest_id, _episode, _channel, recipient, attempts = row
        now = self.clock()
        try:
            found = digest_of(self.store, digest_id)
            if found is None:
                raise LookupError(f"digest {digest_id} is not in the outbox")
            day, ids, prepared_at = found
            if now - datetime.fromisoformat(prepared_at) > DIGEST_KEPT:
                self._drop(
                    the_id, f"not sent within {DIGEST_KEPT} of being prepared: the next day's digest replaces it"
                )
                return False
            listed = sorted(
                alerts_by_id(self.store, ids).values(), key=lambda a: (a["site"], a["sku"], a["kind"], a["lot"] or "")
            )
            email.send(
                self.settings, email.digest_message(listed, names, self.settings, recipient, date.fromisoformat(day))
            )
        except Exception as error:
            self._failed(the_id, int(attempts), error)
            return False
        now = self.clock()
        try:
            self.app.record_digest_sent(day=date.fromisoformat(day), recipients=[recipient], occurred_at=now)
        except Exception:
            log.exception("the digest for %s went to %s but was not recorded in the log", day, recipient)
        with self.store.transaction(projector_lock=False) as tx:
            tx.execute(
                "UPDATE deliveries SET status = 'sent', sent_at = ?, last_error = NULL WHERE id = ?",
                (now.astimezone(UTC).isoformat(), the_id),
            )
        log.info("the digest for %s sent to %s", day, recipient)
        return True

    def _drop(self, the_id: str, reason: str) -> None:
        with self.store.transaction(projector_lock=False) as tx:
            tx.execute("UPDATE deliveries SET status = 'cancelled', last_error = ? WHERE id = ?", (reason, the_id))
        log.warning("delivery %s dropped: %s", the_id, reason)

    def _failed(self, the_id: str, attempts: int, error: Exception) -> None:
        now = self.clock()
        gave_up = attempts >= MAX_ATTEMPTS
        reason = f"{type(error).__name__}: {error}"[:500]
        with self.store.transaction(projector_lock=False) as tx:
            tx.execute(
                "UPDATE deliveries SET status = ?, next_attempt_at = ?, last_error = ? WHERE id = ?",
                ("failed" if gave_up else "pending", stamp(now + backoff(attempts)), reason, the_id),
            )
        if gave_up:
            log.error("delivery %s failed %s times, giving up: %s", the_id, attempts, reason)
        else:
            log.warning(
                "delivery %s failed (attempt %s), retrying in %s: %s", the_id, attempts, backoff(attempts), reason
            )

    def _alerts(self, ids: set[str]) -> dict[str, dict[str, Any]]:
        return alerts_by_id(self.store, sorted(ids))

    def _names(self) -> dict[str, str]:
        return names(self.store)


def names(store: ReadStore) -> dict[str, str]:
    """Site codes and SKUs with their names, from the catalog read model, for messages people read."""
    found: dict[str, str] = {}
    with suppress(Exception):  # a message without names is still worth sending
        found.update({str(row["code"]): str(row["name"]) for row in queries.sites(store)})
        found.update({str(row["sku"]): str(row["name"]) for row in queries.items(store)})
    return found
