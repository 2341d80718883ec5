"""Kits through the application and the read models, on a real SQLite file and a real PostgreSQL: assembled
at a site from component lots first expiry first, a part a funder may no longer buy refused by name, kits
handed out at visits and their parts counted in the grant report under each part's own funder (the federal
grant that may not buy syringes is never shown the kits' syringes), and kits taken apart."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from exports.reports import Source, grant_report
from inventory.application import InventoryApplication
from inventory.domain.errors import FundingRestricted, InvalidInput
from inventory.projections import all_projections, queries
from inventory.projections.runner import Projector
from inventory.projections.store import read_store_for
from tests.conftest import ADMIN, seed_catalog
from tests.exports.workbooks import sheets, table

NOW = datetime(2026, 5, 12, 18, 30, tzinfo=UTC)
pytestmark = pytest.mark.clock(NOW)
KIT = "KIT-NALOX-SYR"


@pytest.fixture
def kitted(app: InventoryApplication) -> InventoryApplication:
    """At the van: naloxone in two lots (SOR's, soon; STATE's, later) and syringes (STATE's); a kit of one
    naloxone kit and ten syringes."""
    seed_catalog(app)
    app.register_item(sku=KIT, name="Overdose response kit", category="kit", unit="kit", tracks_expiry=True,
                      actor=ADMIN)  # fmt: skip
    for lot, quantity, expires, fund in (("N-SOON", 6, "2026-12-31", "SOR"), ("N-LATE", 10, "2027-09-30", "STATE")):
        app.receive_stock(site="VAN-1", sku="NALOX-4MG", lot=lot, quantity=quantity, expires_on=expires,
                          funding_source=fund, actor=ADMIN, occurred_at=NOW - timedelta(days=10))  # fmt: skip
    app.receive_stock(site="VAN-1", sku="SYR-1ML", lot="S-1", quantity=500, expires_on=None, funding_source="STATE",
                      actor=ADMIN, occurred_at=NOW - timedelta(days=10))  # fmt: skip
    parts = [{"sku": "NALOX-4MG", "quantity": 1}, {"sku": "SYR-1ML", "quantity": 10}]
    app.set_kit_recipe(kit_sku=KIT, effective_from="2026-01-01", components=parts, actor=ADMIN)
    return app


@pytest.fixture
def projector(kitted: InventoryApplication, database_url: str) -> Iterator[Projector]:
    store = read_store_for(database_url)
    try:
        yield Projector(kitted, store, all_projections(kitted.zone, b"kit-seal"))
    finally:
        store.close()


def on_hand(projector: Projector, sku: str) -> dict[str, int]:
    projector.catch_up()
    return {row["lot"]: row["quantity"] for row in queries.stock_on_hand(projector.store, "VAN-1", sku)}


def test_ten_kits_across_two_naloxone_lots_become_two_kit_lots_and_take_their_parts(
    kitted: InventoryApplication, projector: Projector
) -> None:
    made = kitted.assemble_kits(site="VAN-1", kit_sku=KIT, quantity=10, lot="OR-0512", actor=ADMIN,
                                occurred_at=NOW - timedelta(hours=3))  # fmt: skip
    assert [(row["lot"], row["quantity"], row["expires_on"].isoformat()) for row in made["lots"]] == [
        ("OR-0512-1", 6, "2026-12-31"),
        ("OR-0512-2", 4, "2027-09-30"),
    ]
    assert [(p["lot"], p["funding_source"]) for p in made["lots"][0]["components"]] == [("N-SOON", "SOR"),
                                                                                       ("S-1", "STATE")]  # fmt: skip
    assert on_hand(projector, "NALOX-4MG") == {"N-LATE": 6}
    assert on_hand(projector, "SYR-1ML") == {"S-1": 400}
    assert on_hand(projector, KIT) == {"OR-0512-1": 6, "OR-0512-2": 4}

    # Taken apart: the parts of 2 kits go back to their own lots.
    apart = kitted.take_apart_kits(site="VAN-1", kit_sku=KIT, lot="OR-0512-2", quantity=2, actor=ADMIN)
    assert sorted((p["sku"], p["lot"], p["quantity"]) for p in apart["parts"]) == [
        ("NALOX-4MG", "N-LATE", 2),
        ("SYR-1ML", "S-1", 20),
    ]
    assert on_hand(projector, "NALOX-4MG") == {"N-LATE": 8}
    assert on_hand(projector, KIT) == {"OR-0512-1": 6, "OR-0512-2": 2}
    # More kits than the parts allow are refused, and nothing is taken.
    with pytest.raises(Exception, match="Only 8 kits of NALOX-4MG"):
        kitted.assemble_kits(site="VAN-1", kit_sku=KIT, quantity=9, actor=ADMIN)
    assert on_hand(projector, "SYR-1ML") == {"S-1": 420}


def test_a_part_paid_by_a_funder_that_may_no_longer_buy_it_is_refused_by_name(
    kitted: InventoryApplication, projector: Projector
) -> None:
    kitted.register_funding_source(code="CITY", name="City grant", federal=False, actor=ADMIN)
    kitted.receive_stock(site="VAN-1", sku="SYR-1ML", lot="S-0-CITY", quantity=50, expires_on=None,
                         funding_source="CITY", actor=ADMIN, occurred_at=NOW - timedelta(days=20))  # fmt: skip
    # Since last week the city grant may not pay for syringes; its lot is the first out (S-0 before S-1).
    since = (NOW - timedelta(days=7)).date()
    kitted.change_restrictions(code="CITY", actor=ADMIN, restrictions=[{"category": "syringe", "starts_on": since}])
    kitted.register_item(sku="KIT-SYR", name="Syringe kit", category="kit", unit="kit", tracks_expiry=False,
                         actor=ADMIN)  # fmt: skip
    kitted.set_kit_recipe(kit_sku="KIT-SYR", effective_from="2026-01-01", actor=ADMIN,
                          components=[{"sku": "SYR-1ML", "quantity": 10}])  # fmt: skip
    with pytest.raises(FundingRestricted, match="Lot S-0-CITY of SYR-1ML was paid for by CITY, which may not pay for"):
        kitted.assemble_kits(site="VAN-1", kit_sku="KIT-SYR", quantity=2, actor=ADMIN)
    assert on_hand(projector, "SYR-1ML") == {"S-1": 500, "S-0-CITY": 50}
    with pytest.raises(InvalidInput, match="not a kit"):
        kitted.set_kit_recipe(kit_sku="SYR-1ML", effective_from="2026-01-01", actor=ADMIN,
                              components=[{"sku": "NALOX-4MG", "quantity": 1}])  # fmt: skip


def test_the_grant_report_counts_each_part_of_a_kit_handed_out_under_its_own_funder(
    kitted: InventoryApplication, projector: Projector, tmp_path: Path
) -> None:
    kitted.assemble_kits(site="VAN-1", kit_sku=KIT, quantity=5, lot="OR-1", actor=ADMIN,
                         occurred_at=NOW - timedelta(days=2))  # fmt: skip
    kit = [{"sku": KIT, "quantity": 1}]
    yesterday = NOW - timedelta(days=1)
    for n in range(3):  # three kits handed out (of lot OR-1: SOR's naloxone, STATE's syringes)
        kitted.record_encounter(key=f"kit-visit-{n:04d}", site="VAN-1", actor=ADMIN, occurred_at=yesterday, lines=kit)
    voided = kitted.record_encounter(key="kit-visit-void", site="VAN-1", actor=ADMIN, occurred_at=yesterday, lines=kit)
    kitted.void_visit(visit_id=voided["id"], reason="entered_twice", actor=ADMIN)
    projector.catch_up()
    source = Source(kitted, projector.store, kitted.zone)
    inside = {}
    for fund in ("SOR", "STATE"):
        path = tmp_path / f"{fund}.xlsx"
        grant_report(source, str(path), funding_source=fund, start=(NOW - timedelta(days=30)).date(), end=NOW.date(),
                     who=ADMIN)  # fmt: skip
        found = table(sheets(path)["Summary"], "Kit")
        inside[fund] = [(row[0], row[1], row[4], row[5]) for row in found.rows]
    assert inside["SOR"] == [(KIT, "NALOX-4MG", "State Opioid Response (federal)", 3)]
    assert inside["STATE"] == [(KIT, "SYR-1ML", "State harm reduction fund", 30)]
