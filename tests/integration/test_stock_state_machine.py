"""A stateful property test: random sequences of stock commands against a real SQLite application.

Hypothesis drives receipts, encounters (and retries of them), transfers (dispatched, then received
in full or in part, or cancelled), adjustments, counts, voids and corrections of receipts,
adjustments and counts (by log position, as an admin or a coordinator, whose window a week passing
closes) and voids of visits, at two sites for two items (one tracking expiry, one not), with
entries often backdated across counts (and counts backdated across entries). The test keeps its
own model of every ledger: per lot, its history in business time (occurred_at, then ledger
version), each entry a delta or a count (what was seen), and the ledger's events as it expects
them. Walking a lot's history from the start gives its balance after every entry; a count sets it
to what was seen, and its variance is what was seen minus what the entries before it left. From
that walk the model predicts each command's outcome:

* an entry (or a count, a void, a correction) is accepted when, with it in its place, the walk
  stays at 0 or more everywhere; else it is refused (InsufficientStock; CountConflict for a count),
  which must leave everything unchanged;
* an issue picks first expiry first out, each lot giving the lowest balance from the issue's time
  up to the lot's next count;
* a change dated before a count restates that count's variance (one CountRestated event after the
  movement, naming the count, before, after, the movement's version and the count's time): the
  count still saw what it saw;
* a void undoes an entry on its own time, a correction changes a receipt's or an adjustment's
  quantity or a count's figure there (both refused InsufficientStock if what was recorded after
  needed the stock); a visit's void voids each of its entries, and a repeat changes nothing;
* other refusals as before (LotExpired, UnknownLot, InvalidInput, FundingRestricted, NotFound,
  InvalidState, PastCorrectionWindow, ...).

After every step:

* no lot is ever negative, every lot matches the model (quantity, expiry, funding source, and its
  history entry by entry), and the model's walk of every lot is never below zero at any point in
  business time;
* the ledger's stored events are the ones the model expects, in order (CountRestated included);
* every lot's balance equals the net of the ledger's stored events, summed here by event type
  (a count by its variance, a restatement by after - before, a void by what it put back, a
  correction by its change), and every movement names the ledger's own site and SKU;
* each count's variance, followed through the log (counted, restated, corrected, voided), is the
  one the model's walk gives it;
* a ledger rebuilt from its stored events (by hand, and by the repository at that version and the
  one before, which bypasses the cache) equals the live one;
* ledger versions run 1..n without gaps, and the notification log holds every ledger event once.

And as rules, between the others:

* stock at the end of each of the run's business days, as the read model gives it, equals the
  model's walk of every lot up to that day's end;
* a grant report, a distribution log and a stock report for a past period (their figures, every
  row, and the corrections the Provenance counts) are kept with the log position they were read
  at, and later re-created "as known at" that position: the same, whatever was recorded since.

The same machine also runs with a snapshot every 3 ledger events, and in a time zone 14 hours
ahead of UTC (business days, and so expiry, differ from UTC's).
"""

from __future__ import annotations

import contextlib
import copy
import os
import shutil
import tempfile
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
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

from exports.distribution_log import gather_visits
from exports.grant_figures import gather
from exports.snapshot import Snapshot, current, known_at
from exports.stock_report import gather_lots
from inventory.application import InventoryApplication
from inventory.application.rules import CORRECTION_WINDOW
from inventory.domain import StockLedger, encounter_id, ledger_id
from inventory.domain.errors import (
    CountConflict,
    FundingRestricted,
    IdempotencyConflict,
    InsufficientStock,
    InvalidInput,
    InvalidState,
    InventoryError,
    LotExpired,
    NotFound,
    PastCorrectionWindow,
    UnknownLot,
)
from inventory.projections import all_projections
from inventory.projections import report_queries as rq
from inventory.projections.queries import stock_as_of
from inventory.projections.runner import Projector
from inventory.projections.store import read_store_for
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
VOID_REASONS = ("entered_twice", "wrong_quantity", "wrong_time", "did_not_happen")
ZONES = (UTC, timezone(timedelta(hours=-5)), timezone(timedelta(hours=9)))
# What the ledger's stock card calls each kind of entry, and the event that makes it.
TAKES = {"distributed": "Distributed", "transfer_out": "Dispatched"}
CORRECTABLE = ("received", "adjusted", "counted")  # voided or corrected by log position
ENTRY_EVENTS = ("Received", "Adjusted", "Counted")

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
    """The run's starting instant (a third of the time), or up to ten days before it, in one of a few time zones.

    Whole hours back, so that entries often share a moment (then the ledger version orders them)
    and an entry dated back often lands before a count, or a count before entries."""
    if draw(st.sampled_from(("now", "back", "back"))) == "now":
        back = timedelta(0)
    else:
        back = timedelta(days=draw(st.integers(0, 10)), hours=draw(st.integers(0, 23)))
    return (NOW - back).astimezone(draw(st.sampled_from(ZONES)))


# ----- the model ------------------------------------------------------------------------------


@dataclass
class ModelEntry:
    """One entry's effect on one lot, as the model expects the ledger's history to hold it.

    A count has `counted` and no delta; a voided entry keeps its place with neither."""

    at: datetime
    ref: int  # the ledger version of the event that made it
    delta: int = 0
    counted: int | None = None
    source: str = ""
    kind: str = ""

    @property
    def voided(self) -> bool:
        return self.delta == 0 and self.counted is None

    def row(self) -> tuple[Any, ...]:
        return (self.at, self.ref, self.delta, self.counted, self.source, self.kind)


def walk_lot(entries: list[ModelEntry]) -> tuple[list[int], dict[int, int]]:
    """The model's walk of a history in business time: the balance after each entry, each count's variance."""
    balance, balances, variances = 0, [], {}
    for entry in entries:
        if entry.counted is None:
            balance += entry.delta
        else:
            variances[entry.ref] = entry.counted - balance
            balance = entry.counted
        balances.append(balance)
    return balances, variances


def placed(entries: list[ModelEntry], entry: ModelEntry) -> list[ModelEntry]:
    """The history with `entry` in its place: by business time, then ledger version."""
    return sorted([*entries, entry], key=lambda one: (one.at, one.ref))


@dataclass
class ModelLot:
    """What the test expects of one lot; its quantity is where the walk of its history ends."""

    expires_on: date | None
    funding_source: str | None
    entries: list[ModelEntry] = field(default_factory=list)

    @property
    def quantity(self) -> int:
        balances, _ = walk_lot(self.entries)
        return balances[-1] if balances else 0

    def balance_at(self, at: datetime) -> int:
        """The balance after every entry dated `at` or before."""
        balances, _ = walk_lot([entry for entry in self.entries if entry.at <= at])
        return balances[-1] if balances else 0

    def available_at(self, at: datetime) -> int:
        """What a take dated `at` may take: the lowest balance from its place up to the next count."""
        balances, _ = walk_lot(self.entries)
        place = sum(1 for entry in self.entries if entry.at <= at)  # a new entry goes after its equals
        lowest = balances[place - 1] if place else 0
        for entry, balance in zip(self.entries[place:], balances[place:], strict=True):
            if entry.counted is not None:
                break
            lowest = min(lowest, balance)
        return lowest


Edit = Callable[[list[ModelEntry]], list[ModelEntry]]
Restatement = tuple[str, int, int, int]  # lot, the count's ref, variance before, after


@dataclass
class ModelLedger:
    """One site's ledger for one item: its lots, and its events after Opened, summarised."""

    lots: dict[str, ModelLot] = field(default_factory=dict)
    log: list[tuple[Any, ...]] = field(default_factory=list)

    @property
    def version(self) -> int:
        return 1 + len(self.log)

    def parts(self, ref: int) -> list[tuple[str, ModelEntry]]:
        """Each lot's part of the entry that version `ref` made (in the ledger's order of lots)."""
        return [(code, entry) for code, lot in self.lots.items() for entry in lot.entries if entry.ref == ref]

    def changed(
        self, code: str, edit: Edit, refusal: type[InventoryError] | None, entry: int | None = None
    ) -> list[Restatement]:
        """Change one lot's history; Refused(`refusal`) if the walk then goes below zero anywhere.

        With `refusal` None the model has already checked the change (an issue it planned): a walk
        below zero is then the model's own mistake. `entry` is the count a correction changes (its
        own variance changes with its figure: that is no restatement)."""
        lot = self.lots[code]
        _, before = walk_lot(lot.entries)
        entries = edit([replace(entry) for entry in lot.entries])
        balances, after = walk_lot(entries)
        if any(balance < 0 for balance in balances):
            assert refusal is not None, f"the model planned a change that takes lot {code} below zero"
            raise Refused(refusal)
        restated = [
            (code, ref, before[ref], after[ref])
            for ref in after
            if ref in before and ref != entry and before[ref] != after[ref]
        ]
        assert len(restated) <= 1, "a change restates at most the first count after it"
        lot.entries = entries
        return restated

    def record(
        self,
        summary: tuple[Any, ...],
        edits: list[tuple[str, Edit]],
        refusal: type[InventoryError] | None,
        entry: int | None = None,
    ) -> list[Restatement]:
        """An event that changes these lots (each already open), then a CountRestated for each count it
        restates; `entry` is the entry a void or a correction changes."""
        restated = [change for code, edit in edits for change in self.changed(code, edit, refusal, entry)]
        self.log.append(summary)
        because = self.version
        for code, count, before, after in restated:
            at = next(entry.at for entry in self.lots[code].entries if entry.ref == count)
            self.log.append(("CountRestated", code, count, before, after, because, at))
        return restated

    def variances(self) -> dict[int, int]:
        return {ref: variance for lot in self.lots.values() for ref, variance in walk_lot(lot.entries)[1].items()}


def inserting(entry: ModelEntry) -> Edit:
    return lambda entries: placed(entries, entry)


def setting(ref: int, delta: int = 0, counted: int | None = None) -> Edit:
    """An edit that gives entry `ref` this effect (0 and None: void)."""

    def edit(entries: list[ModelEntry]) -> list[ModelEntry]:
        for entry in entries:
            if entry.ref == ref:
                entry.delta, entry.counted = delta, counted
        return entries

    return edit


class Refused(Exception):
    """The model's prediction that a command is refused with `kind`."""

    def __init__(self, kind: type[InventoryError]) -> None:
        super().__init__(kind.__name__)
        self.kind = kind


Book = dict[tuple[str, str], ModelLedger]
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
        ledger = book.get((site, sku))
        held = sorted(ledger.lots) if ledger else []
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


def plan_issue(
    ledger: ModelLedger | None, quantity: int, day: date, lot: str | None, at: datetime
) -> list[dict[str, Any]]:
    """What the model expects a ledger to pick for an issue dated `at`, or Refused."""
    if ledger is None:
        raise Refused(InsufficientStock)  # no ledger at this site for this item yet
    lots = ledger.lots

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
        if lots[lot].available_at(at) < quantity:
            raise Refused(InsufficientStock)
        return [pick(lot, quantity)]
    available = {code: held.available_at(at) for code, held in lots.items()}
    usable = sorted(
        (code for code in lots if available[code] > 0 and not expired(code)),
        key=lambda code: (lots[code].expires_on or date.max, code),
    )
    picks, wanted = [], quantity
    for code in usable:
        take = min(wanted, available[code])
        picks.append(pick(code, take))
        wanted -= take
        if wanted == 0:
            return picks
    raise Refused(InsufficientStock)


def put_refusal(held: ModelLot | None, expires_on: date | None, funding: str | None) -> Refused | None:
    """Why stock cannot be put into a lot already on the books, if it cannot: another expiry or
    funding source than the lot has is InvalidInput (a lot keeps one of each). Putting stock in is
    never refused for its time: it only raises the walk."""
    if held is not None and (held.expires_on != expires_on or held.funding_source != funding):
        return Refused(InvalidInput)
    return None


def put_rows(
    ledger: ModelLedger, event: str, rows: list[tuple[str, int, Any]], at: datetime, kind: str, source: str
) -> list[Restatement]:
    """One event putting stock into lots (rows: lot, quantity, its (expiry, funding) if new here)."""
    ref = ledger.version + 1
    for code, _, held in rows:
        if code not in ledger.lots:
            ledger.lots[code] = ModelLot(*held)
    edits = [(code, inserting(ModelEntry(at, ref, quantity, None, source, kind))) for code, quantity, _ in rows]
    summary = (event, *rows[0][:2], at) if event in ("Received", "Adjusted") else (event, _rows(rows), at)
    return ledger.record(summary, edits, InsufficientStock)


def _rows(rows: Iterable[tuple[Any, ...]]) -> tuple[tuple[str, int], ...]:
    return tuple((row[0], row[1]) for row in rows)


def report_figures(snapshot: Snapshot, funding: str | None, start: date, end: date) -> dict[str, Any]:
    """What a grant report, a distribution log and a stock report show (their figures, every row, and the
    corrections their Provenance counts), read from one snapshot of the read models."""
    grant = gather(snapshot, funding, start, end)
    return {
        "by site": grant.by_site,
        "by month": grant.by_month,
        "activity": grant.activity,
        "receipts": grant.receipts,
        "ledger": list(grant.ledger),
        "corrections": rq.corrections(snapshot.reader, start, end),
        "visits": gather_visits(snapshot, start, end).rows,
        "lots": gather_lots(snapshot, funding),
    }


# ----- reading the ledger's events ------------------------------------------------------------


def summary(event: Any) -> tuple[Any, ...]:
    """A ledger event as the model writes it down."""
    name, at = type(event).__name__, event.occurred_at
    if isinstance(event, StockLedger.Received | StockLedger.Adjusted):
        return (name, event.lot, event.quantity, at)
    if isinstance(event, StockLedger.Counted):
        return (name, event.lot, event.counted, event.variance, at)
    if isinstance(event, StockLedger.Distributed | StockLedger.Dispatched | StockLedger.HandedOutOnShift):
        return (name, tuple((pick["lot"], pick["quantity"]) for pick in event.picks), at)
    if isinstance(event, StockLedger.Arrived | StockLedger.Returned):
        return (name, tuple((row["lot"], row["quantity"]) for row in event.lots), at)
    if isinstance(event, StockLedger.CountRestated):
        return (name, event.lot, event.count, event.before, event.after, event.because, at)
    if isinstance(event, StockLedger.EntryVoided):
        return (name, event.entry, event.kind, tuple((row["lot"], row["quantity"]) for row in event.lots), at)
    if isinstance(event, StockLedger.EntryCorrected):
        return (name, event.entry, event.kind, event.lot, event.was, event.now, event.quantity, at)
    raise AssertionError(f"unexpected ledger event {event!r}")


def net_of_events(events: list[Any]) -> dict[str, int]:
    """Each lot's balance, summed from the ledger's stored events by their type."""
    net: dict[str, int] = {}

    def add(lot: str, quantity: int) -> None:
        net[lot] = net.get(lot, 0) + quantity

    for event in events:
        if isinstance(event, StockLedger.Received | StockLedger.Adjusted):
            add(event.lot, event.quantity)
        elif isinstance(event, StockLedger.Distributed | StockLedger.Dispatched | StockLedger.HandedOutOnShift):
            for pick in event.picks:
                add(pick["lot"], -pick["quantity"])
        elif isinstance(event, StockLedger.Arrived | StockLedger.Returned):
            for row in event.lots:
                add(row["lot"], row["quantity"])
        elif isinstance(event, StockLedger.Counted):
            add(event.lot, event.variance)
        elif isinstance(event, StockLedger.CountRestated):
            add(event.lot, event.after - event.before)
        elif isinstance(event, StockLedger.EntryVoided):
            for row in event.lots:
                add(row["lot"], row["quantity"])
        elif isinstance(event, StockLedger.EntryCorrected):
            add(event.lot, event.quantity)
        else:
            assert type(event).__qualname__ == "StockLedger.Opened", f"unexpected ledger event {event!r}"
    return net


def variances_of_events(events: list[Any]) -> dict[int, int]:
    """Each standing count's variance, followed through the log: as counted, then as each
    restatement, correction or void changed it. A restatement's `before` is what the log said last."""
    variances: dict[int, int] = {}
    for event in events:
        if isinstance(event, StockLedger.Counted):
            variances[event.originator_version] = event.variance
        elif isinstance(event, StockLedger.CountRestated):
            assert variances.get(event.count) == event.before, f"restated from {event.before}: {variances}"
            variances[event.count] = event.after
        elif isinstance(event, StockLedger.EntryCorrected) and event.kind == "counted":
            variances[event.entry] += event.now - event.was
        elif isinstance(event, StockLedger.EntryVoided) and event.kind == "counted":
            del variances[event.entry]
    return variances


def project(ledger: StockLedger | None, events: Iterable[Any]) -> StockLedger | None:
    """`ledger` (None, or one from a snapshot) brought forward by `events`, one `mutate` at a time."""
    return reduce(lambda aggregate, event: event.mutate(aggregate), events, ledger)


def replay(events: list[Any]) -> StockLedger:
    """A ledger rebuilt from its events by hand, without the repository, cache or snapshots."""
    ledger = project(None, events)
    assert isinstance(ledger, StockLedger)
    return ledger


def lot_state(ledger: StockLedger) -> dict[str, dict[str, Any]]:
    """Each lot as the model sees one: its history as (at, ref, delta, counted, source, kind) rows."""
    return {
        code: {
            "code": lot.code,
            "quantity": lot.quantity,
            "expires_on": lot.expires_on,
            "funding_source": lot.funding_source,
            "history": [(e.at, e.ref, e.delta, e.counted, e.source, e.kind) for e in lot.entries],
        }
        for code, lot in ledger.lots.items()
    }


def model_state(ledger: ModelLedger) -> dict[str, dict[str, Any]]:
    return {
        code: {
            "code": code,
            "quantity": lot.quantity,
            "expires_on": lot.expires_on,
            "funding_source": lot.funding_source,
            "history": [entry.row() for entry in lot.entries],
        }
        for code, lot in ledger.lots.items()
    }


def ledger_state(ledger: StockLedger) -> dict[str, Any]:
    """All of a ledger, every field of every lot (a rebuild must match it exactly)."""
    return {
        "id": ledger.id,
        "version": ledger.version,
        "site": ledger.site,
        "sku": ledger.sku,
        "unit": ledger.unit,
        "tracks_expiry": ledger.tracks_expiry,
        "lots": {code: dict(vars(lot)) for code, lot in ledger.lots.items()},
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
        self.book: Book = {}  # (site, sku) -> the model's ledger; a key exists once a ledger does
        self.transfers: dict[UUID, dict[str, Any]] = {}  # id -> {"lines": [...], "status": ...}
        # (request, answer, week it was recorded in): a repeat gets the answer (voided once the visit is)
        self.encounters: list[tuple[dict[str, Any], dict[str, Any], int]] = []
        self.epoch = 0  # how many times the clock moved a week on (`a_week_passes`)
        self.recorded_in: dict[tuple[str, str, int], int] = {}  # (site, sku, version) -> epoch it was recorded in
        # The read models, projected from the log when a rule reads them (a file of its own, as in production).
        self.store = read_store_for(f"sqlite:///{self.folder}/read-models.db")
        self.projector = Projector(self.app, self.store, all_projections(self.app.zone, b"machine-seal"))
        self.reports: list[tuple[int, date, date, str | None, dict[str, Any]]] = []  # position, period, figures

    def teardown(self) -> None:
        try:
            self.app.close()
            self.store.close()
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

    @staticmethod
    def note_late(label: str, ledger: ModelLedger, at: datetime, restated: list[Restatement]) -> None:
        """Say (in the statistics) when an accepted entry was dated before others, and restated a count."""
        if any(entry.at > at for lot in ledger.lots.values() for entry in lot.entries):
            note_event(f"{label}: dated before entries already recorded")
        if restated:
            note_event(f"{label}: restated a count")

    def issue_into(
        self, book: Book, site: str, lines: list[Line], at: datetime, kind: str, source: str
    ) -> list[list[dict[str, Any]]]:
        """Apply issue lines to `book` in order, as the application does (one event per line); the picks per line."""
        out = []
        for sku, lot, quantity in lines:
            ledger = book.get((site, sku))
            picks = plan_issue(ledger, quantity, self.business_day(at), lot, at)
            assert ledger is not None
            ref = ledger.version + 1
            edits = [
                (pick["lot"], inserting(ModelEntry(at, ref, -pick["quantity"], None, source, kind))) for pick in picks
            ]
            restated = ledger.record((TAKES[kind], _rows((p["lot"], p["quantity"]) for p in picks), at), edits, None)
            self.note_late(TAKES[kind], ledger, at, restated)
            out.append(picks)
        return out

    def entries(self, kinds: Iterable[str] = (), one_lot: bool = False) -> list[tuple[str, str, int]]:
        """Every entry the model knows of, by ledger and version: those of `kinds` still standing (and
        of one lot only, if `one_lot`), or all (voided ones too)."""
        if kinds:
            return sorted(
                {
                    (site, sku, e.ref)
                    for (site, sku), ledger in self.book.items()
                    for lot in ledger.lots.values()
                    for e in lot.entries
                    if e.kind in kinds and not e.voided and not (one_lot and len(ledger.parts(e.ref)) > 1)
                }
            )
        return sorted(
            {
                (site, sku, e.ref)
                for (site, sku), ledger in self.book.items()
                for lot in ledger.lots.values()
                for e in lot.entries
            }
        )

    def positions(self) -> dict[int, tuple[str, str, int] | None]:
        """Each position in the log: the ledger event there (site, SKU, version), or None (another aggregate's)."""
        ledgers = {ledger_id(site, sku): (site, sku) for site in SITES for sku in SKUS}
        found: dict[int, tuple[str, str, int] | None] = {}
        for notification in self.app.recorder.select_notifications(start=None, limit=100_000):
            where = ledgers.get(UUID(str(notification.originator_id)))
            found[notification.id] = None if where is None else (*where, notification.originator_version)
        return found

    def draw_position(self, data: st.DataObject, kinds: Iterable[str]) -> int:
        """Mostly the log position of a standing entry of one of `kinds` (of one lot); else of any entry
        (voided, of another kind, of several lots), of any ledger event, or any number at all."""
        at = {where: position for position, where in self.positions().items() if where is not None}
        standing = self.entries(kinds, one_lot=True)
        how = data.draw(st.sampled_from(("standing",) * 6 + ("any entry",) * 2 + ("ledger", "anywhere")), label="which")
        if how == "standing" and standing:
            return at[data.draw(st.sampled_from(standing), label="standing entry")]
        if how == "ledger":
            return data.draw(st.sampled_from(sorted(at.values())), label="ledger event")
        if how == "anywhere":
            return data.draw(st.integers(0, max(at.values()) + 2), label="position")
        return at[data.draw(st.sampled_from(self.entries()), label="entry")]

    def entry_at(self, position: int) -> tuple[str, str, int]:
        """The receipt, adjustment or count at a log position, as the application finds it, or Refused."""
        positions = self.positions()
        if position < 1 or position not in positions:
            raise Refused(NotFound)
        where = positions[position]
        if where is None:
            raise Refused(NotFound)  # not a ledger's event: a visit, a transfer, the catalogue
        site, sku, version = where
        if version == 1 or self.book[(site, sku)].log[version - 2][0] not in ENTRY_EVENTS:
            raise Refused(NotFound)  # Opened, a take, a transfer's, a restatement, a void: not voided by number
        return where

    def past_window(self, who: str, version: tuple[str, str, int] | None = None, epoch: int = 0) -> bool:
        """Whether a coordinator may no longer change it: recorded before the clock last moved a week on."""
        if version is not None:
            epoch = self.recorded_in[version]
        return who == "coordinator" and epoch < self.epoch

    def fill_epochs(self) -> None:
        """Note when each ledger event not yet noted was recorded (in which week of the run)."""
        for (site, sku), ledger in self.book.items():
            for version in range(1, ledger.version + 1):
                self.recorded_in.setdefault((site, sku, version), self.epoch)

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
        ledger = self.book.get((site, sku))
        predicted = put_refusal(ledger.lots.get(lot) if ledger else None, expiry, funding)
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
            ledger = self.book.setdefault((site, sku), ModelLedger())
            restated = put_rows(ledger, "Received", [(lot, quantity, (expiry, funding))], at, "received", "")
            self.note_late("receive", ledger, at, restated)

    @rule(site=sites, data=st.data(), at=moments())
    def issue(self, site: str, data: st.DataObject, at: datetime) -> None:
        lines = data.draw(issue_lines(self.book, site), label="lines")
        key = uuid4().hex
        after = copy.deepcopy(self.book)
        predicted: Refused | None = None
        try:
            expected_picks = self.issue_into(after, site, lines, at, "distributed", str(encounter_id(ADMIN, key)))
        except Refused as refusal:
            predicted = refusal
        request: dict[str, Any] = {
            "key": key,
            "site": site,
            "lines": [{"sku": sku, "lot": lot, "quantity": quantity} for sku, lot, quantity in lines],
            "actor": ADMIN,
            "occurred_at": at,
        }
        result = self.expect("issue", predicted, lambda: self.app.record_encounter(**request))
        if result is not None:
            self.encounters.append((request, result, self.epoch))
            assert [line["lots"] for line in result["lines"]] == expected_picks
            if any(p["expires_on"] and p["expires_on"] < TODAY for picks in expected_picks for p in picks):
                note_event("issue: backdated to before a lot expired")
            self.book = after

    @precondition(lambda self: self.encounters)
    @rule(data=st.data(), same=st.booleans())
    def repeat_encounter(self, data: st.DataObject, same: bool) -> None:
        """A retried request (same key) answers as the first time and issues nothing more."""
        request, first, _ = data.draw(st.sampled_from(self.encounters), label="encounter")
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
        transfer_id = uuid4()
        after = copy.deepcopy(self.book)
        predicted: Refused | None = None
        sent: dict[tuple[str, str], dict[str, Any]] = {}  # one line per (sku, lot), in order of first pick
        merged = False
        try:
            picked = self.issue_into(after, WH, lines, at, "transfer_out", str(transfer_id))
            for (sku, _, _), picks in zip(lines, picked, strict=True):
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
                transfer_id=transfer_id,
            ),
        )
        if result is not None:
            if merged:
                note_event("dispatch: one lot picked by two lines")
            assert result["status"] == "in_transit"
            assert result["id"] == str(transfer_id)
            assert result["lines"] == list(sent.values())
            self.book = after
            self.transfers[transfer_id] = {"lines": list(sent.values()), "status": "in_transit", "at": at}

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
        held = {(line["sku"], line["lot"]): (line["expires_on"], line["funding_source"]) for line in sent}
        predicted = Refused(InvalidInput) if at < self.transfers[transfer_id]["at"] else None
        for sku, lot in arriving:
            ledger = self.book.get((VAN, sku))
            if arriving[(sku, lot)] and predicted is None:
                predicted = put_refusal(ledger.lots.get(lot) if ledger else None, *held[(sku, lot)])
        result = self.expect(
            "receive_transfer",
            predicted,
            lambda: self.app.receive_transfer(transfer_id=transfer_id, received=received, actor=ADMIN, occurred_at=at),
        )
        if result is None:
            return
        assert result["status"] == "received"
        booked: dict[tuple[str, str], int] = {}
        for row in result["received"]:
            booked[(row["sku"], row["lot"])] = booked.get((row["sku"], row["lot"]), 0) + row["quantity"]
        short = sum(row["quantity"] for row in result["shortfall"])
        assert booked == {key: arriving.get(key, 0) for key in totals}, "arrivals booked differ from those counted"
        assert short == sum(totals.values()) - sum(arriving.values())
        for sku in sorted({line["sku"] for line in sent}):  # one Arrived per SKU, its lots as sent
            rows = [
                (line["lot"], arriving.get((sku, line["lot"]), 0), held[(sku, line["lot"])])
                for line in sent
                if line["sku"] == sku and arriving.get((sku, line["lot"]), 0)
            ]
            if rows:
                ledger = self.book.setdefault((VAN, sku), ModelLedger())
                restated = put_rows(ledger, "Arrived", rows, at, "transfer_in", str(transfer_id))
                self.note_late("receive_transfer", ledger, at, restated)
        self.transfers[transfer_id]["status"] = "received"

    @precondition(lambda self: self.in_transit())
    @rule(data=st.data(), at=moments())
    def cancel_transfer(self, data: st.DataObject, at: datetime) -> None:
        transfer_id = data.draw(st.sampled_from(self.in_transit()), label="transfer")
        # Dated before the dispatch: refused. Otherwise the stock goes back on the cancellation's own
        # time, before or after counts: putting stock in is never short.
        predicted = Refused(InvalidInput) if at < self.transfers[transfer_id]["at"] else None
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
        lines = self.transfers[transfer_id]["lines"]
        for sku in sorted({line["sku"] for line in lines}):  # one Returned per SKU, with every lot sent
            rows = [(line["lot"], line["quantity"], None) for line in lines if line["sku"] == sku]
            ledger = self.book[(WH, sku)]
            restated = put_rows(ledger, "Returned", rows, at, "returned", str(transfer_id))
            self.note_late("cancel_transfer", ledger, at, restated)
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
        after = copy.deepcopy(self.book)
        ledger = after.setdefault((site, sku), ModelLedger())
        held = ledger.lots.get(lot)
        predicted = None
        restated: list[Restatement] = []
        if held is None and quantity < 0:
            predicted = Refused(UnknownLot)
        elif held is None and TRACKS_EXPIRY[sku] and expiry is None:
            predicted = Refused(InvalidInput)
        else:
            # An existing lot keeps its own expiry and funding source; a take must be covered from its time on.
            kept = (expiry, funding) if held is None else (held.expires_on, held.funding_source)
            try:
                restated = put_rows(ledger, "Adjusted", [(lot, quantity, kept)], at, "adjusted", "")
            except Refused as refusal:
                predicted = refusal
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
            self.note_late("adjust", ledger, at, restated)
            self.book = after

    def held_lots(self) -> list[tuple[str, str, str]]:
        return sorted((site, sku, code) for (site, sku), ledger in self.book.items() for code in ledger.lots)

    def needy_moments(self) -> list[tuple[str, str, str, datetime]]:
        """A minute before each entry, where the entries from there up to the lot's next count take
        more than they put in (a count then must see at least the difference)."""
        found = set()
        for (site, sku), ledger in self.book.items():
            for code, held in ledger.lots.items():
                for entry in held.entries:
                    moment = entry.at - timedelta(minutes=1)
                    if held.available_at(moment) < held.balance_at(moment):
                        found.add((site, sku, code, moment))
        return sorted(found)

    @precondition(lambda self: self.held_lots())
    @rule(data=st.data(), counted=st.integers(0, 60), at=moments())
    def count(self, data: st.DataObject, counted: int, at: datetime) -> None:
        near = data.draw(st.sampled_from(("any", "held then", "least that fits", "just before a take")), label="near")
        needy = self.needy_moments() if near == "just before a take" else []
        if needy:
            # Just before entries that take more than is put in up to the next count: a low count
            # then leaves what was recorded after it short.
            site, sku, lot, at = data.draw(st.sampled_from(needy), label="lot and moment")
        else:
            site, sku, lot = data.draw(st.sampled_from(self.held_lots()), label="lot")
        held = self.book[(site, sku)].lots[lot]
        if near != "any":
            # What the lot held at that time, or the least a count then may see (what the entries
            # after it, up to the next count, take), give or take a few: fits, or just does not.
            then = held.balance_at(at)
            least = then - held.available_at(at)
            if least:
                note_event("count: dated before entries that need stock")
            counted = max(0, (then if near == "held then" else least) + data.draw(st.integers(-3, 3), label="off by"))
        after = copy.deepcopy(self.book)
        ledger = after[(site, sku)]
        new = ModelEntry(at, ledger.version + 1, 0, counted, "", "counted")
        variance = walk_lot(placed(ledger.lots[lot].entries, new))[1][new.ref]
        predicted: Refused | None = None
        restated: list[Restatement] = []
        try:
            # A count dated before later entries: they count on from what it saw (refused if then short).
            restated = ledger.record(("Counted", lot, counted, variance, at), [(lot, inserting(new))], CountConflict)
        except Refused as refusal:
            predicted = refusal
        result = self.expect(
            "count",
            predicted,
            lambda: self.app.count_stock(site=site, sku=sku, lot=lot, counted=counted, actor=ADMIN, occurred_at=at),
        )
        if result is not None:
            assert result["variance"] == variance
            self.note_late("count", ledger, at, restated)
            self.book = after

    @rule(site=sites, sku_lot=sku_and_lot(), counted=st.integers(0, 60))
    def count_unknown_lot(self, site: str, sku_lot: tuple[str, str], counted: int) -> None:
        sku, lot = sku_lot
        if (site, sku) not in self.book:
            expected: type[InventoryError] = InsufficientStock
        elif lot not in self.book[(site, sku)].lots:
            expected = UnknownLot
        else:
            return
        with pytest.raises(expected):
            self.app.count_stock(site=site, sku=sku, lot=lot, counted=counted, actor=ADMIN)

    # ----- voids and corrections ----------------------------------------------------------
    #
    # Through the application's verbs (inventory/application/corrections.py): void_entry and
    # correct_entry name a receipt, an adjustment or a count by its log position; void_visit undoes
    # a visit (every kit it handed out goes back on the visit's time). Transfers' entries are not
    # voided by number (refused NotFound). Admins may change any entry; coordinators only those
    # recorded in the last CORRECTION_WINDOW (`a_week_passes` moves the clock on past it).

    @precondition(lambda self: self.epoch < 2)
    @rule()
    def a_week_passes(self) -> None:
        """Eight days on: what was recorded so far is past a coordinator's window (business times stay)."""
        self.fill_epochs()
        self.clock.advance(days=8)
        self.epoch += 1

    @staticmethod
    def void_in_model(ledger: ModelLedger, ref: int) -> list[Restatement]:
        """Void entry `ref` in the model: what it put in comes out, what it took goes back (a count:
        its variance), on its own time; refused if what was recorded after it needed its stock."""
        parts = ledger.parts(ref)
        if not parts:
            raise Refused(NotFound)
        if all(part.voided for _, part in parts):
            raise Refused(InvalidState)
        variances = ledger.variances()
        rows = tuple((code, -variances[ref] if part.counted is not None else -part.delta) for code, part in parts)
        first = parts[0][1]
        edits = [(code, setting(ref)) for code, _ in parts]
        return ledger.record(("EntryVoided", ref, first.kind, rows, first.at), edits, InsufficientStock, ref)

    @precondition(lambda self: self.book)
    @rule(data=st.data(), reason=st.sampled_from(VOID_REASONS), who=st.sampled_from(("admin", "coordinator")))
    def void_entry(self, data: st.DataObject, reason: str, who: str) -> None:
        self.fill_epochs()
        position = self.draw_position(data, CORRECTABLE)
        after = copy.deepcopy(self.book)
        predicted: Refused | None = None
        restated: list[Restatement] = []
        kind = ""
        try:
            site, sku, ref = self.entry_at(position)
            kind = after[(site, sku)].parts(ref)[0][1].kind
            if self.past_window(who, (site, sku, ref)):
                raise Refused(PastCorrectionWindow)
            restated = self.void_in_model(after[(site, sku)], ref)
        except Refused as refusal:
            predicted = refusal
        result = self.expect(
            "void_entry",
            predicted,
            lambda: self.app.void_entry(
                position=position, reason=reason, actor=ADMIN, within=None if who == "admin" else CORRECTION_WINDOW
            ),
        )
        if result is not None:
            assert result["voided"] == position
            note_event(f"void_entry: a {kind} entry")
            if restated:
                note_event("void_entry: restated a count")
            self.book = after

    @precondition(lambda self: self.book)
    @rule(data=st.data(), reason=st.sampled_from(VOID_REASONS), who=st.sampled_from(("admin", "coordinator")))
    def correct_entry(self, data: st.DataObject, reason: str, who: str) -> None:
        self.fill_epochs()
        position = self.draw_position(data, CORRECTABLE)
        after = copy.deepcopy(self.book)
        where: tuple[str, str, int] | None = None
        with contextlib.suppress(Refused):  # predicted below, with the rest
            where = self.entry_at(position)
        part = after[where[:2]].parts(where[2])[0][1] if where else None
        kind = part.kind if part else ""
        was = 0 if part is None else part.delta if part.counted is None else part.counted
        fits = {
            "received": st.integers(1, 50),
            "adjusted": st.integers(-30, 30).filter(bool),
            "counted": st.integers(0, 60),
        }
        does_not = {"received": st.integers(-1, 0), "adjusted": st.just(0), "counted": st.just(-1)}
        how = data.draw(st.sampled_from(("fits",) * 5 + ("the same", "out of range")), label="now is")
        if how == "the same":
            now = was
        else:
            now = data.draw((fits if how == "fits" else does_not).get(kind, st.integers(1, 10)), label="now")
        predicted: Refused | None = None
        restated: list[Restatement] = []
        try:
            site, sku, ref = self.entry_at(position)
            code = after[(site, sku)].parts(ref)[0][0]
            assert part is not None
            if (kind == "received" and now < 1) or (kind == "counted" and now < 0):
                raise Refused(InvalidInput)  # the figure's bounds, checked first
            if self.past_window(who, (site, sku, ref)):
                raise Refused(PastCorrectionWindow)
            if part.voided:
                raise Refused(InvalidState)
            if now == was or (now == 0 and kind != "counted"):
                raise Refused(InvalidInput)
            edit = setting(ref, counted=now) if kind == "counted" else setting(ref, delta=now)
            change = ("EntryCorrected", ref, kind, code, was, now, now - was, part.at)
            restated = after[(site, sku)].record(change, [(code, edit)], InsufficientStock, ref)
        except Refused as refusal:
            predicted = refusal
        result = self.expect(
            "correct_entry",
            predicted,
            lambda: self.app.correct_entry(
                position=position,
                quantity=now,
                reason=reason,
                actor=ADMIN,
                within=None if who == "admin" else CORRECTION_WINDOW,
            ),
        )
        if result is not None:
            assert result["corrected"] == position
            note_event(f"correct_entry: a {kind} entry")
            if restated:
                note_event("correct_entry: restated a count")
            self.book = after

    @precondition(lambda self: self.encounters)
    @rule(data=st.data(), reason=st.sampled_from(VOID_REASONS), who=st.sampled_from(("admin", "coordinator")))
    def void_visit(self, data: st.DataObject, reason: str, who: str) -> None:
        """Undo a visit: each of its entries is voided on the visit's own time; a repeat changes nothing."""
        # Every visit, a visit with two lines of one item (two entries in one ledger) too.
        choices = list(range(len(self.encounters)))
        if not choices or data.draw(st.sampled_from(("a visit",) * 9 + ("no such visit",)), label="which") != "a visit":
            with pytest.raises(NotFound):
                self.app.void_visit(visit_id=uuid4(), reason=reason, actor=ADMIN)
            return
        index = data.draw(st.sampled_from(choices), label="visit")
        request, answer, epoch = self.encounters[index]
        visit = encounter_id(ADMIN, request["key"])
        after = copy.deepcopy(self.book)
        predicted: Refused | None = None
        restated: list[Restatement] = []
        if answer["voided"] is None:
            if self.past_window(who, epoch=epoch):
                predicted = Refused(PastCorrectionWindow)
            else:
                for sku in dict.fromkeys(line["sku"] for line in request["lines"]):
                    ledger = after[(request["site"], sku)]
                    refs = sorted(
                        {e.ref for lot in ledger.lots.values() for e in lot.entries if e.source == str(visit)}
                    )
                    for ref in refs:
                        restated += self.void_in_model(ledger, ref)
        result = self.expect(
            "void_visit",
            predicted,
            lambda: self.app.void_visit(
                visit_id=visit, reason=reason, actor=ADMIN, within=None if who == "admin" else CORRECTION_WINDOW
            ),
        )
        if result is None:
            return
        expected = answer if answer["voided"] is not None else dict(answer, voided=reason)
        assert result == expected
        note_event(f"void_visit: {'again' if answer['voided'] else 'ok'}")
        if restated:
            note_event("void_visit: restated a count")
        self.encounters[index] = (request, expected, epoch)
        self.book = after

    # ----- reports and stock as of past days ------------------------------------------------

    @rule(data=st.data(), funding=st.sampled_from((None, "STATE", "SOR")))
    def report_a_past_period(self, data: st.DataObject, funding: str | None) -> None:
        """A grant report, a distribution log and a stock report for a period of the last days, from the
        read models as they stand; kept (at most four) to be re-created "as known at" their position later."""
        self.projector.catch_up()
        today = self.business_day(datetime.now(UTC))
        start = today - timedelta(days=data.draw(st.integers(0, 12), label="days back"))
        end = min(start + timedelta(days=data.draw(st.integers(0, 12), label="days long")), today)
        with current(self.store, self.zone) as now:
            figures = report_figures(now, funding, start, end)
            position = now.position
        assert position == self.app.recorder.max_notification_id(), "the read models did not catch up"
        self.reports = [*self.reports[-3:], (position, start, end, funding, figures)]
        note_event(f"report: {len(figures['visits'])} visits, {len(figures['ledger'])} movements")

    @precondition(lambda self: bool(self.reports))
    @rule(data=st.data())
    def report_again_as_known_then(self, data: st.DataObject) -> None:
        """A kept report, re-created from the log up to its position: the same figures, whatever came since
        (entries backdated into its period, counts restated, voids, corrections)."""
        position, start, end, funding, figures = data.draw(st.sampled_from(self.reports), label="report")
        with known_at(self.app, self.store, self.zone, position) as then:
            again = report_figures(then, funding, start, end)
        for part, expected in figures.items():
            assert again[part] == expected, f"{part} of the report as known at {position} differs"
        note_event(
            "report again: " + ("changed since" if position < self.app.recorder.max_notification_id() else "same")
        )

    @rule()
    def stock_as_of_every_past_day(self) -> None:
        """Stock at the end of each business day of the run (the read model) equals the model's walk of
        each lot's history up to that day's end, late entries, restatements, voids and corrections included."""
        self.projector.catch_up()
        today = self.business_day(datetime.now(UTC))
        for back in range(0, 13):
            day = today - timedelta(days=back)
            ends = datetime.combine(day + timedelta(days=1), datetime.min.time(), tzinfo=self.zone)
            expected = {
                (site, sku, code): walk_lot([entry for entry in lot.entries if entry.at < ends])[0][-1:]
                for (site, sku), ledger in self.book.items()
                for code, lot in ledger.lots.items()
            }
            wanted = {key: found[0] for key, found in expected.items() if found and found[0] != 0}
            read = {(row["site"], row["sku"], row["lot"]): row["quantity"] for row in stock_as_of(self.store, day)}
            assert read == wanted, f"stock as of {day}"

    # ----- invariants ---------------------------------------------------------------------

    @invariant()
    def ledgers_agree_with_model_and_history(self) -> None:
        self.fill_epochs()
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
                for code, held in expected.lots.items():
                    balances, _ = walk_lot(held.entries)
                    assert all(balance >= 0 for balance in balances), f"{where} lot {code} below zero: {balances}"
                assert lot_state(live) == model_state(expected), f"{where} differs from the model"

                events = list(self.app.events.get(live.id))
                assert [e.originator_version for e in events] == list(range(1, len(events) + 1)), where
                for event in events[1:]:
                    assert isinstance(event, StockLedger.Movement), f"{where}: {event!r}"
                    assert (event.site, event.sku) == (site, sku), f"{where}: {event!r}"
                assert [summary(event) for event in events[1:]] == expected.log, f"{where}: events differ"
                assert live.version == len(events) == expected.version, where
                assert net_of_events(events) == {code: lot.quantity for code, lot in live.lots.items()}, where
                assert variances_of_events(events) == expected.variances(), f"{where}: count variances"

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
                assert view["on_hand"] == sum(lot.quantity for lot in expected.lots.values())
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
