"""A page of a long list costs about what a page of a short one does: each list's pages are read through an
index from the cursor, never by reading the whole list (benchmarks/list_pages.py prints the times)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from benchmarks.list_pages import SITE, SKU, fill
from benchmarks.long_lists import fill as fill_lists
from benchmarks.long_lists import pages as list_pages
from inventory.projections.card_pages import card_page
from inventory.projections.paging import Page
from inventory.projections.store import SqliteReadStore


def work(store: SqliteReadStore, start: date, end: date, cursor: str | None) -> int:
    """SQLite virtual-machine steps one page takes (a count of work that does not depend on the machine)."""
    steps = 0

    def tick() -> int:
        nonlocal steps
        steps += 1
        return 0

    connection = store._conn()
    connection.set_progress_handler(tick, 1)
    try:
        page = card_page(store, SITE, SKU, start, end, cursor)
    finally:
        connection.set_progress_handler(None, 1)
    assert page is not None and len(page.rows) == 50
    return steps


@pytest.mark.slow
def test_a_page_of_the_stock_card_takes_about_the_same_work_at_ten_times_the_movements(tmp_path: Path) -> None:
    costs = {}
    for size in (4_000, 40_000):
        store = SqliteReadStore(str(tmp_path / f"card-{size}.db"))
        try:
            start, end = fill(store, size)
            middle, oldest = f"{size // 2}-0", "51-0"  # the oldest page: positions 50 down to the receipt at 1
            costs[size] = {
                "newest": work(store, start, end, None),
                "middle": work(store, start, end, middle),
                "oldest": work(store, start, end, oldest),
            }
            # The pages hold what the card holds: the oldest page ends with the receipt, the balances run on.
            last = card_page(store, SITE, SKU, start, end, oldest)
            assert last is not None and last.last_page and last.rows[-1]["kind"] == "received"
        finally:
            store.close()
    for name in ("newest", "middle", "oldest"):
        small, large = costs[4_000][name], costs[40_000][name]
        # Ten times the movements: a page that read the card would cost ten times as much. What grows is only
        # the sum of the card's daily totals (one row a day) behind the balances.
        assert large < 2 * small, (name, small, large)


def page_work(store: SqliteReadStore, read: Callable[[SqliteReadStore], Any]) -> tuple[int, int]:
    """SQLite virtual-machine steps a call takes, and the rows it answered."""
    steps = 0

    def tick() -> int:
        nonlocal steps
        steps += 1
        return 0

    connection = store._conn()
    connection.set_progress_handler(tick, 1)
    try:
        found = read(store)
    finally:
        connection.set_progress_handler(None, 1)
    return steps, len(found.rows if isinstance(found, Page) else found)


@pytest.mark.slow
def test_every_list_reads_about_a_page_whatever_the_length_of_the_log(tmp_path: Path) -> None:
    """The audit history, transfers, purchase orders, open alerts and lots on hand (the lists behind the pages
    and the API's list routes), each with its filters, at a log of 30,000 and of 300,000 events."""
    costs: dict[int, dict[str, tuple[int, int]]] = {}
    for size in (30_000, 300_000):
        store = SqliteReadStore(str(tmp_path / f"lists-{size}.db"))
        try:
            fill_lists(store, size)
            costs[size] = {name: page_work(store, read) for name, read in list_pages(size).items()}
        finally:
            store.close()
    grew = {
        name: (costs[30_000][name], costs[300_000][name])
        for name in costs[30_000]
        if costs[300_000][name][0] > 1.2 * costs[30_000][name][0]
    }
    assert grew == {}  # ten times the log, the same work: no page reads the table it lists
    # And each is a page: full where the list is long, what there is where it is short.
    rows = {name: found for name, (_, found) in costs[300_000].items()}
    assert rows["audit: one person in a month"] == rows["transfers: two sites"] == rows["orders: by number"] == 50
    assert rows["audit: a rare event"] == 10 and rows["transfers: in transit"] == 30 and rows["alerts: open"] == 40
    assert rows["api stock: every site"] == 50 and rows["api alerts: a page"] == 20
