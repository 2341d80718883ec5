"""A worker killed with SIGKILL mid catch-up never leaves a read model that a rebuild would not give.

A log of 100,000 realistic events (receipts, encounters, transfers received, short and cancelled,
adjustments, counts, purchase orders) is written to a SQLite file; the real `inventory worker`
process catches up over it and is killed with SIGKILL at ten points, restarted after each kill and
left to finish after the last. After each kill every projection is at one tracking position, strictly
inside the log, and every table of every projection (as the crash left it: the file and its
write-ahead log) has the digest of a from-scratch rebuild up to that same position. After the last
restart every table has the digest of a from-scratch rebuild of the whole log, and every tracking
position is the log's head.
"""

from __future__ import annotations

import contextlib
import hashlib
import itertools
import json
import os
import queue
import random
import shutil
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from datetime import UTC, date, datetime, timedelta
from datetime import time as clock
from functools import partial
from pathlib import Path
from typing import Any
from uuid import NAMESPACE_URL, UUID, uuid5
from zoneinfo import ZoneInfo

import pytest

from inventory.application import InventoryApplication
from inventory.domain import Encounter, ShiftTally, StockLedger, Transfer
from inventory.domain.alerts import Alert, AlertKind
from inventory.domain.errors import InsufficientStock
from inventory.projections import all_projections
from inventory.projections.base import Projection
from inventory.projections.runner import Projector
from inventory.projections.store import SqliteReadStore

pytestmark = pytest.mark.slow

EVENTS = 100_000
KILLS = 10
TIMEZONE = "America/New_York"
SEAL_KEY = "crash-test-seal-key"
ADMIN = "admin@example.org"
FIRST_DAY = date(2025, 3, 1)
SAVE_EVERY = 3_000  # events per app.save(...) while building the log
WAIT = 60.0  # seconds any single wait may take before the test fails

SITES = [
    ("WH", "Central warehouse", "warehouse"),
    ("FIX-DT", "Downtown drop-in", "fixed"),
    ("FIX-EAST", "Eastside health hub", "fixed"),
    ("VAN-1", "Outreach van", "mobile"),
]
OUTLETS = [code for code, _name, kind in SITES if kind != "warehouse"]
# sku: name, category, unit, shelf life in days (None: no expiry), funding source, par at an outlet
ITEMS: dict[str, tuple[str, str, str, int | None, str, int]] = {
    "NALOX-4MG": ("Naloxone 4 mg nasal spray kit", "naloxone", "kit", 540, "SOR", 900),
    "SYR-1ML": ("Syringe 1 mL 29G", "syringe", "syringe", None, "STATE-HR", 9000),
    "FTS": ("Fentanyl test strip", "test_strip", "strip", 365, "SOR", 2500),
    "SHARPS-1QT": ("Sharps container 1 qt", "sharps", "container", None, "DONATIONS", 150),
}
BUNDLES: list[tuple[dict[str, int], int]] = [
    ({"NALOX-4MG": 2}, 20),
    ({"NALOX-4MG": 2, "SYR-1ML": 10}, 25),
    ({"SYR-1ML": 20, "SHARPS-1QT": 1}, 15),
    ({"SYR-1ML": 10, "FTS": 5}, 15),
    ({"NALOX-4MG": 1, "FTS": 3}, 10),
]
BUNDLE_CHOICES = [bundle for bundle, _weight in BUNDLES]
BUNDLE_WEIGHTS = list(itertools.accumulate(weight for _bundle, weight in BUNDLES))


# ----- building the log ---------------------------------------------------------------------


class BulkApplication(InventoryApplication):
    """The application with no snapshots while the log is written: saving hundreds of events of one
    ledger at once would otherwise reload it from the log for each snapshot. Snapshots are not in the
    notification log, so the read models cannot tell."""

    snapshotting_intervals = {}


class LogWriter:
    """Builds a realistic program's history with the domain model, saving thousands of events per call."""

    def __init__(self, app: InventoryApplication, seed: int = 20_251_123) -> None:
        self.app = app
        self.rng = random.Random(seed)
        self.ledgers: dict[tuple[str, str], StockLedger] = {}
        self.pending: dict[UUID, Any] = {}
        self.pending_events = 0
        self.encounters = 0

    def head(self) -> int:
        return int(self.app.recorder.max_notification_id() or 0)

    def at(self, day: date, hour: int, minute: int = 0) -> datetime:
        return datetime.combine(day, clock(hour, minute), tzinfo=self.app.zone).astimezone(UTC)

    def touch(self, aggregate: Any, events: int = 1) -> None:
        self.pending[aggregate.id] = aggregate
        self.pending_events += events

    def flush(self) -> None:
        if self.pending:
            self.app.save(*self.pending.values())
        self.pending.clear()
        self.pending_events = 0

    def ledger(self, site: str, sku: str) -> StockLedger:
        ledger = self.ledgers.get((site, sku))
        if ledger is None:
            _name, _category, unit, shelf, _fund, _par = ITEMS[sku]
            ledger = self.ledgers[(site, sku)] = StockLedger(site, sku, unit, shelf is not None)
            self.touch(ledger)
        return ledger

    def catalog(self) -> None:
        app = self.app
        for code, name, kind in SITES:
            app.register_site(code=code, name=name, kind=kind, actor=ADMIN)
        for sku, (name, category, unit, shelf, _fund, _par) in ITEMS.items():
            app.register_item(
                sku=sku, name=name, category=category, unit=unit, tracks_expiry=shelf is not None, actor=ADMIN
            )
        app.register_funding_source(
            code="SOR",
            name="State Opioid Response (federal)",
            federal=True,
            restrictions=[{"category": "syringe", "starts_on": "2018-01-01"}],
            actor=ADMIN,
        )
        app.register_funding_source(code="STATE-HR", name="State harm reduction fund", federal=False, actor=ADMIN)
        app.register_funding_source(code="DONATIONS", name="Private donations", federal=False, actor=ADMIN)
        # Staff, so the staff read model has rows too (no password: hashing one takes half a second).
        app.register_user(email="outreach@example.org", role="coordinator", sites=[SITES[1][0]], actor=ADMIN)
        app.register_user(email="buyer@example.org", role="purchasing", actor=ADMIN)
        app.issue_token(email="buyer@example.org", label="ordering script", actor=ADMIN)  # staff_tokens too
        for code, _name, kind in SITES:
            for sku, (*_rest, par) in ITEMS.items():
                scale = 6 if kind == "warehouse" else 1
                app.set_stock_level(
                    site=code,
                    sku=sku,
                    reorder_point=par * scale // 3,
                    par_level=par * scale,
                    lead_time_days=14 if kind == "warehouse" else 3,
                    actor=ADMIN,
                )
        app.close_site(code="VAN-1", actor=ADMIN)
        app.reopen_site(code="VAN-1", actor=ADMIN)
        app.change_restrictions(
            code="DONATIONS", restrictions=[{"category": "naloxone", "starts_on": "2030-01-01"}], actor=ADMIN
        )

    def purchase_order(self, day: date) -> None:
        """One order through the application's verbs: raised, submitted, received in two parts, closed."""
        app = self.app
        order = app.raise_purchase_order(
            supplier="Harm Reduction Supply Co",
            site="WH",
            funding_source="STATE-HR",
            lines=[{"sku": "SHARPS-1QT", "quantity": 400, "unit_cost": "2.40"}],
            actor=ADMIN,
            occurred_at=self.at(day, 9),
        )
        app.submit_purchase_order(order_id=order["id"], actor=ADMIN, occurred_at=self.at(day, 9, 5))
        for part, quantity in enumerate((250, 100)):
            app.receive_purchase_order(
                order_id=order["id"],
                lines=[{"sku": "SHARPS-1QT", "lot": f"PO-SC-{part}", "quantity": quantity}],
                actor=ADMIN,
                occurred_at=self.at(day + timedelta(days=part + 1), 11),
            )
        app.close_purchase_order(order_id=order["id"], actor=ADMIN, occurred_at=self.at(day + timedelta(days=3), 12))
        # The application cached the warehouse's SHARPS ledger as it saved it: carry on with that one.
        ledger = app.ledger_aggregate("WH", "SHARPS-1QT")
        assert ledger is not None
        self.ledgers[("WH", "SHARPS-1QT")] = ledger

    def transfer(self, to_site: str, lines: list[dict[str, Any]], moment: datetime) -> Transfer:
        """A transfer from the warehouse, with an id of its own as `dispatch_transfer` chooses one."""
        the_id = uuid5(NAMESPACE_URL, f"/crash-test/transfers/{to_site}/{moment.isoformat()}")
        transfer: Transfer = Transfer._create(
            Transfer.Dispatched,  # type: ignore[attr-defined]
            id=the_id,
            from_site="WH",
            to_site=to_site,
            lines=lines,
            actor=ADMIN,
            occurred_at=moment,
        )
        return transfer

    def receive_week(self, day: date, week: int) -> None:
        for sku, (_name, _category, _unit, shelf, fund, par) in ITEMS.items():
            ledger = self.ledger("WH", sku)
            ledger.receive(
                lot=f"{sku[:3]}-{day:%y%m%d}-{week}",
                quantity=par * 4,
                funding_source=fund,
                expires_on=day + timedelta(days=shelf) if shelf else None,
                unit_cost=None,
                purchase_order=None,
                reference=f"Delivery note {day:%Y%m%d}-{sku}",
                actor=ADMIN,
                occurred_at=self.at(day, 7),
            )
            self.touch(ledger)

    def restock(self, day: date, week: int) -> None:
        """Bring each outlet up to par from the warehouse; some boxes go missing, some runs are called off."""
        for number, site in enumerate(OUTLETS):
            moment = self.at(day, 8, number)
            lines: list[dict[str, Any]] = []
            senders: list[StockLedger] = []
            for sku, (*_rest, par) in ITEMS.items():
                quantity = min(par - self.ledger(site, sku).usable_on(day), self.ledger("WH", sku).usable_on(day))
                if quantity <= 0:
                    continue
                sender = self.ledger("WH", sku)
                picks = sender.plan_issue(quantity, day, at=moment)
                senders.append(sender)
                lines.extend(dict(pick, sku=sku) for pick in picks)
            if not lines:
                continue
            transfer = self.transfer(site, lines, moment)
            for sender in senders:
                sender.dispatch(
                    transfer_id=transfer.id,
                    to_site=site,
                    actor=ADMIN,
                    occurred_at=moment,
                    picks=[
                        {k: v for k, v in line.items() if k != "sku"} for line in lines if line["sku"] == sender.sku
                    ],
                )
                self.touch(sender)
            later = moment + timedelta(hours=3)
            if (week + number) % 9 == 4:  # the van broke down: the run is called off, the stock goes back
                for sender in senders:
                    sender.take_back(
                        transfer_id=transfer.id,
                        to_site=site,
                        actor=ADMIN,
                        occurred_at=later,
                        lots=[
                            {k: v for k, v in line.items() if k != "sku"} for line in lines if line["sku"] == sender.sku
                        ],
                    )
                    self.touch(sender)
                transfer.cancel(reason="Van broke down", actor=ADMIN, occurred_at=later)
                self.touch(transfer, 2)
                continue
            arrived = [dict(line) for line in lines]
            shortfall: list[dict[str, Any]] = []
            if (week + number) % 5 == 2:  # a box went missing on the way
                arrived[0]["quantity"] -= 1
                shortfall = [dict(lines[0], quantity=1)]
            for sku in dict.fromkeys(line["sku"] for line in arrived):
                receiver = self.ledger(site, sku)
                receiver.arrive(
                    transfer_id=transfer.id,
                    from_site="WH",
                    actor=ADMIN,
                    occurred_at=later,
                    lots=[{k: v for k, v in row.items() if k != "sku"} for row in arrived if row["sku"] == sku],
                )
                self.touch(receiver)
            transfer.receive(received=arrived, shortfall=shortfall, note="", actor=ADMIN, occurred_at=later)
            self.touch(transfer, 2)

    def encounter(self, day: date, site: str, number: int) -> None:
        bundle = self.rng.choices(BUNDLE_CHOICES, cum_weights=BUNDLE_WEIGHTS)[0]
        # Late evening visits fall on the next UTC day but count on their local business day.
        moment = self.at(day, 9 + number * 14 // 120, self.rng.randrange(60))
        key = f"crash-{site}-{day:%Y%m%d}-{number:04d}"
        the_id = Encounter.create_id(key, f"{site.lower()}@example.org")
        issued: list[dict[str, Any]] = []
        for sku, quantity in bundle.items():
            ledger = self.ledger(site, sku)
            if ledger.usable_on(day) < quantity:
                continue
            try:  # what the site held at the visit's time (stock that arrived later that day cannot go out)
                picks = ledger.plan_issue(quantity, day, at=moment)
            except InsufficientStock:
                continue
            ledger.distribute(encounter_id=the_id, picks=picks, actor=f"{site.lower()}@example.org", occurred_at=moment)
            self.touch(ledger)
            issued.append({"sku": sku, "category": ITEMS[sku][1], "quantity": quantity, "lots": picks})
        if not issued:
            return
        code = f"{chr(65 + self.rng.randrange(26))}{chr(65 + self.rng.randrange(26))}{self.rng.randrange(100):02d}"
        encounter = Encounter(
            key=key,
            fingerprint=hashlib.sha256(key.encode()).hexdigest(),
            site=site,
            lines=issued,
            participant_code=code if self.rng.random() < 0.6 else None,
            reversals_reported=1 if self.rng.random() < 0.05 else 0,
            syringes_collected=self.rng.choice((0, 0, 10, 20)),
            refill_reason=None,
            actor=f"{site.lower()}@example.org",
            occurred_at=moment,
            recipient="person_who_uses_drugs",
            for_others=self.rng.choice((0, 0, 0, 2)),
            channel="outreach" if self.rng.random() < 0.2 else "fixed_site",
        )
        self.touch(encounter)
        self.encounters += 1

    def shift_tally(self, day: date) -> None:
        """A busy night at one outlet recorded as the shift's totals (stock out on the shift's date)."""
        site = OUTLETS[day.toordinal() % len(OUTLETS)]
        actor = f"{site.lower()}@example.org"
        key = f"tally-{site}-{day:%Y%m%d}"
        the_id = ShiftTally.create_id(key, actor)
        moment = self.at(day, 21)
        issued: list[dict[str, Any]] = []
        for sku, quantity in (("NALOX-4MG", 6), ("SYR-1ML", 80)):
            ledger = self.ledger(site, sku)
            if ledger.usable_on(day) < quantity:
                continue
            try:  # what the site held at the visit's time (stock that arrived later that day cannot go out)
                picks = ledger.plan_issue(quantity, day, at=moment)
            except InsufficientStock:
                continue
            ledger.hand_out_on_shift(tally_id=the_id, picks=picks, actor=actor, occurred_at=moment)
            self.touch(ledger)
            issued.append({"sku": sku, "category": ITEMS[sku][1], "quantity": quantity, "lots": picks})
        tally = ShiftTally(
            key=key,
            fingerprint=hashlib.sha256(key.encode()).hexdigest(),
            site=site,
            shift_date=day,
            starts_at="21:00",
            ends_at="02:00",
            lines=issued,
            visits=self.rng.randint(15, 40),
            reversals_reported=self.rng.choice((0, 0, 1)),
            syringes_collected=self.rng.choice((0, 50, 120)),
            actor=actor,
            occurred_at=moment,
            recipient="unknown",
            for_others=0,
            channel="fixed_site",
        )
        self.touch(tally)

    def housekeeping(self, day: date) -> None:
        """A damaged kit, a found box, and a lot counted short after the day's last visit."""
        site = OUTLETS[day.toordinal() % len(OUTLETS)]
        for sku, reason, quantity in (("NALOX-4MG", "damaged", -1), ("FTS", "found", 5)):
            ledger = self.ledger(site, sku)
            lot = next((x for x in ledger.lots.values() if x.quantity > 1), None)
            if lot is not None:
                ledger.adjust(
                    lot=lot.code,
                    quantity=quantity,
                    reason=reason,
                    note="",
                    day=day,
                    actor=ADMIN,
                    occurred_at=self.at(day, 17),
                )
                self.touch(ledger)
        ledger = self.ledger(site, "SYR-1ML")
        lot = max(ledger.lots.values(), key=lambda x: x.quantity, default=None)
        if lot is not None and lot.quantity > 3:
            ledger.count(lot=lot.code, counted=lot.quantity - 3, actor=ADMIN, occurred_at=self.at(day, 23, 30))
            self.touch(ledger)

    def write(self, events: int) -> int:
        """Write about `events` events (at least that many); returns the head."""
        self.catalog()
        self.purchase_order(FIRST_DAY - timedelta(days=7))
        day = FIRST_DAY
        while True:
            offset = (day - FIRST_DAY).days
            if offset % 7 == 0:
                self.receive_week(day, offset // 7)
                self.restock(day, offset // 7)
            for number in range(120):
                self.encounter(day, OUTLETS[number % len(OUTLETS)], number)
                if self.pending_events >= SAVE_EVERY:
                    self.flush()
                    if self.head() >= events:
                        self.leave_open(day)
                        return self.head()
            if offset % 4 == 1:
                self.shift_tally(day)  # 21:00, before the day's count at 23:30
            if offset % 3 == 0:
                self.housekeeping(day)
            day += timedelta(days=1)

    def leave_open(self, day: date) -> None:
        """A transfer still in transit and an order still on order, so the pipeline has rows too."""
        moment = self.at(day, 8)
        sender = self.ledger("WH", "FTS")
        picks = sender.plan_issue(100, day, at=moment)
        transfer = self.transfer("VAN-1", [dict(pick, sku="FTS") for pick in picks], moment)
        sender.dispatch(transfer_id=transfer.id, to_site="VAN-1", picks=picks, actor=ADMIN, occurred_at=moment)
        self.touch(transfer)
        self.touch(sender)
        self.flush()
        order = self.app.raise_purchase_order(
            supplier="Harm Reduction Supply Co",
            site="FIX-DT",
            funding_source="SOR",
            lines=[{"sku": "NALOX-4MG", "quantity": 240, "unit_cost": "41.00"}],
            actor=ADMIN,
            occurred_at=moment,
        )
        self.app.submit_purchase_order(order_id=order["id"], actor=ADMIN, occurred_at=moment)
        # Who it went to: a recipient type, a partner supplied and reporting back, a parcel.
        self.app.add_recipient_type(code="peer_worker", name="Peer worker", actor=ADMIN)
        self.app.register_partner(code="SHELTER-1", name="Harbour Shelter", kind="shelter",
                                  contact_role="Shelter manager", actor=ADMIN)  # fmt: skip
        self.app.issue_to_partner(key="crash-partner-1", site="WH", partner="SHELTER-1",
                                  lines=[{"sku": "FTS", "quantity": 10}], actor=ADMIN, occurred_at=moment)  # fmt: skip
        self.app.report_back(partner="SHELTER-1", starts_on=FIRST_DAY, ends_on=day - timedelta(days=1),
                             kits_distributed=12, actor=ADMIN)  # fmt: skip
        self.app.send_mail_order(key="crash-parcel-1", site="WH", lines=[{"sku": "FTS", "quantity": 10}],
                                 carrier="Post", tracking="RR123456789CA", actor=ADMIN, occurred_at=moment)  # fmt: skip
        # A lot with its maker's lot number, recalled: held at the warehouse, some of it returned.
        self.app.receive_stock(site="WH", sku="FTS", lot="FTS-RECALLED", quantity=20,
                               expires_on=day + timedelta(days=300), funding_source=ITEMS["FTS"][4],
                               manufacturer="BTNX", manufacturer_lot="FTS-RECALLED", actor=ADMIN,
                               occurred_at=moment)  # fmt: skip
        self.app.announce_recall(manufacturer="BTNX", manufacturer_lot="FTS-RECALLED", notice="", actor=ADMIN,
                                 lots=[{"sku": "FTS", "lot": "FTS-RECALLED"}], sites=["WH"])  # fmt: skip
        self.app.write_off_lot(site="WH", sku="FTS", lot="FTS-RECALLED", quantity=5,
                               disposition="returned_to_supplier", actor=ADMIN)  # fmt: skip
        # A kit made at the warehouse from its test strips, and one handed out there.
        self.app.register_item(sku="KIT-FTS", name="Test strip kit", category="kit", unit="kit", tracks_expiry=True,
                               actor=ADMIN)  # fmt: skip
        self.app.set_kit_recipe(kit_sku="KIT-FTS", components=[{"sku": "FTS", "quantity": 5}],
                                effective_from=FIRST_DAY, actor=ADMIN)  # fmt: skip
        self.app.assemble_kits(site="WH", kit_sku="KIT-FTS", quantity=3, actor=ADMIN, occurred_at=moment)
        self.app.record_encounter(key="crash-kit-visit", site="WH", lines=[{"sku": "KIT-FTS", "quantity": 1}],
                                  actor=ADMIN, occurred_at=moment + timedelta(minutes=5))  # fmt: skip
        # Alert episodes, so the alerts read model has rows: one raised, told, acknowledged, resolved and
        # raised again; one still open.
        low = Alert(kind=AlertKind.BELOW_REORDER_POINT, site="VAN-1", sku="FTS", lot=None)
        low.raise_episode(details={"on_hand": 12, "reorder_point": 833}, occurred_at=moment)
        low.record_notification(episode=1, channel="email", recipients=["buyer@example.org"], occurred_at=moment)
        low.acknowledge(episode=1, actor="buyer@example.org", occurred_at=moment)
        low.resolve(details={"on_hand": 112}, occurred_at=moment + timedelta(hours=1))
        low.raise_episode(details={"on_hand": 40, "reorder_point": 833}, occurred_at=moment + timedelta(hours=2))
        out = Alert(kind=AlertKind.OUT_OF_STOCK, site="FIX-DT", sku="SHARPS-1QT", lot=None)
        out.raise_episode(details={"on_hand": 0, "reorder_point": 50}, occurred_at=moment)
        self.app.save(low, out)
        # The day's digest, prepared for two buyers and sent to one, so the outbox has its rows too.
        buyers = ["buyer@example.org", "second-buyer@example.org"]
        self.app.prepare_digest(day=day, alert_ids=[str(out.id)], recipients=buyers, occurred_at=moment)
        self.app.record_digest_sent(day=day, recipients=buyers[:1], occurred_at=moment + timedelta(minutes=1))


# ----- read models -------------------------------------------------------------------------

Digests = dict[str, tuple[int, str]]


def projections() -> list[Projection]:
    return all_projections(ZoneInfo(TIMEZONE), SEAL_KEY.encode())


def digests(path: Path) -> Digests:
    """Row count and SHA-256 of the rows, sorted by primary key, of every table of every projection, and
    each projection's tracking position and version."""
    conn = sqlite3.connect(path, timeout=WAIT)
    try:
        found: Digests = {}
        for projection in projections():
            for table in projection.tables:
                columns = conn.execute(f"PRAGMA table_info({table})").fetchall()
                key = [name for _cid, name, *_rest, pk in sorted(columns, key=lambda c: c[-1]) if pk]
                assert key, f"{table} has no primary key to sort its rows by"
                rows = conn.execute(f"SELECT * FROM {table} ORDER BY {', '.join(key)}").fetchall()
                found[table] = (len(rows), hashlib.sha256(repr(rows).encode()).hexdigest())
        tracking = conn.execute("SELECT name, position, version FROM projection_tracking ORDER BY name").fetchall()
        found["projection_tracking"] = (len(tracking), repr(tracking))
        return found
    finally:
        conn.close()


def positions(path: Path) -> dict[str, int]:
    """Each projection's tracking position, as a new process would read it ({} before there are any)."""
    if not path.exists():
        return {}
    conn = sqlite3.connect(path, timeout=WAIT)
    try:
        return {name: int(at) for name, at in conn.execute("SELECT name, position FROM projection_tracking")}
    except sqlite3.OperationalError as error:
        if "no such table" in str(error):
            return {}
        raise
    finally:
        conn.close()


def lowest(path: Path) -> int:
    """The position every projection has reached (0 until all of them are tracked)."""
    found = positions(path)
    return min(found.values()) if set(found) == {p.name for p in projections()} else 0


def reached(path: Path, position: int) -> bool:
    return lowest(path) >= position


def wait_for(what: str, condition: Callable[[], bool], worker: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + WAIT
    while not condition():
        if worker.poll() is not None:
            raise AssertionError(f"the worker exited with {worker.returncode} while waiting for {what}")
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {WAIT:.0f}s waiting for {what}")
        time.sleep(0.01)


def copy_crashed(source: Path, target: Path) -> None:
    """Copy a read store as a crash left it: the database file and its write-ahead log, unrecovered."""
    for suffix in ("", "-wal"):
        if Path(f"{source}{suffix}").exists():
            shutil.copyfile(f"{source}{suffix}", f"{target}{suffix}")


def remove(path: Path) -> None:
    for suffix in ("", "-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)


# ----- a rebuild from scratch, in a process of its own ----------------------------------------

REPOSITORY = Path(__file__).resolve().parents[2]
REBUILDER = (
    "import sys; from tests.integration.test_projection_crashes import rebuild_on_request as r; r(*sys.argv[1:])"
)


def rebuild_on_request(url: str, path: str) -> None:
    """Rebuild every read model from scratch into a new store at `path`, stopping at each position
    read from stdin (in batches of 5000, where the worker's are 1000) to write its digests to stdout."""
    app = InventoryApplication(url, timezone_name=TIMEZONE)
    store = SqliteReadStore(path)
    try:
        projector = Projector(app, store, projections())
        for line in sys.stdin:
            position = projector.catch_up(until=int(line), batch_size=5000)
            print(json.dumps({"position": position, "digests": digests(Path(path))}), flush=True)
    finally:
        store.close()
        app.close()


class Rebuilder:
    """Drives `rebuild_on_request` in a child process, which runs beside the worker on the other core."""

    def __init__(self, url: str, path: Path, env: dict[str, str], log: Path) -> None:
        with log.open("ab") as errors:
            self.process = subprocess.Popen(
                [sys.executable, "-c", REBUILDER, url, str(path)],
                cwd=REPOSITORY,
                env=env,
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=errors,
                text=True,
            )
        self.log = log
        self.answers: queue.Queue[str] = queue.Queue()
        self.reader = threading.Thread(target=self._read, daemon=True, name="rebuilder-answers")
        self.reader.start()

    def _read(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self.answers.put(line)
        self.answers.put("")

    def request(self, position: int) -> None:
        """Ask for the digests at `position` (answers come in the order asked)."""
        assert self.process.stdin is not None
        self.process.stdin.write(f"{position}\n")
        self.process.stdin.flush()

    def answer(self, position: int) -> Digests:
        try:
            line = self.answers.get(timeout=10 * WAIT)
        except queue.Empty:
            raise AssertionError(f"no rebuild to {position} after {10 * WAIT:.0f}s") from None
        assert line, f"the rebuild process ended: {self.log.read_text()[-3000:]}"
        found = json.loads(line)
        assert found["position"] == position, f"the rebuild stopped at {found['position']}, not {position}"
        return {table: (count, digest) for table, (count, digest) in found["digests"].items()}

    def finish(self) -> None:
        assert self.process.stdin is not None
        self.process.stdin.close()
        assert self.process.wait(timeout=WAIT) == 0, self.log.read_text()[-3000:]

    def close(self) -> None:
        """Stop the process if it is still running and close its pipes."""
        if self.process.poll() is None:
            self.process.kill()
        self.process.wait(timeout=WAIT)
        self.reader.join(timeout=WAIT)
        for stream in (self.process.stdin, self.process.stdout):
            if stream is not None:
                with contextlib.suppress(OSError):
                    stream.close()


# ----- the test ----------------------------------------------------------------------------


@pytest.fixture
def processes() -> Iterator[list[subprocess.Popen[Any]]]:
    """Worker processes started by the test; any still running at the end is killed."""
    started: list[subprocess.Popen[Any]] = []
    try:
        yield started
    finally:
        for process in started:
            if process.poll() is None:
                process.kill()
                process.wait(timeout=WAIT)


def test_a_worker_killed_mid_catch_up_leaves_and_resumes_to_rebuilt_read_models(
    tmp_path: Path, processes: list[subprocess.Popen[Any]]
) -> None:
    started = time.monotonic()
    url = f"sqlite:///{tmp_path / 'inventory.db'}"
    read_db = tmp_path / "inventory.readmodels.db"  # where `inventory worker` keeps them: read_store_for(url)
    app = BulkApplication(url, timezone_name=TIMEZONE)
    # Digests of what each crash left are taken in this thread while the next worker runs.
    checker = ThreadPoolExecutor(max_workers=1, thread_name_prefix="crash-digests")
    rebuilder: Rebuilder | None = None
    try:
        head = LogWriter(app).write(EVENTS)
        assert head >= EVENTS
        written = time.monotonic()
        env = {
            **os.environ,
            "INVENTORY_DATABASE_URL": url,
            "INVENTORY_SEAL_KEY": SEAL_KEY,
            "INVENTORY_TIMEZONE": TIMEZONE,
            "INVENTORY_INSTANCE_PATH": str(tmp_path),
        }
        rebuilder = Rebuilder(url, tmp_path / "rebuilt.db", env, tmp_path / "rebuilder.log")

        def crashed(copy: Path) -> Digests:
            try:
                return digests(copy)
            finally:
                remove(copy)

        inventory = shutil.which("inventory") or str(Path(sys.executable).with_name("inventory"))

        def start_worker() -> subprocess.Popen[bytes]:
            with (tmp_path / "worker.log").open("ab") as log:
                process = subprocess.Popen(
                    [inventory, "worker", "--interval", "0.2"], cwd=tmp_path, env=env, stdout=log, stderr=log
                )
            processes.append(process)
            return process

        killed_at: list[int] = []
        left_by_crashes: list[Future[Digests]] = []
        worker = start_worker()
        for number in range(KILLS):
            threshold = head * (number + 1) // (KILLS + 1)
            wait_for(f"position {threshold} before kill {number + 1}", partial(reached, read_db, threshold), worker)
            # A batch takes a few tenths of a second: each kill lands at a different point of one.
            time.sleep(number * 0.025)
            worker.send_signal(signal.SIGKILL)
            assert worker.wait(timeout=WAIT) == -signal.SIGKILL
            copy = tmp_path / f"crashed-{number + 1}.db"
            copy_crashed(read_db, copy)

            # One transaction writes a batch of every projection: the crash left them all at one position.
            left = positions(read_db)
            assert len(set(left.values())) == 1, f"kill {number + 1}: projections at different positions: {left}"
            position = next(iter(left.values()))
            assert threshold <= position < head, f"kill {number + 1} landed at {position}, not mid catch-up"
            killed_at.append(position)
            rebuilder.request(position)
            left_by_crashes.append(checker.submit(crashed, copy))

            # The restarted worker carries on from what the crash left.
            worker = start_worker()

        wait_for(f"the head ({head})", partial(reached, read_db, head), worker)
        worker.send_signal(signal.SIGTERM)
        assert worker.wait(timeout=WAIT) == 0, (tmp_path / "worker.log").read_text()[-3000:]
        rebuilder.request(head)
        caught_up = time.monotonic()

        assert len(set(killed_at)) == KILLS and killed_at == sorted(killed_at), f"kill positions: {killed_at}"
        for number, (position, left_by_crash) in enumerate(zip(killed_at, left_by_crashes, strict=True), start=1):
            got, expected = left_by_crash.result(timeout=10 * WAIT), rebuilder.answer(position)
            differ = sorted(table for table in expected if got.get(table) != expected[table])
            assert not differ, f"after kill {number} at {position}, these tables differ from a rebuild: {differ}"

        assert positions(read_db) == {p.name: head for p in projections()}
        got = digests(read_db)
        expected = rebuilder.answer(head)
        rebuilder.finish()
        checked = time.monotonic()
        empty = sorted(table for table, (count, _digest) in expected.items() if not count)
        assert not empty, f"the log gives these tables no rows: {empty}"
        differ = sorted(table for table in expected if got.get(table) != expected[table])
        assert not differ, f"after the last restart, these tables differ from a rebuild: {differ}"
        print(
            f"\n{head} events written in {written - started:.1f}s; worker killed at {killed_at}, then at the head "
            f"{caught_up - written:.1f}s later; rebuilds checked {checked - caught_up:.1f}s later; "
            f"{time.monotonic() - started:.1f}s in all"
        )
    finally:
        checker.shutdown(wait=True, cancel_futures=True)
        if rebuilder is not None:
            rebuilder.close()
        app.close()
