"""The import's four sheets and their columns, as the template writes them and the reader expects them."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Column:
    name: str
    note: str
    required: bool = True


@dataclass(frozen=True)
class Sheet:
    name: str
    note: str
    columns: tuple[Column, ...]

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(column.name for column in self.columns)


SITES = Sheet(
    "Sites",
    "One row per warehouse, fixed site or van.",
    (
        Column("code", "Short code, like WH or VAN-1: letters, digits, '-', '_' and '.'."),
        Column("name", "The site's name as staff know it."),
        Column("kind", "warehouse, fixed or mobile."),
    ),
)
ITEMS = Sheet(
    "Items",
    "One row per stocked product.",
    (
        Column("sku", "The item's code, like NAL-4MG."),
        Column("name", "The item's name."),
        Column("category", "naloxone, syringe, test_strip, sharps, wound_care, safer_smoking, kit or other."),
        Column("unit", "What one counts: box, kit, each."),
        Column("tracks_expiry", "yes if each lot has an expiry date, else no."),
        Column("pack_size", "Units in the supplier's pack (its first pack, called pack); 1 if empty.", required=False),
    ),
)
FUNDING = Sheet(
    "Funding sources",
    "One row per grant or donor; repeat the code on another row for each further rule.",
    (
        Column("code", "Short code, like SOR or CITY."),
        Column("name", "The grant's or donor's name."),
        Column("federal", "yes for federal money, else no."),
        Column("may_not_pay_for", "A category this source may not pay for; empty if none.", required=False),
        Column("from", "The date that rule starts, like 2026-03-01.", required=False),
        Column("until", "The date that rule ends; empty if it has no end.", required=False),
    ),
)
OPENING = Sheet(
    "Opening stock",
    "What is on the shelf today: one row per site, item and lot.",
    (
        Column("site", "A site code from the Sites sheet or already registered."),
        Column("sku", "An item SKU from the Items sheet or already registered."),
        Column("lot", "The lot number printed on the box."),
        Column("expires_on", "Expiry date, like 2027-06-30; required for items that track expiry.", required=False),
        Column("quantity", "Units on hand: a whole number, 1 or more."),
        Column("funding_source", "A funding source code that paid for this lot."),
        Column("unit_cost", "Cost of one unit, like 12.50; may be empty.", required=False),
    ),
)
SHEETS = (SITES, ITEMS, FUNDING, OPENING)
