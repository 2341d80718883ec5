"""Requests per second and latency of the HTTP API under gunicorn, from a separate client process.

Run from the repository root:

    .venv/bin/python benchmarks/api.py                      # 20 s per phase, 2 workers, 8 clients
    .venv/bin/python benchmarks/api.py --workers 1 --quick  # 5 s per phase
    INVENTORY_DATABASE_URL=postgresql://postgres@127.0.0.1:5432/test .venv/bin/python benchmarks/api.py

It seeds, in this process and through the application's own verbs, one site with 10,000,000
naloxone kits and 40,000,000 syringes in four lots each, stock levels, a funding source and an
admin with an API token, and catches the read models up. Then it starts
`gunicorn -k gthread --threads 4 inventory.web.wsgi:app` (the production entry point, with production
settings and JSON access logs) on 127.0.0.1, waits for GET /healthz,
and drives it from another process (threads with keep-alive `http.client` connections) for a fixed
time per phase, after a short warm-up that is not counted:

1. POST /api/v1/encounters, each with a new Idempotency-Key, alternately 1 line (a naloxone kit)
   and 2 lines (a kit and 10 syringes);
2. GET /api/v1/stock?site=...

Each client connection is replaced about once a second (`--reconnect`), so that connections spread
over gunicorn's workers; the answers each worker gave are counted from gunicorn's access log.
For each phase it prints requests per second, p50/p95/p99 latency and the non-2xx answers by status
(0 on a clean run; otherwise samples of their bodies and the errors in gunicorn's log). At the end
it checks that the kits on hand (GET /api/v1/stock) are the kits received minus one per encounter
answered 201.

The database is a SQLite file in a temporary directory, or, when INVENTORY_DATABASE_URL is a
postgresql:// URL, a schema of its own in that database (created and dropped by the benchmark).
The client shares the machine with the server: on a small machine it takes CPU from gunicorn.
"""

from __future__ import annotations

import argparse
import http.client
import json
import multiprocessing
import os
import random
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from datetime import date
from decimal import Decimal
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlparse, urlunparse

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

HOST = "127.0.0.1"
ADMIN = "bench-admin@example.org"
SITE = "BENCH-1"
NALOXONE = "NALOX-4MG"
SYRINGES = "SYR-1ML"
LOTS = 4
KITS_PER_LOT = 2_500_000  # 10,000,000 kits in all
SYRINGES_PER_LOT = 10_000_000
SYRINGES_PER_ENCOUNTER = 10
THREADS_PER_WORKER = 4
REQUEST_TIMEOUT = 30.0  # seconds a client waits for one answer
READY_TIMEOUT = 60.0  # seconds gunicorn has to answer /healthz
STOP_TIMEOUT = 20.0  # seconds gunicorn has to stop after SIGTERM
SAMPLES_PER_STATUS = 3
ACCESS_FORMAT = "%(p)s %(s)s"  # gunicorn access log: worker pid ("<1234>") and status


# ----- the database ------------------------------------------------------------------------------


def _with_query(url: str, **params: str) -> str:
    parsed = urlparse(url)
    query = dict(parse_qsl(parsed.query))
    query.update(params)
    return urlunparse(parsed._replace(query=urlencode(query)))


@contextmanager
def database(folder: Path) -> Iterator[tuple[str, str]]:
    """(URL, description): a SQLite file in `folder`, or a new schema in the PostgreSQL database
    named by INVENTORY_DATABASE_URL, dropped afterwards."""
    given = os.environ.get("INVENTORY_DATABASE_URL", "")
    if not given.startswith(("postgresql://", "postgres://")):
        yield f"sqlite:///{folder / 'inventory.db'}", "SQLite (WAL) file"
        return
    import psycopg

    from inventory.adapters.persistence import persistence_env, postgres_conninfo

    conninfo = postgres_conninfo(persistence_env(given))
    schema = f"bench_api_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(conninfo, autocommit=True) as conn:
        conn.execute(f'CREATE SCHEMA "{schema}"')
    try:
        parsed = urlparse(given)
        yield _with_query(given, schema=schema), f"PostgreSQL {parsed.hostname}:{parsed.port or 5432}{parsed.path}"
    finally:
        with psycopg.connect(conninfo, autocommit=True) as conn:
            conn.execute(f'DROP SCHEMA "{schema}" CASCADE')


def settings_env(url: str, folder: Path) -> dict[str, str]:
    """Production settings, as a deployment runs (its own keys; web workers create no tables)."""
    return {
        "INVENTORY_DATABASE_URL": url,
        "INVENTORY_INSTANCE_PATH": str(folder / "instance"),
        "INVENTORY_ENV": "production",
        "INVENTORY_SECRET_KEY": "api-benchmark-secret-key-0123456789",
        "INVENTORY_SEAL_KEY": "api-benchmark-seal-key-0123456789",
        "INVENTORY_LOG_FORMAT": "json",
    }


def seed(url: str, folder: Path) -> str:
    """Create the tables (as `inventory init`), seed through the application in this process, and
    return the admin's API token."""
    from inventory.adapters.settings import load_settings
    from inventory.bootstrap import build_services, create_schema

    found = build_services(load_settings(settings_env(url, folder)))
    try:
        create_schema(found)
        app = found.app
        app.register_site(code=SITE, name="Benchmark site", kind="fixed", actor=ADMIN)
        app.register_item(
            sku=NALOXONE, name="Naloxone 4 mg nasal", category="naloxone", unit="kit", tracks_expiry=True, actor=ADMIN
        )
        app.register_item(
            sku=SYRINGES, name="Syringe 1 mL", category="syringe", unit="syringe", tracks_expiry=False, actor=ADMIN
        )
        app.register_funding_source(code="STATE", name="State harm reduction fund", federal=False, actor=ADMIN)
        for number in range(LOTS):
            app.receive_stock(
                site=SITE,
                sku=NALOXONE,
                lot=f"NX-{number + 1:04d}",
                quantity=KITS_PER_LOT,
                expires_on=date(2096 + number, 12, 31),
                funding_source="STATE",
                unit_cost=Decimal("47.50"),
                actor=ADMIN,
            )
            app.receive_stock(
                site=SITE,
                sku=SYRINGES,
                lot=f"SY-{number + 1:04d}",
                quantity=SYRINGES_PER_LOT,
                expires_on=None,
                funding_source="STATE",
                actor=ADMIN,
            )
        for sku, reorder, par in ((NALOXONE, 1_000, 5_000), (SYRINGES, 10_000, 50_000)):
            app.set_stock_level(site=SITE, sku=sku, reorder_point=reorder, par_level=par, lead_time_days=7, actor=ADMIN)
        app.register_user(email=ADMIN, role="admin", actor=ADMIN)
        token = app.issue_token(email=ADMIN, label="api benchmark", actor=ADMIN)
        found.projector.catch_up()
        return token
    finally:
        found.close()


# ----- gunicorn ----------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((HOST, 0))
        return int(sock.getsockname()[1])


def start_gunicorn(url: str, folder: Path, workers: int, port: int, log: Any) -> subprocess.Popen[bytes]:
    """gunicorn in its own session (so Ctrl+C here does not reach it before the finally does)."""
    env = {**os.environ, **settings_env(url, folder)}
    command = [
        str(ROOT / ".venv" / "bin" / "gunicorn"),
        "-w",
        str(workers),
        "-k",
        "gthread",
        "--threads",
        str(THREADS_PER_WORKER),
        "-b",
        f"{HOST}:{port}",
        "--graceful-timeout",
        "10",
        "--error-logfile",
        "-",
        "--access-logfile",
        str(folder / "access.log"),
        "--access-logformat",
        ACCESS_FORMAT,
        "--no-control-socket",  # gunicorn 27 otherwise listens on one socket in $HOME for every instance
        "inventory.web.wsgi:app",
    ]
    return subprocess.Popen(command, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)


def wait_ready(process: subprocess.Popen[bytes], port: int) -> float:
    """Poll GET /healthz until it answers 200; seconds it took."""
    started = time.monotonic()
    while time.monotonic() - started < READY_TIMEOUT:
        if process.poll() is not None:
            raise SystemExit(f"gunicorn exited with {process.returncode} before it was ready")
        conn = http.client.HTTPConnection(HOST, port, timeout=2)
        try:
            conn.request("GET", "/healthz")
            if conn.getresponse().status == 200:
                return time.monotonic() - started
        except OSError:
            pass
        finally:
            conn.close()
        time.sleep(0.1)
    raise SystemExit(f"gunicorn did not answer /healthz within {READY_TIMEOUT:.0f} s")


def stop_gunicorn(process: subprocess.Popen[bytes]) -> str:
    """SIGTERM (graceful), then SIGKILL if it does not stop in time."""
    if process.poll() is not None:
        return f"had exited ({process.returncode})"
    process.send_signal(signal.SIGTERM)
    try:
        process.wait(timeout=STOP_TIMEOUT)
        return f"stopped by SIGTERM ({process.returncode})"
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout=STOP_TIMEOUT)
        return f"KILLED: did not stop within {STOP_TIMEOUT:.0f} s of SIGTERM"


# ----- the client process ------------------------------------------------------------------------


@dataclass
class Tally:
    """What one phase's clients saw in the measured window."""

    latencies: list[float] = field(default_factory=list)  # seconds
    statuses: Counter[int] = field(default_factory=Counter)
    all_statuses: Counter[int] = field(default_factory=Counter)  # warm-up included
    samples: dict[int, list[str]] = field(default_factory=dict)
    transport_errors: Counter[str] = field(default_factory=Counter)
    seconds: float = 0.0

    def add(self, other: Tally) -> None:
        self.latencies.extend(other.latencies)
        self.statuses.update(other.statuses)
        self.all_statuses.update(other.all_statuses)
        self.transport_errors.update(other.transport_errors)
        for status, bodies in other.samples.items():
            kept = self.samples.setdefault(status, [])
            kept.extend(bodies[: SAMPLES_PER_STATUS - len(kept)])


def encounter_body(sequence: int) -> bytes:
    lines: list[dict[str, Any]] = [{"sku": NALOXONE, "quantity": 1}]
    collected = 0
    if sequence % 2:
        lines.append({"sku": SYRINGES, "quantity": SYRINGES_PER_ENCOUNTER})
        collected = SYRINGES_PER_ENCOUNTER
    return json.dumps({"site": SITE, "lines": lines, "syringes_collected": collected}).encode()


@dataclass(frozen=True)
class Plan:
    """What the load generator does in one phase."""

    port: int
    token: str
    phase: str  # "encounters" or "stock"
    clients: int
    warmup: float
    seconds: float
    reconnect: float  # mean seconds a connection is kept; 0: for the whole phase


def client_loop(plan: Plan, client: int, run_id: str, start_at: float, stop_at: float, tally: Tally) -> None:
    """One keep-alive connection sending requests until `stop_at`; counts those sent after `start_at`.

    The connection is replaced every `plan.reconnect` seconds or so (randomised): gunicorn's workers
    share one listening socket, so a burst of new connections can all land on one worker, and a
    connection then stays with its worker for good.
    """
    headers = {"Authorization": f"Bearer {plan.token}", "Accept": "application/json"}
    conn: http.client.HTTPConnection | None = None
    replace_at = stop_at
    sequence = 0
    while time.monotonic() < stop_at:
        if conn is not None and time.monotonic() >= replace_at:
            conn.close()
            conn = None
        if conn is None:
            conn = http.client.HTTPConnection(HOST, plan.port, timeout=REQUEST_TIMEOUT)
            if plan.reconnect > 0:
                replace_at = time.monotonic() + random.uniform(0.5, 1.5) * plan.reconnect
        sequence += 1
        if plan.phase == "encounters":
            method, path, body = "POST", "/api/v1/encounters", encounter_body(sequence)
            sent = {**headers, "Content-Type": "application/json", "Idempotency-Key": f"b-{run_id}-{client}-{sequence}"}
        else:
            method, path, body, sent = "GET", f"/api/v1/stock?site={SITE}", None, headers
        started = time.monotonic()
        try:
            conn.request(method, path, body=body, headers=sent)
            response = conn.getresponse()
            payload = response.read()
            status = response.status
            closing = response.getheader("Connection", "").lower() == "close"
        except (OSError, http.client.HTTPException) as error:
            conn.close()
            conn = None
            if started >= start_at:
                tally.transport_errors[type(error).__name__] += 1
            time.sleep(0.05)  # a server that refuses at once must not turn this into a busy loop
            continue
        if closing:
            conn.close()
            conn = None
        tally.all_statuses[status] += 1
        if started < start_at:
            continue
        tally.latencies.append(time.monotonic() - started)
        tally.statuses[status] += 1
        if not 200 <= status < 300 and len(tally.samples.setdefault(status, [])) < SAMPLES_PER_STATUS:
            tally.samples[status].append(payload[:500].decode(errors="replace"))
    if conn is not None:
        conn.close()


def drive(plan: Plan, out: Connection) -> None:
    """The load generator (runs in its own process): `clients` threads, warm-up then `seconds`."""
    run_id = uuid.uuid4().hex[:12]
    start_at = time.monotonic() + plan.warmup
    stop_at = start_at + plan.seconds
    tallies = [Tally() for _ in range(plan.clients)]
    threads = [
        threading.Thread(
            target=client_loop, args=(plan, number, run_id, start_at, stop_at, tallies[number]), daemon=True
        )
        for number in range(plan.clients)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=max(stop_at - time.monotonic(), 0) + REQUEST_TIMEOUT + 5)
    total = Tally(seconds=time.monotonic() - start_at)
    for tally in tallies:
        total.add(tally)
    total.transport_errors["client thread still running at the end"] += sum(t.is_alive() for t in threads)
    out.send(total)
    out.close()


def run_phase(plan: Plan) -> Tally:
    """Run the load generator in a separate (spawned) process and collect what it saw."""
    context = multiprocessing.get_context("spawn")
    receiver, sender = context.Pipe(duplex=False)
    process = context.Process(target=drive, args=(plan, sender))
    process.start()
    sender.close()
    try:
        limit = plan.warmup + plan.seconds + REQUEST_TIMEOUT + 30
        if not receiver.poll(limit):
            raise SystemExit(f"the load generator sent nothing within {limit:.0f} s")
        tally: Tally = receiver.recv()
        return tally
    finally:
        process.join(timeout=10)
        if process.is_alive():
            process.terminate()
            process.join(timeout=10)
        receiver.close()


def kits_on_hand(port: int, token: str) -> int:
    conn = http.client.HTTPConnection(HOST, port, timeout=REQUEST_TIMEOUT)
    try:
        conn.request("GET", f"/api/v1/stock?site={SITE}&sku={NALOXONE}", headers={"Authorization": f"Bearer {token}"})
        response = conn.getresponse()
        rows = json.loads(response.read())
        if response.status != 200:
            raise SystemExit(f"GET /api/v1/stock answered {response.status}: {rows}")
        return sum(int(row["quantity"]) for row in rows)
    finally:
        conn.close()


# ----- results -----------------------------------------------------------------------------------


@dataclass
class Row:
    """One line of the results table."""

    what: str
    value: str
    target: str = ""
    verdict: str = ""


def percentile_ms(latencies: list[float], cut: int) -> float:
    if len(latencies) < 2:
        return latencies[0] * 1000 if latencies else float("nan")
    return statistics.quantiles(latencies, n=100, method="inclusive")[cut - 1] * 1000


def phase_rows(label: str, tally: Tally, shares: str) -> list[Row]:
    count = len(tally.latencies)
    # Warm-up included: a failure of each worker's first requests must not hide behind the warm-up.
    bad = sum(n for status, n in tally.all_statuses.items() if not 200 <= status < 300)
    statuses = ", ".join(f"{n:,} x {status}" for status, n in sorted(tally.statuses.items())) or "none"
    transport = sum(tally.transport_errors.values())
    return [
        Row(f"{label}: {count:,} answers in {tally.seconds:.1f} s ({statuses})", f"{count / tally.seconds:,.1f} /s"),
        Row("  latency p50", f"{percentile_ms(tally.latencies, 50):,.1f} ms"),
        Row("  latency p95", f"{percentile_ms(tally.latencies, 95):,.1f} ms"),
        Row("  latency p99", f"{percentile_ms(tally.latencies, 99):,.1f} ms"),
        Row(f"  answers per gunicorn worker, warm-up included: {shares}", ""),
        Row("  non-2xx answers, warm-up included", f"{bad:,}", "0", "PASS" if bad == 0 else "FAIL"),
        Row(
            "  connection errors and timeouts" + (f" ({dict(tally.transport_errors)})" if transport else ""),
            f"{transport:,}",
            "0",
            "PASS" if transport == 0 else "FAIL",
        ),
    ]


def print_table(title: str, rows: list[Row]) -> None:
    width = max(len(row.what) for row in rows)
    value_width = max(len(row.value) for row in rows)
    target_width = max(len(row.target) for row in rows)
    print(f"\n{title}")
    print(f"{'measure':<{width}}  {'figure':>{value_width}}  {'target':<{target_width}}  result")
    print("-" * (width + value_width + target_width + 12))
    for row in rows:
        print(f"{row.what:<{width}}  {row.value:>{value_width}}  {row.target:<{target_width}}  {row.verdict}")


def print_errors(label: str, tally: Tally) -> None:
    for status, bodies in sorted(tally.samples.items()):
        print(f"\n{label}: {tally.statuses[status]:,} answers with status {status}; samples:")
        for body in bodies:
            print(f"  {body.strip()}")


def worker_shares(path: Path, offset: int) -> tuple[str, int]:
    """Answers per worker in the access log from `offset` on ("412 + 388 (2 workers)"), and the new offset."""
    with path.open("rb") as log:
        log.seek(offset)
        text = log.read()
    counts = Counter(line.split()[0] for line in text.decode(errors="replace").splitlines() if line.strip())
    shares = " + ".join(f"{n:,}" for _, n in counts.most_common()) or "none"
    return f"{shares} ({len(counts)} worker{'s' if len(counts) != 1 else ''})", offset + len(text)


def log_excerpt(path: Path, limit: int = 60) -> list[str]:
    """Warnings, errors and tracebacks from gunicorn's log (the first `limit` lines of them)."""
    keep: list[str] = []
    in_traceback = False
    for line in path.read_text(errors="replace").splitlines():
        starts = any(mark in line for mark in ("[ERROR]", "[CRITICAL]", "[WARNING]", "Traceback", "Error", "error"))
        in_traceback = starts or (in_traceback and (line.startswith((" ", "\t")) or "Error" in line))
        if in_traceback and "[INFO]" not in line:
            keep.append(line)
        if len(keep) >= limit:
            break
    return keep


# ----- main --------------------------------------------------------------------------------------


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--seconds", type=float, default=None, help="measured seconds per phase (default 20)")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers (default 2)")
    parser.add_argument("--clients", type=int, default=8, help="concurrent client connections (default 8)")
    parser.add_argument("--quick", action="store_true", help="5 s per phase (unless --seconds is given)")
    parser.add_argument(
        "--reconnect",
        type=float,
        default=1.0,
        help="mean seconds each client keeps a connection before opening a new one; 0: never (default 1)",
    )
    args = parser.parse_args(argv)
    if args.seconds is None:
        args.seconds = 5.0 if args.quick else 20.0
    if not 0 < args.seconds <= 600 or not 1 <= args.workers <= 32 or not 1 <= args.clients <= 256:
        parser.error("--seconds must be in (0, 600], --workers in 1..32, --clients in 1..256")
    if args.reconnect < 0:
        parser.error("--reconnect must be 0 or more")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    warmup = min(2.0, args.seconds / 5)
    with tempfile.TemporaryDirectory(prefix="api-bench-") as name:
        folder = Path(name)
        with database(folder) as (url, backend):
            print(
                f"HTTP API on {backend}: gunicorn -w {args.workers} -k gthread --threads {THREADS_PER_WORKER}, "
                f"{args.clients} keep-alive client connections in another process"
                + (f" (each replaced every ~{args.reconnect:g} s)" if args.reconnect else "")
                + f", {warmup:g} s warm-up + {args.seconds:g} s per phase; {os.cpu_count()} CPUs, "
                + "load average {:.1f} {:.1f} {:.1f}".format(*os.getloadavg())
            )
            started = time.perf_counter()
            token = seed(url, folder)
            seed_s = time.perf_counter() - started
            port = free_port()
            log_path, access_path = folder / "gunicorn.log", folder / "access.log"
            with log_path.open("wb") as log:
                process = start_gunicorn(url, folder, args.workers, port, log)
                try:
                    ready_s = wait_ready(process, port)
                    kits_before = kits_on_hand(port, token)
                    plan = Plan(port, token, "encounters", args.clients, warmup, args.seconds, args.reconnect)
                    _, offset = worker_shares(access_path, 0)
                    posts = run_phase(plan)
                    post_shares, offset = worker_shares(access_path, offset)
                    kits_after = kits_on_hand(port, token)
                    _, offset = worker_shares(access_path, offset)
                    gets = run_phase(replace(plan, phase="stock"))
                    get_shares, offset = worker_shares(access_path, offset)
                finally:
                    stopped = stop_gunicorn(process)
            # Warm-up encounters count too: every 201 took one kit, whenever it was answered.
            recorded, created = kits_before - kits_after, posts.all_statuses[201]
            rows = [
                Row(f"seed through the application in-process, read models caught up ({seed_s:.1f} s)", ""),
                Row(f"gunicorn ready (GET /healthz) after {ready_s:.1f} s; at the end: {stopped}", ""),
                *phase_rows("POST /api/v1/encounters (1-2 lines, new Idempotency-Key each)", posts, post_shares),
                *phase_rows(f"GET /api/v1/stock?site={SITE}", gets, get_shares),
                Row(
                    f"kits on hand: {kits_before:,} before, {kits_after:,} after the POST phase; "
                    f"the POST phase, warm-up included, answered 201 {created:,} times",
                    f"{recorded:,} taken",
                    f"= {created:,}",
                    "PASS" if recorded == created else "FAIL",
                ),
            ]
            print_table(f"gunicorn, {args.workers} worker(s), on {backend}", rows)
            print_errors("POST /api/v1/encounters", posts)
            print_errors("GET /api/v1/stock", gets)
            excerpt = log_excerpt(log_path)
            if excerpt:
                print(f"\ngunicorn log: warnings and errors (first {len(excerpt)} lines)")
                for line in excerpt:
                    print(f"  {line}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
