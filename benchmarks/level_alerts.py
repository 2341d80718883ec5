"""What raising level alerts as stock changes costs a visit: record-and-read-back time with the
projector's stock-change check on, against the same process with it off.

Run from the repository root:

    .venv/bin/python benchmarks/level_alerts.py            # 90 demo days, 300 visits per side
    .venv/bin/python benchmarks/level_alerts.py --visits 100

It builds the services as every process does (inventory.bootstrap) over a SQLite file in a temporary
directory, loads the demo program, catches the read models up and runs the periodic alert check once.
Then it records visits at the van, each followed by read-your-writes (what every page and API command
does), in alternating blocks of 25 with the check on and off, and prints the milliseconds per visit of
each and their ratio. Each visit hands out one naloxone kit from a lot received for the run, so the
check runs after every visit (its cost), while the van's stock stays above the reorder point.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

from inventory.adapters.settings import load_settings
from inventory.application.demo import seed_demo
from inventory.bootstrap import build_services, create_schema

BLOCK = 25


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--visits", type=int, default=300, help="visits on each side (on, off)")
    parser.add_argument("--days", type=int, default=90, help="demo days to load first")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        settings = load_settings(
            {
                "INVENTORY_ENV": "development",
                "INVENTORY_DATABASE_URL": f"sqlite:///{Path(folder) / 'bench.db'}",
                "INVENTORY_INSTANCE_PATH": folder,
            }
        )
        services = build_services(settings)
        try:
            create_schema(services)
            seed_demo(services.app, days=args.days)
            services.projector.catch_up()
            services.app.check_alerts(datetime.now(UTC).date(), datetime.now(UTC), store=services.store)
            services.projector.catch_up()
            services.app.receive_stock(
                site="VAN-1", sku="NALOX-4MG", lot="BENCH-1", quantity=2 * args.visits + 10,
                expires_on="2099-12-31", funding_source="SOR", actor="bench",
            )  # fmt: skip
            services.projector.read_your_writes()
            hook = services.projector.on_stock_changed
            spent = {"on": 0.0, "off": 0.0}
            done = {"on": 0, "off": 0}
            number = 0
            while min(done.values()) < args.visits:
                for side in ("on", "off"):
                    services.projector.on_stock_changed = hook if side == "on" else None
                    started = time.perf_counter()
                    for _ in range(BLOCK):
                        number += 1
                        services.app.record_encounter(
                            key=f"bench-visit-{number:06d}", site="VAN-1",
                            lines=[{"sku": "NALOX-4MG", "quantity": 1}], actor="bench",
                        )  # fmt: skip
                        services.projector.read_your_writes()
                    spent[side] += time.perf_counter() - started
                    done[side] += BLOCK
            on, off = (1000 * spent[side] / done[side] for side in ("on", "off"))
            print(f"visits per side: {done['on']} (demo days: {args.days}, events: {services.projector.head()})")
            print(f"check off: {off:.2f} ms per visit recorded and read back")
            print(f"check on:  {on:.2f} ms per visit recorded and read back")
            print(f"ratio on/off: {on / off:.2f}")
        finally:
            services.close()


if __name__ == "__main__":
    main()
