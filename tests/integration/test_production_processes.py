"""The production shape on PostgreSQL: `inventory init`, gunicorn with 3 workers (`inventory.web.wsgi`),
one `inventory worker`, and 8 clients on loopback recording visits, receipts and transfers while every
database connection the service holds is killed (`pg_terminate_backend`) once a second for 20 seconds.

Clients retry a 503 with the same Idempotency-Key after its Retry-After. Afterwards: no answer was a
500; within 5 s of the last kill every gunicorn worker answers /healthz, and within 10 s every one
records visits again (a lock left taken by a killed connection once stopped all three for good); every
visit and receipt answered 201 is in the log exactly once, and none is there twice; stock on hand
equals the sum of the movements and of the events; the worker's read models equal a rebuild; the seal
verifies over the whole log.

To tell the workers apart, this test's gunicorn settings (gunicorn_worker_pid.py) add an X-Test-Worker
header naming the worker's pid; the service has no such header. Probes open a new connection for each
request, and gunicorn runs with --reuse-port: each worker listens on a socket of its own and the kernel
deals new connections among them by address, so probes reach every worker, stuck or busy. (On one
shared socket the worker that accepts first takes the connection: an idle one, so a busy or stuck
worker would hardly ever be asked.)
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import threading
import time
import uuid
from collections import Counter, defaultdict
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

import httpx
import psycopg
import pytest

from inventory.adapters.settings import load_settings
from inventory.bootstrap import Services, build_services
from inventory.domain import Encounter, StockLedger, Transfer
from inventory.projections.seal import verify
from tests.conftest import ADMIN, POSTGRES_URL, read_model_rows, seed_catalog

pytestmark = [pytest.mark.postgres, pytest.mark.slow]

BIN = Path(sys.executable).parent
WORKER_PID_SETTINGS = Path(__file__).with_name("gunicorn_worker_pid.py")
SECRETS = {
    "INVENTORY_ENV": "production",
    "INVENTORY_SECRET_KEY": "multi-process-secret-key-0123456789",
    "INVENTORY_SEAL_KEY": "multi-process-seal-key-0123456789",
    "INVENTORY_LOG_FORMAT": "json",
    "INVENTORY_ALERT_CHECK_MINUTES": "60",
}
WEB_WORKERS = 3
KILLS = 20  # one a second
ANSWERS_HEALTHZ_WITHIN = 5.0  # seconds after the last kill, for every web worker
RECORDS_AGAIN_WITHIN = 10.0  # seconds after the last kill, for every web worker
VISIT = {"site": "VAN-1", "lines": [{"sku": "NALOX-4MG", "quantity": 1}], "syringes_collected": 2}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass(frozen=True)
class Answer:
    at: float  # time.monotonic()
    status: int
    worker: str  # the pid in X-Test-Worker
    what: str  # visit, receipt, transfer, arrival, healthz


@dataclass
class Tally:
    """What the clients were told."""

    visits: list[str] = field(default_factory=list)  # keys answered 201
    receipts: list[str] = field(default_factory=list)  # lots answered 201
    transfers: list[str] = field(default_factory=list)  # ids answered 201
    uncertain: list[str] = field(default_factory=list)  # keys whose fate no answer told (409 "still being processed")
    answers: list[Answer] = field(default_factory=list)
    unexpected: list[str] = field(default_factory=list)

    def heard(self, what: str, answer: httpx.Response) -> None:
        self.answers.append(
            Answer(time.monotonic(), answer.status_code, answer.headers.get("X-Test-Worker", "?"), what)
        )

    def statuses(self) -> Counter[int]:
        return Counter(answer.status for answer in self.answers)


def send(
    client: httpx.Client, tally: Tally, what: str, path: str, body: dict[str, Any], key: str
) -> httpx.Response | None:
    """POST with an Idempotency-Key; a 503 is retried with the same key after its Retry-After."""
    for _ in range(40):
        try:
            answer = client.post(path, json=body, headers={"Idempotency-Key": key})
        except httpx.TransportError:
            time.sleep(0.2)  # the server closed the connection: the same key again is safe
            continue
        tally.heard(what, answer)
        if answer.status_code == 503:
            if not answer.headers.get("Retry-After"):
                tally.unexpected.append(f"503 without Retry-After on {path}")
            time.sleep(min(float(answer.headers.get("Retry-After", "1")), 1.0))
            continue
        if answer.status_code == 409 and "still being processed" in answer.text:
            tally.uncertain.append(key)
            return None
        if answer.status_code >= 400:
            tally.unexpected.append(f"{answer.status_code} on {path}: {answer.text[:300]}")
            return None
        return answer
    tally.unexpected.append(f"gave up on {path} after 40 tries")
    return None


def visits(client: httpx.Client, tally: Tally, stop: threading.Event, lane: int) -> None:
    n = 0
    while not stop.is_set():
        n += 1
        key = f"visit-{lane}-{n:05d}"
        if send(client, tally, "visit", "/api/v1/encounters", VISIT, key) is not None:
            tally.visits.append(key)


def receipts(client: httpx.Client, tally: Tally, stop: threading.Event, lane: int) -> None:
    n = 0
    while not stop.is_set():
        n += 1
        lot = f"R{lane}-{n:05d}"
        body = {
            "site": "WH",
            "sku": "SYR-1ML",
            "lot": lot,
            "quantity": 50,
            "funding_source": "STATE",
            "unit_cost": "0.10",
        }
        if send(client, tally, "receipt", "/api/v1/receipts", body, f"receipt-{lot}") is not None:
            tally.receipts.append(lot)


def transfers(client: httpx.Client, tally: Tally, stop: threading.Event, lane: int) -> None:
    n = 0
    while not stop.is_set():
        n += 1
        body = {"from_site": "WH", "to_site": "VAN-1", "lines": [{"sku": "NALOX-4MG", "quantity": 2}]}
        sent = send(client, tally, "transfer", "/api/v1/transfers", body, f"transfer-{lane}-{n:05d}")
        if sent is None:
            continue
        the_id = sent.json()["id"]
        tally.transfers.append(the_id)
        send(client, tally, "arrival", f"/api/v1/transfers/{the_id}/receive", {}, f"arrive-{lane}-{n:05d}")


LANES = [visits, visits, visits, visits, receipts, receipts, transfers, transfers]


def kill_connections(application_name: str) -> int:
    """End every connection the service's processes hold (named by PGAPPNAME; other tests' are spared)."""
    with psycopg.connect(POSTGRES_URL.split("?")[0], autocommit=True) as admin:
        rows = admin.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
            "WHERE application_name = %s AND pid <> pg_backend_pid()",
            (application_name,),
        ).fetchall()
    return len(rows)


def first_answer_from_each(
    ask: Callable[[float], tuple[str, bool]], workers: set[str], deadline: float, probes: int = 4
) -> dict[str, float]:
    """Ask on new connections, `probes` at a time, until every worker has answered well or `deadline`
    (time.monotonic()) passes; when each first did. `ask(timeout)` gives the worker and whether it was well."""
    first: dict[str, float] = {}
    guard = threading.Lock()

    def probe() -> None:
        while time.monotonic() < deadline:
            with guard:
                if set(first) >= workers:
                    return
            try:
                worker, well = ask(max(deadline - time.monotonic(), 0.05))
            except httpx.TransportError:
                continue  # a timeout: the worker that took the connection did not answer in time
            answered = time.monotonic()
            with guard:
                if well and answered <= deadline:
                    first.setdefault(worker, answered)

    threads = [threading.Thread(target=probe) for _ in range(probes)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return first


@pytest.fixture
def environment(postgres_url: str, tmp_path: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("INVENTORY_")}
    # Pools as the README sizes them for 4 threads a worker: five processes reconnecting after every kill
    # then stay well inside the shared server's max_connections.
    url = postgres_url.replace("pool_size=10&max_overflow=10", "pool_size=4&max_overflow=2")
    assert url != postgres_url
    env.update(SECRETS, INVENTORY_DATABASE_URL=url, INVENTORY_INSTANCE_PATH=str(tmp_path))
    env["PGAPPNAME"] = f"inventory-load-{uuid.uuid4().hex[:8]}"  # libpq names every connection with it
    return env


@pytest.fixture
def program(environment: dict[str, str], tmp_path: Path) -> Iterator[tuple[Services, str]]:
    """`inventory init`, then a catalog, opening stock and an admin with a token."""
    subprocess.run([BIN / "inventory", "init"], env=environment, cwd=tmp_path, check=True, capture_output=True)
    found = build_services(load_settings({k: v for k, v in environment.items() if k.startswith("INVENTORY_")}))
    try:
        seed_catalog(found.app)
        for site in ("WH", "VAN-1"):
            found.app.receive_stock(
                site=site,
                sku="NALOX-4MG",
                lot=f"N-{site}",
                quantity=100_000,
                expires_on=date(2031, 1, 31),
                funding_source="STATE",
                actor=ADMIN,
            )
        found.app.register_user(email="ops@example.org", role="admin", actor=ADMIN)
        token = found.app.issue_token(email="ops@example.org", label="load", actor=ADMIN)
        yield found, token
    finally:
        found.close()


def started(command: list[Any], env: dict[str, str], cwd: Path, log: Path) -> subprocess.Popen[bytes]:
    with log.open("wb") as out:
        return subprocess.Popen([str(c) for c in command], env=env, cwd=cwd, stdout=out, stderr=out)


def wait_for(check: Callable[[], bool], seconds: float, what: str) -> None:
    deadline = time.monotonic() + seconds
    while not check():
        assert time.monotonic() < deadline, f"{what} within {seconds} s"
        time.sleep(0.2)


def ready(base: str) -> bool:
    try:
        return httpx.get(f"{base}/readyz", timeout=2).status_code == 200
    except httpx.TransportError:
        return False


def web_workers(master: subprocess.Popen[bytes]) -> set[str]:
    """The pids of gunicorn's workers (the master's children)."""
    return set(Path(f"/proc/{master.pid}/task/{master.pid}/children").read_text().split())


def test_three_web_workers_and_a_worker_keep_answering_and_lose_nothing_while_connections_are_killed_every_second(
    program: tuple[Services, str], environment: dict[str, str], tmp_path: Path
) -> None:
    found, token = program
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    web = started(
        [BIN / "gunicorn", "-c", WORKER_PID_SETTINGS, "-k", "gthread", "--threads", "4", "-w", WEB_WORKERS,
         "--reuse-port", "-b", f"127.0.0.1:{port}", "--graceful-timeout", "5", "inventory.web.wsgi:app"],
        environment, tmp_path, tmp_path / "gunicorn.log",
    )  # fmt: skip
    worker = started([BIN / "inventory", "worker", "--interval", "0.2"], environment, tmp_path, tmp_path / "worker.log")
    headers = {"Authorization": f"Bearer {token}", "X-Request-ID": uuid.uuid4().hex[:12]}
    tally = Tally()
    stop = threading.Event()
    kills: list[int] = []
    probe_keys = iter(range(1, 1_000_000))

    def healthz(timeout: float) -> tuple[str, bool]:
        answer = httpx.get(f"{base}/healthz", timeout=timeout)
        tally.heard("healthz", answer)
        if answer.status_code != 200:
            tally.unexpected.append(f"{answer.status_code} on /healthz")
        return answer.headers.get("X-Test-Worker", "?"), answer.status_code == 200

    def visit(timeout: float) -> tuple[str, bool]:
        key = f"probe-{next(probe_keys):06d}"
        tally.uncertain.append(key)  # until told otherwise (a 503 after the database went away may have recorded it)
        answer = httpx.post(
            f"{base}/api/v1/encounters", json=VISIT, headers={**headers, "Idempotency-Key": key}, timeout=timeout
        )
        tally.heard("visit", answer)
        if answer.status_code == 201:
            tally.visits.append(key)
        elif answer.status_code != 503:
            tally.unexpected.append(f"{answer.status_code} on a probe visit: {answer.text[:300]}")
        return answer.headers.get("X-Test-Worker", "?"), answer.status_code == 201

    try:
        wait_for(lambda: ready(base) and len(web_workers(web)) == WEB_WORKERS, 60, "gunicorn answered /readyz")
        workers = web_workers(web)
        # Probing on new connections reaches every worker: each answers /healthz before any kill.
        assert set(first_answer_from_each(healthz, workers, time.monotonic() + 30)) == workers
        clients = [httpx.Client(base_url=base, headers=headers, timeout=30) for _ in LANES]
        threads = [
            threading.Thread(target=lane, args=(client, tally, stop, number))
            for number, (lane, client) in enumerate(zip(LANES, clients, strict=True))
        ]
        began = time.monotonic()
        for thread in threads:
            thread.start()
        for second in range(1, KILLS + 1):
            time.sleep(max(0.0, began + second - time.monotonic()))
            kills.append(kill_connections(environment["PGAPPNAME"]))
        last_kill = time.monotonic()
        answering = first_answer_from_each(healthz, workers, last_kill + ANSWERS_HEALTHZ_WITHIN)
        recording = first_answer_from_each(visit, workers, last_kill + RECORDS_AGAIN_WITHIN)
        for answer in tally.answers:  # the clients' visits count too
            if answer.what == "visit" and answer.status == 201 and answer.at > last_kill and answer.worker in workers:
                recording[answer.worker] = min(recording.get(answer.worker, answer.at), answer.at)
        stop.set()
        for thread in threads:
            thread.join(timeout=120)
        for client in clients:
            client.close()
        assert web.poll() is None and worker.poll() is None, "a process died"
        assert web_workers(web) == workers, "gunicorn replaced a worker"
        # The worker catches the read models up by itself, connections killed and all.
        wait_for(lambda: ready(base) and lag(found) == 0, 60, "the worker caught up")
    finally:
        stop.set()
        for process in (web, worker):
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
        for process in (web, worker):
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()

    logs = (tmp_path / "gunicorn.log").read_text(errors="replace")[-4000:]
    statuses = tally.statuses()
    print(  # the figures, for `pytest -s`
        f"\n{len(tally.answers)} answers {dict(sorted(statuses.items()))}; {len(kills)} kills ending {sum(kills)} "
        f"connections {kills}; seconds after the last kill until each worker answered /healthz "
        f"{ {pid: round(t - last_kill, 2) for pid, t in sorted(answering.items())} } and recorded a visit "
        f"{ {pid: round(t - last_kill, 2) for pid, t in sorted(recording.items())} }; {len(tally.visits)} visits, "
        f"{len(tally.receipts)} receipts, {len(tally.transfers)} transfers answered 201; "
        f"{len(set(tally.uncertain) - set(tally.visits))} requests left uncertain"
    )
    assert set(answering) == workers, ("a worker did not answer /healthz in time", answering, workers, logs)
    assert set(recording) == workers, ("a worker did not record a visit in time", recording, workers, logs)
    assert tally.unexpected == [], (tally.unexpected[:5], logs)
    assert 500 not in statuses and all(status < 500 or status == 503 for status in statuses), statuses
    assert len(kills) == KILLS and min(kills) > 0, ("the kills found connections to end", kills)
    # Enough went through for the kills to land in the middle of work (how much depends on the machine).
    assert len(tally.visits) >= 20 and len(tally.receipts) >= 5 and len(tally.transfers) >= 5, statuses

    events = [found.app.mapper.to_domain_event(n) for n in all_notifications(found)]
    recorded_visits = Counter(e.key for e in events if isinstance(e, Encounter.Recorded))
    assert set(recorded_visits.values()) == {1}, "a visit recorded twice"
    assert set(tally.visits) <= set(recorded_visits), "a visit answered 201 is missing"
    assert set(recorded_visits) - set(tally.visits) <= set(tally.uncertain)
    received_lots = Counter(e.lot for e in events if isinstance(e, StockLedger.Received) and e.lot.startswith("R"))
    assert set(received_lots.values()) == {1} and set(tally.receipts) <= set(received_lots)
    dispatched = {str(e.originator_id) for e in events if isinstance(e, Transfer.Dispatched)}
    assert set(tally.transfers) <= dispatched

    # Stock = the events' sum = the stock card's sum, per site, item and lot.
    by_events: dict[tuple[str, str, str], int] = defaultdict(int)
    for event in events:
        for site, sku, lot, quantity in movements(event):
            by_events[(site, sku, lot)] += quantity
    on_hand = {(s, k, lot): int(q) for s, k, lot, q in found.store.fetchall(
        "SELECT site, sku, lot, quantity FROM stock_on_hand")}  # fmt: skip
    card = {(s, k, lot): int(q) for s, k, lot, q in found.store.fetchall(
        "SELECT site, sku, lot, SUM(quantity) FROM stock_movements GROUP BY site, sku, lot")}  # fmt: skip
    assert {k: v for k, v in on_hand.items() if v} == {k: v for k, v in by_events.items() if v}
    assert {k: v for k, v in card.items() if v} == {k: v for k, v in by_events.items() if v}
    van = by_events[("VAN-1", "NALOX-4MG", "N-VAN-1")]
    assert van == 100_000 - sum(1 for e in events if isinstance(e, StockLedger.Distributed) and e.site == "VAN-1"
                                and any(p["lot"] == "N-VAN-1" for p in e.picks))  # fmt: skip

    # The worker's read models equal a rebuild from the log, and the seal verifies over all of it.
    caught_up = read_model_rows(found.projector)
    found.projector.rebuild()
    assert read_model_rows(found.projector) == caught_up
    seal = verify(found.app.recorder, found.store, found.settings.seal_key)
    assert seal.ok and seal.head_position == found.projector.head()


def all_notifications(found: Services) -> list[Any]:
    head = found.projector.head()
    return list(found.app.recorder.select_notifications(start=1, limit=head + 1, stop=head))


def lag(found: Services) -> int:
    head = found.projector.head()
    rows = found.store.fetchall("SELECT MIN(position) FROM projection_tracking")
    return head - int(rows[0][0] or 0)


def movements(event: Any) -> list[tuple[str, str, str, int]]:
    """(site, sku, lot, signed quantity) of each lot a ledger event moves."""
    if isinstance(event, StockLedger.Received):
        return [(event.site, event.sku, event.lot, event.quantity)]
    if isinstance(event, StockLedger.Distributed | StockLedger.Dispatched):
        return [(event.site, event.sku, p["lot"], -p["quantity"]) for p in event.picks]
    if isinstance(event, StockLedger.Arrived | StockLedger.Returned):
        return [(event.site, event.sku, r["lot"], r["quantity"]) for r in event.lots]
    if isinstance(event, StockLedger.Adjusted):
        return [(event.site, event.sku, event.lot, event.quantity)]
    if isinstance(event, StockLedger.Counted):
        return [(event.site, event.sku, event.lot, event.variance)]
    return []
