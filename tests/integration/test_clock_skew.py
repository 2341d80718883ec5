"""A phone's clock running a few minutes fast never blocks anything: a moment within the allowed skew
is recorded as now, so a count dated ahead does not refuse the visits recorded after it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from inventory.application import InventoryApplication
from inventory.application.rules import CLOCK_SKEW
from inventory.domain.errors import InvalidInput
from tests.conftest import ADMIN, seed_catalog


@pytest.fixture
def van(app: InventoryApplication) -> InventoryApplication:
    seed_catalog(app)
    app.receive_stock(
        site="VAN-1", sku="NALOX-4MG", lot="N-1", quantity=30, expires_on="2099-12-31", funding_source="STATE",
        actor=ADMIN, occurred_at=datetime.now(UTC) - timedelta(hours=1),
    )  # fmt: skip
    return app


def test_a_count_dated_minutes_ahead_does_not_block_the_next_visit(van: InventoryApplication) -> None:
    ahead = datetime.now(UTC) + CLOCK_SKEW - timedelta(minutes=1)
    counted = van.count_stock(site="VAN-1", sku="NALOX-4MG", lot="N-1", counted=30, actor=ADMIN, occurred_at=ahead)
    assert counted["variance"] == 0

    visit = van.record_encounter(
        key="right-after-1", site="VAN-1", lines=[{"sku": "NALOX-4MG", "quantity": 2}], actor=ADMIN
    )
    assert visit["lines"][0]["quantity"] == 2
    assert van.stock("VAN-1", "NALOX-4MG")["on_hand"] == 28


def test_a_visit_dated_minutes_ahead_is_recorded_as_now(van: InventoryApplication) -> None:
    before = datetime.now(UTC)
    visit = van.record_encounter(
        key="fast-phone-1", site="VAN-1", lines=[{"sku": "NALOX-4MG", "quantity": 1}], actor=ADMIN,
        occurred_at=before + timedelta(minutes=3),
    )  # fmt: skip
    assert before <= visit["occurred_at"] <= datetime.now(UTC)


def test_beyond_the_skew_a_moment_is_still_refused_as_in_the_future(van: InventoryApplication) -> None:
    with pytest.raises(InvalidInput) as refused:
        van.count_stock(
            site="VAN-1", sku="NALOX-4MG", lot="N-1", counted=30, actor=ADMIN,
            occurred_at=datetime.now(UTC) + CLOCK_SKEW + timedelta(minutes=1),
        )  # fmt: skip
    assert refused.value.field == "occurred_at" and "in the future" in refused.value.message
