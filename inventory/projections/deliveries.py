"""The outbox: one delivery to make per raised alert episode, channel and recipient.

A projection of the log, so it is rebuilt like every read model: an `Alert.Raised` event adds a
pending row per person to email (chosen from the `staff` read model as it stood at that point of the
log) and one for the webhook; an `Alert.Notified` event marks its rows sent, so a rebuild does not
send again what the log says was delivered; `Alert.Resolved` cancels rows still pending, since the
shortage they announce is over. The sender (inventory.notify.sender) claims, sends and marks rows.

The day's digest goes the same way: `Digest.Prepared` adds a pending `digest` row per person it is
for (and the day and alerts it lists in `delivery_digests`), `Digest.Sent` marks theirs sent. So a
digest a worker prepared and then died before sending, or that a refusing SMTP server held up, is
sent by the next delivery run, and retried with backoff like an alert.

Status: `pending` (not sent yet, or failed and to be tried again at `next_attempt_at`), `sent`,
`failed` (given up after too many attempts), `cancelled` (resolved first) or `skipped` (no webhook
is configured).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from typing import Any

from inventory.domain.alerts import Alert, Digest
from inventory.projections.base import Projection, Recorded, to_json
from inventory.projections.store import ReadStore, Tx

EMAIL = "email"
WEBHOOK = "webhook"
DIGEST = "digest"  # the daily digest, by email
# Roles told of every alert; coordinators hear of their own sites' alerts.
ALL_SITES_ROLES = ("purchasing", "admin")


class Deliveries(Projection):
    name = "deliveries"
    version = 2  # 2: the daily digest is delivered through the outbox
    tables = ("deliveries", "delivery_alerts", "delivery_digests")
    ddl = (
        """CREATE TABLE IF NOT EXISTS deliveries (
            id TEXT PRIMARY KEY, position BIGINT NOT NULL, alert_id TEXT NOT NULL, episode INTEGER NOT NULL,
            channel TEXT NOT NULL, recipient TEXT NOT NULL, status TEXT NOT NULL,
            attempts INTEGER NOT NULL DEFAULT 0, next_attempt_at TEXT NOT NULL DEFAULT '',
            last_error TEXT, sent_at TEXT)""",
        # The alert each delivery is about, as of its latest episode (what an email and the digest say).
        """CREATE TABLE IF NOT EXISTS delivery_alerts (
            alert_id TEXT PRIMARY KEY, kind TEXT NOT NULL, site TEXT NOT NULL, sku TEXT NOT NULL, lot TEXT,
            episode INTEGER NOT NULL DEFAULT 0, is_open INTEGER NOT NULL DEFAULT 0, details TEXT NOT NULL,
            raised_at TEXT)""",
        # A day's digest (its id is the delivery rows' alert_id): the alerts it lists, when it was prepared.
        """CREATE TABLE IF NOT EXISTS delivery_digests (
            digest_id TEXT PRIMARY KEY, day TEXT NOT NULL, alert_ids TEXT NOT NULL, prepared_at TEXT NOT NULL)""",
        "CREATE INDEX IF NOT EXISTS deliveries_due ON deliveries (status, next_attempt_at)",
        "CREATE INDEX IF NOT EXISTS deliveries_alert ON deliveries (alert_id, episode)",
    )

    def process(self, batch: Sequence[Recorded], tx: Tx) -> None:
        for recorded in batch:
            handler = _HANDLERS.get(type(recorded.event))
            if handler is not None:
                handler(recorded, tx)


def delivery_id(position: int, channel: str, recipient: str) -> str:
    return f"{position}/{channel}/{recipient}"


def recipients(tx: Tx | ReadStore, site: str) -> list[str]:
    """Active staff to email about an alert at `site`: purchasing and admins, and that site's coordinators."""
    rows = tx.fetchall("SELECT email, role, sites FROM staff WHERE active = 1 ORDER BY email")
    return [
        email
        for email, role, sites in rows
        if role in ALL_SITES_ROLES or (role == "coordinator" and site in json.loads(sites))
    ]


def _started(recorded: Recorded, tx: Tx) -> None:
    event = recorded.event
    tx.execute(
        "INSERT INTO delivery_alerts (alert_id, kind, site, sku, lot, details) VALUES (?, ?, ?, ?, ?, '{}')",
        (str(event.originator_id), event.kind, event.site, event.sku, event.lot),
    )


def _raised(recorded: Recorded, tx: Tx) -> None:
    event = recorded.event
    the_id = str(event.originator_id)
    rows = tx.fetchall("SELECT site, episode FROM delivery_alerts WHERE alert_id = ?", (the_id,))
    if not rows:
        return
    site, episode = rows[0][0], int(rows[0][1]) + 1
    tx.execute(
        "UPDATE delivery_alerts SET episode = ?, is_open = 1, details = ?, raised_at = ? WHERE alert_id = ?",
        (episode, to_json(event.details), recorded.occurred_at, the_id),
    )
    targets = [(EMAIL, email) for email in recipients(tx, site)] + [(WEBHOOK, WEBHOOK)]
    tx.executemany(
        "INSERT INTO deliveries (id, position, alert_id, episode, channel, recipient, status) "
        "VALUES (?, ?, ?, ?, ?, ?, 'pending')",
        [
            (delivery_id(recorded.position, channel, to), recorded.position, the_id, episode, channel, to)
            for channel, to in targets
        ],
    )


def _notified(recorded: Recorded, tx: Tx) -> None:
    event = recorded.event
    for recipient in event.recipients:
        tx.execute(
            "UPDATE deliveries SET status = 'sent', sent_at = ? "
            "WHERE alert_id = ? AND episode = ? AND channel = ? AND recipient = ? AND status <> 'sent'",
            (recorded.occurred_at, str(event.originator_id), event.episode, event.channel, recipient),
        )


def _resolved(recorded: Recorded, tx: Tx) -> None:
    the_id = str(recorded.event.originator_id)
    tx.execute("UPDATE delivery_alerts SET is_open = 0 WHERE alert_id = ?", (the_id,))
    tx.execute(
        "UPDATE deliveries SET status = 'cancelled', last_error = 'resolved before it was delivered' "
        "WHERE alert_id = ? AND status = 'pending'",
        (the_id,),
    )


def _digest_prepared(recorded: Recorded, tx: Tx) -> None:
    event = recorded.event
    the_id = str(event.originator_id)
    tx.execute(
        "INSERT INTO delivery_digests (digest_id, day, alert_ids, prepared_at) VALUES (?, ?, ?, ?)",
        (the_id, event.day.isoformat(), to_json(list(event.alert_ids)), recorded.occurred_at),
    )
    tx.executemany(
        "INSERT INTO deliveries (id, position, alert_id, episode, channel, recipient, status) "
        "VALUES (?, ?, ?, 0, ?, ?, 'pending')",
        [
            (delivery_id(recorded.position, DIGEST, to), recorded.position, the_id, DIGEST, to)
            for to in event.recipients
        ],
    )


def _digest_sent(recorded: Recorded, tx: Tx) -> None:
    event = recorded.event
    for recipient in event.recipients:
        tx.execute(
            "UPDATE deliveries SET status = 'sent', sent_at = ? "
            "WHERE alert_id = ? AND channel = ? AND recipient = ? AND status <> 'sent'",
            (recorded.occurred_at, str(event.originator_id), DIGEST, recipient),
        )


_HANDLERS: dict[type, Callable[[Recorded, Tx], None]] = {
    Alert.Started: _started,
    Alert.Raised: _raised,
    Alert.Notified: _notified,
    Alert.Resolved: _resolved,
    Digest.Prepared: _digest_prepared,
    Digest.Sent: _digest_sent,
}


def deliveries(store: ReadStore, alert_id: str | None = None) -> list[dict[str, Any]]:
    """Every delivery (of one alert, if named), in the order they were raised."""
    where, params = ("WHERE alert_id = ?", [alert_id]) if alert_id else ("", [])
    rows = store.fetchall(
        "SELECT id, alert_id, episode, channel, recipient, status, attempts, next_attempt_at, last_error, sent_at "
        f"FROM deliveries {where} ORDER BY position, channel, recipient",
        params,
    )
    keys = (
        "id",
        "alert_id",
        "episode",
        "channel",
        "recipient",
        "status",
        "attempts",
        "next_attempt_at",
        "last_error",
        "sent_at",
    )
    return [dict(zip(keys, row, strict=True)) for row in rows]


_ALERT_COLUMNS = "alert_id, kind, site, sku, lot, episode, details, raised_at"


def _alert(row: Sequence[Any]) -> dict[str, Any]:
    the_id, kind, site, sku, lot, episode, details, raised_at = row
    return {
        "alert_id": the_id,
        "kind": kind,
        "site": site,
        "sku": sku,
        "lot": lot,
        "episode": int(episode),
        "details": json.loads(details),
        "raised_at": raised_at,
    }


def alerts_to_digest(store: ReadStore) -> list[dict[str, Any]]:
    """Alerts whose latest episode is still going on (for the digest), by site and item."""
    rows = store.fetchall(
        f"SELECT {_ALERT_COLUMNS} FROM delivery_alerts WHERE is_open = 1 ORDER BY site, sku, kind, lot"
    )
    return [_alert(row) for row in rows]


def alerts_by_id(store: ReadStore, ids: Sequence[str]) -> dict[str, dict[str, Any]]:
    """The named alerts as of their latest episode (what a delivery says), by id."""
    if not ids:
        return {}
    marks = ", ".join("?" for _ in ids)
    rows = store.fetchall(f"SELECT {_ALERT_COLUMNS} FROM delivery_alerts WHERE alert_id IN ({marks})", list(ids))
    return {str(row[0]): _alert(row) for row in rows}


def digest_of(store: ReadStore, digest_id: str) -> tuple[str, list[str], str] | None:
    """A prepared digest: its local day, the alerts it lists and when it was prepared."""
    rows = store.fetchall("SELECT day, alert_ids, prepared_at FROM delivery_digests WHERE digest_id = ?", (digest_id,))
    if not rows:
        return None
    day, ids, prepared_at = rows[0]
    return str(day), [str(i) for i in json.loads(ids)], str(prepared_at)
