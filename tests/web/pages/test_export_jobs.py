"""Exports prepared in the background: progress while they run, their turn in the queue, how they end.

The exports page itself (forms, downloads, who sees what) is tested in tests/exports/test_edges.py;
these tests drive the job runner with work of their own, so each moment can be held and looked at.
"""

from __future__ import annotations

import logging
import re
import threading
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from flask import Flask

from inventory.domain.errors import InvalidInput
from inventory.stores.export_jobs import FAILED_UNEXPECTEDLY, KEEP, STALLED, ExportJobs, JobProgress
from inventory.web.pages.exports import jobs
from tests.web.conftest import STAFF
from tests.web.pages.conftest import Person

MANAGER = STAFF["grant_manager"]


@pytest.fixture
def runner(flask_app: Flask, people: dict[str, Person]) -> ExportJobs:
    with flask_app.app_context():
        return jobs()


def until(condition: Callable[[], object], what: str, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"gave up waiting for {what}"
        time.sleep(0.02)


def progress_of(person: Person, job_id: str) -> str:
    response = person.get(f"/exports/jobs/{job_id}/progress")
    assert response.status_code == 200
    return response.get_data(as_text=True)


def test_a_running_export_shows_how_far_it_has_got_and_the_next_waits_its_turn(
    runner: ExportJobs, people: dict[str, Person]
) -> None:
    manager = people["grant_manager"]
    release = threading.Event()

    def held(path: str, progress: JobProgress) -> None:
        advance = progress.stage("Writing the workbook", 1200, "rows")
        advance(500)
        advance(300)
        assert release.wait(30)
        Path(path).write_bytes(b"first")

    def quick(path: str, progress: JobProgress) -> None:
        Path(path).write_bytes(b"second")

    first = runner.start(kind="grant", filename="first.xlsx", requested_by=MANAGER, work=held)
    second = runner.start(kind="log", filename="second.xlsx", requested_by=MANAGER, work=quick)

    # The reporter writes what the export thread reports; the page shows it, with a bar.
    until(lambda: "800 of 1,200 rows" in progress_of(manager, first), "the first export's progress")
    shown = progress_of(manager, first)
    assert "Writing the workbook: 800 of 1,200 rows" in shown
    assert '<progress value="800" max="1200"' in shown and 'hx-trigger="every 1s"' in shown
    waiting = progress_of(manager, second)
    assert "Waiting for another export to finish" in waiting and "<progress aria-label" in waiting
    job_page = manager.get(f"/exports/jobs/{first}").get_data(as_text=True)
    assert '<noscript><meta http-equiv="refresh" content="3"></noscript>' in job_page
    assert manager.get(f"/exports/jobs/{first}/download").status_code == 404  # not ready yet

    release.set()
    until(lambda: "Ready" in progress_of(manager, second), "the second export")
    for job_id, body in ((first, b"first"), (second, b"second")):
        fragment = progress_of(manager, job_id)
        assert "hx-trigger" not in fragment  # finished: the page stops asking
        download = manager.get(f"/exports/jobs/{job_id}/download")
        assert download.status_code == 200 and download.get_data() == body
        download.close()
        assert (runner.file(job_id).stat().st_mode & 0o777) == 0o600
    assert "noscript" not in manager.get(f"/exports/jobs/{first}").get_data(as_text=True)
    states = re.findall(r"· (\w[\w ]*) · asked for", manager.get("/exports").get_data(as_text=True))
    assert states == ["ready", "ready"]


def test_a_refused_or_broken_export_says_so_and_leaves_no_file(
    runner: ExportJobs, people: dict[str, Person], caplog: pytest.LogCaptureFixture
) -> None:
    manager = people["grant_manager"]

    def refused(path: str, progress: JobProgress) -> None:
        Path(path).write_bytes(b"half")
        raise InvalidInput("Choose a log position from 1 to 40 (the log's last).", field="known_at")

    def broken(path: str, progress: JobProgress) -> None:
        Path(path).write_bytes(b"half")
        raise RuntimeError("disk on fire")

    caplog.set_level(logging.ERROR, logger="inventory.stores.export_jobs")
    first = runner.start(kind="log", filename="a.xlsx", requested_by=MANAGER, work=refused)
    second = runner.start(kind="log", filename="b.xlsx", requested_by=MANAGER, work=broken)
    assert runner.drain(timeout=30)

    assert "Choose a log position from 1 to 40" in progress_of(manager, first)
    unexpected = progress_of(manager, second)
    assert FAILED_UNEXPECTEDLY.split(";")[0] in unexpected and "disk on fire" not in unexpected
    assert "disk on fire" in caplog.text  # the details go to the log, for the administrator
    for job_id in (first, second):
        assert manager.get(f"/exports/jobs/{job_id}/download").status_code == 404
    assert list(runner.folder.iterdir()) == []
    states = re.findall(r"· (\w[\w ]*) · asked for", manager.get("/exports").get_data(as_text=True))
    assert states == ["failed", "failed"]


def test_an_export_whose_process_died_is_shown_as_stopped(runner: ExportJobs, people: dict[str, Person]) -> None:
    manager = people["grant_manager"]
    release = threading.Event()

    def held(path: str, progress: JobProgress) -> None:
        progress.stage("Reading the figures", 0, "")
        assert release.wait(30)
        Path(path).write_bytes(b"late")

    job_id = runner.start(kind="grant", filename="c.xlsx", requested_by=MANAGER, work=held)
    until(lambda: "Reading the figures" in progress_of(manager, job_id), "the export to start")
    # The process running it stops beating (here: its last beat is set back past the limit).
    with runner.store.transaction(projector_lock=False) as tx:
        tx.execute("UPDATE export_jobs SET heartbeat_at = heartbeat_at - ? WHERE id = ?", (STALLED + 60, job_id))
    found = runner.find(job_id, MANAGER)
    assert found is not None and found.status == "stopped" and found.finished
    assert "the server restarted while it was being prepared. Start it again." in progress_of(manager, job_id)
    release.set()
    assert runner.drain(timeout=30)


def test_finished_exports_are_deleted_after_a_day(flask_app: Flask, people: dict[str, Person], tmp_path: Path) -> None:
    now = [1_800_000_000.0]
    runner = ExportJobs(flask_app.extensions["inventory"].store, tmp_path / "exports", clock=lambda: now[0])

    def write(path: str, progress: JobProgress) -> None:
        Path(path).write_bytes(b"x")

    old = runner.start(kind="stock", filename="old.xlsx", requested_by=MANAGER, work=write)
    assert runner.drain(timeout=30) and runner.file(old).exists()
    now[0] += KEEP - 60
    kept = runner.start(kind="stock", filename="kept.xlsx", requested_by=MANAGER, work=write)
    assert runner.drain(timeout=30)
    assert runner.find(old, MANAGER) is not None and runner.file(old).exists()
    now[0] += 120  # the first is now more than a day old; the second is not
    newest = runner.start(kind="stock", filename="new.xlsx", requested_by=MANAGER, work=write)
    assert runner.drain(timeout=30)
    assert runner.find(old, MANAGER) is None and not runner.file(old).exists()
    assert [job.id for job in runner.recent(MANAGER)] == [newest, kept]
