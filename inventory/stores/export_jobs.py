"""Exports prepared in the background: the page starts one, follows its progress, then offers the file.

A year's grant report takes a minute or two, longer than a proxy waits for an answer, so the
exports page does not build a workbook inside the request. It queues a job on a thread of the web
process (one export at a time per process, the rest wait their turn) and shows a page that follows
it. The file waits in the instance folder for the person who asked, and is deleted after a day.

Progress lives in the read store, so any web worker can show it. It is written by a reporter
thread, never by the export itself: on SQLite the export's thread holds a read snapshot on its
connection for as long as it reads. The reporter also beats for every job its process holds, so a
job whose process died (a restart, a crash) is shown as stopped rather than running for ever.
"""

from __future__ import annotations

import logging
import os
import queue
import socket
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from inventory.domain.errors import InventoryError
from inventory.projections.store import ReadStore

log = logging.getLogger(__name__)

DDL = """CREATE TABLE IF NOT EXISTS export_jobs (
    id TEXT PRIMARY KEY, kind TEXT NOT NULL, filename TEXT NOT NULL, requested_by TEXT NOT NULL,
    requested_at DOUBLE PRECISION NOT NULL, runner TEXT NOT NULL, status TEXT NOT NULL,
    stage TEXT NOT NULL, unit TEXT NOT NULL, done INTEGER NOT NULL, total INTEGER NOT NULL,
    error TEXT, heartbeat_at DOUBLE PRECISION NOT NULL, finished_at DOUBLE PRECISION)"""

KEEP = 24 * 60 * 60  # seconds a finished export's file (and its row) is kept for downloading
STALLED = 90  # seconds without a beat from its process: the job is shown as stopped
BEAT = 15  # seconds between beats for a job whose figures have not moved
REPORT = 0.5  # seconds between progress writes while a job moves
IDLE = 10  # seconds with nothing to do before the export threads end (the next export starts them)

QUEUED, RUNNING, DONE, FAILED, STOPPED = "queued", "running", "done", "failed", "stopped"
FAILED_UNEXPECTEDLY = (
    "The export failed unexpectedly; the details are in the server's log. Try again, and if it fails "
    "again tell your administrator."
)

STOPPED_MESSAGE = "The export stopped: the server restarted while it was being prepared. Start it again."

Work = Callable[[str, "JobProgress"], object]


@dataclass(frozen=True)
class ExportJob:
    id: str
    kind: str
    filename: str
    requested_by: str
    requested_at: float
    status: str
    stage: str
    unit: str
    done: int
    total: int
    error: str | None
    finished_at: float | None

    @property
    def finished(self) -> bool:
        return self.status in (DONE, FAILED, STOPPED)

    @property
    def counted(self) -> bool:
        """Whether the current stage has a known size (a bar with a value, not an indeterminate one)."""
        return self.total > 0 and not self.finished


class JobProgress:
    """What a running export reports (see exports.reports.Stages): kept in memory, written by the reporter."""

    def __init__(self, job_id: str) -> None:
        self.job_id = job_id
        self.stage_label = "Waiting for another export to finish"
        self.unit = ""
        self.done = 0
        self.total = 0
        self.changed = True

    def stage(self, label: str, total: int, unit: str) -> Callable[[int], None]:
        self.stage_label, self.unit, self.done, self.total = label, unit, 0, max(total, 0)
        self.changed = True
        return self.advance

    def advance(self, units: int) -> None:
        self.done = min(self.done + units, self.total) if self.total else self.done + units
        self.changed = True


_COLUMNS = "id, kind, filename, requested_by, requested_at, status, stage, unit, done, total, error, finished_at"


class ExportJobs:
    """The export jobs of one process, and the table every process shares."""

    def __init__(self, store: ReadStore, folder: Path, clock: Callable[[], float] = time.time) -> None:
        self.store = store
        self.folder = folder
        self.clock = clock
        self.runner = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
        self._queue: queue.Queue[tuple[str, Work]] = queue.Queue()
        self._live: dict[str, JobProgress] = {}
        self._guard = threading.Lock()
        self._worker: threading.Thread | None = None
        self._reporter: threading.Thread | None = None

    # ----- starting and running ---------------------------------------------------------------

    def start(self, *, kind: str, filename: str, requested_by: str, work: Work) -> str:
        """Queue `work(path, progress)`, which writes the workbook to `path`; the job's id."""
        self.sweep()
        self.folder.mkdir(mode=0o700, parents=True, exist_ok=True)
        job_id = uuid.uuid4().hex
        now = self.clock()
        progress = JobProgress(job_id)
        with self.store.transaction(projector_lock=False) as tx:
            tx.execute(
                f"INSERT INTO export_jobs ({_COLUMNS}, runner, heartbeat_at) VALUES "
                "(?, ?, ?, ?, ?, ?, ?, '', 0, 0, NULL, NULL, ?, ?)",
                (job_id, kind, filename, requested_by, now, QUEUED, progress.stage_label, self.runner, now),
            )
        with self._guard:
            self._live[job_id] = progress
            self._queue.put((job_id, work))
            self._ensure_threads()
        return job_id

    def _ensure_threads(self) -> None:
        """Start the export thread and the reporter (under the guard); each ends when idle."""
        if self._worker is None:
            self._worker = threading.Thread(target=self._work, name="export", daemon=True)
            self._worker.start()
        if self._reporter is None:
            self._reporter = threading.Thread(target=self._report, name="export-progress", daemon=True)
            self._reporter.start()

    def _work(self) -> None:
        while True:
            try:
                job_id, work = self._queue.get(timeout=IDLE)
            except queue.Empty:
                with self._guard:
                    if self._queue.empty():  # start() queues under the guard: nothing is missed
                        self._worker = None
                        return
                continue
            try:
                self._run(job_id, work)
            except Exception:  # the table could not be written: the job will show as stopped
                log.exception("export job %s could not record how it ended", job_id)
            finally:
                with self._guard:
                    self._live.pop(job_id, None)

    def _run(self, job_id: str, work: Work) -> None:
        with self._guard:
            progress = self._live[job_id]
        progress.stage("Starting", 0, "")
        self._set(job_id, status=RUNNING, stage=progress.stage_label)
        partial = self.folder / f"{job_id}.part"
        try:
            work(str(partial), progress)
            partial.chmod(0o600)
            os.replace(partial, self.file(job_id))
        except InventoryError as error:
            partial.unlink(missing_ok=True)
            self._set(job_id, status=FAILED, error=error.message, finished_at=self.clock())
            return
        except Exception:
            log.exception("export job %s failed", job_id)
            partial.unlink(missing_ok=True)
            self._set(job_id, status=FAILED, error=FAILED_UNEXPECTEDLY, finished_at=self.clock())
            return
        self._set(job_id, status=DONE, stage="Ready", unit="", finished_at=self.clock())

    def _set(self, job_id: str, **values: Any) -> None:
        values["heartbeat_at"] = self.clock()
        assignments = ", ".join(f"{name} = ?" for name in values)
        with self.store.transaction(projector_lock=False) as tx:
            tx.execute(f"UPDATE export_jobs SET {assignments} WHERE id = ?", (*values.values(), job_id))

    def _report(self) -> None:
        """Write the live jobs' progress when it moves, and beat for them all every BEAT seconds."""
        last_beat = 0.0
        while True:
            time.sleep(REPORT)
            with self._guard:
                live = list(self._live.values())
                if not live and self._worker is None:
                    self._reporter = None
                    return
            now = self.clock()
            moved = [p for p in live if p.changed]
            if not live or (not moved and now - last_beat < BEAT):
                continue
            for p in moved:
                p.changed = False
            try:
                with self.store.transaction(projector_lock=False) as tx:
                    for p in moved:
                        tx.execute(
                            "UPDATE export_jobs SET stage = ?, unit = ?, done = ?, total = ? "
                            "WHERE id = ? AND status IN (?, ?)",
                            (p.stage_label, p.unit, p.done, p.total, p.job_id, QUEUED, RUNNING),
                        )
                    tx.execute(
                        "UPDATE export_jobs SET heartbeat_at = ? WHERE runner = ? AND status IN (?, ?)",
                        (now, self.runner, QUEUED, RUNNING),
                    )
                last_beat = now
            except Exception:  # the database is away: write it all on the next turn
                for p in moved:
                    p.changed = True
                log.warning("could not write the progress of exports", exc_info=True)

    def drain(self, timeout: float) -> bool:
        """Wait (at most `timeout` seconds) until this process has no export queued or running."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self._guard:
                if not self._live:
                    return True
            time.sleep(0.05)
        return False

    # ----- reading ------------------------------------------------------------------------------

    def find(self, job_id: str, requested_by: str) -> ExportJob | None:
        """One of this person's jobs (another's is not found)."""
        rows = self.store.fetchall(
            f"SELECT {_COLUMNS}, heartbeat_at FROM export_jobs WHERE id = ? AND requested_by = ?",
            (job_id, requested_by),
        )
        return self._job(rows[0]) if rows else None

    def recent(self, requested_by: str, limit: int = 5) -> list[ExportJob]:
        """This person's latest jobs, newest first."""
        rows = self.store.fetchall(
            f"SELECT {_COLUMNS}, heartbeat_at FROM export_jobs WHERE requested_by = ? "
            "ORDER BY requested_at DESC, id LIMIT ?",
            (requested_by, limit),
        )
        return [self._job(row) for row in rows]

    def _job(self, row: Any) -> ExportJob:
        *values, heartbeat_at = row
        job = ExportJob(*values)
        if not job.finished and self.clock() - heartbeat_at > STALLED:
            # Its process stopped beating: the server was restarted or the worker died mid-export.
            return replace(job, status=STOPPED, error=STOPPED_MESSAGE)
        return job

    def file(self, job_id: str) -> Path:
        return self.folder / f"{job_id}.xlsx"

    def sweep(self) -> None:
        """Delete jobs (and their files) finished, or last heard of, more than KEEP seconds ago."""
        cutoff = self.clock() - KEEP
        old = self.store.fetchall("SELECT id FROM export_jobs WHERE COALESCE(finished_at, heartbeat_at) < ?", (cutoff,))
        for (job_id,) in old:
            self.file(job_id).unlink(missing_ok=True)
            (self.folder / f"{job_id}.part").unlink(missing_ok=True)
        if old:
            with self.store.transaction(projector_lock=False) as tx:
                tx.executemany("DELETE FROM export_jobs WHERE id = ?", old)
