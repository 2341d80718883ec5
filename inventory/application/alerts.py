"""Verbs for alerts: raise and resolve episodes as conditions start and end; acknowledge; record delivery.

Every change goes through the Alert aggregate named by the condition's key, under the lock for its
id and with a reload on a conflicting save. Two workers checking at the same moment therefore both
aim at the same next event; one saves it, the other reloads, finds it done, and skips.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any
from uuid import UUID

from inventory.application.access import Action, Principal
from inventory.application.alert_conditions import HORIZON_DAYS, WINDOW_DAYS, Condition, current_conditions, standing
from inventory.application.core import InventoryCore
from inventory.domain.alerts import Alert, AlertKind, Digest, digest_id
from inventory.domain.errors import InvalidInput, InvalidState, NotFound
from inventory.domain.time_words import day_in_words
from inventory.domain.users import User, user_id
from inventory.projections.alerts import open_alert_ids, open_alerts
from inventory.projections.store import ReadStore

# How far ahead an alert may be snoozed: longer than that, it is better resolved (or its levels changed).
SNOOZE_DAYS = 30
# The alerts a change of stock starts or ends (the others wait for time: expiry, days of supply).
# A recalled lot on a shelf starts with its hold and ends as its last unit is written off.
STOCK_LEVEL_KINDS = frozenset({AlertKind.OUT_OF_STOCK, AlertKind.BELOW_REORDER_POINT, AlertKind.RECALLED})


class UnknownAlert(NotFound):
    code = "unknown_alert"


@dataclass(frozen=True)
class CheckResult:
    """What one check changed: the episodes it raised and the ones it resolved (alert views)."""

    raised: list[dict[str, Any]] = field(default_factory=list)
    resolved: list[dict[str, Any]] = field(default_factory=list)


def alert_view(alert: Alert) -> dict[str, Any]:
    """An alert as plain values: its key, its latest episode and that episode's state."""
    return {
        "id": str(alert.id),
        "kind": alert.kind,
        "site": alert.site,
        "sku": alert.sku,
        "lot": alert.lot,
        "episode": alert.episode,
        "open": alert.open,
        "details": dict(alert.details),
        "raised_at": alert.raised_at,
        "resolved_at": alert.resolved_at,
        "acknowledged_by": alert.acknowledged_by,
        "notified": [dict(entry) for entry in alert.notified],
        # (an Alert restored from a snapshot taken before release 0.3 has neither)
        "snoozed_until": getattr(alert, "snoozed_until", None),
        "assigned_to": getattr(alert, "assigned_to", None),
    }


class AlertVerbs(InventoryCore):
    """Check the read models for conditions, and keep one Alert episode per condition while it lasts."""

    def check_alerts(
        self,
        today: date,
        now: datetime,
        *,
        store: ReadStore,
        open_alerts: Iterable[UUID | str] | None = None,
        window_days: int = WINDOW_DAYS,
        horizon_days: int = HORIZON_DAYS,
    ) -> CheckResult:
        """Raise an episode for each condition that holds and has none open; resolve open ones that ended.

        The read models should be caught up first: a condition is what they say now. `open_alerts` are
        the ids the caller knows to be open (default: the `alerts` read model's); one raised moments ago
        and not yet projected is resolved by a later check. Safe to run in several processes at once.
        """
        moment = _utc(now)
        conditions = current_conditions(store, today, window_days=window_days, horizon_days=horizon_days)
        holding = {condition.alert_id for condition in conditions}
        raised = [view for condition in conditions if (view := self._raise(condition, moment)) is not None]
        known = open_alert_ids(store) if open_alerts is None else [UUID(str(the_id)) for the_id in open_alerts]
        resolved = []
        for the_id in sorted(set(known) - holding, key=str):
            view = self._resolve(the_id, store, moment)
            if view is not None:
                resolved.append(view)
        return CheckResult(raised, resolved)

    def check_stock_alerts(
        self, changed: Iterable[tuple[str, str]], *, store: ReadStore, now: datetime | None = None
    ) -> CheckResult:
        """Raise or resolve the level alerts (out of stock, below the reorder point) of the items whose
        stock just changed at a site, as the read models now stand: what the projector calls after each
        catch-up, so a visit that empties a van is an alert at once, not at the next periodic check.

        Only what stock changes: expiry and days of supply, which time changes, stay with check_alerts.
        """
        pairs = set(changed)
        if not pairs:
            return CheckResult([], [])
        moment = _utc(now)
        today = self.business_day(moment)
        conditions = [
            condition
            for site in sorted({site for site, _ in pairs})
            for condition in current_conditions(store, today, site=site)
            if condition.kind in STOCK_LEVEL_KINDS and (condition.site, condition.sku) in pairs
        ]
        holding = {condition.alert_id for condition in conditions}
        raised = [view for condition in conditions if (view := self._raise(condition, moment)) is not None]
        resolved = []
        for row in open_alerts(store, sorted({site for site, _ in pairs})):
            the_id = UUID(str(row["id"]))
            if row["kind"] in STOCK_LEVEL_KINDS and (row["site"], row["sku"]) in pairs and the_id not in holding:
                view = self._resolve(the_id, store, moment)
                if view is not None:
                    resolved.append(view)
        return CheckResult(raised, resolved)

    def _raise(self, condition: Condition, moment: datetime) -> dict[str, Any] | None:
        """A new episode for a condition with none open; None if one is (raised here before, or by another)."""

        def attempt() -> dict[str, Any] | None:
            alert = self._get(Alert, condition.alert_id)
            if alert is None:
                # Started and Raised in one save: a competing creation conflicts as a whole.
                alert = Alert(kind=condition.kind, site=condition.site, sku=condition.sku, lot=condition.lot)
            elif alert.open:
                return None
            alert.raise_episode(details=condition.details, occurred_at=moment)
            self.save(alert)
            return alert_view(alert)

        return self._retrying([condition.alert_id], attempt)

    def _resolve(self, the_id: UUID, store: ReadStore, moment: datetime) -> dict[str, Any] | None:
        """End the open episode of an alert whose condition no longer holds; None if already ended."""

        def attempt() -> dict[str, Any] | None:
            alert = self._get(Alert, the_id)
            if alert is None or not alert.open:
                return None
            alert.resolve(details=standing(store, alert.site, alert.sku, alert.lot), occurred_at=moment)
            self.save(alert)
            return alert_view(alert)

        return self._retrying([the_id], attempt)

    def _alert(self, alert_id: UUID | str) -> Alert:
        try:
            the_id = alert_id if isinstance(alert_id, UUID) else UUID(str(alert_id))
        except ValueError:
            raise UnknownAlert(f"There is no alert {alert_id}.", field="alert_id") from None
        alert = self._get(Alert, the_id)
        if alert is None:
            raise UnknownAlert(f"There is no alert {alert_id}.", field="alert_id")
        return alert

    def alert(self, alert_id: UUID | str) -> dict[str, Any]:
        """An alert's key and its latest episode."""
        return alert_view(self._alert(alert_id))

    def acknowledge_alert(
        self, *, alert_id: UUID | str, episode: int, actor: str, occurred_at: datetime | None = None
    ) -> dict[str, Any]:
        """Say that someone has seen an open episode; acknowledging it again changes nothing."""
        moment = _utc(occurred_at)
        found = self._alert(alert_id)

        def attempt() -> dict[str, Any]:
            alert = self._alert(found.id)
            if episode != alert.episode or not alert.open:
                raise InvalidState(
                    f"This {alert.kind.replace('_', ' ')} alert for {alert.sku} at {alert.site} has been resolved "
                    "since you saw it; there is nothing to acknowledge.",
                    field="episode",
                )
            if alert.acknowledged_by is None:
                alert.acknowledge(episode=episode, actor=actor, occurred_at=moment)
                self.save(alert)
            return alert_view(alert)

        return self._retrying([found.id], attempt)

    def _open_episode(self, alert_id: UUID | str, episode: int, what: str) -> Alert:
        alert = self._alert(alert_id)
        if episode != alert.episode or not alert.open:
            raise InvalidState(
                f"This {alert.kind.replace('_', ' ')} alert for {alert.sku} at {alert.site} has been resolved "
                f"since you saw it; there is nothing to {what}.",
                field="episode",
            )
        return alert

    def snooze_alert(
        self, *, alert_id: UUID | str, episode: int, until: date, actor: str, occurred_at: datetime | None = None
    ) -> dict[str, Any]:
        """Take an open episode off the open list until a day after today (at most SNOOZE_DAYS ahead); it comes
        back on that day if the condition still holds, and a new episode is never snoozed."""
        moment = _utc(occurred_at)
        today = self.business_day(moment)
        if not isinstance(until, date) or isinstance(until, datetime):
            raise InvalidInput("until must be a date.", field="until")
        if until <= today:
            raise InvalidInput(f"Snooze it until a day after today ({day_in_words(today, today.year)}).", field="until")
        latest = today + timedelta(days=SNOOZE_DAYS)
        if until > latest:
            raise InvalidInput(
                f"Snooze it for at most {SNOOZE_DAYS} days, until {day_in_words(latest, today.year)} at the latest; "
                "an alert left longer is better resolved.",
                field="until",
            )
        found = self._alert(alert_id)

        def attempt() -> dict[str, Any]:
            alert = self._open_episode(found.id, episode, "snooze")
            alert.snooze(episode=episode, until=until, actor=actor, occurred_at=moment)
            self.save(alert)
            return alert_view(alert)

        return self._retrying([found.id], attempt)

    def assign_alert(
        self, *, alert_id: UUID | str, episode: int, to: str, actor: str, occurred_at: datetime | None = None
    ) -> dict[str, Any]:
        """Say who is dealing with an open episode: an active account that may see alerts at its site."""
        moment = _utc(occurred_at)
        found = self._alert(alert_id)
        email = str(to or "").strip().lower()
        person = self._get(User, user_id(email)) if email else None
        if person is None:
            raise InvalidInput(f"There is no account {email or '(none given)'}.", field="to")
        who = Principal(person.email, person.role, frozenset(person.sites))
        if not person.active or not who.can(Action.READ_ALERTS, found.site):
            raise InvalidInput(f"{person.email} does not see alerts at {found.site}: choose someone who does.",
                               field="to")  # fmt: skip

        def attempt() -> dict[str, Any]:
            alert = self._open_episode(found.id, episode, "assign")
            if getattr(alert, "assigned_to", None) != person.email:
                alert.assign(episode=episode, to=person.email, actor=actor, occurred_at=moment)
                self.save(alert)
            return alert_view(alert)

        return self._retrying([found.id], attempt)

    def alert_history(self, alert_id: UUID | str) -> list[Any]:
        """Every event of an alert, oldest first: each episode raised, told, seen, snoozed, assigned, ended."""
        try:
            the_id = alert_id if isinstance(alert_id, UUID) else UUID(str(alert_id))
        except ValueError:
            raise UnknownAlert(f"There is no alert {alert_id}.", field="alert_id") from None
        events = list(self.repository.event_store.get(the_id))
        if not events or not isinstance(events[0], Alert.Started):
            raise UnknownAlert(f"There is no alert {alert_id}.", field="alert_id")
        return events

    def record_notification(
        self,
        *,
        alert_id: UUID | str,
        episode: int,
        channel: str,
        recipients: list[str],
        occurred_at: datetime | None = None,
    ) -> dict[str, Any]:
        """Record that an episode was delivered over `channel` to `recipients` (staff addresses, a webhook).

        The same delivery recorded twice (same episode, channel and recipients) is recorded once.
        """
        moment = _utc(occurred_at)
        if not channel or not isinstance(channel, str):
            raise InvalidInput("channel must name how the alert was delivered (email, webhook, …).", field="channel")
        people = sorted({str(recipient) for recipient in recipients})
        found = self._alert(alert_id)

        def attempt() -> dict[str, Any]:
            alert = self._alert(found.id)
            if not 1 <= episode <= alert.episode:
                raise InvalidInput(f"This alert has no episode {episode}.", field="episode")
            done = any(
                entry["episode"] == episode and entry["channel"] == channel and sorted(entry["recipients"]) == people
                for entry in alert.notified
            )
            if not done:
                alert.record_notification(episode=episode, channel=channel, recipients=people, occurred_at=moment)
                self.save(alert)
            return alert_view(alert)

        return self._retrying([found.id], attempt)

    def prepare_digest(self, *, day: date, alert_ids: list[str], recipients: list[str], occurred_at: datetime) -> bool:
        """Claim the day's digest: True for the one caller that prepared it, False if it was already.

        Two workers at the same moment both try to create the same aggregate; one save wins.
        """
        moment = _utc(occurred_at)
        the_id = digest_id(day)

        def attempt() -> bool:
            if self._get(Digest, the_id) is not None:
                return False
            self.save(Digest(day=day, alert_ids=sorted(alert_ids), recipients=sorted(recipients), occurred_at=moment))
            return True

        return self._retrying([the_id], attempt)

    def record_digest_sent(self, *, day: date, recipients: list[str], occurred_at: datetime) -> None:
        """Record who the day's digest reached."""
        moment = _utc(occurred_at)
        the_id = digest_id(day)

        def attempt() -> None:
            digest = self._get(Digest, the_id)
            if digest is None:
                raise InvalidState(f"The digest for {day} was never prepared.", field="day")
            digest.record_sent(recipients=sorted(recipients), occurred_at=moment)
            self.save(digest)

        self._retrying([the_id], attempt)


def _utc(moment: datetime | None) -> datetime:
    if moment is None:
        return datetime.now(UTC)
    if not isinstance(moment, datetime) or moment.tzinfo is None or moment.utcoffset() is None:
        raise InvalidInput("The time must be a date and time with a time zone.", field="occurred_at")
    return moment.astimezone(UTC)
