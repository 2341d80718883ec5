"""A stateful property test: random sequences of stock commands against a real SQLite application.

Hypothesis drives receipts, encounters (and retries of them), transfers (dispatched, then received
in full or in part, or cancelled), adjustments and counts, at two sites for two items (one tracking
expiry, one not), with entries often backdated. The test keeps its own model of every lot and
predicts each command's outcome from it: the lots picked, or the refusal (InsufficientStock,
LotExpired, UnknownLot, CountConflict, ...), which must leave everything unchanged. After every step:

* no lot is ever negative, and every lot matches the model (quantity, expiry, funding source, times);
* every lot's balance equals the net of the ledger's stored events, summed here by event type, and
  every movement names the ledger's own site and SKU;
* a ledger rebuilt from its stored events (by hand, and by the repository at that version and the
  one before, which bypasses the cache) equals the live one;
* ledger versions run 1..n without gaps, and the notification log holds every ledger event once.

The same machine also runs with a snapshot every 3 ledger events, and in a time zone 14 hours
ahead of UTC (business days, and so expiry, differ from UTC's).
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta, timezone
from functools import reduce
from typing import Any
from uuid import UUID, uuid4
from zoneinfo import ZoneInfo

import pytest
from hypothesis import HealthCheck, settings
from hypothesis import event as note_event
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, precondition, rule

from inventory.application import InventoryApplication
from inventory.domain import StockLedger, ledger_id
from inventory.domain.errors import (
    CountConflict,
    FundingRestricted,
    IdempotencyConflict,
    InsufficientStock,
    InvalidInput,
    InvalidState,
    InventoryError,
    LotExpired,
    UnknownLot,
)
from tests.clock import Clock
from tests.conftest import ADMIN, seed_catalog

WH, VAN = "WH", "VAN-1"
SITES = (WH, VAN)
NALOX, SYR = "NALOX-4MG", "SYR-1ML"  # naloxone tracks expiry, syringes do not (see seed_catalog)
SKUS = (NALOX, SYR)
LEDGER_IDS = frozenset(ledger_id(site, sku) for site in SITES for sku in SKUS)
TRACKS_EXPIRY = {NALOX: True, SYR: False}
# Every moment is taken back from one fixed instant, and each run's clock starts there (ticking), so
# a run (and its replay while shrinking) sees the same business days and expiries on any day at any
# hour. Half a minute before midnight UTC: 14 hours ahead, in the far-east run, it is mid-afternoon.
NOW = datetime(2026, 12, 1, 23, 59, 30, tzinfo=UTC)
TODAY = NOW.date()
# Each lot code has one expiry, whichever site or command brings it in. Naloxone lots span long
# expired, expired a few days ago (issuable when backdated), expiring today (still issuable),
# and in date.
EXPIRY: dict[str, dict[str, date | None]] = {
    NALOX: {
        "N-OLD": TODAY - timedelta(days=40),
        "N-RECENT": TODAY - timedelta(days=3),
        "N-TODAY": TODAY,
        "N-SOON": TODAY + timedelta(days=20),
        "N-LATER": TODAY + timedelta(days=400),
    },
    SYR: {"S-1": None, "S-2": None},
}
# SOR may not pay for syringes (FundingRestricted); mixing sources on one lot code is refused.
FUNDING = ("STATE",) * 5 + ("SOR",)
REASONS = ("damaged", "lost", "expired", "found", "returned", "correction")
ZONES = (UTC, timezone(timedelta(hours=-5)), timezone(timedelta(hours=9)))

# A real SQLite file, in memory-backed /dev/shm where there is one: every command commits (and
# syncs), and on a busy disk the syncs, not the checks, would set the test's pace.
SCRATCH = "/dev/shm" if os.path.isdir("/dev/shm") and os.access("/dev/shm", os.W_OK) else None

sites = st.sampled_from(SITES)
skus = st.sampled_from(SKUS)


@st.composite
def sku_and_lot(draw: st.DrawFn) -> tuple[str, str]:
    sku = draw(skus)
    return sku, draw(st.sampled_from(sorted(EXPIRY[sku])))


@st.composite
def moments(draw: st.DrawFn) -> datetime:
    """Now, or up to ten days back, written in one of a few time zones."""
    if draw(st.booleans()):
        back = timedelta(0)
    else:
        back = timedelta(days=draw(st.integers(0, 10)), hours=draw(st.integers(0, 23)))
    return (NOW - back).astimezone(draw(st.sampled_from(ZONES)))


@dataclass
class ModelLot:
    """What the test expects of one lot; the same fields as the application's Lot."""

    quantity: int
    expires_on: date | None
    funding_source: str | None
    last_moved_at: datetime | None = None  # latest occurred_at of any entry for the lot
    counted_at: datetime | None = None  # occurred_at of its latest count

    def moved(self, at: datetime) -> None:
        if self.last_moved_at is None or at > self.last_moved_at:
            self.last_moved_at = at

    def counted_after(self, at: datetime) -> bool:
        """An entry dated before the lot's last count is refused (the count already reflects it)."""
        return self.counted_at is not None and at < self.counted_at


class Refused(Exception):
    """The model's prediction that a command is refused with `kind`."""

    def __init__(self, kind: type[InventoryError]) -> None:
        super().__init__(kind.__name__)
        self.kind = kind


Book = dict[tuple[str, str], dict[str, ModelLot]]
Line = tuple[str, str | None, int]  # an issue or transfer line: sku, lot (None: first expiry first out), quantity


@st.composite
def issue_lines(draw: st.DrawFn, book: Book, site: str) -> list[Line]:
    """One or two lines; a named lot is mostly one held at `site` (so expiry and quantity decide).

    (sku, lot) appears at most once per request, but two lines of one SKU (a named lot and FEFO) may
    pick the same lot twice: a transfer then carries that lot on one merged line.
    """
    lines: list[Line] = []
    for _ in range(draw(st.integers(1, 2))):
        sku = draw(skus)
        held = sorted(book.get((site, sku), {}))
        how = draw(st.sampled_from(("fefo", "fefo", "held", "held", "any")))
        lot = None
        if how == "held" and held:
            lot = draw(st.sampled_from(held))
        elif how == "any":
            lot = draw(st.sampled_from(sorted(EXPIRY[sku])))
        quantity = draw(st.integers(1, 12))
        if all((sku, lot) != (other[0], other[1]) for other in lines):
            lines.append((sku, lot, quantity))
    return lines


def copy_book(book: Book) -> Book:
    return {key: {code: ModelLot(**vars(lot)) for code, lot in lots.items()} for key, lots in book.items()}


def plan_issue(lots: dict[str, ModelLot] | None, quantity: int, day: date, lot: str | None) -> list[dict[str, Any]]:
    """What the model expects a ledger to pick, or Refused."""
    if lots is None:
        raise Refused(InsufficientStock)  # no ledger at this site for this item yet

    def pick(code: str, quantity: int) -> dict[str, Any]:
        """Each pick names the lot's expiry and funding source too."""
        held = lots[code]
        return {"lot": code, "quantity": quantity, "expires_on": held.expires_on, "funding_source": held.funding_source}

    def expired(code: str) -> bool:
        expiry = lots[code].expires_on
        return expiry is not None and day > expiry

    if lot is not None:
        if lot not in lots:
            raise Refused(UnknownLot)
        if expired(lot):
            raise Refused(LotExpired)
        if lots[lot].quantity < quantity:
            raise Refused(InsufficientStock)
        return [pick(lot, quantity)]
    usable = sorted(
        (code for code, held in lots.items() if held.quantity > 0 and not expired(code)),
        key=lambda code: (lots[code].expires_on or date.max, code),
    )
    picks, wanted = [], quantity
    for code in usable:
        take = min(wanted, lots[code].quantity)
        picks.append(pick(code, take))
        wanted -= take
        if wanted == 0:
            return picks
    raise Refused(InsufficientStock)


def put_refusal(held: ModelLot | None, expires_on: date | None, funding: str | None, at: datetime) -> Refused | None:
    """Why stock cannot be put into a lot already on the books, if it cannot.

    An entry dated before the lot's last count is a CountConflict; another expiry or funding source
    than the lot has is InvalidInput (a lot keeps one of each).
    """
    if held is None:
        return None
    if held.counted_after(at):
        return Refused(CountConflict)
    if held.expires_on != expires_on or held.funding_source != funding:
        return Refused(InvalidInput)
    return None


def net_of_events(events: list[Any]) -> dict[str, int]:
    """Each lot's balance, summed from the ledger's stored events by their type."""
    net: dict[str, int] = {}
    for event in events:
        if isinstance(event, StockLedger.Received | StockLedger.Adjusted):
            net[event.lot] = net.get(event.lot, 0) + event.quantity
        elif isinstance(event, StockLedger.Distributed | StockLedger.Dispatched):
            for pick in event.picks:
                net[pick["lot"]] = net.get(pick["lot"], 0) - pick["quantity"]
        elif isinstance(event, StockLedger.Arrived | StockLedger.Returned):
            for row in event.lots:
                net[row["lot"]] = net.get(row["lot"], 0) + row["quantity"]
        elif isinstance(event, StockLedger.Counted):
            net[event.lot] = event.counted
        else:
            assert type(event).__qualname__ == "StockLedger.Opened", f"unexpected ledger event {event!r}"
    return net


def project(ledger: StockLedger | None, events: Iterable[Any]) -> StockLedger | None:
    """`ledger` (None, or one from a snapshot) brought forward by `events`, one `mutate` at a time."""
    return reduce(lambda aggregate, event: event.mutate(aggregate), events, ledger)


def replay(events: list[Any]) -> StockLedger:
    """A ledger rebuilt from its events by hand, without the repository, cache or snapshots."""
    ledger = project(None, events)
    assert isinstance(ledger, StockLedger)
    return ledger


def lot_state(ledger: StockLedger) -> dict[str, dict[str, Any]]:
    return {code: dict(vars(lot)) for code, lot in ledger.lots.items()}


def ledger_state(ledger: StockLedger) -> dict[str, Any]:
    return {
        "id": ledger.id,
        "version": ledger.version,
        "site": ledger.site,
        "sku": ledger.sku,
        "unit": ledger.unit,
        "tracks_expiry": ledger.tracks_expiry,
        "lots": lot_state(ledger),
    }


class SnapshotEveryThree(InventoryApplication):
    """The same application, snapshotting ledgers every 3 events instead of every 100."""

    snapshotting_intervals = {StockLedger: 3}


class StockMachine(RuleBasedStateMachine):
    app_class: type[InventoryApplication] = InventoryApplication
    zone_name = "UTC"  # the application's default
    snapshots_often = False  # then also rebuild the version before the last, from an older snapshot

    def __init__(self) -> None:
        super().__init__()
        self.clock = Clock()
        self.clock.at(NOW)
        self.folder = tempfile.mkdtemp(prefix="stock-machine-", dir=SCRATCH)
        self.app = self.app_class(f"sqlite:///{self.folder}/inventory.db", timezone_name=self.zone_name)
        self.zone = ZoneInfo(self.zone_name)
        seed_catalog(self.app)
        self.book: Book = {}  # (site, sku) -> lot code -> ModelLot; a key exists once a ledger does
        self.transfers: dict[UUID, dict[str, Any]] = {}  # id -> {"lines": [...], "status": ...}
        self.encounters: list[tuple[dict[str, Any], dict[str, Any]]] = []  # (request, first answer)

    def teardown(self) -> None:
        try:
            self.app.close()
        finally:
            shutil.rmtree(self.folder, ignore_errors=True)
            self.clock.stop()

    # ----- helpers ------------------------------------------------------------------------

    def business_day(self, moment: datetime) -> date:
        """The program's calendar date of a moment: what expiry is judged against."""
        return moment.astimezone(self.zone).date()

    def expect(self, label: str, predicted: Refused | None, command: Any) -> Any:
        """Run `command`; it must succeed when the model predicts success, or raise the predicted refusal."""
        note_event(f"{label}: {'ok' if predicted is None else predicted.kind.__name__}")
        if predicted is None:
            return command()
        try:
            result = command()
        except InventoryError as error:
            assert isinstance(error, predicted.kind), f"expected {predicted.kind.__name__}, got {error!r}"
            return None
        raise AssertionError(f"expected {predicted.kind.__name__}, but the command succeeded: {result!r}")

    def issue_into(self, book: Book, site: str, lines: list[Line], at: datetime) -> list[Any]:
        """Apply issue lines to `book` in order, as the application does; returns picks per line."""
        out = []
        for sku, lot, quantity in lines:
            picks = plan_issue(book.get((site, sku)), quantity, self.business_day(at), lot)
            for pick in picks:
                if book[(site, sku)][pick["lot"]].counted_after(at):
                    raise Refused(CountConflict)
            for pick in picks:
                held = book[(site, sku)][pick["lot"]]
                held.quantity -= pick["quantity"]
                held.moved(at)
            out.append(picks)
        return out

    @staticmethod
    def put(book: Book, where: tuple[str, str], lot: str, quantity: int, held: tuple[Any, Any], at: datetime) -> None:
        """Book `quantity` into a lot; `held` is its (expiry, funding source) if the lot is new here."""
        lots = book.setdefault(where, {})
        if lot not in lots:
            lots[lot] = ModelLot(0, *held)
        lots[lot].quantity += quantity
        lots[lot].moved(at)

    # ----- rules --------------------------------------------------------------------------

    @initialize(
        opening=st.lists(st.tuples(sites, sku_and_lot(), st.integers(5, 50)), min_size=2, max_size=8),
        at=moments(),
    )
    def opening_balances(self, opening: list[tuple[str, tuple[str, str], int]], at: datetime) -> None:
        """Start most runs with some stock, so issues and transfers get past the first refusals."""
        for site, sku_lot, quantity in opening:
            self.receive(site, sku_lot, quantity, "STATE", at)

    @rule(
        site=sites,
        sku_lot=sku_and_lot(),
        quantity=st.integers(1, 50),
        funding=st.sampled_from(FUNDING),
        at=moments(),
    )
    def receive(self, site: str, sku_lot: tuple[str, str], quantity: int, funding: str, at: datetime) -> None:
        sku, lot = sku_lot
        expiry = EXPIRY[sku][lot]
        predicted = None
        predicted = put_refusal(self.book.get((site, sku), {}).get(lot), expiry, funding, at)
        if funding == "SOR" and sku == SYR:
            predicted = Refused(FundingRestricted)  # checked before the ledger is read
        result = self.expect(
            "receive",
            predicted,
            lambda: self.app.receive_stock(
                site=site,
                sku=sku,
                lot=lot,
                quantity=quantity,
                expires_on=expiry,
                funding_source=funding,
                unit_cost="1.25",
                actor=ADMIN,
                occurred_at=at,
            ),
        )
        if result is not None:
            self.put(self.book, (site, sku), lot, quantity, (expiry, funding), at)

    @rule(site=sites, data=st.data(), at=moments())
    def issue(self, site: str, data: st.DataObject, at: datetime) -> None:
        lines = data.draw(issue_lines(self.book, site), label="lines")
        after = copy_book(self.book)
        predicted: Refused | None = None
        try:
            expected_picks = self.issue_into(after, site, lines, at)
        except Refused as refusal:
            predicted = refusal
        request = {
            "key": uuid4().hex,
            "site": site,
            "lines": [{"sku": sku, "lot": lot, "quantity": quantity} for sku, lot, quantity in lines],
            "actor": ADMIN,
            "occurred_at": at,
        }
        result = self.expect("issue", predicted, lambda: self.app.record_encounter(**request))
        if result is not None:
            self.encounters.append((request, result))
            assert [line["lots"] for line in result["lines"]] == expected_picks
            if any(p["expires_on"] and p["expires_on"] < TODAY for picks in expected_picks for p in picks):
                note_event("issue: backdated to before a lot expired")
            self.book = after

    @precondition(lambda self: self.encounters)
    @rule(data=st.data(), same=st.booleans())
    def repeat_encounter(self, data: st.DataObject, same: bool) -> None:
        """A retried request (same key) answers as the first time and issues nothing more."""
        request, first = data.draw(st.sampled_from(self.encounters), label="encounter")
        note_event(f"repeat_encounter: {'same' if same else 'changed'}")
        if same:
            assert self.app.record_encounter(**request) == first
        else:
            changed = [dict(line, quantity=line["quantity"] + 1) for line in request["lines"]]
            with pytest.raises(IdempotencyConflict):
                self.app.record_encounter(**dict(request, lines=changed))

    @rule(data=st.data(), at=moments())
    def dispatch(self, data: st.DataObject, at: datetime) -> None:
        lines = data.draw(issue_lines(self.book, WH), label="lines")
        after = copy_book(self.book)
        predicted: Refused | None = None
        sent: dict[tuple[str, str], dict[str, Any]] = {}  # one line per (sku, lot), in order of first pick
        merged = False
        try:
            for (sku, _, _), picks in zip(lines, self.issue_into(after, WH, lines, at), strict=True):
                for pick in picks:
                    if (sku, pick["lot"]) in sent:
                        merged = True
                        sent[(sku, pick["lot"])]["quantity"] += pick["quantity"]
                    else:
                        sent[(sku, pick["lot"])] = dict(pick, sku=sku)
        except Refused as refusal:
            predicted = refusal
        result = self.expect(
            "dispatch",
            predicted,
            lambda: self.app.dispatch_transfer(
                from_site=WH,
                to_site=VAN,
                lines=[{"sku": sku, "lot": lot, "quantity": quantity} for sku, lot, quantity in lines],
                actor=ADMIN,
                occurred_at=at,
            ),
        )
        if result is not None:
            if merged:
                note_event("dispatch: one lot picked by two lines")
            assert result["status"] == "in_transit"
            assert result["lines"] == list(sent.values())
            self.book = after
            self.transfers[UUID(result["id"])] = {"lines": list(sent.values()), "status": "in_transit", "at": at}

    def in_transit(self) -> list[UUID]:
        # In dispatch order (not by id: ids are random, and draws must not depend on them).
        return [tid for tid, transfer in self.transfers.items() if transfer["status"] == "in_transit"]

    @precondition(lambda self: self.in_transit())
    @rule(data=st.data(), at=moments())
    def receive_transfer(self, data: st.DataObject, at: datetime) -> None:
        transfer_id = data.draw(st.sampled_from(self.in_transit()), label="transfer")
        sent = self.transfers[transfer_id]["lines"]
        totals = {(line["sku"], line["lot"]): line["quantity"] for line in sent}
        assert len(totals) == len(sent), "a transfer has one line per SKU and lot"
        received: list[dict[str, Any]] | None = None
        if data.draw(st.booleans(), label="count each lot"):
            # As counted on arrival: 0..sent of each lot; a lot left off the list is 0.
            received = []
            for (sku, lot), total in totals.items():
                got = data.draw(st.integers(0, total), label=f"{sku}/{lot}")
                if got or data.draw(st.booleans(), label="list zero"):
                    received.append({"sku": sku, "lot": lot, "quantity": got})
        arriving = dict(totals) if received is None else {(r["sku"], r["lot"]): r["quantity"] for r in received}
        expires = {(line["sku"], line["lot"]): (line["expires_on"], line["funding_source"]) for line in sent}
        predicted = Refused(InvalidInput) if at < self.transfers[transfer_id]["at"] else None
        for sku, lot in sorted(arriving, key=lambda key: key[0]):  # checked SKU by SKU, lots as sent
            held = self.book.get((VAN, sku), {}).get(lot)
            if arriving[(sku, lot)] and predicted is None:
                predicted = put_refusal(held, *expires[(sku, lot)], at)
        result = self.expect(
            "receive_transfer",
            predicted,
            lambda: self.app.receive_transfer(transfer_id=transfer_id, received=received, actor=ADMIN, occurred_at=at),
        )
        if result is not None:
            assert result["status"] == "received"
            booked: dict[tuple[str, str], int] = {}
            for row in result["received"]:
                booked[(row["sku"], row["lot"])] = booked.get((row["sku"], row["lot"]), 0) + row["quantity"]
            short = sum(row["quantity"] for row in result["shortfall"])
            assert booked == {key: arriving.get(key, 0) for key in totals}, "arrivals booked differ from those counted"
            assert short == sum(totals.values()) - sum(arriving.values())
            for (sku, lot), quantity in arriving.items():
                if quantity:
                    self.put(self.book, (VAN, sku), lot, quantity, expires[(sku, lot)], at)
            self.transfers[transfer_id]["status"] = "received"

    @precondition(lambda self: self.in_transit())
    @rule(data=st.data(), at=moments())
    def cancel_transfer(self, data: st.DataObject, at: datetime) -> None:
        transfer_id = data.draw(st.sampled_from(self.in_transit()), label="transfer")
        # Dated before the dispatch: refused. Put back into a lot counted after the cancellation's
        # date: refused too (the count already saw the stock as gone), as every other entry is.
        predicted = Refused(InvalidInput) if at < self.transfers[transfer_id]["at"] else None
        for line in self.transfers[transfer_id]["lines"]:
            held = self.book.get((WH, line["sku"]), {}).get(line["lot"])
            if predicted is None and held is not None and held.counted_after(at):
                predicted = Refused(CountConflict)
        result = self.expect(
            "cancel_transfer",
            predicted,
            lambda: self.app.cancel_transfer(
                transfer_id=transfer_id, reason="van broke down", actor=ADMIN, occurred_at=at
            ),
        )
        if result is None:
            return
        assert result["status"] == "cancelled"
        for line in self.transfers[transfer_id]["lines"]:
            held = (line["expires_on"], line["funding_source"])
            self.put(self.book, (WH, line["sku"]), line["lot"], line["quantity"], held, at)
        self.transfers[transfer_id]["status"] = "cancelled"

    @precondition(lambda self: self.transfers)
    @rule(data=st.data())
    def finished_transfer_refuses_more(self, data: st.DataObject) -> None:
        done = [tid for tid, transfer in self.transfers.items() if transfer["status"] != "in_transit"]
        if not done:
            return
        transfer_id = data.draw(st.sampled_from(done), label="transfer")
        verb = data.draw(st.sampled_from(("receive", "cancel")), label="verb")
        with pytest.raises(InvalidState):
            if verb == "receive":
                self.app.receive_transfer(transfer_id=transfer_id, actor=ADMIN)
            else:
                self.app.cancel_transfer(transfer_id=transfer_id, reason="again", actor=ADMIN)

    @rule(
        site=sites,
        sku_lot=sku_and_lot(),
        quantity=st.integers(-30, 30).filter(bool),
        reason=st.sampled_from(REASONS),
        give_expiry=st.booleans(),
        funding=st.sampled_from(("STATE", None)),
        at=moments(),
    )
    def adjust(
        self,
        site: str,
        sku_lot: tuple[str, str],
        quantity: int,
        reason: str,
        give_expiry: bool,
        funding: str | None,
        at: datetime,
    ) -> None:
        sku, lot = sku_lot
        expiry = EXPIRY[sku][lot] if give_expiry else None
        held = self.book.get((site, sku), {}).get(lot)
        predicted = None
        if held is None and quantity < 0:
            predicted = Refused(UnknownLot)
        elif held is None and TRACKS_EXPIRY[sku] and expiry is None:
            predicted = Refused(InvalidInput)
        elif held is not None and held.counted_after(at):
            predicted = Refused(CountConflict)
        elif held is not None and held.quantity + quantity < 0:
            predicted = Refused(InsufficientStock)
        result = self.expect(
            "adjust",
            predicted,
            lambda: self.app.adjust_stock(
                site=site,
                sku=sku,
                lot=lot,
                quantity=quantity,
                reason=reason,
                note="state machine",
                expires_on=expiry,
                funding_source=funding,
                actor=ADMIN,
                occurred_at=at,
            ),
        )
        if result is not None:
            self.put(self.book, (site, sku), lot, quantity, (expiry, funding), at)

    def held_lots(self) -> list[tuple[str, str, str]]:
        return sorted((site, sku, code) for (site, sku), lots in self.book.items() for code in lots)

    @precondition(lambda self: self.held_lots())
    @rule(data=st.data(), counted=st.integers(0, 60), at=moments())
    def count(self, data: st.DataObject, counted: int, at: datetime) -> None:
        site, sku, lot = data.draw(st.sampled_from(self.held_lots()), label="lot")
        held = self.book[(site, sku)][lot]
        # A count dated before the lot's latest entry is refused: what it should match is not known.
        predicted = Refused(CountConflict) if held.last_moved_at is not None and at < held.last_moved_at else None
        result = self.expect(
            "count",
            predicted,
            lambda: self.app.count_stock(site=site, sku=sku, lot=lot, counted=counted, actor=ADMIN, occurred_at=at),
        )
        if result is not None:
            assert result["variance"] == counted - held.quantity
            held.quantity = counted
            held.counted_at = at
            held.moved(at)

    @rule(site=sites, sku_lot=sku_and_lot(), counted=st.integers(0, 60))
    def count_unknown_lot(self, site: str, sku_lot: tuple[str, str], counted: int) -> None:
        sku, lot = sku_lot
        if (site, sku) not in self.book:
            expected: type[InventoryError] = InsufficientStock
        elif lot not in self.book[(site, sku)]:
            expected = UnknownLot
        else:
            return
        with pytest.raises(expected):
            self.app.count_stock(site=site, sku=sku, lot=lot, counted=counted, actor=ADMIN)

    # ----- invariants ---------------------------------------------------------------------

    @invariant()
    def ledgers_agree_with_model_and_history(self) -> None:
        versions = 0
        for site in SITES:
            for sku in SKUS:
                live = self.app.ledger_aggregate(site, sku)
                expected = self.book.get((site, sku))
                if expected is None:
                    assert live is None, f"{site}/{sku} has a ledger the model does not know of"
                    continue
                assert live is not None, f"{site}/{sku} has no ledger"
                where = f"{site}/{sku}"

                for code, lot in live.lots.items():
                    assert lot.quantity >= 0, f"{where} lot {code} is negative: {lot.quantity}"
                assert lot_state(live) == {code: {"code": code, **vars(lot)} for code, lot in expected.items()}, (
                    f"{where} differs from the model"
                )

                events = list(self.app.events.get(live.id))
                assert [e.originator_version for e in events] == list(range(1, len(events) + 1)), where
                for event in events[1:]:
                    assert isinstance(event, StockLedger.Movement), f"{where}: {event!r}"
                    assert (event.site, event.sku) == (site, sku), f"{where}: {event!r}"
                assert live.version == len(events), where
                assert net_of_events(events) == {code: lot.quantity for code, lot in live.lots.items()}, where

                rebuilt = replay(events)
                assert ledger_state(rebuilt) == ledger_state(live), f"{where}: replayed events differ from live"
                # The repository at a version skips the cache (and starts from a snapshot, if any).
                at_version = self.app.repository.get(live.id, version=live.version, projector_func=project)
                assert ledger_state(at_version) == ledger_state(live), f"{where}: repository rebuild differs"
                if self.snapshots_often and len(events) > 1:
                    before = self.app.repository.get(live.id, version=live.version - 1, projector_func=project)
                    assert ledger_state(before) == ledger_state(replay(events[:-1])), f"{where}: previous version"
                versions += live.version

                view = self.app.stock(site, sku)
                assert view["on_hand"] == sum(lot.quantity for lot in expected.values())
                assert view["version"] == live.version

        notifications = self.app.recorder.select_notifications(start=None, limit=100_000)
        ids = [n.id for n in notifications]
        assert ids == sorted(set(ids)), "the log's positions are not in order"
        assert sum(1 for n in notifications if n.originator_id in LEDGER_IDS) == versions, "ledger events in the log"

    @invariant()
    def transfers_agree_with_model(self) -> None:
        for transfer_id, expected in self.transfers.items():
            view = self.app.transfer(transfer_id)
            assert view["status"] == expected["status"]
            assert view["lines"] == expected["lines"]


class SnapshottingStockMachine(StockMachine):
    app_class = SnapshotEveryThree
    snapshots_often = True


class FarEastStockMachine(StockMachine):
    """A program 14 hours ahead of UTC: its business day (and so what has expired) is often UTC's tomorrow."""

    zone_name = "Pacific/Kiritimati"


# About 20 s of CPU in all. A deeper search, e.g. 300 examples of up to 60 steps each, passed too:
#   run_state_machine_as_test(StockMachine, settings=settings(max_examples=300, stateful_step_count=60, ...))
SLOW_IS_FINE = [HealthCheck.too_slow, HealthCheck.filter_too_much]
StockMachine.TestCase.settings = settings(
    max_examples=30, stateful_step_count=35, deadline=None, suppress_health_check=SLOW_IS_FINE
)
SnapshottingStockMachine.TestCase.settings = settings(
    max_examples=10, stateful_step_count=30, deadline=None, suppress_health_check=SLOW_IS_FINE
)
FarEastStockMachine.TestCase.settings = SnapshottingStockMachine.TestCase.settings
TestStockStateMachine = StockMachine.TestCase
TestStockStateMachineWithSnapshots = SnapshottingStockMachine.TestCase
TestStockStateMachineFarEast = FarEastStockMachine.TestCase
