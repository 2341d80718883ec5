"""Record a small log with a release's own code, and what that release's read models made of it.

Run with the release to keep on the path (its `inventory` package, not this checkout's):

    git worktree add /tmp/release <commit>
    PYTHONPATH=/tmp/release .venv/bin/python tests/history/record_release_log.py tests/history/<name> [--snapshots]

With --snapshots the ledgers are snapshotted every 10 events, so the log holds snapshots in that
release's format too (release-0.2.0 has them: lots without a history, from before 0.3.0).

It writes `events.db` (the SQLite event store, as that release wrote it) and `expected.json`: the
stock on hand, the number of events of each type, the audit log's length and the seal's head, all
as that release computed them. tests/history/test_release_logs.py replays each such log with the
code of today and compares. Only the application's verbs are used, so the script runs on any
release that has them.
"""

from __future__ import annotations

import json
import sys
from collections import Counter
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

SEAL_KEY = b"release-log-seal-key"
END = date(2026, 11, 30)
ADMIN = "admin@demo.example.org"


def main(folder: str, snapshots: bool = False) -> None:
    import inventory
    from inventory.application import InventoryApplication
    from inventory.application.demo import PURCHASING, seed_demo
    from inventory.domain import StockLedger
    from inventory.projections import all_projections
    from inventory.projections.alerts import open_alerts
    from inventory.projections.runner import Projector
    from inventory.projections.seal import verify
    from inventory.projections.store import read_store_for

    out = Path(folder)
    out.mkdir(parents=True, exist_ok=True)
    for old in out.glob("events*.db*"):
        if old.is_file():
            old.unlink()
    url = f"sqlite:///{out / 'events.db'}"
    if snapshots:
        InventoryApplication.snapshotting_intervals = {StockLedger: 10}
    app = InventoryApplication(url, timezone_name="America/New_York")
    store = read_store_for(url)
    projector = Projector(app, store, all_projections(app.zone, SEAL_KEY))
    try:
        seed_demo(app, days=4, end=END, seed=7)
        noon = datetime(2026, 11, 30, 17, 0, tzinfo=UTC)
        # A level the van is below, so that an alert is raised (and then acknowledged).
        app.set_stock_level(site="VAN-1", sku="NALOX-4MG", reorder_point=5000, par_level=9000, lead_time_days=3,
                            actor=ADMIN)  # fmt: skip
        projector.catch_up()
        app.check_alerts(END, noon, store=store)
        projector.catch_up()
        alert = open_alerts(store)[0]
        app.acknowledge_alert(alert_id=alert["id"], episode=alert["episode"], actor=PURCHASING, occurred_at=noon)
        app.record_shift_tally(key="release-tally-0001", site="VAN-1", shift_date=END - timedelta(days=1),
                               starts_at="21:00", ends_at="02:00", lines=[{"sku": "SYR-1ML", "quantity": 40}],
                               visits=6, reversals_reported=1, syringes_collected=25, actor="van@demo.example.org",
                               now=noon)  # fmt: skip
        app.discard_offline_visit(key="release-visit-0001", site="VAN-1", lines=[{"sku": "NALOX-4MG", "quantity": 1}],
                                  reason="entered_by_mistake", refused_because="insufficient_stock",
                                  actor="van@demo.example.org", occurred_at=noon)  # fmt: skip
        order = app.raise_purchase_order(supplier="Harm Reduction Supply Co-op", site="WH", funding_source="STATE-HR",
                                         lines=[{"sku": "FTS", "quantity": 500, "unit_cost": "0.85"}],
                                         actor=PURCHASING)  # fmt: skip
        app.submit_purchase_order(order_id=order["id"], actor=PURCHASING, occurred_at=noon)
        app.receive_purchase_order(order_id=order["id"], actor=PURCHASING, occurred_at=noon,
                                   lines=[{"sku": "FTS", "lot": "FTS-2711", "quantity": 200,
                                           "expires_on": "2028-11-30", "unit_cost": "0.85"}])  # fmt: skip
        sent = app.dispatch_transfer(from_site="WH", to_site="FIX-EAST", lines=[{"sku": "SYR-1ML", "quantity": 100}],
                                     actor=ADMIN, occurred_at=noon)  # fmt: skip
        app.cancel_transfer(transfer_id=sent["id"], reason="Wrong destination", actor=ADMIN, occurred_at=noon)
        # A count with a variance (from release 0.2.0 on: counts become observations that late entries restate).
        if hasattr(app, "count_stock"):
            van = app.stock("VAN-1", "NALOX-4MG")
            fullest = max(van["lots"], key=lambda lot: lot["quantity"])
            night = datetime(2026, 12, 1, 4, 50, tzinfo=UTC)  # after the demo's last visit
            app.count_stock(site="VAN-1", sku="NALOX-4MG", lot=fullest["lot"], counted=fullest["quantity"] - 2,
                            actor="van@demo.example.org", occurred_at=night)  # fmt: skip
        app.issue_token(email=PURCHASING, label="ordering script", actor=ADMIN)
        kept = app.issue_token(email=ADMIN, label="dashboard", actor=ADMIN)
        app.revoke_token(email=ADMIN, token_id=kept.split("_")[2], actor=ADMIN)
        app.deactivate_user(email="grants@demo.example.org", actor=ADMIN)
        projector.catch_up()

        head = projector.head()
        notifications = app.recorder.select_notifications(start=1, limit=head + 1, stop=head)
        seal = verify(app.recorder, store, SEAL_KEY)
        stock = store.fetchall("SELECT site, sku, lot, quantity FROM stock_on_hand WHERE quantity <> 0")
        expected = {
            "release": inventory.__version__,
            "recorded_with": "tests/history/record_release_log.py",
            "head": head,
            "topics": dict(sorted(Counter(n.topic for n in notifications).items())),
            "stock_on_hand": sorted([str(s), str(k), str(lot), int(q)] for s, k, lot, q in stock),
            "audit_rows": int(store.fetchall("SELECT COUNT(*) FROM audit_log")[0][0]),
            "seal": {"position": seal.head_position, "hash": seal.head_hash},
            "open_alerts": sorted([a["kind"], a["site"], a["sku"], a["lot"] or ""] for a in open_alerts(store)),
        }
        (out / "expected.json").write_text(json.dumps(expected, indent=1) + "\n")
    finally:
        store.close()
        app.close()
    for extra in out.glob("events.readmodels*"):
        extra.unlink()
    for extra in out.glob("events.db.locks"):
        for lock in extra.iterdir():
            lock.unlink()
        extra.rmdir()


if __name__ == "__main__":
    main(sys.argv[1], snapshots="--snapshots" in sys.argv[2:])
