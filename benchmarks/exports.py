"""Grant report exports (issue #7): the time to build a year's report, and a ledger sheet's time and memory.

Run from the repository root:

    .venv/bin/python benchmarks/exports.py            # a year, then a 1,000,000-row ledger (~13 min on 2 cores)
    .venv/bin/python benchmarks/exports.py --quick    # a quarter, then 100,000 rows

It prints, on SQLite:

1. A grant report for one year of a program of 49 sites and a warehouse (50 sites) and 30 items:
   the program's log is written with `benchmarks/projections.py`'s `ProgramWriter` (its setup,
   then each day of the year, at --visits-per-day encounters on a weekday and half that at
   weekends), all projections are rebuilt, then the workbook is written for all funding sources
   and for one, as `inventory export grant-report` writes it (`exports.reports.grant_figures`,
   then `write_grant_report` inside its snapshot): wall time (reading the figures, then writing),
   rows written, file size and peak RSS.
2. A ledger sheet of 1,000,000 rows (--rows) through the same path: the rows are synthetic
   movements inserted straight into a fresh read store's `stock_movements` table (a year of dates,
   the mix of kinds the program above makes: mostly visits' hand-outs, transfers, counts, receipts),
   since recording a million movements through the domain takes many minutes; the ledger is then
   streamed from that store (`report_queries.iter_movements`) into the Ledger sheet. Wall time,
   ledger rows/s, RSS sampled every 100,000 ledger rows (from the progress callback), and the
   peak: target under 300 MB, and flat (RSS at the last sample minus RSS at the first < 50 MB).
   (With --quick, the samples are every 10,000 rows.)

Each export runs in a child process of its own (this script again, with --child), so that its
peak RSS is the export's alone, not the log writer's or the rebuild's: the child's VmHWM (its
own high-water mark; its `ru_maxrss` would start at this script's RSS, carried over by fork and
exec). Everything lives in a temporary directory that is removed afterwards (the children's
temporary files too). It exits 1 when a target is missed or a row is missing.
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import random
import resource
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from datetime import time as clock
from pathlib import Path
from typing import Any
from uuid import UUID

# The repository first: `exports` is its package (not this file), then `projections` from this folder.
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import projections
from projections import (
    FIRST_DAY,
    ITEMS,
    SEAL_KEY,
    SPECS,
    WAREHOUSE,
    ZONE,
    ZONE_NAME,
    ProgramWriter,
    Row,
    loadavg,
    print_table,
    say,
)

from exports.grant_report import write_grant_report
from exports.reports import Source, grant_figures
from inventory.application import InventoryApplication
from inventory.projections import all_projections
from inventory.projections.runner import Projector
from inventory.projections.store import SqliteReadStore

FUNDER = "FED-SUD"  # the one funding source reported on its own
MEMORY_TARGET_MB = 300
FLAT_TARGET_MB = 50
SAMPLE_EVERY = 100_000  # ledger rows between RSS samples
PAGE_SIZE = os.sysconf("SC_PAGE_SIZE")


def rss_mb() -> float:
    """This process's resident set size now."""
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * PAGE_SIZE / 2**20


def peak_mb() -> float:
    """This process's peak RSS since it started: VmHWM, the high-water mark of its own address space.

    Not `ru_maxrss`: Linux carries a parent's peak into a child through fork and exec (the child's
    `ru_maxrss` starts at the RSS this script had when it started the child)."""
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # kB on Linux


# ----- a child: one export, measured ------------------------------------------------------------


def export(spec: dict[str, Any]) -> dict[str, Any]:
    """Write one grant report as the CLI does; time it and sample this process's RSS as rows go out."""
    app = InventoryApplication(spec["url"], timezone_name=ZONE_NAME)
    store = SqliteReadStore(spec["store"])
    source = Source(app, store, ZONE)
    baseline = rss_mb()
    every = int(spec["sample_every"])
    samples: list[tuple[int, float]] = []
    written = 0
    last_row_at = 0.0
    try:
        started = time.perf_counter()
        with grant_figures(
            source,
            funding_source=spec["funding"],
            start=date.fromisoformat(spec["start"]),
            end=date.fromisoformat(spec["end"]),
            who="benchmark",
        ) as (figures, provenance):
            rows = figures.rows()  # the CLI's progress bar: the ledger counted, not read
            ledger = len(figures.ledger)
            before_ledger = rows - ledger
            gathered = time.perf_counter()
            mark = every

            def progress(count: int) -> None:
                nonlocal written, mark, last_row_at
                written += count
                last_row_at = time.perf_counter()
                while written - before_ledger >= mark:
                    samples.append((mark, rss_mb()))
                    mark += every

            write_grant_report(figures, provenance, spec["out"], progress=progress)
        finished = time.perf_counter()
    finally:
        app.close()
        store.close()
    return {
        "gather_s": gathered - started,
        "write_s": finished - gathered,
        "save_s": finished - last_row_at if last_row_at else 0.0,
        "wall_s": finished - started,
        "rows": rows,
        "written": written,
        "ledger": ledger,
        "size": os.path.getsize(spec["out"]),
        "baseline_mb": baseline,
        "peak_mb": peak_mb(),
        "samples": samples,
    }


def run_child(spec: dict[str, Any], folder: Path) -> dict[str, Any]:
    """`export(spec)` in a fresh interpreter (its temporary files in `folder`)."""
    env = dict(os.environ, TMPDIR=str(folder))
    done = subprocess.run(
        [sys.executable, __file__, "--child", json.dumps(spec)], env=env, stdout=subprocess.PIPE, text=True, check=True
    )
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


# ----- 1. a year of a program ---------------------------------------------------------------------


def write_program(url: str, days: int, seed: int) -> tuple[ProgramWriter, int]:
    """The program's setup and `days` days from FIRST_DAY; returns the writer and the log's head."""
    app = InventoryApplication(url, timezone_name=ZONE_NAME, env={"IS_SNAPSHOTTING_ENABLED": "n"})
    try:
        writer = ProgramWriter(app, seed)
        writer.setup()
        for offset in range(days):
            writer.run_day(FIRST_DAY + timedelta(days=offset))
        writer.flush()
        return writer, int(app.recorder.max_notification_id() or 0)
    finally:
        app.close()


def report_rows(label: str, result: dict[str, Any]) -> list[Row]:
    return [
        Row(
            f"{label}: wall time (figures {result['gather_s']:.1f} s, then workbook {result['write_s']:.1f} s, "
            f"of which saving {result['save_s']:.1f} s)",
            f"{result['wall_s']:.1f} s",
        ),
        Row(
            f"  rows written (By site, By month, Receipts, Ledger), of which {result['ledger']:,} ledger rows",
            f"{result['written']:,}",
            f"{result['written'] / result['write_s']:,.0f} rows/s",
        ),
        Row("  file size", f"{result['size'] / 2**20:.1f} MB"),
        Row(
            f"  peak RSS of the export's process (VmHWM; {result['baseline_mb']:.0f} MB before it began)",
            f"{result['peak_mb']:.0f} MB",
        ),
    ]


# ----- 2. a million-row ledger ----------------------------------------------------------------------


def synthetic_movements(rows: int, first: date, days: int, seed: int) -> Iterator[tuple[Any, ...]]:
    """`rows` stock_movements rows over `days` dates from `first`, like the program's: hand-outs at visits
    (one to three items, sharing the visit's reference), transfers out of the warehouse and into a site,
    counts, receipts on purchase orders and the odd damaged unit."""
    rng = random.Random(seed)
    sites = [f"FX-{n:02d}" if n <= 34 else f"VAN-{n:02d}" for n in range(1, 50)]
    staff = {site: [f"staff{n}@{site.lower()}.example.org" for n in range(1, 4)] for site in sites}
    funders = {spec.sku: ("STATE", "COUNTY") if spec.category == "syringe" else ("FED-SUD", "STATE") for spec in ITEMS}
    position = 1_000
    made = 0
    kinds = ("visit", "transfer", "count", "receipt", "damage")
    weights = (88, 9, 2.5, 0.4, 0.1)

    def lot(sku: str, day: date) -> tuple[str, str, str | None]:
        month = (day.year - 2000) * 12 + day.month
        funder = funders[sku][month % 2]
        expires = (day + timedelta(days=700)).replace(day=1).isoformat() if SPECS[sku].tracks_expiry else None
        return f"{sku[:6]}-{month:05d}", funder, expires

    while made < rows:
        day = first + timedelta(days=min(made * days // rows, days - 1))
        minute = rng.randrange(9 * 60, 19 * 60)
        occurred = datetime.combine(day, clock(minute // 60, minute % 60), ZONE).astimezone(UTC)
        at, logged = occurred.isoformat(), (occurred + timedelta(seconds=rng.randint(1, 90))).isoformat()
        business = day.isoformat()
        kind = rng.choices(kinds, weights)[0]
        reference = str(UUID(int=rng.getrandbits(128), version=4))
        site = rng.choice(sites)
        actor = rng.choice(staff[site])
        position += 1
        if kind == "visit":
            for seq, spec in enumerate(rng.sample(ITEMS, rng.choice((1, 2, 2, 3)))):
                code, funder, expires = lot(spec.sku, day)
                quantity = -rng.randint(spec.low, spec.high)
                yield (position, seq, site, spec.sku, code, funder, expires, business, at, logged, "distributed",
                       quantity, None, reference, None, actor, None)  # fmt: skip
                made += 1
        elif kind == "transfer":
            lines = rng.sample(ITEMS, rng.randint(2, 6))
            for step, (where, other, sign, who) in enumerate(
                ((WAREHOUSE, site, -1, "warehouse@program.example.org"), (site, WAREHOUSE, 1, actor))
            ):
                position += step
                for seq, spec in enumerate(lines):
                    code, funder, expires = lot(spec.sku, day)
                    yield (position, seq, where, spec.sku, code, funder, expires, business, at, logged,
                           "transfer_out" if sign < 0 else "transfer_in", sign * spec.pack_size * rng.randint(1, 4),
                           None, reference, other, who, None)  # fmt: skip
                    made += 1
        elif kind == "count":
            spec = rng.choice(ITEMS)
            code, funder, expires = lot(spec.sku, day)
            yield (position, 0, site, spec.sku, code, funder, expires, business, at, logged, "counted",
                   rng.choice((-2, -1, 1)), "count_variance", None, None, actor, None)  # fmt: skip
            made += 1
        elif kind == "receipt":
            spec = rng.choice(ITEMS)
            code, funder, expires = lot(spec.sku, day)
            yield (position, 0, WAREHOUSE, spec.sku, code, funder, expires, business, at, logged, "received",
                   spec.pack_size * rng.randint(10, 200), None, f"PO-{position:06d}", None,
                   "warehouse@program.example.org", f"{rng.randint(5, 4_750) / 100:.2f}")  # fmt: skip
            made += 1
        else:
            spec = rng.choice(ITEMS)
            code, funder, expires = lot(spec.sku, day)
            yield (position, 0, site, spec.sku, code, funder, expires, business, at, logged, "adjusted", -1,
                   "damaged", "wet box", None, actor, None)  # fmt: skip
            made += 1


def fill_ledger_store(url: str, path: str, rows: int, first: date, days: int, seed: int) -> int:
    """A fresh read store (every projection's tables) holding the catalog and `rows` synthetic movements."""
    app = InventoryApplication(url, timezone_name=ZONE_NAME)
    store = SqliteReadStore(path)
    try:
        Projector(app, store, all_projections(ZONE, SEAL_KEY)).setup()
        with store.bulk_load(), store.transaction() as tx:
            tx.executemany(
                """INSERT INTO items (id, sku, name, category, unit, tracks_expiry, pack_size)
                   VALUES (?, ?, ?, ?, ?, ?, ?)""",
                [
                    (
                        f"item-{spec.sku}",
                        spec.sku,
                        spec.name,
                        spec.category,
                        spec.unit,
                        spec.tracks_expiry,
                        spec.pack_size,
                    )
                    for spec in ITEMS
                ],
            )
            tx.executemany(
                "INSERT INTO funding_sources (id, code, name, federal, restrictions) VALUES (?, ?, ?, ?, ?)",
                [
                    ("fund-FED-SUD", "FED-SUD", "Federal substance use block grant", 1, "[]"),
                    ("fund-STATE", "STATE", "State harm reduction fund", 0, "[]"),
                    ("fund-COUNTY", "COUNTY", "County public health", 0, "[]"),
                ],
            )
            tx.executemany(
                """INSERT INTO stock_movements (position, seq, site, sku, lot, funding_source, expires_on,
                       business_date, occurred_at, recorded_at, kind, quantity, reason, reference, other_site, actor,
                       unit_cost) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)""",
                itertools.islice(synthetic_movements(rows, first, days, seed), rows),
            )
            [(count, last)] = tx.fetchall("SELECT COUNT(*), MAX(position) FROM stock_movements")
            tx.execute("UPDATE projection_tracking SET position = ?", (last,))
        return int(count)
    finally:
        app.close()
        store.close()


# ----- the run ------------------------------------------------------------------------------------


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--quick", action="store_true", help="a quarter-year, and a 100,000-row ledger")
    parser.add_argument("--rows", type=int, default=None, help="ledger rows of part 2 (default 1,000,000)")
    parser.add_argument(
        "--visits-per-day", type=int, default=300, help="the program's encounters on a weekday (half at weekends)"
    )
    parser.add_argument("--seed", type=int, default=20240601, help="random seed of the synthetic program")
    parser.add_argument("--child", help=argparse.SUPPRESS)  # one export, measured in its own process
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if args.child:
        print(json.dumps(export(json.loads(args.child))))
        return 0
    start = FIRST_DAY
    end = date(2013, 3, 31) if args.quick else date(2013, 12, 31)
    days = (end - start).days + 1
    rows: int = args.rows or (100_000 if args.quick else 1_000_000)
    every = min(SAMPLE_EVERY, max(rows // 10, 1))
    # setup() estimates each site's demand from this figure, and run_day() draws the day's visits from it.
    projections.ENCOUNTERS_PER_DAY = args.visits_per_day
    say(
        f"Grant report exports on SQLite: {start}..{end} of a 50-site, {len(ITEMS)}-item program at "
        f"{args.visits_per_day} visits a weekday, then a {rows:,}-row ledger sheet"
    )
    load = loadavg()
    overall = time.perf_counter()
    phases: list[Row] = []
    failed = False

    with tempfile.TemporaryDirectory(prefix="exports-bench-") as name:
        folder = Path(name)

        # ----- 1. a year's grant report ------------------------------------------------------------
        url = f"sqlite:///{folder / 'events.db'}"
        started = time.perf_counter()
        writer, head = write_program(url, days, args.seed)
        write_s = time.perf_counter() - started
        phases.append(Row(f"write the log: {head:,} events", f"{write_s:.1f} s", f"{head / write_s:,.0f} ev/s"))
        tally = writer.tally
        say(
            f"  log: {head:,} events; {len(writer.sites) - 1} sites + warehouse, {len(ITEMS)} items, "
            f"{tally.days} days, {tally.encounters:,} encounters, {tally.transfers:,} transfers "
            f"({tally.emergency_transfers} emergency), {tally.orders:,} purchase orders "
            f"({tally.emergency_orders} emergency), {tally.counts:,} counts, {tally.adjustments:,} adjustments"
        )
        del writer
        read_models = str(folder / "events.readmodels.db")
        started = time.perf_counter()
        app = InventoryApplication(url, timezone_name=ZONE_NAME)
        store = SqliteReadStore(read_models)
        try:
            reached = Projector(app, store, all_projections(ZONE, SEAL_KEY)).rebuild()
            rebuild_s = time.perf_counter() - started
            [(movements,)] = store.fetchall(
                "SELECT COUNT(*) FROM stock_movements WHERE business_date BETWEEN ? AND ?",
                [start.isoformat(), end.isoformat()],
            )
        finally:
            app.close()
            store.close()
        phases.append(Row(f"rebuild all projections to {reached:,}", f"{rebuild_s:.1f} s"))
        say(f"  projections caught up to {reached:,} of {head:,}; {movements:,} movements in {start}..{end}")
        if reached != head:
            failed = True
            say(f"  REBUILD STOPPED SHORT: {reached:,} of {head:,}")

        results = {}
        for funder in (None, FUNDER):
            spec = {
                "url": url,
                "store": read_models,
                "funding": funder,
                "start": start.isoformat(),
                "end": end.isoformat(),
                "out": str(folder / f"grant-report-{funder or 'ALL'}.xlsx"),
                "sample_every": every,
            }
            say(f"  writing the grant report for {funder or 'all funding sources'} ...")
            results[funder] = run_child(spec, folder)
            phases.append(Row(f"grant report, {funder or 'all funding sources'}", f"{results[funder]['wall_s']:.1f} s"))
        complete = all(r["written"] == r["rows"] for r in results.values()) and results[None]["ledger"] == movements
        failed |= not complete
        print_table(
            f"1. Grant report, {start}..{end}: {head:,} events, {movements:,} movements in the period",
            [
                *report_rows("all funding sources", results[None]),
                *report_rows(f"one funding source ({FUNDER})", results[FUNDER]),
                Row(
                    "every counted row written, the ledger holding every movement of the period",
                    "yes" if complete else "NO",
                ),
            ],
        )

        # ----- 2. a million-row ledger --------------------------------------------------------------
        ledger_url = f"sqlite:///{folder / 'ledger.db'}"
        ledger_store = str(folder / "ledger.readmodels.db")
        say(f"  inserting {rows:,} synthetic movements into a fresh read store ...")
        started = time.perf_counter()
        inserted = fill_ledger_store(ledger_url, ledger_store, rows, FIRST_DAY, 365, args.seed)
        insert_s = time.perf_counter() - started
        phases.append(Row(f"insert {inserted:,} synthetic movements", f"{insert_s:.1f} s"))
        say(f"  writing the grant report whose Ledger sheet holds {inserted:,} rows ...")
        spec = {
            "url": ledger_url,
            "store": ledger_store,
            "funding": None,
            "start": FIRST_DAY.isoformat(),
            "end": (FIRST_DAY + timedelta(days=364)).isoformat(),
            "out": str(folder / "grant-report-ledger.xlsx"),
            "sample_every": every,
        }
        result = run_child(spec, folder)
        phases.append(Row(f"grant report with a {inserted:,}-row ledger", f"{result['wall_s']:.1f} s"))
        samples: list[tuple[int, float]] = [(int(n), float(mb)) for n, mb in result["samples"]]
        growth = samples[-1][1] - samples[0][1] if len(samples) > 1 else 0.0
        peak_ok = result["peak_mb"] < MEMORY_TARGET_MB
        flat_ok = len(samples) > 1 and growth < FLAT_TARGET_MB
        whole = result["ledger"] == inserted and result["written"] == result["rows"]
        failed |= not (peak_ok and flat_ok and whole)
        others = result["written"] - result["ledger"]
        print_table(
            f"2. Ledger sheet of {inserted:,} rows: synthetic movements inserted into stock_movements, "
            "streamed by iter_movements into the Ledger sheet",
            [
                Row("insert the synthetic movements (not part of the export)", f"{insert_s:.1f} s"),
                Row(
                    f"export wall time (figures {result['gather_s']:.1f} s, workbook {result['write_s']:.1f} s, "
                    f"of which saving {result['save_s']:.1f} s)",
                    f"{result['wall_s']:.1f} s",
                ),
                Row(
                    f"  ledger rows per second of writing the workbook ({others:,} other rows)",
                    f"{result['ledger'] / result['write_s']:,.0f} rows/s",
                ),
                Row("  file size", f"{result['size'] / 2**20:.1f} MB"),
                Row(
                    f"  RSS before the export began (interpreter, imports, {inserted:,} counted)",
                    f"{result['baseline_mb']:.0f} MB",
                ),
                *(Row(f"  RSS at ledger row {n:,}", f"{mb:.0f} MB") for n, mb in samples),
                Row(
                    "peak RSS of the export's process (VmHWM, its high-water mark)",
                    f"{result['peak_mb']:.0f} MB",
                    f"< {MEMORY_TARGET_MB} MB",
                    "PASS" if peak_ok else "MISS",
                ),
                Row(
                    f"flat: RSS at ledger row {samples[-1][0]:,} minus at row {samples[0][0]:,}"
                    if samples
                    else "flat: no samples",
                    f"{growth:+.1f} MB",
                    f"< {FLAT_TARGET_MB} MB",
                    "PASS" if flat_ok else "MISS",
                ),
                Row("every movement written to the Ledger sheet", "yes" if whole else "NO"),
            ],
        )

    phases.append(Row("total", f"{time.perf_counter() - overall:.1f} s"))
    phases.append(Row("load average (1 min) at start / at end, on this many cores", f"{load} / {loadavg()}"))
    print_table("Phases", phases)
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
