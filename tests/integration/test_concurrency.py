"""Many coordinators recording at once never lose or double-count stock."""

from __future__ import annotations

import threading
from collections import Counter

from inventory.application import InventoryApplication
from inventory.domain import StockLedger
from inventory.domain.errors import InsufficientStock
from tests.conftest import ADMIN, seed_catalog

THREADS = 8
PER_THREAD = 200
KITS = 1_000


def test_eight_threads_issue_exactly_the_kits_on_hand(database_url: str) -> None:
    # Two application instances over one database stand in for two processes: threads within an
    # instance queue on its locks, and the instances collide in the database and must retry.
    apps = [InventoryApplication(database_url) for _ in range(2)]
    try:
        first = apps[0]
        seed_catalog(first)
        first.receive_stock(
            site="VAN-1",
            sku="NALOX-4MG",
            lot="L-A",
            quantity=600,
            expires_on="2030-01-31",
            funding_source="SOR",
            actor=ADMIN,
        )
        first.receive_stock(
            site="VAN-1",
            sku="NALOX-4MG",
            lot="L-B",
            quantity=400,
            expires_on="2030-06-30",
            funding_source="SOR",
            actor=ADMIN,
        )
        head_before = first.recorder.max_notification_id() or 0
        outcomes: Counter[str] = Counter()
        unexpected: list[BaseException] = []
        guard = threading.Lock()
        start = threading.Barrier(THREADS)

        def coordinator(number: int) -> None:
            app = apps[number % len(apps)]
            start.wait()
            for visit in range(PER_THREAD):
                try:
                    app.record_encounter(
                        key=f"thread-{number:02d}-visit-{visit:04d}",
                        site="VAN-1",
                        lines=[{"sku": "NALOX-4MG", "quantity": 1}],
                        actor=f"coordinator{number}@example.org",
                    )
                    outcome = "issued"
                except InsufficientStock:
                    outcome = "refused"
                except BaseException as error:
                    with guard:
                        unexpected.append(error)
                    continue
                with guard:
                    outcomes[outcome] += 1

        threads = [threading.Thread(target=coordinator, args=(n,)) for n in range(THREADS)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()

        assert unexpected == []
        assert outcomes == {"issued": KITS, "refused": THREADS * PER_THREAD - KITS}

        fresh = InventoryApplication(database_url)
        try:
            ledger = fresh.repository.get(StockLedger.create_id("VAN-1", "NALOX-4MG"), version=None)
            events = list(fresh.events.get(ledger.id))
            assert [e.originator_version for e in events] == list(range(1, len(events) + 1))
            distributed = [e for e in events if isinstance(e, StockLedger.Distributed)]
            issued = sum(p["quantity"] for e in distributed for p in e.picks)
            received = sum(e.quantity for e in events if isinstance(e, StockLedger.Received))
            assert len(distributed) == KITS
            assert issued == KITS
            assert ledger.on_hand == received - issued == 0
            # FEFO: the earlier lot was emptied before the later one was touched.
            assert {lot.code: lot.quantity for lot in ledger.lots.values()} == {"L-A": 0, "L-B": 0}

            # The log holds exactly one encounter and one ledger event per kit issued, nothing else.
            notifications = fresh.recorder.select_notifications(start=head_before + 1, limit=100_000)
            topics = Counter(n.topic.rsplit(".", 1)[-1] for n in notifications)
            assert topics == {"Recorded": KITS, "Distributed": KITS}
            ids = [n.id for n in notifications]
            assert len(ids) == len(set(ids))
            recorded = [n for n in notifications if n.topic.endswith("Recorded")]
            keys = {fresh.mapper.to_domain_event(n).originator_id for n in recorded}
            assert len(keys) == KITS
        finally:
            fresh.close()
    finally:
        for app in apps:
            app.close()
