"""Who it went to: recipient types and channels on visits and tallies, issues to partners with their
reports back, and mail orders (sent, returned, voided), through the application and the read models."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest

from inventory.application import InventoryApplication
from inventory.domain import Encounter, Partner, StockLedger
from inventory.domain.errors import (
    AlreadyExists,
    IdempotencyConflict,
    InsufficientStock,
    InvalidInput,
    InvalidState,
    NotFound,
)
from inventory.projections import all_projections, queries, reach_queries
from inventory.projections.runner import Projector
from inventory.projections.store import read_store_for
from tests.conftest import ADMIN, read_model_rows, seed_catalog

VAN = "van@example.org"
NOW = datetime(2026, 5, 12, 18, 30, tzinfo=UTC)
TODAY = NOW.date()
pytestmark = pytest.mark.clock(NOW)


@pytest.fixture
def stocked(app: InventoryApplication) -> InventoryApplication:
    """A van with 100 naloxone kits in two lots (two funders) and 500 syringes; a shelter as partner."""
    seed_catalog(app)
    app.register_site(code="FIX-1", name="Drop-in", kind="fixed", actor=ADMIN)
    for lot, quantity, expires, fund in (("N-SOON", 40, "2027-01-31", "SOR"), ("N-LATE", 60, "2028-06-30", "STATE")):
        app.receive_stock(site="VAN-1", sku="NALOX-4MG", lot=lot, quantity=quantity, expires_on=expires,
                          funding_source=fund, actor=ADMIN, occurred_at=NOW - timedelta(days=10))  # fmt: skip
    app.receive_stock(site="VAN-1", sku="SYR-1ML", lot="S-1", quantity=500, expires_on=None, funding_source="STATE",
                      actor=ADMIN, occurred_at=NOW - timedelta(days=10))  # fmt: skip
    app.register_partner(code="SHELTER-1", name="Harbour Shelter", kind="shelter", contact_role="Shelter manager",
                         actor=ADMIN)  # fmt: skip
    return app


@pytest.fixture
def projector(stocked: InventoryApplication, database_url: str) -> Iterator[Projector]:
    store = read_store_for(database_url)
    try:
        yield Projector(stocked, store, all_projections(stocked.zone, b"who-seal"))
    finally:
        store.close()


def visit(app: InventoryApplication, key: str, **extra: Any) -> dict[str, Any]:
    asked: dict[str, Any] = {"site": "VAN-1", "lines": [{"sku": "NALOX-4MG", "quantity": 2}], "actor": VAN,
                             "occurred_at": NOW - timedelta(hours=1), **extra}  # fmt: skip
    return app.record_encounter(key=key, **asked)


def reach(projector: Projector, day: date = TODAY) -> dict[tuple[str, str, str], int]:
    projector.catch_up()
    return {
        (row["channel"], row["recipient"], row["sku"]): row["quantity"]
        for row in reach_queries.reach_by_channel(projector.store, day - timedelta(days=30), day)
    }


def contacts(projector: Projector) -> dict[tuple[str, str], tuple[int, int, int]]:
    projector.catch_up()
    rows = reach_queries.contacts_by_channel(projector.store, TODAY - timedelta(days=30), TODAY)
    return {
        (r["channel"], r["recipient"]): (r["contacts"], r["collecting_for_others"], r["people_reached"]) for r in rows
    }


def test_a_visit_says_who_it_was_for_and_how_it_left(stocked: InventoryApplication, projector: Projector) -> None:
    first = visit(stocked, "who-0000001", recipient="friend_or_family", for_others=3, channel="outreach")
    second = visit(stocked, "who-0000002")  # an API client that does not ask: not recorded, the van's channel
    assert (first["recipient"], first["for_others"], first["channel"]) == ("friend_or_family", 3, "outreach")
    assert (second["recipient"], second["for_others"], second["channel"]) == ("unknown", None, "mobile_van")
    assert reach(projector) == {
        ("outreach", "friend_or_family", "NALOX-4MG"): 2,
        ("mobile_van", "unknown", "NALOX-4MG"): 2,
    }
    assert contacts(projector) == {("outreach", "friend_or_family"): (1, 1, 3), ("mobile_van", "unknown"): (1, 0, 0)}

    # Undone, the visit leaves the channel totals too.
    stocked.void_visit(visit_id=first["id"], reason="entered_twice", actor=VAN)
    assert reach(projector) == {("mobile_van", "unknown", "NALOX-4MG"): 2}
    assert contacts(projector) == {("mobile_van", "unknown"): (1, 0, 0)}
    caught_up = read_model_rows(projector)
    projector.rebuild()
    assert read_model_rows(projector) == caught_up


def test_who_it_was_for_is_part_of_what_a_repeat_must_match(stocked: InventoryApplication) -> None:
    first = visit(stocked, "who-0000003", recipient="other", for_others=0)
    assert visit(stocked, "who-0000003", recipient="other", for_others=0) == first
    with pytest.raises(IdempotencyConflict):
        visit(stocked, "who-0000003", recipient="friend_or_family", for_others=0)
    # A visit kept by a phone with a form older than the question: the same body, the same visit.
    old = visit(stocked, "who-0000004")
    assert visit(stocked, "who-0000004") == old


def test_an_admin_adds_a_recipient_type_and_a_wrong_one_is_refused_in_words(stocked: InventoryApplication) -> None:
    stocked.add_recipient_type(code="Peer_Worker", name="Peer worker", actor=ADMIN)
    assert visit(stocked, "who-0000005", recipient="peer_worker")["recipient"] == "peer_worker"
    with pytest.raises(AlreadyExists):
        stocked.add_recipient_type(code="friend_or_family", name="Friends", actor=ADMIN)
    with pytest.raises(InvalidInput, match="There is no recipient type neighbour"):
        visit(stocked, "who-0000006", recipient="neighbour")
    stocked.retire_recipient_type(code="peer_worker", actor=ADMIN)
    with pytest.raises(InvalidInput, match="There is no recipient type peer_worker"):
        visit(stocked, "who-0000007", recipient="peer_worker")
    with pytest.raises(InvalidInput, match="channel must be one of"):
        visit(stocked, "who-0000008", channel="drone")
    with pytest.raises(InvalidInput, match="for_others must be a whole number from 0 to 500"):
        visit(stocked, "who-0000009", for_others=501)


def test_refills_take_the_new_reasons_and_older_ones_still_count(stocked: InventoryApplication) -> None:
    for key, reason in (("who-0000010", "confiscated"), ("who-0000011", "lost_or_stolen"), ("who-0000012", "lost")):
        assert visit(stocked, key, refill_reason=reason)["refill_reason"] == reason
    with pytest.raises(InvalidInput, match="refill_reason must be one of"):
        visit(stocked, "who-0000013", refill_reason="misplaced")


def test_a_tally_says_who_its_visitors_were_and_how_many_others_they_reached(
    stocked: InventoryApplication, projector: Projector
) -> None:
    tally = stocked.record_shift_tally(
        key="tally-who-1", site="VAN-1", shift_date=TODAY - timedelta(days=1), starts_at="19:00", ends_at="23:00",
        lines=[{"sku": "NALOX-4MG", "quantity": 10}], visits=8, recipient="person_who_uses_drugs", for_others=12,
        channel="outreach", actor=VAN, now=NOW,
    )  # fmt: skip
    assert (tally["recipient"], tally["for_others"], tally["channel"]) == ("person_who_uses_drugs", 12, "outreach")
    assert reach(projector) == {("outreach", "person_who_uses_drugs", "NALOX-4MG"): 10}
    assert contacts(projector) == {("outreach", "person_who_uses_drugs"): (8, 0, 12)}


def test_an_issue_to_a_partner_leaves_the_site_and_counts_apart_from_visits(
    stocked: InventoryApplication, projector: Projector
) -> None:
    visit(stocked, "who-0000020", recipient="person_who_uses_drugs")
    issue = stocked.issue_to_partner(
        key="partner-issue-1", site="VAN-1", partner="shelter-1", lines=[{"sku": "NALOX-4MG", "quantity": 45}],
        actor=VAN, occurred_at=NOW - timedelta(minutes=30),
    )  # fmt: skip
    # First expiry first out, across two lots and two funders, as for any issue.
    [line] = issue["lines"]
    assert [(p["lot"], p["quantity"], p["funding_source"]) for p in line["lots"]] == [
        ("N-SOON", 38, "SOR"),
        ("N-LATE", 7, "STATE"),
    ]
    assert stocked.stock("VAN-1", "NALOX-4MG")["on_hand"] == 100 - 2 - 45
    assert stocked.issue_to_partner(
        key="partner-issue-1", site="VAN-1", partner="SHELTER-1", lines=[{"sku": "NALOX-4MG", "quantity": 45}],
        actor=VAN, occurred_at=NOW - timedelta(minutes=30),
    ) == issue  # fmt: skip
    with pytest.raises(InsufficientStock):
        stocked.issue_to_partner(key="partner-issue-2", site="VAN-1", partner="SHELTER-1",
                                 lines=[{"sku": "NALOX-4MG", "quantity": 54}], actor=VAN)  # fmt: skip
    with pytest.raises(NotFound, match="no partner organisation with code NOBODY"):
        stocked.issue_to_partner(key="partner-issue-3", site="VAN-1", partner="NOBODY",
                                 lines=[{"sku": "NALOX-4MG", "quantity": 1}], actor=VAN)  # fmt: skip

    assert reach(projector) == {
        ("mobile_van", "person_who_uses_drugs", "NALOX-4MG"): 2,
        ("partner", "partner_organisation", "NALOX-4MG"): 45,
    }
    # The visits' totals know nothing of the partner; the stock card and the days of supply do.
    assert sum(row["quantity"] for row in queries.daily_totals(projector.store, TODAY, TODAY)) == 2
    card = queries.stock_card(projector.store, "VAN-1", "NALOX-4MG", TODAY, TODAY)
    assert [(r["kind"], r["quantity"], r["other_site"]) for r in card.rows if r["kind"] == "to_partner"] == [
        ("to_partner", -38, "SHELTER-1"),
        ("to_partner", -7, "SHELTER-1"),
    ]
    [use] = queries.consumption(projector.store, TODAY, site="VAN-1", sku="NALOX-4MG")
    assert use["used"] == 47

    stocked.void_partner_issue(issue_id=issue["id"], reason="wrong_site", actor=VAN)
    assert stocked.stock("VAN-1", "NALOX-4MG")["on_hand"] == 98
    assert reach(projector) == {("mobile_van", "person_who_uses_drugs", "NALOX-4MG"): 2}


def test_a_partner_reports_back_once_per_period(stocked: InventoryApplication, projector: Projector) -> None:
    april = (date(2026, 4, 1), date(2026, 4, 30))
    stocked.report_back(partner="SHELTER-1", starts_on=april[0], ends_on=april[1], kits_distributed=30,
                        reversals_reported=2, kits_remaining=15, actor=ADMIN)  # fmt: skip
    # The same period again replaces it; an overlapping one is refused in words; a future one too.
    stocked.report_back(partner="SHELTER-1", starts_on=april[0], ends_on=april[1], kits_distributed=31,
                        reversals_reported=2, kits_remaining=14, actor=ADMIN)  # fmt: skip
    with pytest.raises(InvalidState, match="already reported for Wed 1 Apr 2026 to Thu 30 Apr 2026, which overlaps"):
        stocked.report_back(partner="SHELTER-1", starts_on="2026-04-15", ends_on="2026-05-10", kits_distributed=1,
                            actor=ADMIN)  # fmt: skip
    with pytest.raises(InvalidInput, match="may end today at the latest"):
        stocked.report_back(partner="SHELTER-1", starts_on="2026-05-01", ends_on="2026-05-31", kits_distributed=1,
                            actor=ADMIN)  # fmt: skip
    with pytest.raises(InvalidInput, match="end on or after"):
        stocked.report_back(partner="SHELTER-1", starts_on="2026-05-10", ends_on="2026-05-01", kits_distributed=1,
                            actor=ADMIN)  # fmt: skip
    projector.catch_up()
    [report] = reach_queries.partner_reports(projector.store, "SHELTER-1")
    assert (report["kits_distributed"], report["kits_remaining"], report["revisions"]) == (31, 14, 1)
    partner = stocked.aggregate(Partner.create_id("SHELTER-1"))
    assert list(partner.reports) == [april]


def test_a_mail_order_leaves_on_its_day_and_a_returned_parcel_comes_back_on_its_own(
    stocked: InventoryApplication, projector: Projector
) -> None:
    sent = stocked.send_mail_order(
        key="mail-0000001", site="VAN-1",
        lines=[{"sku": "NALOX-4MG", "quantity": 2}, {"sku": "SYR-1ML", "quantity": 20}],
        carrier="Canada Post", tracking="ab 1234 5678 ca", recipient="person_who_uses_drugs", for_others=1,
        actor=VAN, occurred_at=NOW - timedelta(days=3),
    )  # fmt: skip
    assert sent["tracking"] == "AB12345678CA" and sent["returned_at"] is None
    assert reach(projector) == {
        ("mail", "person_who_uses_drugs", "NALOX-4MG"): 2,
        ("mail", "person_who_uses_drugs", "SYR-1ML"): 20,
    }
    back = stocked.parcel_returned(mail_order=sent["id"], actor=VAN, occurred_at=NOW - timedelta(hours=2))
    assert back["returned_at"] == NOW - timedelta(hours=2)
    assert stocked.parcel_returned(mail_order=sent["id"], actor=VAN) == back  # sent again: nothing more
    assert stocked.stock("VAN-1", "NALOX-4MG")["on_hand"] == 100
    # Stock was out for three days: the card shows the parcel leaving and coming back, each on its day.
    projector.catch_up()
    card = queries.stock_card(projector.store, "VAN-1", "NALOX-4MG", TODAY - timedelta(days=5), TODAY)
    parcel = [(r["business_date"], r["quantity"], r["reason"]) for r in card.rows if r["kind"] == "mailed"]
    assert parcel == [((TODAY - timedelta(days=3)).isoformat(), -2, None), (TODAY.isoformat(), 2, "parcel returned")]
    assert reach(projector, TODAY - timedelta(days=1)) == {
        ("mail", "person_who_uses_drugs", "NALOX-4MG"): 2,
        ("mail", "person_who_uses_drugs", "SYR-1ML"): 20,
    }
    assert reach(projector) == {}  # over the month: sent and returned
    with pytest.raises(InvalidInput, match="tracking reference"):
        stocked.send_mail_order(key="mail-0000002", site="VAN-1", lines=[{"sku": "NALOX-4MG", "quantity": 1}],
                                carrier="Post", tracking="12 Main St", actor=VAN)  # fmt: skip

    # A mail order entered by mistake is voided: its return is undone with it, and nothing is left over.
    stocked.void_mail_order(mail_order_id=sent["id"], reason="entered_by_mistake", actor=ADMIN)
    assert stocked.stock("VAN-1", "NALOX-4MG")["on_hand"] == 100
    assert reach(projector, TODAY - timedelta(days=1)) == {}
    other = stocked.send_mail_order(key="mail-0000003", site="VAN-1", lines=[{"sku": "NALOX-4MG", "quantity": 1}],
                                    carrier="Post", tracking="RR123456789CA", actor=VAN)  # fmt: skip
    with pytest.raises(InvalidState, match="cannot come back before it was sent"):
        stocked.parcel_returned(mail_order=other["id"], actor=VAN, occurred_at=NOW - timedelta(days=1))
    stocked.void_mail_order(mail_order_id=other["id"], reason="did_not_happen", actor=VAN)
    with pytest.raises(InvalidState, match="void: nothing was sent"):
        stocked.parcel_returned(mail_order=other["id"], actor=VAN)
    projector.catch_up()
    caught_up = read_model_rows(projector)
    projector.rebuild()
    assert read_model_rows(projector) == caught_up


def test_the_ledger_events_say_what_they_moved(stocked: InventoryApplication) -> None:
    """Each new movement names its lots, so that it reads on its own (and replays the same)."""
    stocked.issue_to_partner(key="partner-issue-9", site="VAN-1", partner="SHELTER-1",
                             lines=[{"sku": "SYR-1ML", "quantity": 100}], actor=VAN)  # fmt: skip
    ledger = stocked.ledger_aggregate("VAN-1", "SYR-1ML")
    assert ledger is not None and ledger.on_hand == 400
    events = list(stocked.repository.event_store.get(ledger.id))
    issued = [e for e in events if isinstance(e, StockLedger.IssuedToPartner)]
    assert [(e.partner, e.picks[0]["lot"], e.picks[0]["quantity"]) for e in issued] == [("SHELTER-1", "S-1", 100)]
    assert isinstance(stocked.aggregate(ledger.id), StockLedger)
    assert stocked.aggregate(ledger.id).on_hand == 400
    assert not isinstance(stocked.aggregate(ledger.id), Encounter)
