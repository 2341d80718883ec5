"""Suppliers as purchasing knows them from its orders: each supplier once (however its name was typed), how
many orders went to it and when the last did, and the last unit cost it was ordered at, item by item."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from inventory.domain import PurchaseOrder
from inventory.projections.base import Projection, Recorded, iso
from inventory.projections.store import ReadStore, Tx


def supplier_key(name: str) -> str:
    """ "Harm Reduction Supply Co." and "harm reduction supply co" are one supplier."""
    return " ".join(name.casefold().replace(".", " ").replace(",", " ").split())


class Suppliers(Projection):
    name = "suppliers"
    version = 1
    tables = ("suppliers", "supplier_prices")
    ddl = (
        """CREATE TABLE IF NOT EXISTS suppliers (
            key TEXT PRIMARY KEY, name TEXT NOT NULL, orders INTEGER NOT NULL, last_ordered_at TEXT NOT NULL,
            last_order TEXT NOT NULL)""",
        """CREATE TABLE IF NOT EXISTS supplier_prices (
            key TEXT NOT NULL, sku TEXT NOT NULL, unit_cost TEXT NOT NULL, order_number TEXT NOT NULL,
            ordered_at TEXT NOT NULL, PRIMARY KEY (key, sku))""",
    )

    def process(self, batch: Sequence[Recorded], tx: Tx) -> None:
        for recorded in batch:
            event = recorded.event
            if type(event) is not PurchaseOrder.Raised:
                continue
            key, moment = supplier_key(event.supplier), iso(event.occurred_at)
            tx.execute(
                """INSERT INTO suppliers (key, name, orders, last_ordered_at, last_order) VALUES (?, ?, 1, ?, ?)
                   ON CONFLICT (key) DO UPDATE SET name = excluded.name, orders = suppliers.orders + 1,
                   last_ordered_at = excluded.last_ordered_at, last_order = excluded.last_order""",
                (key, event.supplier.strip(), moment, event.number),
            )
            for line in event.lines:
                if line.get("unit_cost") is None:
                    continue
                tx.execute(
                    """INSERT INTO supplier_prices (key, sku, unit_cost, order_number, ordered_at)
                       VALUES (?, ?, ?, ?, ?)
                       ON CONFLICT (key, sku) DO UPDATE SET unit_cost = excluded.unit_cost,
                       order_number = excluded.order_number, ordered_at = excluded.ordered_at""",
                    (key, line["sku"], str(line["unit_cost"]), event.number, moment),
                )


def suppliers(store: ReadStore) -> list[dict[str, Any]]:
    """Every supplier ordered from, by name, with the last unit cost of each item ordered from it."""
    prices: dict[str, dict[str, dict[str, Any]]] = {}
    for key, sku, cost, number, moment in store.fetchall(
        "SELECT key, sku, unit_cost, order_number, ordered_at FROM supplier_prices ORDER BY key, sku"
    ):
        prices.setdefault(key, {})[sku] = {"unit_cost": cost, "order_number": number, "ordered_at": moment}
    return [
        {
            "name": name,
            "orders": int(orders),
            "last_ordered_at": last,
            "last_order": order,
            "prices": prices.get(key, {}),
        }
        for key, name, orders, last, order in store.fetchall(
            "SELECT key, name, orders, last_ordered_at, last_order FROM suppliers ORDER BY name"
        )
    ]
