"""Processes starting at the same moment on a fresh PostgreSQL schema: each creates the event store's
tables if they are missing, one at a time, so none fails ("tuple concurrently updated" before)."""

from __future__ import annotations

import threading

from inventory.application import InventoryApplication


def test_applications_starting_together_on_a_fresh_schema_all_start(postgres_url: str) -> None:
    starters = 8
    gate = threading.Barrier(starters)
    started: list[InventoryApplication] = []
    errors: list[BaseException] = []

    def start() -> None:
        try:
            gate.wait(timeout=30)
            started.append(InventoryApplication(postgres_url))
        except BaseException as error:
            errors.append(error)

    threads = [threading.Thread(target=start) for _ in range(starters)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    try:
        assert errors == [] and len(started) == starters
        assert started[0].recorder.max_notification_id() in (0, None)
    finally:
        for app in started:
            app.close()
