"""Lists a page at a time, by keyset: each page starts after the last row of the one before, read through an
index from there, so the hundredth page costs what the first does and a row added meanwhile neither
repeats nor skips one.

A list whose filter matches no single index (transfers from *or* to a site, orders in any of three
statuses) is read as several *parts*, each an equality on an index's leading columns (`to_site = ? AND
status = ?`), every part read from the cursor for one page and the parts merged in the list's order.
The work is a page per part, however long the list grows.

A cursor is the sort key of a page's last row, in a URL-safe string; one that does not decode is
refused with the words `BAD_CURSOR`.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from inventory.projections.store import ReadStore

PAGE_ROWS = 50
MOST_ROWS = 200

BAD_CURSOR = "This page link is out of date or was cut short: start again from the first page."


class CursorError(ValueError):
    """A cursor that is not one this service made."""


def encode_cursor(key: Sequence[Any]) -> str:
    raw = json.dumps(list(key), separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str, width: int) -> tuple[Any, ...]:
    """The sort key a cursor holds (`width` values of text or whole numbers)."""
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        key = json.loads(raw)
    except (binascii.Error, ValueError, UnicodeDecodeError):
        raise CursorError(BAD_CURSOR) from None
    if not (isinstance(key, list) and len(key) == width and all(_plain(value) for value in key)):
        raise CursorError(BAD_CURSOR)
    return tuple(key)


def _plain(value: Any) -> bool:
    """Text or a whole number the databases take as they are (no NUL, nothing past 64 bits)."""
    if isinstance(value, str):
        return len(value) <= 200 and "\x00" not in value
    return isinstance(value, int) and not isinstance(value, bool) and -(2**63) <= value < 2**63


@dataclass(frozen=True)
class Part:
    """One equality on an index's leading columns: `where` with its `params`."""

    where: str
    params: tuple[Any, ...] = ()


@dataclass(frozen=True)
class Page:
    rows: list[dict[str, Any]]
    next: str | None  # the cursor of the next page; None on the last


def between(column: str, start: str | None, before: str | None) -> tuple[str, list[Any]]:
    """A condition on `column` from `start` (inclusive) to `before` (exclusive), either end open."""
    where, params = ["1 = 1"], []
    if start:
        where.append(f"{column} >= ?")
        params.append(start)
    if before:
        where.append(f"{column} < ?")
        params.append(before)
    return " AND ".join(where), params


def keyset_page(
    store: ReadStore,
    *,
    select: str,
    columns: Sequence[str],
    key: Sequence[str],
    parts: Sequence[Part],
    where: str = "1 = 1",
    params: Sequence[Any] = (),
    newest_first: bool = True,
    after: str | None = None,
    limit: int = PAGE_ROWS,
) -> Page:
    """A page of `limit` rows of `select` (which names `columns`) in `key` order, descending when
    `newest_first`, after the row `after` names; `where` applies to every part. The last column of
    `key` must make it unique (an id or a position)."""
    if not parts:
        return Page([], None)
    sign, direction = ("<", "DESC") if newest_first else (">", "ASC")
    order = ", ".join(f"{column} {direction}" for column in key)
    conditions, shared = [f"({where})"], list(params)
    if after is not None:
        conditions.append(f"({', '.join(key)}) {sign} ({', '.join('?' for _ in key)})")
        shared += decode_cursor(after, len(key))
    found: dict[tuple[Any, ...], dict[str, Any]] = {}
    for part in parts:
        rows = store.fetchall(
            f"{select} WHERE ({part.where}) AND {' AND '.join(conditions)} ORDER BY {order} LIMIT ?",
            [*part.params, *shared, limit + 1],
        )
        for row in rows:
            record = dict(zip(columns, row, strict=True))
            found[tuple(record[column] for column in key)] = record  # a row two parts both hold is one row
    ordered = sorted(found.items(), key=lambda pair: pair[0], reverse=newest_first)
    page = [record for _, record in ordered[:limit]]
    more = len(ordered) > limit
    return Page(page, encode_cursor(ordered[limit - 1][0]) if more else None)


def list_page(
    rows: Sequence[dict[str, Any]], *, key: Sequence[str], after: str | None = None, limit: int = PAGE_ROWS
) -> Page:
    """A page of a list already read whole (in `key` order), after the row the cursor `after` names: the
    same pages and cursors as `keyset_page`, for an answer that is computed rather than read from an index."""
    found = sorted(rows, key=lambda row: tuple(row[column] for column in key))
    if after is not None:
        start = decode_cursor(after, len(key))
        found = [row for row in found if tuple(row[column] for column in key) > start]
    more = len(found) > limit
    page = list(found[:limit])
    return Page(page, encode_cursor([page[-1][column] for column in key]) if more else None)
