"""Alert episodes as the in-app list shows them: one row per (alert, episode), open or resolved."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Sequence
from datetime import date
from typing import Any
from uuid import UUID

from inventory.domain.alerts import Alert
from inventory.projections.base import Projection, Recorded, to_json
from inventory.projections.paging import PAGE_ROWS, Page, Part, keyset_page
from inventory.projections.store import ReadStore, Tx


class Alerts(Projection):
    name = "alerts"
    version = 2  # 2: snoozed until, assigned to
    tables = ("alert_keys", "alerts")
    ddl = (
        """CREATE TABLE IF NOT EXISTS alert_keys (
            id TEXT PRIMARY KEY, kind TEXT NOT NULL, site TEXT NOT NULL, sku TEXT NOT NULL, lot TEXT)""",
        """CREATE TABLE IF NOT EXISTS alerts (
            id TEXT NOT NULL, episode INTEGER NOT NULL, kind TEXT NOT NULL, site TEXT NOT NULL,
            sku TEXT NOT NULL, lot TEXT, is_open INTEGER NOT NULL, raised_at TEXT NOT NULL, resolved_at TEXT,
            details TEXT NOT NULL, acknowledged_by TEXT, acknowledged_at TEXT,
            notified TEXT NOT NULL DEFAULT '[]', snoozed_until TEXT, assigned_to TEXT,
            PRIMARY KEY (id, episode))""",
        "CREATE INDEX IF NOT EXISTS alerts_open ON alerts (is_open, site)",
        # The API's list of open episodes, a page at a time (open_alert_page).
        "CREATE INDEX IF NOT EXISTS alerts_open_page ON alerts (is_open, site, raised_at, id, episode)",
        "CREATE INDEX IF NOT EXISTS alerts_open_raised ON alerts (is_open, raised_at, id, episode)",
        "CREATE INDEX IF NOT EXISTS alerts_resolved ON alerts (resolved_at)",
    )

    def process(self, batch: Sequence[Recorded], tx: Tx) -> None:
        for recorded in batch:
            handler = _HANDLERS.get(type(recorded.event))
            if handler is not None:
                handler(recorded.event, tx)


def _started(event: Any, tx: Tx) -> None:
    tx.execute(
        "INSERT INTO alert_keys (id, kind, site, sku, lot) VALUES (?, ?, ?, ?, ?)",
        (str(event.originator_id), event.kind, event.site, event.sku, event.lot),
    )


def _raised(event: Any, tx: Tx) -> None:
    the_id = str(event.originator_id)
    tx.execute(
        """INSERT INTO alerts (id, episode, kind, site, sku, lot, is_open, raised_at, details)
           SELECT k.id, (SELECT COALESCE(MAX(a.episode), 0) + 1 FROM alerts a WHERE a.id = ?),
                  k.kind, k.site, k.sku, k.lot, 1, ?, ?
           FROM alert_keys k WHERE k.id = ?""",
        (the_id, event.occurred_at.isoformat(), to_json(event.details), the_id),
    )


def _resolved(event: Any, tx: Tx) -> None:
    the_id = str(event.originator_id)
    rows = tx.fetchall("SELECT episode, details FROM alerts WHERE id = ? AND is_open = 1", (the_id,))
    for episode, details in rows:
        merged = {**json.loads(details), "resolved": event.details}
        tx.execute(
            "UPDATE alerts SET is_open = 0, resolved_at = ?, details = ? WHERE id = ? AND episode = ?",
            (event.occurred_at.isoformat(), to_json(merged), the_id, episode),
        )


def _acknowledged(event: Any, tx: Tx) -> None:
    tx.execute(
        "UPDATE alerts SET acknowledged_by = ?, acknowledged_at = ? WHERE id = ? AND episode = ?",
        (event.actor, event.occurred_at.isoformat(), str(event.originator_id), event.episode),
    )


def _notified(event: Any, tx: Tx) -> None:
    the_id = str(event.originator_id)
    for (notified,) in tx.fetchall("SELECT notified FROM alerts WHERE id = ? AND episode = ?", (the_id, event.episode)):
        entry = {"channel": event.channel, "recipients": list(event.recipients), "at": event.occurred_at}
        tx.execute(
            "UPDATE alerts SET notified = ? WHERE id = ? AND episode = ?",
            (to_json([*json.loads(notified), entry]), the_id, event.episode),
        )


def _snoozed(event: Any, tx: Tx) -> None:
    tx.execute(
        "UPDATE alerts SET snoozed_until = ? WHERE id = ? AND episode = ?",
        (event.until.isoformat(), str(event.originator_id), event.episode),
    )


def _assigned(event: Any, tx: Tx) -> None:
    tx.execute(
        "UPDATE alerts SET assigned_to = ? WHERE id = ? AND episode = ?",
        (event.to, str(event.originator_id), event.episode),
    )


_HANDLERS: dict[type, Callable[[Any, Tx], None]] = {
    Alert.Started: _started,
    Alert.Raised: _raised,
    Alert.Resolved: _resolved,
    Alert.Acknowledged: _acknowledged,
    Alert.Notified: _notified,
    Alert.Snoozed: _snoozed,
    Alert.Assigned: _assigned,
}

_COLUMNS = (
    "id",
    "episode",
    "kind",
    "site",
    "sku",
    "lot",
    "is_open",
    "raised_at",
    "resolved_at",
    "details",
    "acknowledged_by",
    "acknowledged_at",
    "notified",
    "snoozed_until",
    "assigned_to",
)


def _rows(store: ReadStore, where: str, params: list[Any], order: str) -> list[dict[str, Any]]:
    rows = store.fetchall(f"SELECT {', '.join(_COLUMNS)} FROM alerts WHERE {where} ORDER BY {order}", params)
    return [_decoded(dict(zip(_COLUMNS, row, strict=True))) for row in rows]


def _decoded(record: dict[str, Any]) -> dict[str, Any]:
    record["open"] = bool(record.pop("is_open"))
    record["details"] = json.loads(record["details"])
    record["notified"] = json.loads(record["notified"])
    return record


def open_alert_page(
    store: ReadStore,
    sites: Iterable[str] | None = None,
    kind: str | None = None,
    *,
    after: str | None = None,
    limit: int = PAGE_ROWS,
) -> Page:
    """Open episodes (at `sites`, of `kind`), newest raised first, a page at a time (the API's list)."""
    if sites is None:
        parts = [Part("is_open = 1")]
    else:
        parts = [Part("is_open = 1 AND site = ?", (site,)) for site in sorted(set(sites))]
    found = keyset_page(
        store,
        select=f"SELECT {', '.join(_COLUMNS)} FROM alerts",
        columns=_COLUMNS,
        key=("raised_at", "id", "episode"),
        parts=parts,
        where="kind = ?" if kind else "1 = 1",
        params=[kind] if kind else [],
        after=after,
        limit=limit,
    )
    return Page([_decoded(row) for row in found.rows], found.next)


def _filters(sites: Iterable[str] | None, kind: str | None) -> tuple[str, list[Any]]:
    parts, params = [], []
    if sites is not None:
        chosen = sorted(set(sites))
        if not chosen:
            return "1 = 0", []
        parts.append(f"site IN ({', '.join('?' for _ in chosen)})")
        params.extend(chosen)
    if kind:
        parts.append("kind = ?")
        params.append(kind)
    return " AND ".join(parts) or "1 = 1", params


def open_alerts(
    store: ReadStore, sites: Iterable[str] | None = None, kind: str | None = None, *, awake_on: date | None = None
) -> list[dict[str, Any]]:
    """Open episodes (at `sites`, of `kind`), newest first, then by site, item, kind and lot; with `awake_on`,
    only those not snoozed past that business date (a snoozed alert is back on the day it was snoozed until)."""
    where, params = _filters(sites, kind)
    if awake_on is not None:
        where += " AND (snoozed_until IS NULL OR snoozed_until <= ?)"
        params.append(awake_on.isoformat())
    return _rows(store, f"is_open = 1 AND {where}", params, "raised_at DESC, site, sku, kind, lot, id")


def snoozed_alerts(store: ReadStore, today: date, sites: Iterable[str] | None = None) -> list[dict[str, Any]]:
    """Open episodes snoozed past `today`, the soonest back first."""
    where, params = _filters(sites, None)
    return _rows(store, f"is_open = 1 AND snoozed_until > ? AND {where}", [today.isoformat(), *params],
                 "snoozed_until, site, sku, kind, id")  # fmt: skip


def sentence(alert: dict[str, Any]) -> str:
    """What an episode says, in one line with its figures as they were when it was raised."""
    details: dict[str, Any] = alert.get("details") or {}
    site, sku, lot, kind = alert["site"], alert["sku"], alert.get("lot"), alert["kind"]
    on_hand = details.get("on_hand")
    if kind == "out_of_stock":
        return f"{sku} is out of stock at {site}."
    if kind == "below_reorder_point":
        return f"{sku} at {site}: {on_hand} on hand, below the reorder point of {details.get('reorder_point')}."
    if kind == "runs_out_within_lead_time":
        supply = details.get("days_of_supply")
        days = f"{float(supply):.1f}" if supply is not None else "unknown"
        return (
            f"{sku} at {site}: {on_hand} on hand lasts {days} days at recent use, "
            f"less than the lead time of {details.get('lead_time_days')} days."
        )
    expires = details.get("expires_on")
    if kind == "expired_on_hand":
        return f"{on_hand} of {sku} lot {lot} at {site} expired on {expires}."
    if kind == "expiring_soon":
        return f"{on_hand} of {sku} lot {lot} at {site} expire on {expires}."
    if kind == "recalled":
        return (
            f"{on_hand} of {sku} lot {lot} at {site} are recalled by the maker: pull them and return or destroy them."
        )
    return f"{kind.replace('_', ' ').capitalize()}: {sku} at {site}."


def resolved_alerts(
    store: ReadStore, since: str, sites: Iterable[str] | None = None, kind: str | None = None
) -> list[dict[str, Any]]:
    """Episodes resolved at or after `since` (an ISO time in UTC), newest first."""
    where, params = _filters(sites, kind)
    return _rows(store, f"is_open = 0 AND resolved_at >= ? AND {where}", [since, *params], "resolved_at DESC, id")


def open_alert_ids(store: ReadStore) -> list[UUID]:
    """The ids of every alert with an open episode."""
    return [UUID(the_id) for (the_id,) in store.fetchall("SELECT DISTINCT id FROM alerts WHERE is_open = 1")]
