"""Recording encounters: one atomic save per visit, first-expiry-first-out, and safe repeats."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from eventsourcing.domain import DomainEvent
from eventsourcing.persistence import StoredEvent

from inventory.application import InventoryApplication
from inventory.domain import Encounter, StockLedger, encounter_id, ledger_id
from inventory.domain.errors import IdempotencyConflict, InsufficientStock, InvalidInput, LotExpired
from inventory.domain.time_words import day_in_words
from tests.conftest import ADMIN, days_ago, seed_catalog

OUTREACH = "outreach@example.org"
KEY = "enc-7f3a9c21-0001"


@pytest.fixture
def van(app: InventoryApplication) -> InventoryApplication:
    """A van stocked with two lots of naloxone and one of syringes."""
    seed_catalog(app)
    soon, late = (days_ago(-days).date().isoformat() for days in (60, 400))
    for lot, quantity, expires_on in (("N-LATE", 20, late), ("N-SOON", 5, soon)):
        app.receive_stock(
            site="VAN-1",
            sku="NALOX-4MG",
            lot=lot,
            quantity=quantity,
            expires_on=expires_on,
            funding_source="SOR",
            actor=ADMIN,
            occurred_at=days_ago(2),
        )
    app.receive_stock(
        site="VAN-1", sku="SYR-1ML", lot="S-1", quantity=100, expires_on=None, funding_source="STATE", actor=ADMIN,
        occurred_at=days_ago(2),
    )  # fmt: skip
    return app


def head(app: InventoryApplication) -> int:
    """The position of the newest event in the log."""
    return app.recorder.max_notification_id() or 0


def events_after(app: InventoryApplication, position: int) -> list[tuple[int, DomainEvent]]:
    """Every event recorded after `position` with its position, oldest first."""
    notifications = app.recorder.select_notifications(start=position, limit=1000, inclusive_of_start=False)
    events = [(n.id, app.mapper.to_domain_event(n)) for n in notifications]
    assert all(isinstance(event, DomainEvent) for _, event in events)
    return events  # type: ignore[return-value]


def lots(app: InventoryApplication, sku: str, site: str = "VAN-1") -> dict[str, int]:
    """Units left in each lot of one ledger."""
    return {row["lot"]: row["quantity"] for row in app.stock(site, sku)["lots"]}


def taken(answer: dict[str, Any]) -> list[tuple[str, int]]:
    """(lot, quantity) handed out, line by line, as an encounter's answer lists them."""
    return [(pick["lot"], pick["quantity"]) for line in answer["lines"] for pick in line["lots"]]


def record(app: InventoryApplication, key: str = KEY, **overrides: Any) -> dict[str, Any]:
    """Record a typical visit: two naloxone kits and ten syringes."""
    request: dict[str, Any] = {
        "site": "VAN-1",
        "lines": [{"sku": "NALOX-4MG", "quantity": 2}, {"sku": "SYR-1ML", "quantity": 10}],
        "actor": OUTREACH,
    }
    request.update(overrides)
    return app.record_encounter(key=key, **request)


def spy_on_inserts(app: InventoryApplication, monkeypatch: pytest.MonkeyPatch) -> list[list[StoredEvent]]:
    """Collect the stored events of each call to the recorder: one call is one transaction."""
    calls: list[list[StoredEvent]] = []
    insert: Callable[..., Any] = app.recorder.insert_events

    def recording(stored_events: Sequence[StoredEvent], **kwargs: Any) -> Any:
        calls.append(list(stored_events))
        return insert(stored_events, **kwargs)

    monkeypatch.setattr(app.recorder, "insert_events", recording)
    return calls


def test_an_encounter_and_every_ledger_it_touches_are_saved_in_one_atomic_save(
    van: InventoryApplication, monkeypatch: pytest.MonkeyPatch
) -> None:
    before = head(van)
    inserts = spy_on_inserts(van, monkeypatch)

    answer = record(van)

    recorded = events_after(van, before)
    assert [position for position, _ in recorded] == list(range(before + 1, before + 4))
    assert head(van) == before + 3
    assert len(inserts) == 1 and len(inserts[0]) == 3
    by_aggregate = {event.originator_id: event for _, event in recorded}
    the_encounter = encounter_id(OUTREACH, KEY)
    assert set(by_aggregate) == {the_encounter, ledger_id("VAN-1", "NALOX-4MG"), ledger_id("VAN-1", "SYR-1ML")}
    assert isinstance(by_aggregate[the_encounter], Encounter.Recorded)  # type: ignore[attr-defined]
    for sku in ("NALOX-4MG", "SYR-1ML"):
        distributed = by_aggregate[ledger_id("VAN-1", sku)]
        assert isinstance(distributed, StockLedger.Distributed)
        assert distributed.encounter_id == the_encounter
    assert answer["id"] == str(the_encounter)


def test_a_failing_second_line_writes_nothing_and_leaves_the_first_ledger_unchanged(
    van: InventoryApplication, monkeypatch: pytest.MonkeyPatch
) -> None:
    before, naloxone_before = head(van), lots(van, "NALOX-4MG")
    inserts = spy_on_inserts(van, monkeypatch)

    with pytest.raises(InsufficientStock) as refused:
        record(van, lines=[{"sku": "NALOX-4MG", "quantity": 2}, {"sku": "SYR-1ML", "quantity": 500}])

    assert refused.value.message == "Only 100 syringes of SYR-1ML left at VAN-1; 500 requested."
    assert inserts == []
    assert head(van) == before
    assert lots(van, "NALOX-4MG") == naloxone_before
    assert van.stock("VAN-1", "NALOX-4MG")["version"] == 3
    with pytest.raises(InvalidInput, match="No encounter was recorded"):
        van.encounter(KEY, OUTREACH)


def test_a_refused_encounter_does_not_use_up_its_key(van: InventoryApplication) -> None:
    with pytest.raises(InsufficientStock):
        record(van, lines=[{"sku": "NALOX-4MG", "quantity": 2}, {"sku": "SYR-1ML", "quantity": 500}])

    answer = record(van, lines=[{"sku": "NALOX-4MG", "quantity": 2}, {"sku": "SYR-1ML", "quantity": 50}])

    assert [line["quantity"] for line in answer["lines"]] == [2, 50]
    assert lots(van, "SYR-1ML") == {"S-1": 50}


def test_an_encounter_issues_the_lot_that_expires_first_and_says_which(van: InventoryApplication) -> None:
    answer = record(van, lines=[{"sku": "NALOX-4MG", "quantity": 7}])

    (line,) = answer["lines"]
    assert (line["sku"], line["quantity"]) == ("NALOX-4MG", 7)
    assert taken(answer) == [("N-SOON", 5), ("N-LATE", 2)]
    assert lots(van, "NALOX-4MG") == {"N-LATE": 18}


def test_an_encounter_may_name_the_lot_handed_out(van: InventoryApplication) -> None:
    record(van, lines=[{"sku": "NALOX-4MG", "quantity": 1, "lot": "N-LATE"}])

    assert lots(van, "NALOX-4MG") == {"N-SOON": 5, "N-LATE": 19}


def test_an_expired_lot_is_never_handed_out(van: InventoryApplication) -> None:
    yesterday = days_ago(1).date()
    van.receive_stock(
        site="VAN-1",
        sku="NALOX-4MG",
        lot="N-OLD",
        quantity=3,
        expires_on=yesterday,
        funding_source="SOR",
        actor=ADMIN,
        occurred_at=days_ago(30),
    )
    before = head(van)

    with pytest.raises(LotExpired) as refused:
        record(van, key="enc-named-expired", lines=[{"sku": "NALOX-4MG", "quantity": 1, "lot": "N-OLD"}])
    assert f"expired on {day_in_words(yesterday)}" in refused.value.message
    assert head(van) == before

    answer = record(van, key="enc-first-expiry", lines=[{"sku": "NALOX-4MG", "quantity": 1}])
    assert taken(answer) == [("N-SOON", 1)]


def test_a_tally_entered_late_may_issue_a_lot_that_was_in_date_that_day(van: InventoryApplication) -> None:
    expiry = days_ago(1)
    van.receive_stock(
        site="VAN-1",
        sku="NALOX-4MG",
        lot="N-OLD",
        quantity=3,
        expires_on=expiry.date(),
        funding_source="SOR",
        actor=ADMIN,
        occurred_at=days_ago(30),
    )
    on_expiry_day = datetime.combine(expiry.date(), datetime.min.time(), tzinfo=UTC) + timedelta(hours=12)

    answer = record(van, lines=[{"sku": "NALOX-4MG", "quantity": 1}], occurred_at=on_expiry_day)

    assert taken(answer) == [("N-OLD", 1)]


def test_an_item_never_received_at_the_site_is_refused_with_a_clear_message(van: InventoryApplication) -> None:
    with pytest.raises(InsufficientStock) as refused:
        record(van, site="WH", lines=[{"sku": "SYR-1ML", "quantity": 1}])

    assert refused.value.message == "There is no SYR-1ML at WH: none has been received there."
    assert refused.value.field == "lines[0].sku"


def test_the_same_key_twice_records_one_encounter_and_answers_the_same(van: InventoryApplication) -> None:
    first = record(van, participant_code="blue42", occurred_at=days_ago(0.1))
    after_first = head(van)

    again = record(van, participant_code="blue42", occurred_at=first["occurred_at"])

    assert again == first
    assert head(van) == after_first
    assert lots(van, "NALOX-4MG") == {"N-SOON": 3, "N-LATE": 20}
    assert lots(van, "SYR-1ML") == {"S-1": 90}


def test_a_repeat_without_a_time_is_still_a_repeat(van: InventoryApplication) -> None:
    first = record(van)
    after_first = head(van)

    assert record(van) == first
    assert head(van) == after_first


def test_a_repeat_after_a_restart_answers_the_same(van: InventoryApplication, database_url: str) -> None:
    first = record(van, participant_code="blue42")
    after_first = head(van)
    restarted = InventoryApplication(database_url)
    try:
        assert record(restarted, participant_code="BLUE42") == first
        assert head(restarted) == after_first
    finally:
        restarted.close()


@pytest.mark.parametrize(
    "change",
    [
        {"lines": [{"sku": "NALOX-4MG", "quantity": 3}, {"sku": "SYR-1ML", "quantity": 10}]},
        {"lines": [{"sku": "NALOX-4MG", "quantity": 2}]},
        {"participant_code": "OTHER1"},
        {"reversals_reported": 1},
        {"site": "WH"},
    ],
    ids=["quantity", "lines", "participant", "reversals", "site"],
)
def test_the_same_key_with_a_different_request_is_an_idempotency_conflict(
    van: InventoryApplication, change: dict[str, Any]
) -> None:
    record(van)
    before, naloxone = head(van), lots(van, "NALOX-4MG")

    with pytest.raises(IdempotencyConflict) as refused:
        record(van, **change)

    assert refused.value.field == "key"
    assert "already used for a different encounter" in refused.value.message
    assert head(van) == before
    assert lots(van, "NALOX-4MG") == naloxone


def test_an_encounter_keeps_what_was_reported_and_nothing_that_identifies_a_person(
    van: InventoryApplication,
) -> None:
    answer = record(
        van, participant_code=" zx81 ", reversals_reported=1, syringes_collected=40, refill_reason="used_on_overdose"
    )

    assert answer["participant_code"] == "ZX81"
    assert (answer["reversals_reported"], answer["syringes_collected"]) == (1, 40)
    assert answer["refill_reason"] == "used_on_overdose"
    assert van.encounter(KEY, OUTREACH) == answer


def test_an_encounter_records_the_actor_and_when_it_happened_apart_from_when_it_was_recorded(
    van: InventoryApplication,
) -> None:
    happened = days_ago(0.5)
    before = head(van)

    answer = record(van, occurred_at=happened)
    recorded = datetime.now(UTC)

    events = [event for _, event in events_after(van, before)]
    assert len(events) == 3
    for event in events:
        assert event.actor == OUTREACH  # type: ignore[attr-defined]
        assert event.occurred_at == happened  # type: ignore[attr-defined]
        assert happened + timedelta(hours=11) < event.timestamp <= recorded
    assert answer["occurred_at"] == happened
    (recorded_event,) = [event for event in events if event.originator_id == encounter_id(OUTREACH, KEY)]
    assert answer["recorded_at"] == recorded_event.timestamp
    assert answer["actor"] == OUTREACH


def test_a_visit_that_only_returns_syringes_or_reports_a_reversal_touches_no_stock(van: InventoryApplication) -> None:
    before = van.stock("VAN-1", "SYR-1ML")["on_hand"]
    result = van.record_encounter(key=KEY, site="VAN-1", lines=[], syringes_collected=40, actor=OUTREACH)
    assert result["lines"] == [] and result["syringes_collected"] == 40
    reversal = van.record_encounter(key=KEY + "-b", site="VAN-1", lines=[], reversals_reported=1, actor=OUTREACH)
    assert reversal["reversals_reported"] == 1
    assert van.stock("VAN-1", "SYR-1ML")["on_hand"] == before


def test_a_visit_with_nothing_at_all_is_refused(van: InventoryApplication) -> None:
    with pytest.raises(InvalidInput, match="Add at least one item") as refused:
        van.record_encounter(key=KEY, site="VAN-1", lines=[], actor=OUTREACH)
    assert refused.value.field == "lines"
