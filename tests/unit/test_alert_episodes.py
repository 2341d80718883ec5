"""An alert is a condition with episodes: raised once, resolved once, raised again when it comes back."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from inventory.domain import Alert, alert_id
from inventory.domain.errors import InvalidState

NOW = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)


def shortage() -> Alert:
    return Alert(kind="out_of_stock", site="VAN-1", sku="NALOX-4MG", lot=None)


def test_the_same_condition_is_always_the_same_alert() -> None:
    assert shortage().id == alert_id("out_of_stock", "VAN-1", "NALOX-4MG")
    assert alert_id("out_of_stock", "VAN-1", "NALOX-4MG") != alert_id("out_of_stock", "WH", "NALOX-4MG")
    assert alert_id("expiring_soon", "WH", "FTS", "L1") != alert_id("expiring_soon", "WH", "FTS", "L2")


def test_an_episode_is_raised_once_and_resolved_once() -> None:
    alert = shortage()
    alert.raise_episode(details={"on_hand": 0}, occurred_at=NOW)
    with pytest.raises(InvalidState, match="already raised"):
        alert.raise_episode(details={"on_hand": 0}, occurred_at=NOW)
    alert.resolve(details={"on_hand": 40}, occurred_at=NOW)
    with pytest.raises(InvalidState, match="not raised"):
        alert.resolve(details={"on_hand": 40}, occurred_at=NOW)
    assert (alert.episode, alert.open) == (1, False)


def test_a_condition_that_comes_back_is_a_new_episode_with_its_own_deliveries() -> None:
    alert = shortage()
    alert.raise_episode(details={"on_hand": 0}, occurred_at=NOW)
    alert.record_notification(episode=1, channel="email", recipients=["buyer@example.org"], occurred_at=NOW)
    alert.acknowledge(episode=1, actor="buyer@example.org", occurred_at=NOW)
    alert.resolve(details={"on_hand": 40}, occurred_at=NOW)
    alert.raise_episode(details={"on_hand": 0}, occurred_at=NOW)
    assert (alert.episode, alert.open, alert.notified, alert.acknowledged_by) == (2, True, [], None)
    names = [type(e).__name__ for e in alert.collect_events()]
    assert names == ["Started", "Raised", "Notified", "Acknowledged", "Resolved", "Raised"]
