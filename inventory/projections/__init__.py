"""Read models built from the event log: every screen, alert and export reads these."""

from __future__ import annotations

from zoneinfo import ZoneInfo

from inventory.projections.alerts import Alerts
from inventory.projections.audit_log import AuditLog
from inventory.projections.base import Projection
from inventory.projections.catalog import Catalog
from inventory.projections.deliveries import Deliveries
from inventory.projections.distribution import Distribution
from inventory.projections.recalls import Recalls
from inventory.projections.seal import Seal
from inventory.projections.staff import Staff
from inventory.projections.stock_card import StockCard
from inventory.projections.stock_on_hand import StockOnHand
from inventory.projections.suppliers import Suppliers


def all_projections(zone: ZoneInfo, seal_key: bytes) -> list[Projection]:
    """Every read model, in the order a batch is written."""
    return [
        Catalog(zone),
        Staff(zone),
        StockOnHand(zone),
        Recalls(zone),
        Suppliers(zone),
        StockCard(zone),
        Distribution(zone),
        Alerts(zone),
        Deliveries(zone),  # after Staff: an alert's recipients are the staff as of that event
        AuditLog(zone),
        Seal(zone, seal_key),
    ]
