"""A page of a long list costs about what a page of a short one does: the stock card's pages are read through
its index from the cursor, never by reading the whole card (benchmarks/list_pages.py prints the times)."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from benchmarks.list_pages import SITE, SKU, fill
from inventory.projections.card_pages import card_page
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
