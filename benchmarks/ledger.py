"""Write and load speed of the stock ledger on SQLite, against eventsourcing's own baseline.

Run from the repository root:

    .venv/bin/python benchmarks/ledger.py            # full run (about a minute)
    .venv/bin/python benchmarks/ledger.py --quick    # smaller run

It prints:

1. events/s written by `InventoryApplication.record_encounter` (2 lines: naloxone + syringes, so
   3 events per encounter: 1 Encounter + 1 Distributed per ledger), on a SQLite file;
2. events/s of a bare `Application.save` on another SQLite file, with the same grouping: each save
   holds one new trivial aggregate plus one new event on each of two long-lived aggregates (the
   shape of an encounter: a new Encounter plus a Distributed on each of two existing ledgers);
3. the ratio of the two (target >= 0.5);
4. the time to load a StockLedger of 10,000 and 100,000 events cold (a new application each time,
   so the aggregate cache is empty), with snapshots (every 100 events, as configured) and without.

Everything lives in a temporary directory that is removed afterwards.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path
from uuid import UUID, uuid4

from eventsourcing.application import Application
from eventsourcing.domain import Aggregate, event

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from inventory.application import InventoryApplication
from inventory.domain import StockLedger, ledger_id

ACTOR = "bench@example.org"
SITE = "BENCH-1"
NALOXONE = "NALOX-4MG"
SYRINGES = "SYR-1ML"
SYRINGES_PER_ENCOUNTER = 10
RATIO_TARGET = 0.5
LOAD_TARGET_MS = 20.0
TARGET_LEDGER_SIZE = 100_000


# ----- the trivial aggregate for the baseline ----------------------------------------------------


class Note(Aggregate):
    """A trivial aggregate: one short string."""

    @event("Created")
    def __init__(self, text: str) -> None:
        self.text = text

    @event("Noted")
    def note(self, text: str) -> None:
        self.text = text


class Baseline(Application[UUID]):
    """A plain application: no snapshots, no aggregate cache, no command logic."""

    name = "Baseline"


# ----- results -----------------------------------------------------------------------------------


@dataclass
class Row:
    """One line of the results table."""

    what: str
    value: str
    target: str = ""
    verdict: str = ""


def sqlite_url(folder: Path, name: str) -> str:
    return f"sqlite:///{folder / name}"


def sqlite_env(folder: Path, name: str) -> dict[str, str]:
    return {"PERSISTENCE_MODULE": "eventsourcing.sqlite", "SQLITE_DBNAME": str(folder / name)}


def max_position(app: Application[UUID]) -> int:
    return app.recorder.max_notification_id() or 0


# ----- 1. encounters through the application -----------------------------------------------------


def seed(app: InventoryApplication, encounters: int) -> None:
    """One site, naloxone and syringes, a funding source, and enough stock for every encounter."""
    app.register_site(code=SITE, name="Benchmark site", kind="fixed", actor=ACTOR)
    app.register_item(
        sku=NALOXONE, name="Naloxone 4 mg nasal", category="naloxone", unit="kit", tracks_expiry=True, actor=ACTOR
    )
    app.register_item(
        sku=SYRINGES, name="Syringe 1 mL", category="syringe", unit="syringe", tracks_expiry=False, actor=ACTOR
    )
    app.register_funding_source(code="STATE", name="State harm reduction fund", federal=False, actor=ACTOR)
    app.receive_stock(
        site=SITE,
        sku=NALOXONE,
        lot="NX-0001",
        quantity=encounters,
        expires_on=date(2099, 12, 31),
        funding_source="STATE",
        unit_cost=Decimal("47.50"),
        actor=ACTOR,
    )
    app.receive_stock(
        site=SITE,
        sku=SYRINGES,
        lot="SY-0001",
        quantity=encounters * SYRINGES_PER_ENCOUNTER,
        expires_on=None,
        funding_source="STATE",
        actor=ACTOR,
    )


def record(app: InventoryApplication, index: int) -> None:
    app.record_encounter(
        key=f"bench-encounter-{index:08d}",
        site=SITE,
        lines=[
            {"sku": NALOXONE, "quantity": 1},
            {"sku": SYRINGES, "quantity": SYRINGES_PER_ENCOUNTER},
        ],
        participant_code=None,
        reversals_reported=0,
        syringes_collected=SYRINGES_PER_ENCOUNTER,
        actor=ACTOR,
    )


@dataclass
class Workload:
    """A write workload timed in chunks: one step writes 3 events in one save()."""

    app: Application[UUID]
    step: Callable[[int], None]
    done: int = 0
    seconds: float = 0.0
    events: int = 0

    def run(self, steps: int) -> None:
        before = max_position(self.app)
        started = time.perf_counter()
        for index in range(self.done, self.done + steps):
            self.step(index)
        self.seconds += time.perf_counter() - started
        self.events += max_position(self.app) - before
        self.done += steps

    @property
    def rate(self) -> float:
        return self.events / self.seconds


def encounter_workload(folder: Path, encounters: int) -> Workload:
    """record_encounter on a seeded application: 1 Encounter + 2 Distributed events each."""
    app = InventoryApplication(sqlite_url(folder, "encounters.db"))
    seed(app, encounters)
    return Workload(app, lambda index: record(app, index))


# ----- 2. the bare Application.save baseline -----------------------------------------------------


def baseline_workload(folder: Path) -> Workload:
    """Application.save(new, a, b): one new trivial aggregate plus one event on each of two old ones."""
    app = Baseline(env=sqlite_env(folder, "baseline.db"))
    first, second = Note("ledger A"), Note("ledger B")
    app.save(first, second)

    def step(index: int) -> None:
        fresh = Note(f"encounter {index}")
        first.note(f"issued {index}")
        second.note(f"issued {index}")
        app.save(fresh, first, second)

    return Workload(app, step)


def bench_writes(folder: Path, encounters: int, warmup: int, rounds: int) -> tuple[Workload, Workload]:
    """Time both workloads in alternating chunks, so other load on the machine hits both alike."""
    application = encounter_workload(folder, warmup + encounters)
    baseline = baseline_workload(folder)
    try:
        for workload in (application, baseline):
            workload.run(warmup)
            workload.done, workload.seconds, workload.events = warmup, 0.0, 0
        chunk, rest = divmod(encounters, rounds)
        for number in range(rounds):
            steps = chunk + (1 if number < rest else 0)
            application.run(steps)
            baseline.run(steps)
        for workload in (application, baseline):
            if workload.events != encounters * 3:
                raise SystemExit(f"expected {encounters * 3} events, found {workload.events}")
        return application, baseline
    finally:
        application.app.close()
        baseline.app.close()


# ----- 4. loading a long ledger ------------------------------------------------------------------


class LedgerBuilder:
    """Grows one StockLedger with a realistic mix: a delivery every 50 events, issues in between."""

    RECEIPT_EVERY = 50
    RECEIPT_QUANTITY = 500
    ISSUE_QUANTITY = 10
    LOT_EVERY = 2_000  # a new lot every 2,000 events: 50 lots in a 100,000-event ledger

    def __init__(self, app: InventoryApplication, site: str) -> None:
        self.app = app
        self.ledger = StockLedger(site, NALOXONE, "kit", True)
        self.moment = datetime(2025, 1, 1, tzinfo=UTC)
        self.app.save(self.ledger)

    def _lot(self) -> tuple[str, date]:
        number = self.ledger.version // self.LOT_EVERY
        return f"NX-{number:05d}", date(2030 + number // 12, number % 12 + 1, 28)

    def _one(self) -> None:
        lot, expiry = self._lot()
        if lot not in self.ledger.lots or self.ledger.version % self.RECEIPT_EVERY == 0:
            self.ledger.receive(
                lot=lot,
                quantity=self.RECEIPT_QUANTITY,
                expires_on=expiry,
                funding_source="STATE",
                unit_cost=Decimal("47.50"),
                purchase_order="PO-BENCH",
                reference=None,
                actor=ACTOR,
                occurred_at=self.moment,
            )
        else:
            picks = self.ledger.plan_issue(self.ISSUE_QUANTITY, self.moment.date(), lot)
            self.ledger.distribute(encounter_id=uuid4(), picks=picks, actor=ACTOR, occurred_at=self.moment)

    def grow_to(self, version: int, batch: int = 1_000) -> None:
        """Add events until the ledger is at `version`, saving `batch` events per save()."""
        while self.ledger.version < version:
            for _ in range(min(batch, version - self.ledger.version)):
                self._one()
            self.app.save(self.ledger)


def cold_load_ms(url: str, aggregate_id: UUID, runs: int, env: dict[str, str] | None = None) -> float:
    """Median ms of loading an aggregate as the application does, in a new application (empty cache) each run."""
    times: list[float] = []
    for _ in range(runs):
        app = InventoryApplication(url, env=env)
        try:
            app.recorder.max_notification_id()  # open the connection: "cold" means an empty cache
            started = time.perf_counter()
            app.aggregate(aggregate_id)
            times.append((time.perf_counter() - started) * 1000)
        finally:
            app.close()
    return statistics.median(times)


def warm_get_ms(app: InventoryApplication, aggregate_id: UUID, runs: int, *, deepcopy: bool) -> float:
    """Median ms of `repository.get` on a cached aggregate (fast-forward as configured, with or without a copy)."""
    app.repository.get(aggregate_id)
    times: list[float] = []
    for _ in range(runs):
        started = time.perf_counter()
        app.repository.get(aggregate_id, deepcopy_from_cache=deepcopy)
        times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times)


def bench_loads(folder: Path, sizes: list[int], runs: int, unsnapshotted_runs: int) -> list[Row]:
    url = sqlite_url(folder, "ledgers.db")
    rows: list[Row] = []
    app = InventoryApplication(url)
    try:
        for size in sizes:
            site = f"LOAD-{size}"
            the_id = ledger_id(site, NALOXONE)
            builder = LedgerBuilder(app, site)
            started = time.perf_counter()
            builder.grow_to(size)
            build_s = time.perf_counter() - started
            expected_on_hand = builder.ledger.on_hand
            checker = InventoryApplication(url)
            loaded: StockLedger = checker.repository.get(the_id)
            checker.close()
            assert isinstance(loaded, StockLedger)
            if loaded.version != size or loaded.on_hand != expected_on_hand:
                raise SystemExit(f"ledger {site} loaded as v{loaded.version}/{loaded.on_hand}, wanted {size}")
            lots = len(loaded.lots)
            label = f"{size:,}-event ledger"
            rows.append(Row(f"  build {label} ({lots} lots, saved 1,000 events per save)", f"{build_s:.1f} s"))

            with_snapshot = cold_load_ms(url, the_id, runs)
            rows.append(_load_row(f"load {label}, cold, snapshot at v{size:,}", with_snapshot, size))

            # Worst case: 99 events past the newest snapshot.
            builder.grow_to(size + 99)
            worst = cold_load_ms(url, the_id, runs)
            rows.append(_load_row(f"load {label} + 99 events past the snapshot, cold", worst, size))

            replays = unsnapshotted_runs if size <= 20_000 else 1  # a 100k replay takes seconds
            without = cold_load_ms(url, the_id, replays, env={"IS_SNAPSHOTTING_ENABLED": "n"})
            rows.append(
                Row(
                    f"load {label} + 99, cold, snapshots off (full replay, {replays} run{'s' if replays > 1 else ''})",
                    f"{without:,.1f} ms",
                    "(what snapshots save)",
                )
            )
            forward = "with" if app.repository.fastforward else "no"
            for deepcopy in (False, True):
                rows.append(
                    Row(
                        f"  warm get (cache hit, {forward} fast-forward query, "
                        + (f"deepcopy of {lots} lots)" if deepcopy else "no copy)"),
                        f"{warm_get_ms(app, the_id, runs * 5, deepcopy=deepcopy):.3f} ms",
                    )
                )
    finally:
        app.close()
    return rows


def _load_row(what: str, ms: float, size: int) -> Row:
    target = f"< {LOAD_TARGET_MS:.0f} ms" + ("" if size == TARGET_LEDGER_SIZE else " (set for 100k)")
    return Row(what, f"{ms:.2f} ms", target, "PASS" if ms < LOAD_TARGET_MS else "MISS")


# ----- main --------------------------------------------------------------------------------------


def print_table(title: str, rows: list[Row]) -> None:
    width = max(len(row.what) for row in rows)
    value_width = max(len(row.value) for row in rows)
    target_width = max(len(row.target) for row in rows)
    print(f"\n{title}")
    print(f"{'measure':<{width}}  {'figure':>{value_width}}  {'target':<{target_width}}  result")
    print("-" * (width + value_width + target_width + 12))
    for row in rows:
        print(f"{row.what:<{width}}  {row.value:>{value_width}}  {row.target:<{target_width}}  {row.verdict}")


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--encounters", type=int, default=None, help="encounters to record (default 3000)")
    parser.add_argument(
        "--quick", action="store_true", help="smaller run: 500 encounters, ledgers of 2,000 and 10,000 events"
    )
    parser.add_argument(
        "--sizes",
        type=lambda text: [int(part) for part in text.split(",")],
        default=None,
        help="ledger sizes to load, comma-separated (default 10000,100000)",
    )
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    encounters: int = args.encounters or (500 if args.quick else 3_000)
    sizes: list[int] = args.sizes or ([2_000, 10_000] if args.quick else [10_000, TARGET_LEDGER_SIZE])
    runs, unsnapshotted_runs = (5, 1) if args.quick else (9, 3)
    warmup = min(100, max(10, encounters // 20))
    print(f"eventsourcing on SQLite (WAL), {encounters:,} encounters, ledgers of {', '.join(f'{s:,}' for s in sizes)}")

    with tempfile.TemporaryDirectory(prefix="ledger-bench-") as name:
        folder = Path(name)
        application, baseline = bench_writes(folder, encounters, warmup, rounds=10)
        app_rate, app_events, app_s = application.rate, application.events, application.seconds
        raw_rate, raw_events, raw_s = baseline.rate, baseline.events, baseline.seconds
        ratio = app_rate / raw_rate
        write_rows = [
            Row(
                f"record_encounter: {encounters:,} encounters x 2 lines = {app_events:,} events in {app_s:.2f} s",
                f"{app_rate:,.0f} ev/s",
            ),
            Row("  = encounters per second (3 events each)", f"{app_rate / 3:,.0f} /s"),
            Row(
                f"Application.save baseline: {raw_events:,} events in {raw_s:.2f} s "
                "(1 new + 1 event on each of 2 old aggregates per save)",
                f"{raw_rate:,.0f} ev/s",
            ),
            Row(
                "ratio application / baseline",
                f"{ratio:.2f}",
                f">= {RATIO_TARGET}",
                "PASS" if ratio >= RATIO_TARGET else "MISS",
            ),
        ]
        print_table(
            "Writes (one save() transaction per encounter, 3 events each; the two timed in 10 alternating chunks)",
            write_rows,
        )
        load_rows = bench_loads(folder, sizes, runs, unsnapshotted_runs)
        print_table(
            f"Loads (repository.get in a new InventoryApplication each run, so the aggregate cache is empty; "
            f"median of {runs} runs)",
            load_rows,
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
