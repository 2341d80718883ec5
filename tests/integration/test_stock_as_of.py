"""Stock in the past: the read model's answers equal the ledgers replayed by hand.

Two questions, two answers. `stock_as_of(day)` is stock at the end of a business day as the log
knows it now, backdated entries included; `stock_known_at(position)` is stock as the log knew it at
a position, so nothing recorded after it changes the answer.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any
from uuid import UUID
from zoneinfo import ZoneInfo

import pytest

from inventory.application import InventoryApplication
from inventory.domain import StockLedger
from inventory.domain.errors import AlreadyExists, CountConflict, InsufficientStock, InvalidInput
from inventory.projections import all_projections, queries
from inventory.projections.replay import stock_known_at
from inventory.projections.runner import Projector
from inventory.projections.store import ReadStore, read_store_for
from tests.conftest import ADMIN, seed_catalog

ZONE = ZoneInfo("America/New_York")
OUTREACH = "outreach@example.org"
DRIVER = "driver@example.org"
WEEKS = 3
SEED = 20260317

LotKey = tuple[str, str, str]  # site, sku, lot
LotState = tuple[int, date | None, str | None]  # quantity, expiry, funding source


@dataclass
class Program:
    app: InventoryApplication
    store: ReadStore
    projector: Projector
    today: date

    def day(self, days_ago: int) -> date:
        return self.today - timedelta(days=days_ago)

    def at(self, days_ago: int, hour: int, minute: int = 0) -> datetime:
        """A local wall-clock moment `days_ago` days ago, in New York."""
        return datetime.combine(self.day(days_ago), time(hour, minute), tzinfo=ZONE)

    def as_of(self, day: date) -> dict[LotKey, LotState]:
        self.projector.catch_up()
        return by_lot(queries.stock_as_of(self.store, day))


@pytest.fixture
def program(database_url: str) -> Iterator[Program]:
    """A program in New York with a warehouse and a van, on SQLite and on PostgreSQL."""
    app = InventoryApplication(database_url, timezone_name="America/New_York")
    store = read_store_for(database_url)
    try:
        seed_catalog(app)
        projector = Projector(app, store, all_projections(app.zone, b"as-of-tests"))
        yield Program(app, store, projector, datetime.now(ZONE).date())
    finally:
        store.close()
        app.close()


# ----- a few weeks of activity ------------------------------------------------------------------


@dataclass
class Step:
    when: datetime
    what: str
    do: Callable[[], Any]
    late: bool = False  # entered after everything else, with its own (earlier) date


@dataclass
class History:
    on_time: list[Step] = field(default_factory=list)
    late: list[Step] = field(default_factory=list)
    refused: list[str] = field(default_factory=list)
    head_before_late: int = 0


def plan(program: Program, rng: random.Random) -> list[Step]:
    """Receipts, visits, transfers (received in full, short, or cancelled), adjustments and counts."""
    app, at = program.app, program.at
    expiry = program.today + timedelta(days=500)
    steps: list[Step] = []
    first = WEEKS * 7

    def receive(site: str, sku: str, lot: str, quantity: int, funding: str, when: datetime) -> Step:
        return Step(
            when,
            f"receive {quantity} {sku} lot {lot} at {site}",
            lambda: app.receive_stock(
                site=site,
                sku=sku,
                lot=lot,
                quantity=quantity,
                funding_source=funding,
                actor=ADMIN,
                occurred_at=when,
                expires_on=expiry if sku == "NALOX-4MG" else None,
            ),
        )

    steps += [
        receive("WH", "NALOX-4MG", "N-OPEN-1", 120, "SOR", at(first, 8)),
        receive("WH", "NALOX-4MG", "N-OPEN-2", 80, "STATE", at(first, 8, 5)),
        receive("WH", "SYR-1ML", "S-OPEN", 3000, "STATE", at(first, 8, 10)),
        receive("VAN-1", "NALOX-4MG", "N-VAN", 40, "STATE", at(first, 8, 15)),
        receive("VAN-1", "SYR-1ML", "S-VAN", 600, "STATE", at(first, 8, 20)),
    ]
    visit = 0
    for ago in range(first - 1, 0, -1):
        if ago % 6 == 0:
            steps.append(receive("WH", "NALOX-4MG", f"N-{ago}", 60, rng.choice(["SOR", "STATE"]), at(ago, 8)))
            steps.append(receive("WH", "SYR-1ML", f"S-{ago}", 1000, "STATE", at(ago, 8, 5)))
        for _ in range(rng.randint(1, 4)):
            visit += 1
            site = rng.choice(["VAN-1", "VAN-1", "WH"])
            lines = [{"sku": "NALOX-4MG", "quantity": rng.randint(1, 3)}]
            if rng.random() < 0.6:
                lines.append({"sku": "SYR-1ML", "quantity": rng.randint(10, 50)})
            when = at(ago, rng.randint(10, 22), rng.randint(0, 59))
            steps.append(
                Step(
                    when,
                    f"visit {visit} at {site}: {lines}",
                    lambda key=f"as-of-visit-{visit:04d}", site=site, lines=lines, when=when: app.record_encounter(
                        key=key, site=site, lines=lines, actor=OUTREACH, occurred_at=when
                    ),
                )
            )
        if ago % 3 == 2:
            steps += transfer(program, ago, rng.choice(["in full", "short", "cancelled"]), rng)
        if rng.random() < 0.35:
            steps.append(adjustment(program, ago, rng))
        if ago % 7 == 3:
            steps.append(count(program, ago, rng.choice(["NALOX-4MG", "SYR-1ML"]), rng.randint(-3, 1)))
    return steps


def transfer(program: Program, ago: int, outcome: str, rng: random.Random) -> list[Step]:
    """Dispatch from the warehouse to the van; the next day it arrives (all or part), or it is called off."""
    app, at = program.app, program.at
    sent: dict[str, Any] = {}
    lines = [
        {"sku": "NALOX-4MG", "quantity": rng.randint(10, 20)},
        {"sku": "SYR-1ML", "quantity": rng.randint(100, 300)},
    ]

    def dispatch() -> None:
        sent.update(
            app.dispatch_transfer(from_site="WH", to_site="VAN-1", lines=lines, actor=DRIVER, occurred_at=at(ago, 9))
        )

    def close() -> None:
        if not sent:
            return  # the dispatch was refused
        if outcome == "cancelled":
            app.cancel_transfer(transfer_id=sent["id"], reason="van broke down", actor=DRIVER, occurred_at=at(ago, 17))
            return
        short = 2 if outcome == "short" else 0
        received = [
            {"sku": r["sku"], "lot": r["lot"], "quantity": max(r["quantity"] - short, 0)} for r in sent["lines"]
        ]
        app.receive_transfer(transfer_id=sent["id"], received=received, actor=OUTREACH, occurred_at=at(ago - 1, 11))

    closes_at = at(ago, 17) if outcome == "cancelled" else at(ago - 1, 11)
    return [Step(at(ago, 9), f"transfer ({outcome})", dispatch), Step(closes_at, f"transfer {outcome}", close)]


def adjustment(program: Program, ago: int, rng: random.Random) -> Step:
    """A damaged kit or two written off, or a few syringes found, in the fullest lot at the time."""
    app, when = program.app, program.at(ago, rng.randint(9, 18))
    site, found = rng.choice(["WH", "VAN-1"]), rng.random() < 0.4
    sku, quantity = ("SYR-1ML", rng.randint(1, 5)) if found else ("NALOX-4MG", -rng.randint(1, 2))

    def adjust() -> None:
        lots = app.stock(site, sku)["lots"]
        if not lots:
            raise InsufficientStock(f"no {sku} at {site} to adjust")
        fullest = max(lots, key=lambda lot: lot["quantity"])
        app.adjust_stock(
            site=site,
            sku=sku,
            lot=fullest["lot"],
            quantity=quantity,
            reason="found" if found else "damaged",
            actor=ADMIN,
            occurred_at=when,
        )

    return Step(when, f"adjust {sku} at {site} by {quantity}", adjust)


def count(program: Program, ago: int, sku: str, off_by: int) -> Step:
    """A physical count of the van's fullest lot, a few units off what the ledger expects."""
    app, when = program.app, program.at(ago, 19)

    def do() -> None:
        lots = app.stock("VAN-1", sku)["lots"]
        if not lots:
            raise InsufficientStock(f"no {sku} at VAN-1 to count")
        fullest = max(lots, key=lambda lot: lot["quantity"])
        app.count_stock(
            site="VAN-1",
            sku=sku,
            lot=fullest["lot"],
            counted=max(fullest["quantity"] + off_by, 0),
            actor=OUTREACH,
            occurred_at=when,
        )

    return Step(when, f"count {sku} at VAN-1", do)


def record_history(program: Program, *, hold_back_late: bool = False) -> History:
    """Record the plan day by day; about one visit, receipt or adjustment in eight is entered late.

    Counts and transfers are entered on time: a count is what was on the shelf when it was entered (a count
    dated before movements already entered is a bug of its own, below).
    """
    rng = random.Random(SEED)
    history, opening = History(), program.day(WEEKS * 7)
    for step in plan(program, rng):
        dated = step.when.date()
        late_capable = step.what.startswith(("visit", "receive", "adjust")) and opening < dated < program.day(1)
        step.late = late_capable and rng.random() < 0.125
        (history.late if step.late else history.on_time).append(step)
    history.on_time.sort(key=lambda step: step.when)
    rng.shuffle(history.late)
    run(history, history.on_time)
    history.head_before_late = head(program.app)
    if not hold_back_late:
        run(history, history.late)
    return history


def run(history: History, steps: list[Step]) -> None:
    for step in steps:
        try:
            step.do()
        except (InsufficientStock, InvalidInput) as refused:
            history.refused.append(f"{step.what}: {refused}")


def record_late(history: History) -> None:
    run(history, history.late)


# ----- replaying the ledgers by hand ----------------------------------------------------------


def head(app: InventoryApplication) -> int:
    return int(app.recorder.max_notification_id() or 0)


def logged(app: InventoryApplication) -> list[tuple[int, Any]]:
    """Every event with its position, in log order."""
    return [(n.id, app.mapper.to_domain_event(n)) for n in app.recorder.select_notifications(start=1, limit=100_000)]


def ledgers_replayed_to(app: InventoryApplication, day: date, log: list[tuple[int, Any]]) -> dict[LotKey, LotState]:
    """Each ledger, from its Opened event, with only the movements dated on or before `day` applied in log order.

    A movement dated before the receipt of the lot it drew from (entered late) finds no lot yet: it opens the lot
    empty, so the lot goes below zero, as it did on paper.
    """
    ledgers: dict[UUID, StockLedger] = {}
    for _, event in log:
        if isinstance(event, StockLedger.Opened):  # type: ignore[attr-defined]
            ledgers[event.originator_id] = event.mutate(None)
        elif isinstance(event, StockLedger.Movement) and app.business_day(event.occurred_at) <= day:
            ledger = ledgers[event.originator_id]
            for row in getattr(event, "picks", None) or getattr(event, "lots", None) or [vars(event)]:
                ledger._put(row["lot"], 0, row["expires_on"], row["funding_source"], event, "")
            event.apply(ledger)
    return lots_of(ledgers.values())


def ledgers_loaded_at(app: InventoryApplication, position: int) -> dict[LotKey, LotState]:
    """Each ledger loaded at the last version it had reached at `position` in the log."""
    versions: dict[UUID, int] = {}
    for at, event in logged(app):
        if at > position:
            break
        if isinstance(event, StockLedger.Opened) or event.originator_id in versions:  # type: ignore[attr-defined]
            versions[event.originator_id] = event.originator_version
    return lots_of(app.repository.get(ledger, version=version) for ledger, version in versions.items())


def lots_of(ledgers: Any) -> dict[LotKey, LotState]:
    return {
        (ledger.site, ledger.sku, lot.code): (lot.quantity, lot.expires_on, lot.funding_source)
        for ledger in ledgers
        for lot in ledger.lots.values()
        if lot.quantity
    }


def by_lot(rows: list[dict[str, Any]]) -> dict[LotKey, LotState]:
    """Read-model rows in the same shape as the replayed ledgers."""
    return {
        (row["site"], row["sku"], row["lot"]): (
            int(row["quantity"]),
            date.fromisoformat(row["expires_on"]) if row["expires_on"] else None,
            row["funding_source"],
        )
        for row in rows
    }


def assert_varied(program: Program, history: History) -> None:
    """The history exercises what it should: every kind of movement, and entries made days late."""
    kinds = {type(event).__qualname__ for _, event in logged(program.app)}
    for kind in ("Received", "Distributed", "Dispatched", "Arrived", "Returned", "Adjusted", "Counted"):
        assert f"StockLedger.{kind}" in kinds
    transfers = [e for _, e in logged(program.app) if type(e).__qualname__ == "Transfer.Received"]
    assert any(e.shortfall for e in transfers) and any(not e.shortfall for e in transfers)
    backdated = [
        e
        for _, e in logged(program.app)
        if isinstance(e, StockLedger.Movement) and (e.timestamp - e.occurred_at) > timedelta(days=2)
    ]
    assert len(backdated) >= 10
    assert len(history.late) >= 5
    assert len(history.refused) < len(history.on_time) // 10, history.refused


# ----- the tests ---------------------------------------------------------------------------


def test_stock_at_the_end_of_every_past_day_equals_the_ledgers_replayed_to_that_day(program: Program) -> None:
    history = record_history(program)
    assert_varied(program, history)

    log = logged(program.app)
    for ago in range(WEEKS * 7 + 1, -1, -1):
        day = program.day(ago)
        assert program.as_of(day) == ledgers_replayed_to(program.app, day, log), f"stock at the end of {day}"


def test_a_movement_entered_late_is_in_the_stock_of_its_own_date_and_every_date_after(program: Program) -> None:
    history = record_history(program, hold_back_late=True)
    before = {ago: program.as_of(program.day(ago)) for ago in range(WEEKS * 7 + 1, -1, -1)}
    record_late(history)

    earliest = min(program.app.business_day(step.when) for step in history.late)
    log = logged(program.app)
    for ago, stock in before.items():
        day = program.day(ago)
        now_known = program.as_of(day)
        assert now_known == ledgers_replayed_to(program.app, day, log)
        if day < earliest:
            assert now_known == stock, f"nothing entered late is dated on or before {day}"
    assert program.as_of(earliest) != before[(program.today - earliest).days]


def test_stock_known_at_a_past_position_equals_the_ledgers_loaded_at_that_position(program: Program) -> None:
    record_history(program)
    last = head(program.app)

    for position in sorted({*range(1, last + 1, max(last // 9, 1)), last}):
        known = by_lot(stock_known_at(program.app, ZONE, position))
        assert known == ledgers_loaded_at(program.app, position), f"stock known at position {position}"


def test_backdated_entries_recorded_after_a_position_do_not_change_what_was_known_at_it(program: Program) -> None:
    history = record_history(program, hold_back_late=True)
    position = history.head_before_late
    known_then = by_lot(stock_known_at(program.app, ZONE, position))
    as_of_then = program.as_of(program.day(7))

    record_late(history)
    assert head(program.app) > position

    assert by_lot(stock_known_at(program.app, ZONE, position)) == known_then
    assert known_then == ledgers_loaded_at(program.app, position)
    # ...while stock as of a past date, which takes in what was entered late, did change.
    assert program.as_of(program.day(7)) != as_of_then


def test_stock_on_hand_equals_the_live_ledgers_after_everything(program: Program) -> None:
    record_history(program)
    program.projector.catch_up()

    live = {}
    for site in ("WH", "VAN-1"):
        for sku in ("NALOX-4MG", "SYR-1ML"):
            for lot in program.app.stock(site, sku)["lots"]:
                live[(site, sku, lot["lot"])] = (lot["quantity"], lot["expires_on"], lot["funding_source"])

    assert by_lot(queries.stock_on_hand(program.store)) == live
    assert program.as_of(program.today) == live
    assert by_lot(stock_known_at(program.app, ZONE, head(program.app))) == live


def levels(program: Program, site: str, sku: str) -> tuple[int, int, int]:
    """(on hand, on order, in transit) of one item at one site."""
    program.projector.catch_up()
    [row] = queries.stock_levels(program.store, site=site, sku=sku)
    return int(row["on_hand"]), int(row["on_order"]), int(row["in_transit"])


def test_stock_levels_show_stock_in_transit_until_the_transfer_is_received_or_cancelled(program: Program) -> None:
    app = program.app
    app.receive_stock(
        site="WH", sku="SYR-1ML", lot="S-1", quantity=1000, expires_on=None, funding_source="STATE", actor=ADMIN
    )
    lines = [{"sku": "SYR-1ML", "quantity": 300}]

    first = app.dispatch_transfer(from_site="WH", to_site="VAN-1", lines=lines, actor=DRIVER)
    assert levels(program, "VAN-1", "SYR-1ML") == (0, 0, 300)
    assert levels(program, "WH", "SYR-1ML") == (700, 0, 0)

    second = app.dispatch_transfer(from_site="WH", to_site="VAN-1", lines=lines, actor=DRIVER)
    assert levels(program, "VAN-1", "SYR-1ML") == (0, 0, 600)

    app.receive_transfer(
        transfer_id=first["id"], received=[{"sku": "SYR-1ML", "lot": "S-1", "quantity": 290}], actor=OUTREACH
    )  # 10 went missing on the way
    assert levels(program, "VAN-1", "SYR-1ML") == (290, 0, 300)

    app.cancel_transfer(transfer_id=second["id"], reason="van broke down", actor=DRIVER)
    assert levels(program, "VAN-1", "SYR-1ML") == (290, 0, 0)
    assert levels(program, "WH", "SYR-1ML") == (700, 0, 0)


def test_stock_levels_show_stock_on_order_from_submission_until_received_or_closed(program: Program) -> None:
    app = program.app
    order = app.raise_purchase_order(
        supplier="Harm Reduction Supply Co.",
        site="WH",
        funding_source="STATE",
        actor=ADMIN,
        lines=[{"sku": "NALOX-4MG", "quantity": 48, "unit_cost": "37.50"}],
    )
    program.projector.catch_up()
    assert queries.stock_levels(program.store, site="WH", sku="NALOX-4MG") == []  # a draft orders nothing

    app.submit_purchase_order(order_id=order["id"], actor=ADMIN)
    assert levels(program, "WH", "NALOX-4MG") == (0, 48, 0)

    expiry = (program.today + timedelta(days=500)).isoformat()
    app.receive_purchase_order(
        order_id=order["id"],
        actor=ADMIN,
        lines=[{"sku": "NALOX-4MG", "lot": "N-1", "quantity": 30, "expires_on": expiry}],
    )
    assert levels(program, "WH", "NALOX-4MG") == (30, 18, 0)

    app.close_purchase_order(order_id=order["id"], actor=ADMIN)  # the rest is not coming
    assert levels(program, "WH", "NALOX-4MG") == (30, 0, 0)

    another = app.raise_purchase_order(
        supplier="Harm Reduction Supply Co.",
        site="WH",
        funding_source="STATE",
        actor=ADMIN,
        lines=[{"sku": "NALOX-4MG", "quantity": 24}],
    )
    app.submit_purchase_order(order_id=another["id"], actor=ADMIN)
    app.receive_purchase_order(
        order_id=another["id"],
        actor=ADMIN,
        lines=[{"sku": "NALOX-4MG", "lot": "N-2", "quantity": 24, "expires_on": expiry}],
    )
    assert levels(program, "WH", "NALOX-4MG") == (54, 0, 0)


# ----- entries dated across a count -------------------------------------------------------


def test_a_count_dated_before_a_movement_already_recorded_does_not_erase_that_movement(program: Program) -> None:
    app, at = program.app, program.at
    app.receive_stock(site="VAN-1", sku="SYR-1ML", lot="S-1", quantity=50, expires_on=None, funding_source="STATE",
                      actor=ADMIN, occurred_at=at(5, 9))  # fmt: skip
    app.receive_stock(site="VAN-1", sku="SYR-1ML", lot="S-1", quantity=30, expires_on=None, funding_source="STATE",
                      actor=ADMIN, occurred_at=at(1, 9))  # fmt: skip
    # The count sheet from three days ago, entered today: 48 on the shelf then. It is what was seen at
    # its own time; the receipt after it still counts on top of it.
    answer = app.count_stock(site="VAN-1", sku="SYR-1ML", lot="S-1", counted=48, actor=OUTREACH,
                             occurred_at=at(3, 18))  # fmt: skip

    assert answer["variance"] == -2
    assert app.stock("VAN-1", "SYR-1ML")["on_hand"] == 78
    assert program.as_of(program.day(4)) == {("VAN-1", "SYR-1ML", "S-1"): (50, None, "STATE")}
    assert program.as_of(program.day(3)) == {("VAN-1", "SYR-1ML", "S-1"): (48, None, "STATE")}
    assert program.as_of(program.today) == {("VAN-1", "SYR-1ML", "S-1"): (78, None, "STATE")}


def test_a_count_dated_before_what_took_its_stock_is_refused_in_words(program: Program) -> None:
    app, at = program.app, program.at
    app.receive_stock(site="VAN-1", sku="SYR-1ML", lot="S-1", quantity=50, expires_on=None, funding_source="STATE",
                      actor=ADMIN, occurred_at=at(5, 9))  # fmt: skip
    app.record_encounter(key="after-the-count-1", site="VAN-1", lines=[{"sku": "SYR-1ML", "quantity": 40}],
                         actor=OUTREACH, occurred_at=at(1, 9))  # fmt: skip
    # 20 seen three days ago cannot be: 40 went out after that.
    with pytest.raises(CountConflict, match="is less than what was recorded after it took") as refused:
        app.count_stock(site="VAN-1", sku="SYR-1ML", lot="S-1", counted=20, actor=OUTREACH, occurred_at=at(3, 18))
    assert "+00:00" not in refused.value.message and "20 syringes short" in refused.value.message
    assert app.stock("VAN-1", "SYR-1ML")["on_hand"] == 10


@pytest.mark.postgres
def test_stock_known_at_a_position_after_a_gap_in_the_log_leaves_out_later_events(postgres_url: str) -> None:
    one, other = InventoryApplication(postgres_url), InventoryApplication(postgres_url)
    try:
        seed_catalog(one)

        def receive(app: InventoryApplication, quantity: int) -> int:
            return int(
                app.receive_stock(
                    site="WH",
                    sku="SYR-1ML",
                    lot="S-1",
                    quantity=quantity,
                    expires_on=None,
                    funding_source="STATE",
                    actor=ADMIN,
                )["position"]
            )

        receive(one, 10)
        receive(other, 20)
        # A refused save still uses up a PostgreSQL sequence value: the log now has a gap.
        with pytest.raises(AlreadyExists):
            other.register_site(code="WH", name="Central warehouse again", kind="warehouse", actor=ADMIN)
        third = receive(one, 30)
        receive(one, 40)
        positions = [n.id for n in one.recorder.select_notifications(start=1, limit=1000)]
        assert positions[-2:] == [third, third + 1]
        assert len(positions) < positions[-1], "the log has a gap"

        known = stock_known_at(one, ZoneInfo("UTC"), third)

        assert [(row["lot"], row["quantity"]) for row in known] == [("S-1", 60)]
        assert known == stock_rows_loaded_at(one, third)
    finally:
        one.close()
        other.close()


def stock_rows_loaded_at(app: InventoryApplication, position: int) -> list[dict[str, Any]]:
    """What the ledgers loaded at `position` hold, as stock_on_hand rows."""
    return [
        {"site": site, "sku": sku, "lot": lot, "expires_on": expires, "funding_source": funding, "quantity": quantity}
        for (site, sku, lot), (quantity, expires, funding) in sorted(ledgers_loaded_at(app, position).items())
    ]
