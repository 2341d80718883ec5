"""Questions the read models answer. Each is a query or two; none replays the log."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from inventory.domain.time_words import day_in_words
from inventory.projections.card_pages import card_page
from inventory.projections.paging import PAGE_ROWS, Page, Part, between, keyset_page
from inventory.projections.store import ReadStore


def _where(filters: dict[str, Any]) -> tuple[str, list[Any]]:
    parts = [f"{column} = ?" for column, value in filters.items() if value is not None]
    params = [value for value in filters.values() if value is not None]
    return (" AND ".join(parts) or "1 = 1"), params


def stock_on_hand(store: ReadStore, site: str | None = None, sku: str | None = None) -> list[dict[str, Any]]:
    """Lots on hand now: site, sku, lot, expiry, funding source, quantity (empty lots left out)."""
    where, params = _where({"site": site, "sku": sku})
    rows = store.fetchall(
        f"""SELECT site, sku, lot, expires_on, funding_source, quantity FROM stock_on_hand
            WHERE {where} AND quantity <> 0 ORDER BY site, sku, expires_on, lot""",
        params,
    )
    keys = ("site", "sku", "lot", "expires_on", "funding_source", "quantity")
    return [dict(zip(keys, row, strict=True)) for row in rows]


LOT_COLUMNS = ("site", "sku", "lot", "expires_on", "funding_source", "quantity")
# Lots in the order people pick them: by site and item, the first to expire first (those that never do last).
EXPIRY_ORDER = "COALESCE(expires_on, '9999-12-31')"
LOT_KEY = ("site", "sku", EXPIRY_ORDER, "lot")


def stock_page(
    store: ReadStore,
    sites: list[str] | None,
    sku: str | None = None,
    *,
    after: str | None = None,
    limit: int = PAGE_ROWS,
) -> Page:
    """Lots on hand now at `sites` (None: every site), a page at a time (the API's list), through the index
    of lots with stock (empty lots, however many, are never read)."""
    parts = [Part("site = ?", (site,)) for site in sorted(set(sites))] if sites is not None else [Part("1 = 1")]
    return keyset_page(
        store,
        select=f"SELECT {', '.join(LOT_COLUMNS)}, {EXPIRY_ORDER} FROM stock_on_hand",
        columns=(*LOT_COLUMNS, EXPIRY_ORDER),
        key=LOT_KEY,
        parts=parts,
        where="quantity <> 0" + (" AND sku = ?" if sku else ""),
        params=[sku] if sku else [],
        newest_first=False,
        after=after,
        limit=limit,
    )


def in_lot_order(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Rows of lots (read whole) with the sort key `stock_page` pages them by."""
    return [dict(row, **{EXPIRY_ORDER: row["expires_on"] or "9999-12-31"}) for row in rows]


def stock_levels(store: ReadStore, site: str | None = None, sku: str | None = None) -> list[dict[str, Any]]:
    """Per site and item: on hand, on order, in transit, and the reorder point and par level."""
    where, params = _where({"k.site": site, "k.sku": sku})
    rows = store.fetchall(
        f"""WITH keys AS (
                SELECT site, sku FROM stock_on_hand UNION SELECT site, sku FROM stock_pipeline
                UNION SELECT site, sku FROM stock_levels)
            SELECT k.site, k.sku,
                   COALESCE((SELECT SUM(quantity) FROM stock_on_hand s WHERE s.site = k.site AND s.sku = k.sku), 0),
                   COALESCE(p.on_order, 0), COALESCE(p.in_transit, 0),
                   l.reorder_point, l.par_level, l.lead_time_days
            FROM keys k
            LEFT JOIN stock_pipeline p ON p.site = k.site AND p.sku = k.sku
            LEFT JOIN stock_levels l ON l.site = k.site AND l.sku = k.sku
            WHERE {where} ORDER BY k.site, k.sku""",
        params,
    )
    keys = ("site", "sku", "on_hand", "on_order", "in_transit", "reorder_point", "par_level", "lead_time_days")
    return [dict(zip(keys, row, strict=True)) for row in rows]


def stock_as_of(store: ReadStore, day: date, site: str | None = None, sku: str | None = None) -> list[dict[str, Any]]:
    """Lots on hand at the end of `day` (business date), as the log knows it now."""
    where, params = _where({"site": site, "sku": sku})
    rows = store.fetchall(
        f"""SELECT site, sku, lot, MAX(expires_on), MAX(funding_source), SUM(net) FROM stock_daily
            WHERE business_date <= ? AND {where}
            GROUP BY site, sku, lot HAVING SUM(net) <> 0 ORDER BY site, sku, MAX(expires_on), lot""",
        [day.isoformat(), *params],
    )
    keys = ("site", "sku", "lot", "expires_on", "funding_source", "quantity")
    return [dict(zip(keys, row, strict=True)) for row in rows]


@dataclass(frozen=True)
class StockCard:
    site: str
    sku: str
    opening: int
    rows: list[dict[str, Any]]
    closing: int
    warnings: list[str]


def stock_card(store: ReadStore, site: str, sku: str, start: date, end: date) -> StockCard:
    """Every movement from `start` to `end` by business date, with the running balance: the whole range as
    one page of the stock card (the pages and the API read it a page at a time, `card_pages.card_page`).

    A date on which the running balance goes below zero (a backdated issue before the receipt it
    came from was entered, say) is flagged as a data-quality warning, not refused.
    """
    whole = card_page(store, site, sku, start, end, limit=WHOLE_CARD, newest_first=False)
    if whole is None or whole.opening is None or whole.closing is None:  # one page from no cursor: both ends
        raise AssertionError("the whole card is one page, with its opening and closing balances")
    warnings = [below_zero_warning(site, sku, day) for day in whole.below_zero_days(start)]
    return StockCard(site, sku, whole.opening, whole.rows, whole.closing, warnings)


WHOLE_CARD = 2**62  # rows: more than any card holds


def below_zero_warning(site: str, sku: str, day: str) -> str:
    """What a stock card says of a day its running balance goes below zero."""
    return (
        f"The running balance of {sku} at {site} goes below zero on {day_in_words(date.fromisoformat(day))}: "
        "check for a movement entered with the wrong date, or a receipt not yet entered."
    )


def daily_totals(store: ReadStore, start: date, end: date, site: str | None = None) -> list[dict[str, Any]]:
    """Per day, site, item and funding source: quantity handed out (of which on shifts recorded as
    tallies) and the encounters that included it."""
    where, params = _where({"site": site})
    rows = store.fetchall(
        f"""SELECT business_date, site, sku, funding_source, quantity, encounters, from_tallies
            FROM daily_distribution WHERE business_date BETWEEN ? AND ? AND {where}
            ORDER BY business_date, site, sku, funding_source""",
        [start.isoformat(), end.isoformat(), *params],
    )
    keys = ("date", "site", "sku", "funding_source", "quantity", "encounters", "from_tallies")
    return [dict(zip(keys, row, strict=True)) for row in rows]


def daily_encounters(store: ReadStore, start: date, end: date, site: str | None = None) -> list[dict[str, Any]]:
    """Per day and site: visits (encounters and the visits of shift tallies, of which from tallies),
    overdose reversals reported, syringes handed out and collected."""
    where, params = _where({"site": site})
    rows = store.fetchall(
        f"""SELECT business_date, site, encounters, reversals_reported, syringes_distributed, syringes_collected,
                   tally_visits
            FROM daily_encounters WHERE business_date BETWEEN ? AND ? AND {where} ORDER BY business_date, site""",
        [start.isoformat(), end.isoformat(), *params],
    )
    keys = (
        "date",
        "site",
        "encounters",
        "reversals_reported",
        "syringes_distributed",
        "syringes_collected",
        "tally_visits",
    )
    return [dict(zip(keys, row, strict=True)) for row in rows]


def consumption(
    store: ReadStore, today: date, window_days: int = 28, site: str | None = None, sku: str | None = None
) -> list[dict[str, Any]]:
    """Average daily use over the trailing window, counting only days the item was in stock, and days of supply.

    Use is what left the site for people: handed out at visits and on shifts, issued to partners, and mailed
    (less parcels that came back). A day counts as in stock when there was stock at its start or anything
    was used that day.
    """
    first = today - timedelta(days=window_days - 1)
    where, params = _where({"site": site, "sku": sku})
    opening = {
        (s, k): int(q)
        for s, k, q in store.fetchall(
            f"""SELECT site, sku, SUM(net) FROM stock_daily WHERE business_date < ? AND {where}
                GROUP BY site, sku""",
            [first.isoformat(), *params],
        )
    }
    days: dict[tuple[str, str], dict[str, tuple[int, int]]] = {}
    for s, k, day, used, net in store.fetchall(
        f"""SELECT site, sku, business_date, -SUM(distributed + to_partner + mailed), SUM(net) FROM stock_daily
            WHERE business_date BETWEEN ? AND ? AND {where} GROUP BY site, sku, business_date""",
        [first.isoformat(), today.isoformat(), *params],
    ):
        days.setdefault((s, k), {})[day] = (int(used), int(net))
    on_hand = {(row["site"], row["sku"]): row["on_hand"] for row in stock_levels(store, site, sku)}
    results = []
    for key in sorted(set(opening) | set(days) | set(on_hand)):
        balance, used_total, in_stock_days = opening.get(key, 0), 0, 0
        for offset in range(window_days):
            day = (first + timedelta(days=offset)).isoformat()
            used, net = days.get(key, {}).get(day, (0, 0))
            if balance > 0 or used > 0:
                in_stock_days += 1
            used_total += used
            balance += net
        average = used_total / in_stock_days if in_stock_days else 0.0
        stock = int(on_hand.get(key, 0))
        results.append(
            {
                "site": key[0],
                "sku": key[1],
                "used": used_total,
                "days_in_stock": in_stock_days,
                "average_daily_use": round(average, 2),
                "on_hand": stock,
                "days_of_supply": round(stock / average, 1) if average else None,
            }
        )
    return results


AUDIT_COLUMNS = ("position", "recorded_at", "actor", "aggregate_type", "event_type", "site", "business_date", "summary")


def audit_page(
    store: ReadStore,
    *,
    site: str | None = None,
    actor: str | None = None,
    event_type: str | None = None,
    start: date | None = None,
    end: date | None = None,
    after: str | None = None,
    limit: int = PAGE_ROWS,
    zone: ZoneInfo | None = None,
) -> Page:
    """The newest entries first, filtered, a page at a time.

    `start` and `end` are days of recording: in `zone` when given (midnight to midnight there), otherwise
    UTC days. Without them the entries are in the log's order (by position); within them, by when they
    were recorded (events saved together may carry moments a few microseconds out of their positions'
    order). The most selective filter given leads (person, then event, then site) and each has its index
    on (it, position) and (it, recorded_at, position), so a page reads about its own rows whatever the
    length of the log.
    """
    filters = {"actor": actor, "event_type": event_type, "site": site}
    leading = next((name for name, value in filters.items() if value is not None), None)
    part = Part(f"{leading} = ?", (filters[leading],)) if leading else Part("1 = 1")
    where, params = _where({name: value for name, value in filters.items() if name != leading})
    recorded, recorded_params = between("recorded_at", *days_as_moments(start, end, zone))
    where, params = f"{where} AND {recorded}", [*params, *recorded_params]
    return keyset_page(
        store,
        select=f"SELECT {', '.join(AUDIT_COLUMNS)} FROM audit_log",
        columns=AUDIT_COLUMNS,
        key=("recorded_at", "position") if start or end else ("position",),
        parts=[part],
        where=where,
        params=params,
        after=after,
        limit=limit,
    )


def days_as_moments(start: date | None, end: date | None, zone: ZoneInfo | None) -> tuple[str | None, str | None]:
    """Business days `start` to `end` (either may be open) as recorded moments: from midnight of the first
    day to midnight after the last, in `zone`."""
    return (
        midnight_utc(start, zone) if start is not None else None,
        midnight_utc(end + timedelta(days=1), zone) if end is not None else None,
    )


def midnight_utc(day: date, zone: ZoneInfo | None) -> str:
    """The start of `day` in `zone`, as recorded times are stored (ISO 8601, UTC); the bare date without a zone."""
    if zone is None:
        return day.isoformat()
    return datetime.combine(day, time(), tzinfo=zone).astimezone(UTC).isoformat()


def sites(store: ReadStore, *, open_only: bool = False) -> list[dict[str, Any]]:
    """Every site (code, name, kind, open), by code."""
    rows = store.fetchall(
        "SELECT code, name, kind, is_open FROM sites" + (" WHERE is_open = 1" if open_only else "") + " ORDER BY code"
    )
    return [{"code": c, "name": n, "kind": k, "is_open": bool(o)} for c, n, k, o in rows]


def items(store: ReadStore, *, active_only: bool = False) -> list[dict[str, Any]]:
    """Every item (sku, name, category, unit, tracks expiry, pack size, retired, packs as a list of
    {"name", "units"}, doses per unit or None), by sku."""
    rows = store.fetchall(
        "SELECT sku, name, category, unit, tracks_expiry, pack_size, retired, packs, doses_per_unit FROM items"
        + (" WHERE retired = 0" if active_only else "")
        + " ORDER BY sku"
    )
    keys = ("sku", "name", "category", "unit", "tracks_expiry", "pack_size", "retired", "packs", "doses_per_unit")
    return [
        dict(
            zip(keys, (s, n, c, u, bool(t), int(p), bool(r), json.loads(k), None if d is None else int(d)), strict=True)
        )
        for s, n, c, u, t, p, r, k, d in rows
    ]


def funding_sources(store: ReadStore) -> list[dict[str, Any]]:
    """Every funding source (code, name, federal, restrictions as stored JSON), by code."""
    rows = store.fetchall("SELECT code, name, federal, restrictions FROM funding_sources ORDER BY code")
    return [{"code": c, "name": n, "federal": bool(f), "restrictions": r} for c, n, f, r in rows]


def usual_shift_hours(store: ReadStore, site: str) -> tuple[str, str] | None:
    """The hours of the site's latest shift tally ("21:00", "02:00"), or None before its first."""
    rows = store.fetchall(
        "SELECT starts_at, ends_at FROM shift_tallies WHERE site = ? ORDER BY position DESC LIMIT 1", (site,)
    )
    return (str(rows[0][0]), str(rows[0][1])) if rows else None


def movement_at(store: ReadStore, position: int) -> list[dict[str, Any]]:
    """The stock card's rows of the entry at a log position (one per lot it moved)."""
    keys = ("site", "sku", "lot", "business_date", "occurred_at", "kind", "quantity", "reason", "actor")
    rows = store.fetchall(f"SELECT {', '.join(keys)} FROM stock_movements WHERE position = ? ORDER BY seq", (position,))
    return [dict(zip(keys, row, strict=True)) for row in rows]


def visit(store: ReadStore, visit_id: str) -> dict[str, Any] | None:
    """One visit as the distribution read model holds it (lines decoded), or None."""
    keys = ("id", "site", "business_date", "occurred_at", "lines", "voided")
    rows = store.fetchall(f"SELECT {', '.join(keys)} FROM encounters WHERE id = ?", (visit_id,))
    if not rows:
        return None
    found = dict(zip(keys, rows[0], strict=True))
    found["lines"] = json.loads(found["lines"])
    return found
