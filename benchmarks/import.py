"""Memory and speed of importing a spreadsheet, on SQLite: does memory stay flat as the file grows?

Run from the repository root:

    .venv/bin/python benchmarks/import.py            # 5,000 / 20,000 / 50,000 rows
    .venv/bin/python benchmarks/import.py --quick    # 2,000 / 10,000 rows

For each size it writes a template-shaped workbook (openpyxl write-only) whose opening stock is
spread over 50 sites and 40 items (2,000 ledgers, as a real program's would be), then prints:

1. the time and tracemalloc peak of checking every row (one bad row near the end, so nothing is
   written): this is the pass whose memory must not grow with the file (read-only mode);
2. the time and tracemalloc peak of the full import of the same file without that bad row (the
   checking pass, then a second streamed pass that records each lot with `receive_stock`);
3. the process's peak RSS at the end.

The checking pass keeps one small key per opening stock row (to report duplicates and to know which
rows to record), so some growth with the row count is expected; the workbook itself is never held.
"""

from __future__ import annotations

import resource
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path
from typing import Any

from openpyxl import Workbook

from inventory.application import InventoryApplication
from inventory.importing import import_file
from inventory.importing.sheets import SHEETS

SITES = [f"S{n:02d}" for n in range(50)]
ITEMS = [f"I{n:02d}" for n in range(40)]


def write_workbook(path: Path, rows: int, bad_row: bool) -> None:
    book = Workbook(write_only=True)
    sheets = {sheet.name: book.create_sheet(sheet.name) for sheet in SHEETS}
    for sheet in SHEETS:
        sheets[sheet.name].append(list(sheet.names))
    for code in SITES:
        sheets["Sites"].append([code, f"Site {code}", "fixed"])
    for sku in ITEMS:
        sheets["Items"].append([sku, f"Item {sku}", "naloxone", "kit", "yes", 1])
    sheets["Funding sources"].append(["STATE", "State fund", "no", None, None, None])
    for n in range(rows):
        expiry: Any = "03/01/2028" if bad_row and n == rows - 10 else "2028-03-01"
        sheets["Opening stock"].append([SITES[n % 50], ITEMS[(n // 50) % 40], f"L{n:06d}", expiry, 5, "STATE", None])
    book.save(path)


def measure(label: str, app: InventoryApplication, path: Path) -> Any:
    tracemalloc.start()
    started = time.perf_counter()
    result = import_file(app, path, actor="bench")
    elapsed = time.perf_counter() - started
    _current, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    print(f"  {label:<22} {elapsed:8.1f} s   tracemalloc peak {peak / 2**20:7.1f} MiB", flush=True)
    return result


def main() -> None:
    sizes = [2_000, 10_000] if "--quick" in sys.argv else [5_000, 20_000, 50_000]
    with tempfile.TemporaryDirectory() as folder:
        for rows in sizes:
            print(f"{rows:,} opening stock rows:", flush=True)
            bad, good = Path(folder) / f"bad-{rows}.xlsx", Path(folder) / f"good-{rows}.xlsx"
            write_workbook(bad, rows, bad_row=True)
            write_workbook(good, rows, bad_row=False)
            app = InventoryApplication(f"sqlite:///{folder}/db-{rows}.sqlite")
            try:
                report = measure("check (nothing written)", app, bad)
                assert not report.written and len(report.problems) == 1, report.problems
                report = measure("full import", app, good)
                assert report.recorded["lots"] == rows, report.summary()
            finally:
                app.close()
    print(f"peak RSS of the process: {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MiB")


if __name__ == "__main__":
    main()
