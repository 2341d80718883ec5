"""Marshmallow schemas for every request and response of API v1."""

from __future__ import annotations

from datetime import date
from typing import Any

from marshmallow import Schema, ValidationError, fields, validate

from inventory.application import rules
from inventory.domain.alerts import AlertKind
from inventory.domain.calendar import check_day, check_moment
from inventory.domain.discards import DISCARD_REASONS
from inventory.domain.errors import InvalidInput
from inventory.domain.participant import check_participant_code
from inventory.domain.text import (
    CODE_LENGTH,
    LOT_LENGTH,
    NAME_LENGTH,
    NOTE_LENGTH,
    check_characters,
    clean_code,
    clean_lot,
)
from inventory.domain.users import Role
from inventory.domain.values import AdjustmentReason, Category, SiteKind, VoidReason
from inventory.projections.paging import MOST_ROWS, PAGE_ROWS


class Text(fields.String):
    """Text under the one text rule (inventory.domain.text): a refusal names the field and the position of
    the character to remove; its longest length is in the OpenAPI document. The verb normalises it."""

    def __init__(self, max_length: int, *, multiline: bool = False, min_length: int = 0, **kwargs: Any) -> None:
        kwargs.setdefault("validate", validate.Length(min=min_length, max=max_length))
        super().__init__(**kwargs)
        self.multiline = multiline

    def check(self, value: str, field: str) -> None:
        check_characters(value, field, multiline=self.multiline)

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> Any:
        text = super()._deserialize(value, attr, data, **kwargs)
        try:
            self.check(text, attr or self.name or "text")
        except InvalidInput as refused:
            raise ValidationError(refused.message) from None
        return text


class Code(Text):
    """A site code, SKU or funding source code: the same rule as everywhere a code is entered."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(CODE_LENGTH, min_length=1, **kwargs)

    def check(self, value: str, field: str) -> None:
        clean_code(value, field)


class Lot(Text):
    """A lot number as printed on the box."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(LOT_LENGTH, **kwargs)

    def check(self, value: str, field: str) -> None:
        clean_lot(value, field, required=bool(self.required))


class ParticipantCode(Text):
    """The optional anonymous code: the same rule as the visit page's."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(12, **kwargs)

    def check(self, value: str, field: str) -> None:
        super().check(value, field)
        check_participant_code(value)


def note() -> Text:
    return Text(NOTE_LENGTH, multiline=True, load_default="")


def within(limit: rules.WholeNumbers) -> validate.Range:
    """An input rule's bounds and message (inventory.application.rules), for a number field."""
    return validate.Range(min=limit.least, max=limit.most, error=limit.message)


QUANTITY = within(rules.QUANTITY)


def pack_name() -> Text:
    """The pack a quantity is counted in, by its name (units of issue when not given): stored in units."""
    return Text(
        rules.PACK_NAME_LENGTH,
        load_default=None,
        allow_none=True,
        metadata={
            "description": "The item's pack the quantity is in (its name, like box); units of issue if not given"
        },
    )


class Day(fields.Date):
    """A date within the range every date entered must be in (inventory.domain.calendar)."""

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> Any:
        day = super()._deserialize(value, attr, data, **kwargs)
        try:
            return check_day(day, attr or self.name or "date")
        except InvalidInput as refused:
            raise ValidationError(refused.message) from None


class Moment(fields.AwareDateTime):
    """A date and time with its zone, within the range every date entered must be in."""

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> Any:
        moment = super()._deserialize(value, attr, data, **kwargs)
        try:
            return check_moment(moment, attr or self.name or "occurred_at")
        except InvalidInput as refused:
            raise ValidationError(refused.message) from None


def moment() -> Moment:
    """An optional occurred_at, with its zone."""
    return Moment(load_default=None, allow_none=True)


def money() -> fields.Decimal:
    """An optional cost from 0 to 1,000,000, kept to 4 decimal places. The bounds are restated for the
    OpenAPI document, where apispec would otherwise write them as strings (not valid OpenAPI)."""
    return fields.Decimal(
        load_default=None,
        allow_none=True,
        places=4,
        as_string=True,
        validate=validate.Range(min=0, max=1_000_000),
        metadata={"minimum": 0, "maximum": 1_000_000},
    )


def dated(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Read-model rows carry expiry dates as ISO strings; the schemas speak dates."""
    return [
        dict(row, expires_on=date.fromisoformat(row["expires_on"]) if row.get("expires_on") else None) for row in rows
    ]


class Strict(Schema):
    """Unknown fields are refused, so a typo is reported rather than ignored."""


class ErrorBody(Schema):
    code = fields.String(required=True)
    message = fields.String(required=True)
    field_errors = fields.Dict(required=True, data_key="fields")


class ErrorResponse(Schema):
    error = fields.Nested(ErrorBody, required=True)


# ----- catalog -----------------------------------------------------------------------------


class SiteIn(Strict):
    code = Code(required=True)
    name = Text(NAME_LENGTH, min_length=1, required=True)
    kind = fields.String(required=True, validate=validate.OneOf([k.value for k in SiteKind]))


class LevelOut(Schema):
    reorder_point = fields.Integer(required=True)
    par_level = fields.Integer(required=True)
    lead_time_days = fields.Integer(required=True)


class SiteOut(Schema):
    id = fields.String(required=True)
    code = fields.String(required=True)
    name = fields.String(required=True)
    kind = fields.String(required=True)
    open = fields.Boolean(required=True)
    levels = fields.Dict(keys=fields.String(), values=fields.Nested(LevelOut), required=True)


class ItemIn(Strict):
    sku = Code(required=True)
    name = Text(NAME_LENGTH, min_length=1, required=True)
    category = fields.String(required=True, validate=validate.OneOf([c.value for c in Category]))
    unit = Text(30, min_length=1, required=True)
    tracks_expiry = fields.Boolean(required=True)
    pack_size = fields.Integer(load_default=1, validate=within(rules.PACK_SIZE))


class PackSchema(Strict):
    name = Text(rules.PACK_NAME_LENGTH, min_length=1, required=True)
    units = fields.Integer(required=True, validate=within(rules.PACK_UNITS))


class ItemUnitsIn(Strict):
    packs = fields.List(
        fields.Nested(PackSchema),
        required=True,
        validate=validate.Length(max=rules.MOST_PACKS),
        metadata={"description": "The packs it comes in, the supplier's first (orders round up to it); [] if none"},
    )
    doses_per_unit = fields.Integer(
        load_default=None,
        allow_none=True,
        validate=within(rules.DOSES_PER_UNIT),
        metadata={"description": "Doses in one unit (a naloxone kit: 2); null if not counted in doses"},
    )


class ItemOut(Schema):
    id = fields.String(required=True)
    sku = fields.String(required=True)
    name = fields.String(required=True)
    category = fields.String(required=True)
    unit = fields.String(required=True)
    tracks_expiry = fields.Boolean(required=True)
    pack_size = fields.Integer(required=True, metadata={"description": "Units in the supplier's pack (the first)"})
    packs = fields.List(fields.Nested(PackSchema), required=True)
    doses_per_unit = fields.Integer(required=True, allow_none=True)
    retired = fields.Boolean(required=True)


class RestrictionSchema(Strict):
    category = fields.String(required=True, validate=validate.OneOf([c.value for c in Category]))
    starts_on = Day(required=True)
    ends_on = Day(load_default=None, allow_none=True)


class FundingSourceIn(Strict):
    code = Code(required=True)
    name = Text(NAME_LENGTH, min_length=1, required=True)
    federal = fields.Boolean(required=True)
    restrictions = fields.List(fields.Nested(RestrictionSchema), load_default=list, validate=validate.Length(max=50))


class FundingSourceOut(Schema):
    id = fields.String(required=True)
    code = fields.String(required=True)
    name = fields.String(required=True)
    federal = fields.Boolean(required=True)
    restrictions = fields.List(fields.Nested(RestrictionSchema), required=True)


class LevelIn(Strict):
    reorder_point = fields.Integer(required=True, validate=within(rules.LEVEL))
    par_level = fields.Integer(required=True, validate=within(rules.LEVEL))
    lead_time_days = fields.Integer(required=True, validate=within(rules.LEAD_TIME_DAYS))


class LevelSetOut(LevelOut):
    site = fields.String(required=True)
    sku = fields.String(required=True)


# ----- stock -------------------------------------------------------------------------------


class LotOut(Schema):
    lot = fields.String(required=True)
    quantity = fields.Integer(required=True)
    expires_on = fields.Date(required=True, allow_none=True)
    funding_source = fields.String(required=True, allow_none=True)


class LedgerOut(Schema):
    site = fields.String(required=True)
    sku = fields.String(required=True)
    on_hand = fields.Integer(required=True)
    version = fields.Integer(required=True)
    lots = fields.List(fields.Nested(LotOut), required=True)
    position = fields.Integer(required=True)
    variance = fields.Integer()
    voided = fields.Integer(metadata={"description": "The position of the entry voided"})
    corrected = fields.Integer(metadata={"description": "The position of the entry corrected"})


def maker() -> Text:
    """Who made a lot received, as on the box (with the maker's lot number: a recall names both)."""
    return Text(NAME_LENGTH, min_length=1, load_default=None, allow_none=True,
                metadata={"description": "The maker, as on the box; give its lot number too"})  # fmt: skip


def maker_lot() -> Text:
    return Text(CODE_LENGTH, min_length=1, load_default=None, allow_none=True,
                metadata={"description": "The lot number the maker printed (a recall names it)"})  # fmt: skip


class ReceiptIn(Strict):
    site = Code(required=True)
    sku = Code(required=True)
    lot = Lot(required=True)
    quantity = fields.Integer(required=True, validate=QUANTITY)
    pack = pack_name()
    expires_on = Day(load_default=None, allow_none=True)
    funding_source = Code(required=True)
    unit_cost = money()
    occurred_at = moment()
    purchase_order = Text(CODE_LENGTH, load_default=None, allow_none=True)
    manufacturer = maker()
    manufacturer_lot = maker_lot()


class IssueLineIn(Strict):
    sku = Code(required=True)
    quantity = fields.Integer(required=True, validate=QUANTITY)
    lot = Lot(load_default=None, allow_none=True)


def recipient_type() -> fields.String:
    return fields.String(
        load_default=None,
        allow_none=True,
        metadata={
            "description": "Who it was for: a recipient type's code (person_who_uses_drugs, friend_or_family, "
            "staff_other_org, other, or one an admin added); unknown if not given"
        },
    )


def channel_choice() -> fields.String:
    return fields.String(
        load_default=None,
        allow_none=True,
        validate=validate.OneOf(rules.CHANNELS),
        metadata={"description": "How it left; the site's usual channel if not given"},
    )


class EncounterIn(Strict):
    site = Code(required=True)
    lines = fields.List(fields.Nested(IssueLineIn), required=True, validate=validate.Length(min=0, max=30))
    participant_code = ParticipantCode(load_default=None, allow_none=True)
    reversals_reported = fields.Integer(load_default=0, validate=within(rules.VISIT_REVERSALS))
    syringes_collected = fields.Integer(load_default=0, validate=within(rules.VISIT_SYRINGES))
    refill_reason = fields.String(load_default=None, allow_none=True, validate=validate.OneOf(rules.REFILL_REASONS))
    recipient = recipient_type()
    for_others = fields.Integer(
        load_default=None,
        allow_none=True,
        validate=within(rules.VISIT_FOR_OTHERS),
        metadata={"description": "Collecting for others: about how many other people this reaches (0: only themself)"},
    )
    channel = channel_choice()
    occurred_at = moment()


CLOCK_TIME = validate.Regexp(r"^([01]\d|2[0-3]):[0-5]\d$", error="Enter a time like 21:30.")


class TallyIn(Strict):
    site = Code(required=True)
    shift_date = Day(required=True)
    starts_at = fields.String(required=True, validate=CLOCK_TIME)
    ends_at = fields.String(
        required=True, validate=CLOCK_TIME, metadata={"description": "Earlier than starts_at: the next morning."}
    )
    lines = fields.List(fields.Nested(IssueLineIn), required=True, validate=validate.Length(min=0, max=30))
    visits = fields.Integer(required=True, validate=within(rules.SHIFT_VISITS))
    reversals_reported = fields.Integer(load_default=0, validate=within(rules.SHIFT_REVERSALS))
    syringes_collected = fields.Integer(load_default=0, validate=within(rules.SHIFT_SYRINGES))
    recipient = recipient_type()
    for_others = fields.Integer(
        load_default=None,
        allow_none=True,
        validate=within(rules.SHIFT_FOR_OTHERS),
        metadata={"description": "About how many other people the shift's visitors collected for"},
    )
    channel = channel_choice()


class AskedLineIn(Strict):
    sku = Code(required=True)
    quantity = fields.Integer(required=True, validate=QUANTITY)


class DiscardIn(Strict):
    site = Code(required=True)
    lines = fields.List(
        fields.Nested(AskedLineIn),
        required=True,
        validate=validate.Length(min=0, max=30),
        metadata={"description": "What the visit asked for, as the phone kept it."},
    )
    reason = fields.String(
        required=True,
        validate=validate.OneOf(sorted(DISCARD_REASONS)),
        metadata={"description": "Why it is discarded: " + "; ".join(f"{k}: {v}" for k, v in DISCARD_REASONS.items())},
    )
    refused_because = fields.String(
        required=True,
        validate=validate.Regexp(r"^[a-z][a-z_]{0,39}$", error="Send the error code the server gave."),
        metadata={"description": "The error code the server refused the visit with, e.g. insufficient_stock."},
    )
    occurred_at = Moment(
        required=True,
        metadata={"description": "When the visit was recorded on the phone."},
    )


class AskedLineOut(Schema):
    sku = fields.String(required=True)
    quantity = fields.Integer(required=True)


class DiscardOut(Schema):
    id = fields.String(required=True)
    key = fields.String(required=True)
    site = fields.String(required=True)
    lines = fields.List(fields.Nested(AskedLineOut), required=True)
    reason = fields.String(required=True)
    refused_because = fields.String(required=True)
    actor = fields.String(required=True)
    occurred_at = fields.DateTime(required=True)
    recorded_at = fields.DateTime(required=True)


class PickOut(LotOut):
    pass


class EncounterLineOut(Schema):
    sku = fields.String(required=True)
    category = fields.String(required=True)
    quantity = fields.Integer(required=True)
    lots = fields.List(fields.Nested(PickOut), required=True)


class EncounterOut(Schema):
    id = fields.String(required=True)
    key = fields.String(required=True)
    site = fields.String(required=True)
    occurred_at = fields.DateTime(required=True)
    recorded_at = fields.DateTime(required=True)
    lines = fields.List(fields.Nested(EncounterLineOut), required=True)
    participant_code = fields.String(required=True, allow_none=True)
    reversals_reported = fields.Integer(required=True)
    syringes_collected = fields.Integer(required=True)
    refill_reason = fields.String(required=True, allow_none=True)
    recipient = fields.String(required=True)
    for_others = fields.Integer(required=True, allow_none=True)
    channel = fields.String(required=True)
    actor = fields.String(required=True)
    voided = fields.String(allow_none=True, metadata={"description": "Why the visit was voided; null if it stands"})


class TallyOut(Schema):
    id = fields.String(required=True)
    key = fields.String(required=True)
    site = fields.String(required=True)
    shift_date = fields.Date(required=True)
    starts_at = fields.String(required=True)
    ends_at = fields.String(required=True)
    lines = fields.List(fields.Nested(EncounterLineOut), required=True)
    visits = fields.Integer(required=True)
    reversals_reported = fields.Integer(required=True)
    syringes_collected = fields.Integer(required=True)
    recipient = fields.String(required=True)
    for_others = fields.Integer(required=True, allow_none=True)
    channel = fields.String(required=True)
    occurred_at = fields.DateTime(required=True)
    recorded_at = fields.DateTime(required=True)
    actor = fields.String(required=True)
    voided = fields.String(allow_none=True, metadata={"description": "Why the tally was voided; null if it stands"})


class AdjustmentIn(Strict):
    site = Code(required=True)
    sku = Code(required=True)
    lot = Lot(required=True)
    quantity = fields.Integer(required=True, validate=within(rules.ADJUSTMENT))
    reason = fields.String(required=True, validate=validate.OneOf([r.value for r in AdjustmentReason]))
    note = note()
    expires_on = Day(load_default=None, allow_none=True)
    funding_source = Code(load_default=None, allow_none=True)
    occurred_at = moment()


class VoidIn(Strict):
    reason = fields.String(required=True, validate=validate.OneOf([r.value for r in VoidReason]))


class CorrectionIn(Strict):
    """What a receipt really was: its quantity as received."""

    quantity = fields.Integer(required=True, validate=within(rules.QUANTITY))
    reason = fields.String(required=True, validate=validate.OneOf([r.value for r in VoidReason]))


class AdjustmentCorrectionIn(CorrectionIn):
    """What an adjustment really was: up or down, never 0 (void it if it did not happen)."""

    quantity = fields.Integer(required=True, validate=within(rules.ADJUSTMENT))


class CountCorrectionIn(CorrectionIn):
    """What the count really found: 0 for a lot counted empty."""

    quantity = fields.Integer(required=True, validate=within(rules.COUNTED))


class CountIn(Strict):
    site = Code(required=True)
    sku = Code(required=True)
    lot = Lot(required=True)
    counted = fields.Integer(required=True, validate=within(rules.COUNTED))
    pack = pack_name()
    occurred_at = moment()


# ----- lists, a page at a time ------------------------------------------------------------------


class PageQuery(Strict):
    """Every list pages the same way: `limit` rows (50 unless asked), then the `next_cursor` of the answer
    as `cursor` for the next page, until `next_cursor` is null."""

    limit = fields.Integer(
        load_default=PAGE_ROWS,
        validate=validate.Range(min=1, max=MOST_ROWS, error=f"Ask for 1 to {MOST_ROWS} rows."),
        metadata={"description": f"Rows on the page, 1 to {MOST_ROWS} (default {PAGE_ROWS})."},
    )
    cursor = fields.String(
        load_default=None,
        validate=validate.Length(max=400),
        metadata={"description": "The previous page's `next_cursor`; leave out for the first page."},
    )


class NewestFirstQuery(PageQuery):
    order = fields.String(load_default="newest", validate=validate.OneOf(["newest", "oldest"]))


class Paged(Schema):
    next_cursor = fields.String(
        required=True, allow_none=True, metadata={"description": "The cursor of the next page; null on the last."}
    )


class StockQuery(PageQuery):
    site = Code(load_default=None)
    sku = Code(load_default=None)
    as_of = Day(load_default=None, metadata={"description": "Stock at the end of this business day."})


class StockRowOut(LotOut):
    site = fields.String(required=True)
    sku = fields.String(required=True)


class StockCardQuery(PageQuery):
    site = Code(required=True)
    sku = Code(required=True)
    from_ = Day(required=True, data_key="from")
    to = Day(required=True)
    order = fields.String(
        load_default="oldest",
        validate=validate.OneOf(["oldest", "newest"]),
        metadata={"description": "oldest: from `from` on (the default); newest: from `to` back, as the page shows."},
    )


class MovementOut(Schema):
    position = fields.Integer(required=True)
    business_date = fields.String(required=True)
    occurred_at = fields.String(required=True)
    recorded_at = fields.String(required=True)
    kind = fields.String(required=True)
    lot = fields.String(required=True)
    funding_source = fields.String(required=True, allow_none=True)
    expires_on = fields.String(required=True, allow_none=True)
    quantity = fields.Integer(required=True)
    reason = fields.String(required=True, allow_none=True)
    reference = fields.String(required=True, allow_none=True)
    other_site = fields.String(required=True, allow_none=True)
    actor = fields.String(required=True)
    balance = fields.Integer(required=True)
    warning = fields.Boolean(required=True)


class StockCardOut(Paged):
    site = fields.String(required=True)
    sku = fields.String(required=True)
    opening = fields.Integer(
        required=True, allow_none=True, metadata={"description": "The balance before `from`, on the page it begins."}
    )
    rows = fields.List(fields.Nested(MovementOut), required=True)
    closing = fields.Integer(
        required=True, allow_none=True, metadata={"description": "The balance at the end of `to`, on its page."}
    )
    warnings = fields.List(fields.String(), required=True)


# ----- transfers and purchase orders ------------------------------------------------------------


class TransferLineIn(IssueLineIn):
    pack = pack_name()


class TransferIn(Strict):
    from_site = Code(required=True)
    to_site = Code(required=True)
    lines = fields.List(fields.Nested(TransferLineIn), required=True, validate=validate.Length(min=1, max=100))
    occurred_at = moment()


class ReceivedLineIn(Strict):
    sku = Code(required=True)
    lot = Lot(required=True)
    quantity = fields.Integer(required=True, validate=within(rules.COUNTED))


class TransferReceiveIn(Strict):
    received = fields.List(
        fields.Nested(ReceivedLineIn),
        load_default=None,
        allow_none=True,
        metadata={"description": "What arrived, lot by lot; leave out if all arrived as sent."},
    )
    note = note()
    occurred_at = moment()


class TransferCancelIn(Strict):
    reason = Text(NOTE_LENGTH, multiline=True, min_length=1, required=True)
    occurred_at = moment()


class TransferLineOut(LotOut):
    sku = fields.String(required=True)


class TransferOut(Schema):
    id = fields.String(required=True)
    from_site = fields.String(required=True)
    to_site = fields.String(required=True)
    status = fields.String(required=True)
    lines = fields.List(fields.Nested(TransferLineOut), required=True)
    received = fields.List(fields.Nested(TransferLineOut), required=True)
    shortfall = fields.List(fields.Nested(TransferLineOut), required=True)
    voided = fields.String(allow_none=True, metadata={"description": "Why the transfer was voided; null if it stands"})


TRANSFER_STATUSES = ("in_transit", "received", "cancelled", "voided")


class TransferQuery(NewestFirstQuery):
    site = Code(load_default=None, metadata={"description": "Transfers from or to this site."})
    status = fields.String(load_default=None, validate=validate.OneOf(TRANSFER_STATUSES))
    sent_from = Day(load_default=None, metadata={"description": "Sent on or after this day (program time)."})
    sent_to = Day(load_default=None, metadata={"description": "Sent on or before this day (program time)."})


class TransferRowOut(Schema):
    id = fields.String(required=True)
    from_site = fields.String(required=True)
    to_site = fields.String(required=True)
    status = fields.String(required=True)
    dispatched_at = fields.String(required=True)
    dispatched_by = fields.String(required=True)
    closed_at = fields.String(required=True, allow_none=True)
    lines = fields.List(fields.Nested(TransferLineOut), required=True)
    received = fields.List(fields.Nested(TransferLineOut), required=True)
    shortfall = fields.List(fields.Nested(TransferLineOut), required=True)


class TransferPageOut(Paged):
    transfers = fields.List(fields.Nested(TransferRowOut), required=True)


class OrderLineIn(Strict):
    sku = Code(required=True)
    quantity = fields.Integer(required=True, validate=QUANTITY)
    pack = pack_name()
    unit_cost = money()


class PurchaseOrderIn(Strict):
    supplier = Text(NAME_LENGTH, min_length=1, required=True)
    site = Code(required=True)
    funding_source = Code(required=True)
    lines = fields.List(fields.Nested(OrderLineIn), required=True, validate=validate.Length(min=1, max=100))
    number = Text(CODE_LENGTH, min_length=1, load_default=None, allow_none=True)
    occurred_at = moment()


class OrderReceiptLineIn(Strict):
    sku = Code(required=True)
    lot = Lot(required=True)
    quantity = fields.Integer(required=True, validate=QUANTITY)
    pack = pack_name()
    expires_on = Day(load_default=None, allow_none=True)
    unit_cost = money()
    manufacturer = maker()
    manufacturer_lot = maker_lot()


class OrderReceiptIn(Strict):
    lines = fields.List(fields.Nested(OrderReceiptLineIn), required=True, validate=validate.Length(min=1, max=100))
    occurred_at = moment()


class OrderStepIn(Strict):
    occurred_at = moment()


class OrderLineOut(Schema):
    sku = fields.String(required=True)
    quantity = fields.Integer(required=True)
    # Sent as a decimal string ("12.5000"), so no precision is lost on the way.
    unit_cost = fields.Decimal(required=True, allow_none=True, as_string=True, metadata={"type": "string"})
    received = fields.Integer(required=True)
    outstanding = fields.Integer(required=True)


class PurchaseOrderOut(Schema):
    id = fields.String(required=True)
    number = fields.String(required=True)
    supplier = fields.String(required=True)
    site = fields.String(required=True)
    funding_source = fields.String(required=True)
    status = fields.String(required=True)
    lines = fields.List(fields.Nested(OrderLineOut), required=True)


ORDER_STATUSES = ("draft", "submitted", "partly_received", "received", "closed", "cancelled")


class PurchaseOrderQuery(NewestFirstQuery):
    site = Code(load_default=None)
    status = fields.String(load_default=None, validate=validate.OneOf(ORDER_STATUSES))
    number = fields.String(
        load_default=None,
        validate=validate.Length(min=1, max=40),
        metadata={"description": "An order number, or how it starts; the page is then in number order."},
    )
    raised_from = Day(load_default=None, metadata={"description": "Raised on or after this day (program time)."})
    raised_to = Day(load_default=None, metadata={"description": "Raised on or before this day (program time)."})


class PurchaseOrderRowOut(PurchaseOrderOut):
    raised_at = fields.String(required=True)
    raised_by = fields.String(required=True)
    updated_at = fields.String(required=True)


class PurchaseOrderPageOut(Paged):
    purchase_orders = fields.List(fields.Nested(PurchaseOrderRowOut), required=True)


# ----- alerts, audit and tokens -------------------------------------------------------------------


class AlertQuery(PageQuery):
    site = Code(load_default=None)
    kind = fields.String(
        load_default=None,
        validate=validate.OneOf([kind.value for kind in AlertKind]),
    )


class AlertOut(Schema):
    """An open alert episode, as the alert check raised it; the figures are those of that moment."""

    id = fields.String(required=True)
    episode = fields.Integer(required=True)
    raised_at = fields.String(required=True)
    acknowledged_by = fields.String(required=True, allow_none=True)
    days_of_supply = fields.Float(required=True, allow_none=True)
    kind = fields.String(required=True)
    site = fields.String(required=True)
    sku = fields.String(required=True)
    lot = fields.String(required=True, allow_none=True)
    on_hand = fields.Integer(required=True)
    reorder_point = fields.Integer(required=True, allow_none=True)
    expires_on = fields.String(required=True, allow_none=True)
    message = fields.String(required=True)


class EventsQuery(Strict):
    # Positions are 64-bit integers in the event store; a larger `after` is refused rather than overflowing.
    after = fields.Integer(
        load_default=0,
        validate=validate.Range(min=0, max=2**63 - 2, error="Enter a log position from 0 to 9223372036854775806."),
    )
    limit = fields.Integer(load_default=100, validate=validate.Range(min=1, max=1000))


class EventOut(Schema):
    position = fields.Integer(required=True)
    recorded_at = fields.DateTime(required=True)
    actor = fields.String(required=True)
    type = fields.String(required=True)
    aggregate_id = fields.String(required=True)
    version = fields.Integer(required=True)
    data = fields.Dict(required=True)


class EventsOut(Schema):
    events = fields.List(fields.Nested(EventOut), required=True)
    next_after = fields.Integer(required=True)
    head = fields.Integer(required=True)


class VerifyOut(Schema):
    ok = fields.Boolean(required=True)
    head_position = fields.Integer(required=True)
    head_hash = fields.String(required=True)
    first_bad_position = fields.Integer(required=True, allow_none=True)
    problem = fields.String(required=True, allow_none=True)
    unsealed = fields.Integer(required=True)


class TokenIn(Strict):
    email = fields.Email(required=True)
    password = fields.String(required=True, validate=validate.Length(min=1, max=1000), load_only=True)
    label = Text(NAME_LENGTH, load_default="api")


class TokenOut(Schema):
    token = fields.String(required=True)
    id = fields.String(required=True, metadata={"description": "What DELETE /api/v1/tokens/{id} takes to revoke it."})
    email = fields.String(required=True)
    role = fields.String(required=True, validate=validate.OneOf([r.value for r in Role]))
    sites = fields.List(fields.String(), required=True)
