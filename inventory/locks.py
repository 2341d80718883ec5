"""In-process locks per aggregate, so threads of one process queue instead of colliding."""

from __future__ import annotations

import threading
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from uuid import UUID


class StripedLocks:
    """A fixed set of locks; an aggregate id always maps to the same one."""

    def __init__(self, stripes: int = 256) -> None:
        self._locks = [threading.Lock() for _ in range(stripes)]

    @contextmanager
    def holding(self, ids: Iterable[UUID]) -> Iterator[None]:
        """Hold the locks of all `ids`, taken in a fixed order so two commands never deadlock."""
        indexes = sorted({uid.int % len(self._locks) for uid in ids})
        taken: list[threading.Lock] = []
        try:
            for index in indexes:
                lock = self._locks[index]
                lock.acquire()
                taken.append(lock)
            yield
        finally:
            for lock in reversed(taken):
                lock.release()
