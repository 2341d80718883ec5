"""A report generated "as known at" a past log position gives the same figures it gave then,
whatever was recorded since (backdated entries into its period included)."""

from __future__ import annotations

from datetime import datetime, time, timedelta
from pathlib import Path
from typing import Any

from exports.reports import Source, distribution_log, grant_report, stock_report
from inventory.application import InventoryApplication
from inventory.projections.store import ReadStore
from tests.conftest import ADMIN, seed_catalog
from tests.exports.conftest import COORDINATOR, ZONE, _program
from tests.exports.workbooks import sheets


def figures(path: Path) -> dict[str, list[list[object]]]:
    """Every sheet but Provenance (which says when and how it was generated)."""
    return {name: rows for name, rows in sheets(path).items() if name != "Provenance"}


def provenance_of(path: Path) -> dict[str, Any]:
    return {row[0]: row[1] for row in sheets(path)["Provenance"] if row}


def test_a_report_as_known_at_its_position_is_the_report_it_was(sqlite_url: str, tmp_path: Path) -> None:
    app, store, projector = _program(sqlite_url)
    try:
        seed_catalog(app)
        today = datetime.now(ZONE).date()
        start, end = today - timedelta(days=20), today

        def at(days_ago: int, hour: int = 12) -> datetime:
            return datetime.combine(today - timedelta(days=days_ago), time(hour), tzinfo=ZONE)

        for days_ago, lot in ((15, "N-1"), (8, "N-2")):
            app.receive_stock(
                site="WH",
                sku="NALOX-4MG",
                lot=lot,
                quantity=40,
                expires_on=today + timedelta(days=300),
                funding_source="SOR",
                actor=ADMIN,
                occurred_at=at(days_ago),
            )
        app.dispatch_transfer(
            from_site="WH",
            to_site="VAN-1",
            lines=[{"sku": "NALOX-4MG", "quantity": 10}],
            actor=ADMIN,
            occurred_at=at(7),
        )
        app.record_encounter(
            key="visit-0001",
            site="WH",
            lines=[{"sku": "NALOX-4MG", "quantity": 2}],
            participant_code="AB12CD",
            actor=COORDINATOR,
            occurred_at=at(5),
        )
        projector.catch_up()
        source_then = _source(app, store)
        grant_report(source_then, str(tmp_path / "then.xlsx"), funding_source="SOR", start=start, end=end, who=ADMIN)
        stock_report(source_then, str(tmp_path / "stock-then.xlsx"), funding_source=None, on=today, who=ADMIN)
        distribution_log(
            source_then, str(tmp_path / "log-then.xlsx"), start=start, end=end, who=ADMIN, participant_codes=True
        )
        position = provenance_of(tmp_path / "then.xlsx")["Figures as known at log position"]

        # Later: a backdated visit and adjustment into the period, and a new receipt.
        app.record_encounter(
            key="paper-0001",
            site="WH",
            lines=[{"sku": "NALOX-4MG", "quantity": 3}],
            actor=COORDINATOR,
            occurred_at=at(10),
        )
        app.adjust_stock(
            site="WH", sku="NALOX-4MG", lot="N-1", quantity=-1, reason="damaged", actor=ADMIN, occurred_at=at(9)
        )
        app.receive_stock(
            site="WH",
            sku="NALOX-4MG",
            lot="N-3",
            quantity=12,
            expires_on=today + timedelta(days=300),
            funding_source="SOR",
            actor=ADMIN,
            occurred_at=at(1),
        )
        projector.catch_up()
        source_now = _source(app, store)
        grant_report(source_now, str(tmp_path / "now.xlsx"), funding_source="SOR", start=start, end=end, who=ADMIN)
        grant_report(
            source_now,
            str(tmp_path / "again.xlsx"),
            funding_source="SOR",
            start=start,
            end=end,
            who=ADMIN,
            position=position,
        )
        stock_report(
            source_now, str(tmp_path / "stock-again.xlsx"), funding_source=None, on=today, who=ADMIN, position=position
        )
        distribution_log(
            source_now,
            str(tmp_path / "log-again.xlsx"),
            start=start,
            end=end,
            who=ADMIN,
            participant_codes=True,
            position=position,
        )

        assert figures(tmp_path / "now.xlsx") != figures(tmp_path / "then.xlsx")  # what came since matters now
        assert figures(tmp_path / "again.xlsx") == figures(tmp_path / "then.xlsx")  # but not as known then
        assert figures(tmp_path / "stock-again.xlsx") == figures(tmp_path / "stock-then.xlsx")
        assert figures(tmp_path / "log-again.xlsx") == figures(tmp_path / "log-then.xlsx")
        provenance = provenance_of(tmp_path / "again.xlsx")
        assert provenance["Figures as known at log position"] == position
        assert provenance["Seal head position"] == position
        then = provenance_of(tmp_path / "then.xlsx")
        assert provenance["Seal head hash (HMAC-SHA256)"] == then["Seal head hash (HMAC-SHA256)"]
    finally:
        app.close()
        store.close()


def _source(app: InventoryApplication, store: ReadStore) -> Source:
    return Source(app, store, app.zone)
