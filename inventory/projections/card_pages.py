"""The stock card a page at a time: newest movement first, each with the balance after it.

A page reads at most `limit + 1` movements through the card index, and its balances come from the
daily totals before the page's oldest day plus that one day's earlier movements, so the work per page
does not grow with the length of the card (a van's card after years of nightly visits pages as fast as
a new site's).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from inventory.projections.store import ReadStore

PAGE_ROWS = 50

COLUMNS = (
    "position",
    "seq",
    "business_date",
    "occurred_at",
    "recorded_at",
    "kind",
    "lot",
    "funding_source",
    "expires_on",
    "quantity",
    "reason",
    "reference",
    "other_site",
    "actor",
)


@dataclass(frozen=True)
class CardPage:
    site: str
    sku: str
    closing: int | None  # the balance at the end of the last day asked for (on the newest page)
    opening: int | None  # the balance before the first day asked for (on the last page)
    rows: list[dict[str, Any]]  # in the order asked, each with `balance` (after it) and `warning` (below zero)
    older: str | None  # the cursor of the next page (older ones, when newest first), None on the last page

    @property
    def last_page(self) -> bool:
        return self.older is None

    def below_zero_days(self, start: date) -> list[str]:
        """The days on this page the running balance is below zero (`start` first when it opens below)."""
        days = sorted({row["business_date"] for row in self.rows if row["warning"]})
        if self.opening is not None and self.opening < 0:
            days.insert(0, start.isoformat())
        return days


def _balance_before_day(store: ReadStore, site: str, sku: str, day: str) -> int:
    [(total,)] = store.fetchall(
        "SELECT COALESCE(SUM(net), 0) FROM stock_daily WHERE site = ? AND sku = ? AND business_date < ?",
        (site, sku, day),
    )
    return int(total)


def _cursor_row(store: ReadStore, site: str, sku: str, cursor: str) -> tuple[str, str, int, int] | None:
    """The movement a cursor names ("<position>-<seq>"), as its sort key; None if it is not on this card."""
    position, _, seq = cursor.partition("-")
    if not (position.isdigit() and seq.isdigit()):
        return None
    rows = store.fetchall(
        """SELECT business_date, occurred_at FROM stock_movements
           WHERE position = ? AND seq = ? AND site = ? AND sku = ?""",
        (int(position), int(seq), site, sku),
    )
    return (rows[0][0], rows[0][1], int(position), int(seq)) if rows else None


def card_page(
    store: ReadStore,
    site: str,
    sku: str,
    start: date,
    end: date,
    older_than: str | None = None,
    limit: int = PAGE_ROWS,
    *,
    newest_first: bool = True,
) -> CardPage | None:
    """One page of the card between `start` and `end`, from the newest movement back (or, not
    `newest_first`, from the oldest on), starting after the movement the cursor `older_than` names (None:
    from the first). None if the cursor names no movement of this card in the range."""
    first, last = start.isoformat(), end.isoformat()
    # Which end of the range the cursor replaces: the newest (reading back) or the oldest (reading on).
    sign, direction, skipped, bound = ("<=", "DESC", ">=", ">=") if newest_first else (">=", "ASC", "<=", "<=")
    if older_than is None:
        where = "site = ? AND sku = ? AND business_date BETWEEN ? AND ?"
        params: list[Any] = [site, sku, first, last]
    else:
        key = _cursor_row(store, site, sku, older_than)
        if key is None or not first <= key[0] <= last:
            return None
        # The cursor is one end of a row-value range on the card index (site, sku, business_date,
        # occurred_at, position): the page starts where the last one stopped, never reading the rows before.
        day, occurred, position, seq = key
        where = f"""site = ? AND sku = ? AND business_date {bound} ?
                    AND (business_date, occurred_at, position) {sign} (?, ?, ?)
                    AND NOT (position = ? AND seq {skipped} ?)"""
        params = [site, sku, first if newest_first else last, day, occurred, position, position, seq]
    found = store.fetchall(
        f"""SELECT {", ".join(COLUMNS)} FROM stock_movements WHERE {where}
            ORDER BY business_date {direction}, occurred_at {direction}, position {direction}, seq {direction}
            LIMIT ?""",
        [*params, limit + 1],
    )
    rows = [dict(zip(COLUMNS, row, strict=True)) for row in found[:limit]]
    more = f"{rows[-1]['position']}-{rows[-1]['seq']}" if len(found) > limit else None
    in_time = rows if not newest_first else list(reversed(rows))
    if in_time:
        oldest = in_time[0]
        [(earlier_that_day,)] = store.fetchall(
            """SELECT COALESCE(SUM(quantity), 0) FROM stock_movements
               WHERE site = ? AND sku = ? AND business_date = ? AND (occurred_at, position) <= (?, ?)
                     AND NOT (position = ? AND seq >= ?)""",
            (site, sku, oldest["business_date"], oldest["occurred_at"], oldest["position"],
             oldest["position"], oldest["seq"]),
        )  # fmt: skip
        balance = _balance_before_day(store, site, sku, oldest["business_date"]) + int(earlier_that_day)
        for row in in_time:
            balance += int(row["quantity"])
            row["balance"] = balance
            row["warning"] = balance < 0
    # The balance at the end is shown with the newest movement, the opening balance with the oldest.
    newest_page, oldest_page = (
        (older_than is None, more is None) if newest_first else (more is None, older_than is None)
    )
    after_end = date.fromordinal(end.toordinal() + 1).isoformat()
    closing = _balance_before_day(store, site, sku, after_end) if newest_page else None
    opening = _balance_before_day(store, site, sku, first) if oldest_page else None
    return CardPage(site, sku, closing, opening, rows, more)
