"""A daemon thread that runs jobs one after another and hands back futures.

A test waits for each job with a timeout, so a job stuck for good (the failure under test) fails the
test instead of hanging it, and never keeps pytest from exiting. Jobs given to one `Worker` run on
the same thread, which is what thread-local state (a thread's lock connection) needs.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable
from concurrent.futures import Future
from typing import Any, TypeVar

T = TypeVar("T")


class Worker:
    def __init__(self, name: str) -> None:
        self._jobs: queue.Queue[tuple[Future[Any], Callable[[], Any]] | None] = queue.Queue()
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)
        self._thread.start()

    def submit(self, job: Callable[[], T]) -> Future[T]:
        future: Future[T] = Future()
        self._jobs.put((future, job))
        return future

    def run(self, job: Callable[[], T], timeout: float) -> T:
        """Run `job` on this thread and wait `timeout` seconds at most for its result (or its error)."""
        return self.submit(job).result(timeout=timeout)

    def close(self) -> None:
        self._jobs.put(None)

    def _run(self) -> None:
        while (item := self._jobs.get()) is not None:
            future, job = item
            if not future.set_running_or_notify_cancel():
                continue
            try:
                future.set_result(job())
            except BaseException as error:  # handed to the test, which decides
                future.set_exception(error)
