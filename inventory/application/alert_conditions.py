"""The conditions purchasing must hear about, computed from the read models as they stand.

Each condition is named by (kind, site, sku, lot) — the key of its Alert aggregate — and carries the
figures that explain it. Nothing here is about a participant: only stock, levels and use.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any
from uuid import UUID

from inventory.domain.alerts import AlertKind, alert_id
from inventory.domain.expiry import SOON_DAYS, expired_on, expires_soon
from inventory.projections import queries, recall_queries
from inventory.projections.store import ReadStore

WINDOW_DAYS = 28  # trailing days of use the projection averages over
HORIZON_DAYS = SOON_DAYS  # how far ahead a lot's expiry is worth an alert


@dataclass(frozen=True)
class Condition:
    """One thing wrong now: its kind and key, and the figures behind it."""

    kind: str
    site: str
    sku: str
    lot: str | None
    details: dict[str, Any] = field(default_factory=dict, compare=False)

    @property
    def alert_id(self) -> UUID:
        return alert_id(self.kind, self.site, self.sku, self.lot)


def current_conditions(
    store: ReadStore,
    today: date,
    *,
    window_days: int = WINDOW_DAYS,
    horizon_days: int = HORIZON_DAYS,
    site: str | None = None,
) -> list[Condition]:
    """Every condition that holds on `today`, at open sites for active items.

    Stock conditions need the item's levels at the site (setting them, above zero, is what says the
    site keeps the item): out of stock; below the reorder point (out of stock included: the shortage goes on);
    running out within the lead time at the average daily use of the trailing window, counting only
    days the item was in stock (a stock-out does not drag the average down). Lot conditions cover
    every lot on hand with an expiry: expiring within `horizon_days`, or already expired.
    """
    open_sites = {row["code"] for row in queries.sites(store, open_only=True)}
    active = {row["sku"] for row in queries.items(store, active_only=True)}
    use = {(row["site"], row["sku"]): row for row in queries.consumption(store, today, window_days, site)}
    found: list[Condition] = []
    for row in queries.stock_levels(store, site):
        if row["site"] not in open_sites or row["sku"] not in active or row["reorder_point"] is None:
            continue
        if not row["par_level"]:
            continue  # levels of zero: the site does not keep this item, so having none is no shortage
        used = use.get((row["site"], row["sku"]), {})
        details = stock_details(row, used)
        on_hand, supply, lead = details["on_hand"], details["days_of_supply"], row["lead_time_days"]
        if on_hand <= 0:
            found.append(Condition(AlertKind.OUT_OF_STOCK, row["site"], row["sku"], None, details))
        if on_hand < row["reorder_point"]:
            found.append(Condition(AlertKind.BELOW_REORDER_POINT, row["site"], row["sku"], None, details))
        if on_hand > 0 and supply is not None and lead and supply < lead:
            found.append(Condition(AlertKind.RUNS_OUT_WITHIN_LEAD_TIME, row["site"], row["sku"], None, details))
    for held in recall_queries.held_lots(store, site):
        if held["recall"] and held["quantity"] > 0 and held["site"] in open_sites:
            found.append(Condition(AlertKind.RECALLED, held["site"], held["sku"], held["lot"], recall_details(held)))
    for lot in queries.stock_on_hand(store, site):
        if lot["quantity"] <= 0 or lot["site"] not in open_sites or lot["sku"] not in active:
            continue
        if expired_on(lot["expires_on"], today):
            kind = AlertKind.EXPIRED_ON_HAND
        elif expires_soon(lot["expires_on"], today, horizon_days):
            kind = AlertKind.EXPIRING_SOON
        else:
            continue
        found.append(Condition(kind, lot["site"], lot["sku"], lot["lot"], lot_details(lot)))
    return found


def stock_details(level: dict[str, Any], used: dict[str, Any]) -> dict[str, Any]:
    """The figures of a stock condition: on hand against levels, and how long it lasts at recent use."""
    return {
        "site": level["site"],
        "sku": level["sku"],
        "lot": None,
        # PostgreSQL's SUM is a numeric: whole numbers here, so the event and its JSON hold numbers.
        "on_hand": int(level["on_hand"]),
        "on_order": int(level["on_order"]),
        "in_transit": int(level["in_transit"]),
        "reorder_point": level["reorder_point"],
        "par_level": level["par_level"],
        "lead_time_days": level["lead_time_days"],
        "average_daily_use": used.get("average_daily_use", 0.0),
        "days_in_stock": used.get("days_in_stock", 0),
        "days_of_supply": used.get("days_of_supply"),
        "expires_on": None,
        "quantity": None,
    }


def lot_details(lot: dict[str, Any]) -> dict[str, Any]:
    """The figures of a lot condition: which lot, how many, when it expires."""
    return {
        "site": lot["site"],
        "sku": lot["sku"],
        "lot": lot["lot"],
        "expires_on": lot["expires_on"],
        "quantity": int(lot["quantity"]),
        "on_hand": int(lot["quantity"]),
    }


def recall_details(held: dict[str, Any]) -> dict[str, Any]:
    """The figures of a recalled lot still on a shelf: which lot, how many, the recall that holds it."""
    return {
        "site": held["site"],
        "sku": held["sku"],
        "lot": held["lot"],
        "expires_on": held["expires_on"],
        "quantity": held["quantity"],
        "on_hand": held["quantity"],
        "recall": held["recall"],
    }


def standing(store: ReadStore, site: str, sku: str, lot: str | None) -> dict[str, Any]:
    """What a condition's key looks like now that it no longer holds (the figures on resolving it)."""
    if lot is not None:
        rows = [row for row in queries.stock_on_hand(store, site, sku) if row["lot"] == lot]
        return {"quantity": int(rows[0]["quantity"]) if rows else 0}
    levels = queries.stock_levels(store, site, sku)
    return {"on_hand": int(levels[0]["on_hand"]) if levels else 0}
