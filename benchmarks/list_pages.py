"""How long a page of a long list takes, at 10,000 and at 1,000,000 rows: the work of a page must not grow
with the list.

Run from the repository root:

    .venv/bin/python benchmarks/list_pages.py            # 10k and 1M movements on one card
    .venv/bin/python benchmarks/list_pages.py --quick    # 10k and 100k

It fills the stock card's read model (stock_movements and stock_daily, as the projection writes them)
of one site and item in a SQLite file straight through SQL, so that a million movements take seconds
rather than the hour that recording a million visits would, and then times `card_page` (what the stock
card page reads): the newest page, a page in the middle reached by its cursor, and the oldest page.
It prints milliseconds per page (median of 20) and, for each page, the ratio of the large card's time
to the small one's: about 1 when the work per page is constant.

Then the same for the other lists (benchmarks/long_lists.py fills them): the audit history, transfers,
purchase orders and open alerts, each with its filters, at a log of 10,000 and 1,000,000 events. A list
read in parts (transfers from or to a site, in any of four statuses) reads up to a page per part; at 10,000
events some parts are shorter than a page, so a ratio up to about 2 there is the parts filling up, not the
list being read.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks import long_lists
from inventory.projections.card_pages import card_page
from inventory.projections.stock_card import StockCard
from inventory.projections.store import SqliteReadStore

SITE, SKU = "VAN-1", "SYR-1ML"
FIRST_DAY = date(2020, 1, 1)


def fill(store: SqliteReadStore, movements: int) -> tuple[date, date]:
    """`movements` hand-outs of one lot over as many days as it takes at 200 a day, after one receipt."""
    per_day = 200
    days = movements // per_day + 1
    with store.transaction() as tx:
        for statement in StockCard.ddl:
            tx.execute(statement)
    rows = []
    daily = []
    received = movements * 2
    rows.append((1, 0, SITE, SKU, "S-1", "STATE", None, FIRST_DAY.isoformat(), f"{FIRST_DAY}T08:00:00+00:00",
                 f"{FIRST_DAY}T08:00:00+00:00", "received", received, None, None, None, "bench", "0.11"))  # fmt: skip
    daily.append((SITE, SKU, "S-1", FIRST_DAY.isoformat(), "STATE", None, received, 0, received))
    position = 1
    for offset in range(days):
        day = FIRST_DAY + timedelta(days=offset)
        today = min(per_day, movements - offset * per_day)
        if today <= 0:
            break
        for n in range(today):
            position += 1
            moment = f"{day}T{9 + n // 60:02d}:{n % 60:02d}:00+00:00"
            rows.append((position, 0, SITE, SKU, "S-1", "STATE", None, day.isoformat(), moment, moment,
                         "distributed", -1, None, None, None, "bench", None))  # fmt: skip
        if offset:
            daily.append((SITE, SKU, "S-1", day.isoformat(), "STATE", None, 0, today, -today))
        else:
            daily[0] = (SITE, SKU, "S-1", day.isoformat(), "STATE", None, received, today, received - today)
    with store.transaction() as tx:
        tx.executemany(
            """INSERT INTO stock_movements (position, seq, site, sku, lot, funding_source, expires_on, business_date,
               occurred_at, recorded_at, kind, quantity, reason, reference, other_site, actor, unit_cost)
               VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)""",
            rows,
        )
        tx.executemany(
            """INSERT INTO stock_daily (site, sku, lot, business_date, funding_source, expires_on, received,
               distributed, net) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)""",
            daily,
        )
    return FIRST_DAY, FIRST_DAY + timedelta(days=days)


def timed(call: object, repeat: int = 20) -> float:
    samples = []
    for _ in range(repeat):
        started = time.perf_counter()
        call()  # type: ignore[operator]
        samples.append((time.perf_counter() - started) * 1000)
    return statistics.median(samples)


def measure(folder: Path, movements: int) -> dict[str, float]:
    store = SqliteReadStore(str(folder / f"card-{movements}.db"))
    try:
        started = time.perf_counter()
        start, end = fill(store, movements)
        print(f"  {movements:>9,} movements written in {time.perf_counter() - started:.1f} s", flush=True)
        middle = f"{movements // 2}-0"
        oldest = "51-0"  # positions 50 down to the receipt at 1: a full last page
        newest_page = card_page(store, SITE, SKU, start, end)
        assert newest_page is not None and len(newest_page.rows) == 50
        return {
            "newest page": timed(lambda: card_page(store, SITE, SKU, start, end)),
            "middle page": timed(lambda: card_page(store, SITE, SKU, start, end, middle)),
            "oldest page": timed(lambda: card_page(store, SITE, SKU, start, end, oldest)),
        }
    finally:
        store.close()


def measure_lists(folder: Path, events: int) -> dict[str, float]:
    store = SqliteReadStore(str(folder / f"lists-{events}.db"))
    try:
        started = time.perf_counter()
        long_lists.fill(store, events)
        print(f"  {events:>9,} events' lists written in {time.perf_counter() - started:.1f} s", flush=True)
        return {name: timed(lambda read=read: read(store)) for name, read in long_lists.pages(events).items()}
    finally:
        store.close()


def table(figures: dict[int, dict[str, float]], small: int, large: int) -> None:
    width = max(len(name) for name in figures[small]) + 2
    print(f"\n{'page':<{width}}{small:>12,} ms{large:>14,} ms{'ratio':>9}")
    for name in figures[small]:
        a, b = figures[small][name], figures[large][name]
        print(f"{name:<{width}}{a:>15.2f}{b:>17.2f}{b / a:>9.2f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="10k and 100k instead of 10k and 1M")
    args = parser.parse_args()
    small, large = 10_000, 100_000 if args.quick else 1_000_000
    with tempfile.TemporaryDirectory() as folder:
        print(f"Stock card of one item at one site, 50 movements a page (SQLite, {Path(folder)})")
        table({size: measure(Path(folder), size) for size in (small, large)}, small, large)
        print("\nThe other lists (audit history, transfers, purchase orders, open alerts), 50 a page, at a log of")
        table({size: measure_lists(Path(folder), size) for size in (small, large)}, small, large)


if __name__ == "__main__":
    main()
