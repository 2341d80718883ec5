"""Checking and normalising the plain values a command arrives with: the one source of each input rule.

The API's schemas and the pages' forms declare their fields; the bounds of every number, and what to
say when a number is outside them, come from the `WholeNumbers` here, which the application's own
checks, the importer and the CLI use too.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta, tzinfo
from decimal import Decimal, InvalidOperation
from typing import Any

from inventory.domain.calendar import check_day, check_moment
from inventory.domain.errors import InvalidInput
from inventory.domain.packs import Pack, word_for
from inventory.domain.reach import REFILL_REASONS_READ, Channel
from inventory.domain.text import CODE_LENGTH, NAME_LENGTH, clean_code, clean_lot, clean_text
from inventory.domain.time_words import moment_in_words

# A phone's clock may run a little ahead of the server's.
CLOCK_SKEW = timedelta(minutes=5)
# How long after recording an entry a coordinator may still void or correct it (admins: always).
CORRECTION_WINDOW = timedelta(days=7)
# Every refill reason accepted: those offered now, and those offered before (inventory.domain.reach).
REFILL_REASONS = tuple(REFILL_REASONS_READ)
CHANNELS = tuple(channel.value for channel in Channel)


@dataclass(frozen=True)
class WholeNumbers:
    """The whole numbers a field takes, from `least` to `most`, and what to say about any other."""

    least: int
    most: int

    @property
    def message(self) -> str:
        """What a form or the API says next to the field."""
        return f"Enter a whole number from {self.least:,} to {self.most:,}."

    def check(self, value: object, field: str) -> int:
        """The value, if it is a whole number within the bounds; else InvalidInput naming the field."""
        if isinstance(value, bool) or not isinstance(value, int):
            raise InvalidInput(f"{field} must be a whole number (got {value!r}).", field=field)
        if not self.least <= value <= self.most:
            raise InvalidInput(
                f"{field} must be a whole number from {self.least:,} to {self.most:,} (got {value:,}).", field=field
            )
        return value


# A quantity of stock moved: received, handed out, sent, ordered, opening stock imported.
QUANTITY = WholeNumbers(1, 10_000_000)
# A quantity where 0 means none: a lot counted empty, an item left at 0 on the visit page.
COUNTED = WholeNumbers(0, QUANTITY.most)
# A correction up or down (never 0).
ADJUSTMENT = WholeNumbers(-QUANTITY.most, QUANTITY.most)
# What one visit reports besides the items.
VISIT_REVERSALS = WholeNumbers(0, 1_000)
VISIT_SYRINGES = WholeNumbers(0, 100_000)
# About how many other people a visitor collecting for others reaches.
VISIT_FOR_OTHERS = WholeNumbers(0, 500)
# What one shift's tally reports.
SHIFT_VISITS = WholeNumbers(0, 100_000)
SHIFT_REVERSALS = WholeNumbers(0, 10_000)
SHIFT_SYRINGES = WholeNumbers(0, 1_000_000)
SHIFT_FOR_OTHERS = WholeNumbers(0, 100_000)
# A site's reorder point and par level for an item.
LEVEL = WholeNumbers(0, QUANTITY.most)
# An item's pack and an order's lead time.
PACK_SIZE = WholeNumbers(1, 100_000)
LEAD_TIME_DAYS = WholeNumbers(0, 365)
# A named pack holds 2 units or more (a pack of one is the unit itself); an item comes in a few at most.
PACK_UNITS = WholeNumbers(2, PACK_SIZE.most)
MOST_PACKS = 5
PACK_NAME_LENGTH = 20
# The doses in one unit of issue (a naloxone kit holds 2); an item not counted in doses has none.
DOSES_PER_UNIT = WholeNumbers(1, 10)


@dataclass(frozen=True)
class IssueLine:
    """One line of an issue: a quantity of one SKU, optionally from a named lot."""

    sku: str
    quantity: int
    lot: str | None = None


@dataclass(frozen=True)
class ReceiptLine:
    """One line received against a purchase order."""

    sku: str
    lot: str
    quantity: int
    expires_on: date | None
    unit_cost: Decimal | None
    maker: tuple[str, str] | None = None  # the maker and the maker's lot number


def receipt_line(row: dict[str, Any], prefix: str) -> ReceiptLine:
    """Check one received line: SKU, lot, quantity, expiry, optional unit cost and the maker's lot."""
    return ReceiptLine(
        sku=clean_code(row.get("sku"), f"{prefix}.sku"),
        lot=clean_lot(row.get("lot"), f"{prefix}.lot") or "",
        quantity=QUANTITY.check(row.get("quantity"), f"{prefix}.quantity"),
        expires_on=a_date(row.get("expires_on"), f"{prefix}.expires_on"),
        unit_cost=money(row.get("unit_cost"), f"{prefix}.unit_cost"),
        maker=maker(row.get("manufacturer"), row.get("manufacturer_lot"), prefix),
    )


def maker(manufacturer: str | None, manufacturer_lot: str | None, prefix: str = "") -> tuple[str, str] | None:
    """The maker and the maker's lot number printed on the box: both or neither."""
    at = f"{prefix}." if prefix else ""
    name = clean_text(manufacturer, f"{at}manufacturer", max_length=NAME_LENGTH, required=False) or None
    number = clean_text(manufacturer_lot, f"{at}manufacturer_lot", max_length=CODE_LENGTH, required=False) or None
    if name is None and number is None:
        return None
    if name is None:
        raise InvalidInput(
            "Enter the maker's name too: a recall names the maker and its lot number.", field=f"{at}manufacturer"
        )
    if number is None:
        raise InvalidInput(
            f"Enter the lot number {name} printed on the box too (a recall names it).", field=f"{at}manufacturer_lot"
        )
    return name, " ".join(number.split()).upper()


def when(occurred_at: datetime | None, now: datetime | None = None, zone: tzinfo = UTC) -> datetime:
    """When it happened, in UTC: now if not given; never in the future; always with a zone.

    A moment a little ahead (a phone's clock running fast, up to CLOCK_SKEW) is taken as now, so that
    it never blocks what is recorded after it (a count dated three minutes ahead would otherwise refuse
    every visit from its lot until those minutes passed)."""
    now = now or datetime.now(UTC)
    if occurred_at is None:
        return now
    if not isinstance(occurred_at, datetime):
        raise InvalidInput("occurred_at must be a date and time.", field="occurred_at")
    if occurred_at.tzinfo is None or occurred_at.utcoffset() is None:
        raise InvalidInput(
            "occurred_at must include a time zone (for example 2026-03-01T18:30:00-05:00).",
            field="occurred_at",
        )
    check_moment(occurred_at, "occurred_at")  # a year typed 9999 is refused as out of range, not as to come
    if occurred_at > now + CLOCK_SKEW:
        raise InvalidInput(
            f"occurred_at ({moment_in_words(occurred_at, zone, now.astimezone(zone).year)}) is in the future "
            f"(it is now {moment_in_words(now, zone, now.astimezone(zone).year)}); enter when it actually happened.",
            field="occurred_at",
        )
    return min(occurred_at.astimezone(UTC), now.astimezone(UTC))


def a_date(value: date | str | None, field: str, required: bool = False) -> date | None:
    """A calendar date, from a date or an ISO string."""
    if value is None or value == "":
        if required:
            raise InvalidInput(f"{field} is required.", field=field)
        return None
    if isinstance(value, datetime):
        raise InvalidInput(f"{field} must be a date without a time.", field=field)
    if not isinstance(value, date):
        try:
            value = date.fromisoformat(str(value))
        except ValueError:
            raise InvalidInput(f"{field} must be a date like 2027-06-30 (got {value!r}).", field=field) from None
    return check_day(value, field)


def money(value: Decimal | int | str | None, field: str = "unit_cost") -> Decimal | None:
    """A non-negative amount of money, or None."""
    if value is None or value == "":
        return None
    if isinstance(value, float):
        value = str(value)
    try:
        amount = Decimal(value)
    except (InvalidOperation, TypeError):
        raise InvalidInput(f"{field} must be a number like 12.50 (got {value!r}).", field=field) from None
    if not amount.is_finite() or amount < 0:
        raise InvalidInput(f"{field} must be 0 or more.", field=field)
    return amount


def reported(value: int | None, field: str, limit: WholeNumbers) -> int:
    """A number reported with a visit or a shift (reversals, syringes collected, visits): blank is 0."""
    return 0 if value is None else limit.check(value, field)


def issue_lines(lines: list[dict[str, Any]] | list[IssueLine]) -> list[IssueLine]:
    """Normalise the lines of an encounter or transfer; at least one, no (SKU, lot) twice."""
    if not lines:
        raise InvalidInput(
            "Add at least one item with a quantity (a visit may instead record only syringes collected "
            "or a reversal reported).",
            field="lines",
        )
    parsed: list[IssueLine] = []
    seen: set[tuple[str, str | None]] = set()
    for index, raw in enumerate(lines):
        row = raw if isinstance(raw, dict) else raw.__dict__
        prefix = f"lines[{index}]"
        sku = clean_code(str(row.get("sku") or ""), f"{prefix}.sku")
        quantity = QUANTITY.check(row.get("quantity"), f"{prefix}.quantity")
        lot = clean_lot(row.get("lot"), f"{prefix}.lot", required=False)
        if (sku, lot) in seen:
            raise InvalidInput(f"{sku} appears twice; put its total on one line.", field=prefix)
        seen.add((sku, lot))
        parsed.append(IssueLine(sku, quantity, lot))
    return parsed


def fingerprint(payload: dict[str, Any]) -> str:
    """A stable digest of a request, to tell a repeat from a different request with the same key."""
    text = json.dumps(payload, sort_keys=True, default=str, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()


def client_key(key: str) -> str:
    """An idempotency key from a client: 8 to 100 visible characters."""
    text = (key or "").strip()
    if not 8 <= len(text) <= 100 or not text.isprintable():
        raise InvalidInput("The request key must be 8 to 100 printable characters.", field="key")
    return text


def channel(value: str | None, default: str) -> str:
    """How a hand-out left (inventory.domain.reach.Channel); `default` (the site's) when not given."""
    if value is None or value == "":
        return default
    if value not in CHANNELS:
        raise InvalidInput(f"channel must be one of: {', '.join(CHANNELS)}.", field="channel")
    return value


def for_others(value: int | None, limit: WholeNumbers, field: str = "for_others") -> int | None:
    """About how many other people the hand-out reaches; None when it was not asked."""
    return None if value is None else limit.check(value, field)


def recipient_code(value: object, field: str = "recipient") -> str:
    """A recipient type's code: 2 to 40 small letters, digits and underscores, starting with a letter."""
    text = str(value or "").strip().lower()
    if not re.fullmatch(r"[a-z][a-z0-9_]{1,39}", text):
        raise InvalidInput(
            f"{field} must be a recipient type's code: 2 to 40 small letters, digits and _ (got {value!r}).",
            field=field,
        )
    return text


def refill_reason(value: str | None) -> str | None:
    """A naloxone refill reason from the fixed list (never free text about a person)."""
    if value is None or value == "":
        return None
    if value not in REFILL_REASONS:
        raise InvalidInput(f"refill_reason must be one of: {', '.join(REFILL_REASONS)}.", field="refill_reason")
    return value


def packs(rows: list[dict[str, Any]], unit: str, field: str = "packs") -> list[Pack]:
    """The packs an item comes in, the supplier's first: each named (short, unique, not the unit itself)
    and of PACK_UNITS; MOST_PACKS at most."""
    if len(rows) > MOST_PACKS:
        raise InvalidInput(f"An item comes in {MOST_PACKS} packs at most (got {len(rows)}).", field=field)
    found: list[Pack] = []
    for index, row in enumerate(rows):
        prefix, number = f"{field}[{index}]", index + 1
        name = clean_text(row.get("name"), f"{prefix}.name", max_length=PACK_NAME_LENGTH, required=False)
        if not name:
            raise InvalidInput(f"Pack {number}: enter what it is called, like box or case.", field=f"{prefix}.name")
        if name.casefold() == unit.casefold():
            raise InvalidInput(
                f"Pack {number}: {name!r} is the unit of issue itself; a pack holds 2 or more of them.",
                field=f"{prefix}.name",
            )
        if any(pack.is_named(name) for pack in found):
            raise InvalidInput(
                f"Pack {number}: there is already a pack called {name!r}; give each pack its own name.",
                field=f"{prefix}.name",
            )
        units = row.get("units")
        if isinstance(units, bool) or not isinstance(units, int) or not PACK_UNITS.least <= units <= PACK_UNITS.most:
            raise InvalidInput(
                f"Pack {number} ({name}): the {word_for(2, unit)} in it must be a whole number "
                f"from {PACK_UNITS.least:,} to {PACK_UNITS.most:,} (got {units!r}).",
                field=f"{prefix}.units",
            )
        found.append(Pack(name, units))
    return found


def doses_per_unit(value: object, field: str = "doses_per_unit") -> int | None:
    """The doses in one unit of issue, or None for an item not counted in doses."""
    return None if value is None or value == "" else DOSES_PER_UNIT.check(value, field)
