"""Reading lots held, recalls and where a recalled lot went: every site, movement and unit, anonymous."""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from inventory.domain.holds import Disposition
from inventory.domain.recalls import recall_key
from inventory.projections.report_queries import Reader

HELD_COLUMNS = ("site", "sku", "lot", "reason", "recall", "held_at", "held_by", "quantity", "expires_on")


def sites(store: Reader) -> list[dict[str, Any]]:
    """Every site, open or closed (a recall holds stock at a closed site too)."""
    return [{"code": code} for (code,) in store.fetchall("SELECT code FROM sites ORDER BY code")]


def sites_with_lot(store: Reader, sku: str, lot: str) -> list[dict[str, Any]]:
    """The sites whose stock of `sku` has ever had `lot` (stock can come back into an empty lot)."""
    rows = store.fetchall(
        "SELECT DISTINCT site FROM stock_movements WHERE sku = ? AND lot = ? ORDER BY site", (sku, lot)
    )
    return [{"code": site} for (site,) in rows]


def lots_made_as(store: Reader, manufacturer: str, manufacturer_lot: str) -> list[dict[str, str]]:
    """The program's lots whose receipts recorded this maker's lot number."""
    rows = store.fetchall(
        "SELECT sku, lot FROM lot_makers WHERE maker_key = ? ORDER BY sku, lot",
        (recall_key(manufacturer, manufacturer_lot),),
    )
    return [{"sku": sku, "lot": lot} for sku, lot in rows]


def recall_scope(store: Reader, manufacturer: str, manufacturer_lot: str) -> tuple[list[dict[str, str]], list[str]]:
    """What a recall of this maker's lot holds: the program's lots received under it and the kit lots made
    with them, and every site."""
    lots = lots_made_as(store, manufacturer, manufacturer_lot)
    return [*lots, *kits_made_with(store, lots)], [row["code"] for row in sites(store)]


def kits_made_with(store: Reader, lots: list[dict[str, str]]) -> list[dict[str, str]]:
    """The kit lots (at any site) that hold parts from any of `lots`."""
    found: dict[tuple[str, str], None] = {}
    for lot in lots:
        rows = store.fetchall(
            "SELECT kit_sku, kit_lot FROM kit_parts WHERE sku = ? AND lot = ? ORDER BY kit_sku, kit_lot",
            (lot["sku"], lot["lot"]),
        )
        found.update(dict.fromkeys((str(kit), str(code)) for kit, code in rows))
    return [{"sku": kit, "lot": code} for kit, code in found]


def makers_of(store: Reader, sku: str, lots: Iterable[str]) -> dict[str, list[str]]:
    """For each lot named, the makers' lots its receipts recorded ("Emergent lot 23A45")."""
    wanted = list(lots)
    if not wanted:
        return {}
    marks = ", ".join("?" for _ in wanted)
    rows = store.fetchall(
        f"SELECT lot, manufacturer, manufacturer_lot FROM lot_makers WHERE sku = ? AND lot IN ({marks}) ORDER BY lot",
        (sku, *wanted),
    )
    found: dict[str, list[str]] = defaultdict(list)
    for lot, maker, maker_lot in rows:
        found[lot].append(f"{maker} lot {maker_lot}")
    return dict(found)


def manufacturers(store: Reader) -> list[str]:
    """The makers receipts have named, for the recall form to offer."""
    return [name for (name,) in store.fetchall("SELECT DISTINCT manufacturer FROM lot_makers ORDER BY manufacturer")]


def held_lots(store: Reader, site: str | None = None, *, recall: str | None = None) -> list[dict[str, Any]]:
    """Lots held now, with what is left of each (0 once all of it is written off)."""
    where, params = ["1 = 1"], []
    if site is not None:
        where.append("h.site = ?")
        params.append(site)
    if recall is not None:
        where.append("h.recall = ?")
        params.append(recall)
    rows = store.fetchall(
        f"""SELECT h.site, h.sku, h.lot, h.reason, h.recall, h.held_at, h.held_by, COALESCE(s.quantity, 0),
                   s.expires_on
            FROM lot_holds h LEFT JOIN stock_on_hand s ON s.site = h.site AND s.sku = h.sku AND s.lot = h.lot
            WHERE {" AND ".join(where)} ORDER BY h.site, h.sku, h.lot""",
        params,
    )
    return [dict(zip(HELD_COLUMNS, row, strict=True), quantity=int(row[7])) for row in rows]


def held_for(store: Reader, recall: str) -> list[dict[str, Any]]:
    """Stock a recall holds that is still on a shelf."""
    return [row for row in held_lots(store, recall=recall) if row["quantity"] > 0]


RECALL_COLUMNS = (
    "id",
    "manufacturer",
    "manufacturer_lot",
    "notice",
    "lots",
    "announced_at",
    "announced_by",
    "closed_at",
)


def recalls(store: Reader) -> list[dict[str, Any]]:
    """Every recall, the latest first, with what it still holds on the shelves."""
    rows = store.fetchall(f"SELECT {', '.join(RECALL_COLUMNS)} FROM recalls ORDER BY announced_at DESC, id")
    held: dict[str, int] = defaultdict(int)
    for row in held_lots(store):
        if row["recall"]:
            held[row["recall"]] += row["quantity"]
    return [_recall(row) | {"held": held.get(row[0], 0)} for row in rows]


def recall(store: Reader, recall_id: str) -> dict[str, Any] | None:
    rows = store.fetchall(f"SELECT {', '.join(RECALL_COLUMNS)} FROM recalls WHERE id = ?", (recall_id,))
    return _recall(rows[0]) if rows else None


def _recall(row: Any) -> dict[str, Any]:
    found = dict(zip(RECALL_COLUMNS, row, strict=True))
    found["lots"] = json.loads(found["lots"])
    return found


def lot_receipts(store: Reader, sku: str, lot: str) -> list[dict[str, Any]]:
    """Every receipt of a lot: where and when, how many, who paid, at what cost, on which order or delivery
    note, and the maker's lot each recorded (voids and corrections of receipts included, as signed rows)."""
    rows = store.fetchall(
        """SELECT m.position, m.business_date, m.site, m.quantity, m.funding_source, m.unit_cost, m.reference,
                  m.reason, m.actor
           FROM stock_movements m WHERE m.sku = ? AND m.lot = ? AND m.kind = 'received' ORDER BY m.position, m.seq""",
        (sku, lot),
    )
    keys = ("position", "business_date", "site", "quantity", "funding_source", "unit_cost", "reference", "reason",
            "actor")  # fmt: skip
    makers = makers_of(store, sku, [lot]).get(lot, [])
    return [dict(zip(keys, row, strict=True), quantity=int(row[3]), makers=makers) for row in rows]


def order_ids(store: Reader) -> dict[str, str]:
    """Purchase order ids by number (a receipt against an order names it by number)."""
    return {number: str(the_id) for the_id, number in store.fetchall("SELECT id, number FROM purchase_orders")}


def order_lots(store: Reader, number: str) -> list[dict[str, str]]:
    """The lots received against a purchase order (by its number)."""
    rows = store.fetchall(
        "SELECT DISTINCT sku, lot FROM stock_movements WHERE kind = 'received' AND reference = ? ORDER BY sku, lot",
        (number,),
    )
    return [{"sku": sku, "lot": lot} for sku, lot in rows]


# ----- where a recalled lot went ---------------------------------------------------------------

MOVEMENT_COLUMNS = ("position", "business_date", "occurred_at", "site", "sku", "lot", "kind", "quantity", "reason",
                    "other_site", "reference")  # fmt: skip

# The recall's account of its units, in the order the page and the workbook show it: what each line
# adds to (+1) or takes from (-1) what is on the shelves now.
RECEIVED = "received"
ADJUSTED = "adjusted"
HANDED_OUT = "handed_out"
TO_PARTNERS = "to_partners"
MAILED = "mailed"
DESTROYED = Disposition.DESTROYED.value
RETURNED = Disposition.RETURNED_TO_SUPPLIER.value
UNDONE = "write_off_undone"
NOT_BOOKED_IN = "not_booked_in"
IN_KITS = "into_kits"
ASSEMBLED = "assembled"
ACCOUNT = (RECEIVED, ASSEMBLED, ADJUSTED, HANDED_OUT, TO_PARTNERS, MAILED, IN_KITS, DESTROYED, RETURNED, UNDONE,
           NOT_BOOKED_IN)  # fmt: skip
ACCOUNT_WORDS = {
    RECEIVED: "Received",
    ADJUSTED: "Adjusted and counted (found, lost, count differences)",
    HANDED_OUT: "Handed out at visits and on shifts",
    TO_PARTNERS: "Issued to partner organisations",
    MAILED: "Sent by mail (less parcels that came back)",
    DESTROYED: "Destroyed",
    RETURNED: "Returned to the supplier",
    UNDONE: "Write-offs undone",
    NOT_BOOKED_IN: "Sent between sites and not booked in (on the way, or short on arrival)",
    IN_KITS: "Put into kits (less kits taken apart)",
    ASSEMBLED: "Kits made (less kits taken apart)",
}


def account_line(kind: str, reason: str | None) -> str:
    """The line of a recall's account that one movement lands in."""
    if kind == "received":
        return RECEIVED
    if kind in ("adjusted", "counted"):
        return ADJUSTED
    if kind == "distributed":
        return HANDED_OUT
    if kind == "to_partner":
        return TO_PARTNERS
    if kind == "mailed":
        return MAILED
    if kind == "written_off":
        return reason if reason in (DESTROYED, RETURNED) else UNDONE
    if kind in (IN_KITS, ASSEMBLED):
        return kind
    return NOT_BOOKED_IN  # transfer out, in, or back to the sender


@dataclass
class RecallFigures:
    """Every movement of a recall's lots, what is on the shelves now, and the account between them."""

    lots: list[dict[str, str]]
    movements: list[dict[str, Any]] = field(default_factory=list)
    on_hand: list[dict[str, Any]] = field(default_factory=list)  # site, sku, lot, quantity, held

    @property
    def skus(self) -> list[str]:
        """The items of the lots, the maker's first (then any kits made with them)."""
        return list(dict.fromkeys(lot["sku"] for lot in self.lots))

    def account_of(self, sku: str) -> dict[str, int]:
        """Each line of one item's account as a signed quantity: the lines sum to what is on its shelves now."""
        totals = dict.fromkeys(ACCOUNT, 0)
        for row in self.movements:
            if row["sku"] == sku:
                totals[account_line(row["kind"], row["reason"])] += row["quantity"]
        return totals

    @property
    def account(self) -> dict[str, int]:
        """The account of the maker's item (the first lot's): kits made with it have their own (account_of)."""
        return self.account_of(self.skus[0]) if self.lots else dict.fromkeys(ACCOUNT, 0)

    def on_shelves_of(self, sku: str) -> int:
        return sum(row["quantity"] for row in self.on_hand if row["sku"] == sku)

    @property
    def on_shelves(self) -> int:
        """Units of the maker's item on the shelves now."""
        return self.on_shelves_of(self.skus[0]) if self.lots else 0

    @property
    def held(self) -> int:
        return sum(row["quantity"] for row in self.on_hand if row["held"] and row["sku"] == self.skus[0])

    def kind_of(self, kinds: Iterable[str]) -> list[dict[str, Any]]:
        wanted = set(kinds)
        return [row for row in self.movements if row["kind"] in wanted]


def recall_figures(store: Reader, lots: list[dict[str, str]]) -> RecallFigures:
    """Where the recall's lots went, read from one store (a snapshot, for a workbook)."""
    figures = RecallFigures(lots=lots)
    held = {(row["site"], row["sku"], row["lot"]) for row in held_lots(store)}
    for lot in lots:
        rows = store.fetchall(
            """SELECT position, business_date, occurred_at, site, sku, lot, kind, quantity, reason, other_site,
                      reference
               FROM stock_movements WHERE sku = ? AND lot = ? ORDER BY position, seq""",
            (lot["sku"], lot["lot"]),
        )
        figures.movements += [dict(zip(MOVEMENT_COLUMNS, row, strict=True), quantity=int(row[7])) for row in rows]
        on_hand = store.fetchall(
            "SELECT site, quantity FROM stock_on_hand WHERE sku = ? AND lot = ? AND quantity <> 0 ORDER BY site",
            (lot["sku"], lot["lot"]),
        )
        figures.on_hand += [
            {
                "site": site,
                "sku": lot["sku"],
                "lot": lot["lot"],
                "quantity": int(quantity),
                "held": (site, lot["sku"], lot["lot"]) in held,
            }
            for site, quantity in on_hand
        ]
    figures.movements.sort(key=lambda row: (row["position"], row["site"]))
    return figures
