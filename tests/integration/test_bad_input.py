"""Bad input at the application boundary: the right error, a message a coordinator can act on, nothing written."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from inventory.application import InventoryApplication
from inventory.domain.errors import (
    AlreadyExists,
    FundingRestricted,
    IdempotencyConflict,
    InsufficientStock,
    InvalidInput,
    InventoryError,
    ItemRetired,
    LotExpired,
    SiteClosed,
    UnknownFundingSource,
    UnknownItem,
    UnknownLot,
    UnknownPurchaseOrder,
    UnknownSite,
    UnknownTransfer,
)
from tests.conftest import ADMIN, days_ago, seed_catalog

Command = Callable[[InventoryApplication], object]
# These tests run from noon of a fixed day (tests/clock.py), so "today" is the same from start to end.
pytestmark = pytest.mark.clock(datetime(2026, 11, 18, 12, 0, tzinfo=UTC))
IN_DATE = "2027-11-18"  # a year ahead
EXPIRED = "2026-11-16"  # two days ago


@pytest.fixture
def program(app: InventoryApplication) -> InventoryApplication:
    """A stocked van, a closed site, a retired item and an encounter already recorded."""
    seed_catalog(app)
    app.receive_stock(
        site="VAN-1", sku="NALOX-4MG", lot="N-1", quantity=10, expires_on=IN_DATE, funding_source="STATE", actor=ADMIN
    )
    app.receive_stock(
        site="VAN-1",
        sku="NALOX-4MG",
        lot="N-OLD",
        quantity=3,
        expires_on=EXPIRED,
        funding_source="STATE",
        actor=ADMIN,
        occurred_at=days_ago(30),
    )
    app.receive_stock(
        site="VAN-1", sku="SYR-1ML", lot="S-1", quantity=100, expires_on=None, funding_source="STATE", actor=ADMIN
    )
    app.register_site(code="OLD-VAN", name="Retired van", kind="mobile", actor=ADMIN)
    app.close_site(code="OLD-VAN", actor=ADMIN)
    app.register_item(
        sku="OLD-KIT", name="Discontinued kit", category="other", unit="kit", tracks_expiry=False, actor=ADMIN
    )
    app.retire_item(sku="OLD-KIT", actor=ADMIN)
    app.record_encounter(key="already-used-key", site="VAN-1", lines=[{"sku": "SYR-1ML", "quantity": 1}], actor=ADMIN)
    return app


@dataclass(frozen=True)
class Later:
    """A value worked out when the command is called, not when the cases are listed at import: a time
    a few minutes from now would otherwise be in the past by the time a long suite reaches the test."""

    make: Callable[[], Any]


def command(verb: str, defaults: dict[str, Any]) -> Callable[..., Command]:
    """A maker of calls to one application verb: good defaults, with the bad values given."""

    def make(**changes: Any) -> Command:
        def call(app: InventoryApplication) -> object:
            given = {name: value.make() if isinstance(value, Later) else value for name, value in changes.items()}
            return getattr(app, verb)(**{**defaults, **given})

        return call

    return make


receipt = command(
    "receive_stock",
    {
        "site": "VAN-1",
        "sku": "NALOX-4MG",
        "lot": "N-9",
        "quantity": 5,
        "expires_on": IN_DATE,
        "funding_source": "STATE",
        "actor": ADMIN,
    },
)
encounter = command(
    "record_encounter",
    {"key": "fresh-key-0001", "site": "VAN-1", "lines": [{"sku": "NALOX-4MG", "quantity": 1}], "actor": ADMIN},
)
adjustment = command(
    "adjust_stock",
    {"site": "VAN-1", "sku": "NALOX-4MG", "lot": "N-1", "quantity": -1, "reason": "damaged", "actor": ADMIN},
)
count = command("count_stock", {"site": "VAN-1", "sku": "NALOX-4MG", "lot": "N-1", "counted": 9, "actor": ADMIN})
transfer = command(
    "dispatch_transfer",
    {"from_site": "VAN-1", "to_site": "WH", "lines": [{"sku": "SYR-1ML", "quantity": 10}], "actor": ADMIN},
)
order = command(
    "raise_purchase_order",
    {
        "supplier": "Supply Co.",
        "site": "WH",
        "funding_source": "STATE",
        "lines": [{"sku": "NALOX-4MG", "quantity": 24, "unit_cost": "37.50"}],
        "actor": ADMIN,
    },
)
level = command(
    "set_stock_level",
    {"site": "VAN-1", "sku": "NALOX-4MG", "reorder_point": 10, "par_level": 30, "lead_time_days": 7, "actor": ADMIN},
)
new_item = command(
    "register_item",
    {
        "sku": "WOUND-1",
        "name": "Wound care kit",
        "category": "wound_care",
        "unit": "kit",
        "tracks_expiry": False,
        "actor": ADMIN,
    },
)
new_site = command("register_site", {"code": "VAN-2", "name": "Second van", "kind": "mobile", "actor": ADMIN})
new_source = command("register_funding_source", {"code": "CDC", "name": "CDC grant", "federal": True, "actor": ADMIN})


def naive_now() -> datetime:
    return days_ago(0).replace(tzinfo=None)


@dataclass(frozen=True)
class Bad:
    """One bad request: the error it must raise, the field to blame, and words the message must use."""

    call: Command
    error: type[InventoryError]
    field: str | None
    words: tuple[str, ...]


def case(call: Command, error: type[InventoryError], field: str | None, *words: str, id: str) -> Any:
    return pytest.param(Bad(call, error, field, words), id=id)


BAD_INPUTS = [
    # ----- what is named must exist --------------------------------------------------------
    case(receipt(site="NOWHERE"), UnknownSite, "site", "no site", "NOWHERE", id="unknown-site"),
    case(receipt(site="van-9"), UnknownSite, "site", "no site", "VAN-9", id="unknown-site-lower-case"),
    case(receipt(sku="NALOX-8MG"), UnknownItem, "sku", "no item", "NALOX-8MG", id="unknown-sku"),
    case(
        receipt(funding_source="GATES"),
        UnknownFundingSource,
        "funding_source",
        "no funding source",
        "GATES",
        id="unknown-funding-source",
    ),
    case(encounter(site="VAN-7"), UnknownSite, "site", "no site", "VAN-7", id="encounter-unknown-site"),
    case(
        encounter(lines=[{"sku": "BANDAGE", "quantity": 1}]),
        UnknownItem,
        "lines[0].sku",
        "BANDAGE",
        id="encounter-unknown-sku",
    ),
    case(transfer(to_site="VAN-7"), UnknownSite, "to_site", "VAN-7", id="transfer-unknown-destination"),
    case(
        order(funding_source="GATES"),
        UnknownFundingSource,
        "funding_source",
        "GATES",
        id="order-unknown-funding-source",
    ),
    case(
        adjustment(funding_source="GATES", lot="N-NEW", quantity=2, reason="found", expires_on=IN_DATE),
        UnknownFundingSource,
        "funding_source",
        "GATES",
        id="adjustment-unknown-funding-source",
    ),
    case(level(site="VAN-7"), UnknownSite, "site", "VAN-7", id="level-unknown-site"),
    case(count(lot="N-404"), UnknownLot, "lot", "no lot N-404", "NALOX-4MG", "VAN-1", id="count-unknown-lot"),
    case(adjustment(lot="N-404"), UnknownLot, "lot", "no lot N-404", id="adjustment-down-unknown-lot"),
    case(
        lambda app: app.receive_transfer(transfer_id="transfer-1", actor=ADMIN),
        UnknownTransfer,
        "transfer_id",
        "not a transfer id",
        id="malformed-transfer-id",
    ),
    case(
        lambda app: app.submit_purchase_order(order_id="00000000-0000-0000-0000-000000000007", actor=ADMIN),
        UnknownPurchaseOrder,
        "purchase_order",
        "no purchase order",
        id="unknown-purchase-order",
    ),
    # ----- quantities are whole numbers above zero ---------------------------------------
    case(receipt(quantity=0), InvalidInput, "quantity", "from 1 to 10,000,000", id="zero-quantity"),
    case(receipt(quantity=-5), InvalidInput, "quantity", "from 1 to 10,000,000", "-5", id="negative-quantity"),
    case(receipt(quantity=2.5), InvalidInput, "quantity", "whole number", "2.5", id="fractional-quantity"),
    case(receipt(quantity="12"), InvalidInput, "quantity", "whole number", id="quantity-as-text"),
    case(receipt(quantity=True), InvalidInput, "quantity", "whole number", id="quantity-as-boolean"),
    case(receipt(quantity=None), InvalidInput, "quantity", "whole number", id="missing-quantity"),
    case(
        encounter(lines=[{"sku": "NALOX-4MG", "quantity": 0}]),
        InvalidInput,
        "lines[0].quantity",
        "from 1 to 10,000,000",
        id="encounter-zero-quantity",
    ),
    case(
        encounter(lines=[{"sku": "NALOX-4MG", "quantity": 1.5}]),
        InvalidInput,
        "lines[0].quantity",
        "whole number",
        id="encounter-fractional-quantity",
    ),
    case(encounter(lines=[]), InvalidInput, "lines", "at least one item", id="encounter-without-lines"),
    case(
        encounter(lines=[{"sku": "SYR-1ML", "quantity": 1}, {"sku": "syr-1ml", "quantity": 2}]),
        InvalidInput,
        "lines[1]",
        "appears twice",
        id="encounter-same-sku-twice",
    ),
    case(
        transfer(lines=[{"sku": "SYR-1ML", "quantity": -10}]),
        InvalidInput,
        "lines[0].quantity",
        "from 1 to 10,000,000",
        id="transfer-negative-quantity",
    ),
    case(
        order(lines=[{"sku": "NALOX-4MG", "quantity": 0}]),
        InvalidInput,
        "lines[0].quantity",
        "from 1 to 10,000,000",
        id="order-zero-quantity",
    ),
    case(order(lines=[]), InvalidInput, "lines", "at least one line", id="order-without-lines"),
    case(adjustment(quantity=0), InvalidInput, "quantity", "other than 0", id="adjustment-of-zero"),
    case(adjustment(quantity=-1.5), InvalidInput, "quantity", "whole number", id="fractional-adjustment"),
    case(count(counted=-1), InvalidInput, "counted", "from 0 to 10,000,000", id="negative-count"),
    case(count(counted="9"), InvalidInput, "counted", "whole number", id="count-as-text"),
    case(
        encounter(syringes_collected=-3),
        InvalidInput,
        "syringes_collected",
        "from 0 to 100,000",
        id="negative-syringes-collected",
    ),
    case(
        encounter(reversals_reported=1.0), InvalidInput, "reversals_reported", "whole number", id="fractional-reversals"
    ),
    # ----- lots, expiry, money -------------------------------------------------------------
    case(
        receipt(expires_on=None),
        InvalidInput,
        "expires_on",
        "tracks expiry",
        "expiry date printed on lot N-9",
        id="no-expiry-for-an-item-that-tracks-expiry",
    ),
    case(
        receipt(expires_on="30/06/2027"),
        InvalidInput,
        "expires_on",
        "date like 2027-06-30",
        id="expiry-in-the-wrong-format",
    ),
    case(
        receipt(expires_on=Later(lambda: days_ago(0))),
        InvalidInput,
        "expires_on",
        "without a time",
        id="expiry-with-a-time",
    ),
    case(
        receipt(lot="N-1", expires_on="2031-01-31"),
        InvalidInput,
        "expires_on",
        "recorded with expiry",
        "check the label",
        id="lot-with-a-second-expiry",
    ),
    case(
        receipt(lot="N-1", funding_source="SOR"),
        InvalidInput,
        "funding_source",
        "one funding source",
        id="lot-with-a-second-funding-source",
    ),
    case(receipt(lot="   "), InvalidInput, "lot", "lot number printed on the box", id="blank-lot"),
    case(receipt(lot="L" * 61), InvalidInput, "lot", "at most 60", id="lot-too-long"),
    case(receipt(unit_cost="-1.00"), InvalidInput, "unit_cost", "0 or more", id="negative-unit-cost"),
    case(receipt(unit_cost="cheap"), InvalidInput, "unit_cost", "number like 12.50", id="unit-cost-not-a-number"),
    case(receipt(unit_cost="NaN"), InvalidInput, "unit_cost", "0 or more", id="unit-cost-not-finite"),
    case(
        order(lines=[{"sku": "NALOX-4MG", "quantity": 1, "unit_cost": "abc"}]),
        InvalidInput,
        "lines[0].unit_cost",
        "number like",
        id="order-unit-cost-not-a-number",
    ),
    # ----- when it happened ------------------------------------------------------------------
    case(
        receipt(occurred_at=Later(lambda: days_ago(-1))),
        InvalidInput,
        "occurred_at",
        "in the future",
        id="future-receipt",
    ),
    case(
        receipt(occurred_at=Later(lambda: days_ago(-10 / 1440))),
        InvalidInput,
        "occurred_at",
        "in the future",
        id="ten-minutes-ahead",
    ),
    case(
        encounter(occurred_at=Later(lambda: days_ago(-1))),
        InvalidInput,
        "occurred_at",
        "in the future",
        id="future-encounter",
    ),
    case(
        transfer(occurred_at=Later(lambda: days_ago(-1))),
        InvalidInput,
        "occurred_at",
        "in the future",
        id="future-transfer",
    ),
    case(
        count(occurred_at=Later(lambda: days_ago(-1))), InvalidInput, "occurred_at", "in the future", id="future-count"
    ),
    case(
        receipt(occurred_at=Later(lambda: naive_now() - timedelta(hours=1))),
        InvalidInput,
        "occurred_at",
        "time zone",
        id="naive-receipt-time",
    ),
    case(encounter(occurred_at=Later(naive_now)), InvalidInput, "occurred_at", "time zone", id="naive-encounter-time"),
    case(
        adjustment(occurred_at=Later(naive_now)), InvalidInput, "occurred_at", "time zone", id="naive-adjustment-time"
    ),
    case(receipt(occurred_at="2026-01-01T10:00:00Z"), InvalidInput, "occurred_at", "date and time", id="time-as-text"),
    # ----- anonymous participants ------------------------------------------------------------
    case(encounter(participant_code="AB1"), InvalidInput, "participant_code", "4 to 12", id="code-too-short"),
    case(encounter(participant_code="ABCDEFGHIJKLM"), InvalidInput, "participant_code", "4 to 12", id="code-too-long"),
    case(
        encounter(participant_code="J.DOE-42"),
        InvalidInput,
        "participant_code",
        "no spaces or symbols",
        id="code-with-symbols",
    ),
    case(
        encounter(participant_code="AB19900101"),
        InvalidInput,
        "participant_code",
        "must not contain a date",
        "random code",
        id="code-with-a-birth-date",
    ),
    case(
        encounter(participant_code="010190XY"),
        InvalidInput,
        "participant_code",
        "must not contain a date",
        id="code-with-a-short-date",
    ),
    case(
        encounter(refill_reason="gave it to my brother"),
        InvalidInput,
        "refill_reason",
        "one of",
        "used_on_overdose",
        id="free-text-refill-reason",
    ),
    case(encounter(key="short"), InvalidInput, "key", "8 to 100", id="request-key-too-short"),
    case(
        encounter(key="already-used-key"),
        IdempotencyConflict,
        "key",
        "already used",
        "new key",
        id="request-key-reused-for-another-visit",
    ),
    # ----- stock the command cannot touch ----------------------------------------------------
    case(
        encounter(lines=[{"sku": "NALOX-4MG", "quantity": 11}]),
        InsufficientStock,
        "quantity",
        "only 10 kits of nalox-4mg left at van-1",
        "another 3 are in expired lots",
        id="more-than-on-hand",
    ),
    case(
        encounter(lines=[{"sku": "NALOX-4MG", "quantity": 1, "lot": "N-OLD"}]),
        LotExpired,
        "lot",
        "expired on",
        "expired adjustment",
        id="named-lot-expired",
    ),
    case(
        adjustment(quantity=-11),
        InsufficientStock,
        "quantity",
        "only 10 kits",
        "in lot n-1",
        id="adjustment-below-zero",
    ),
    case(
        transfer(lines=[{"sku": "SYR-1ML", "quantity": 500}]),
        InsufficientStock,
        "quantity",
        "only 99 syringes of syr-1ml left at van-1",
        id="transfer-more-than-on-hand",
    ),
    case(transfer(to_site="VAN-1"), InvalidInput, "to_site", "must be different", id="transfer-to-itself"),
    case(receipt(site="OLD-VAN"), SiteClosed, "site", "closed", "reopen", id="receipt-at-a-closed-site"),
    case(transfer(to_site="OLD-VAN"), SiteClosed, "to_site", "closed", id="transfer-to-a-closed-site"),
    case(receipt(sku="OLD-KIT", expires_on=None), ItemRetired, "sku", "retired", id="receipt-of-a-retired-item"),
    case(
        receipt(sku="SYR-1ML", expires_on=None, funding_source="SOR"),
        FundingRestricted,
        "funding_source",
        "no syringe purchases from Mon 1 Jan 2018",
        "another funding source",
        id="syringes-on-federal-money",
    ),
    # ----- reference data --------------------------------------------------------------------
    case(
        new_item(category="condoms"),
        InvalidInput,
        "category",
        "one of",
        "naloxone",
        "wound_care",
        id="unknown-category",
    ),
    case(new_item(sku="WOUND 1!"), InvalidInput, "sku", "letters, digits", id="sku-with-symbols"),
    case(new_item(name="  "), InvalidInput, "name", "required", id="item-without-a-name"),
    case(new_item(pack_size=0), InvalidInput, "pack_size", "from 1 to 100,000", id="pack-size-zero"),
    case(new_item(sku="NALOX-4MG"), AlreadyExists, "sku", "NALOX-4MG", "already registered", id="sku-taken"),
    case(new_site(kind="bus"), InvalidInput, "kind", "one of", "warehouse", "mobile", id="unknown-site-kind"),
    case(new_site(code="VAN 2"), InvalidInput, "code", "letters, digits", id="site-code-with-a-space"),
    case(new_site(code="VAN-1"), AlreadyExists, "code", "VAN-1", "already registered", id="site-code-taken"),
    case(
        level(par_level=5),
        InvalidInput,
        "par_level",
        "par_level (5)",
        "reorder_point (10)",
        id="par-level-below-reorder-point",
    ),
    case(level(lead_time_days=-1), InvalidInput, "lead_time_days", "from 0 to 365", id="negative-lead-time"),
    case(level(reorder_point=2.5), InvalidInput, "reorder_point", "whole number", id="fractional-reorder-point"),
    case(
        new_source(restrictions=[{"category": "syringes", "starts_on": "2018-01-01"}]),
        InvalidInput,
        "restrictions[0].category",
        "one of",
        "syringe",
        id="restriction-on-an-unknown-category",
    ),
    case(
        new_source(restrictions=[{"category": "syringe"}]),
        InvalidInput,
        "restrictions[0].starts_on",
        "required",
        id="restriction-without-a-start",
    ),
    case(
        new_source(restrictions=[{"category": "syringe", "starts_on": "2020-01-01", "ends_on": "2019-12-31"}]),
        InvalidInput,
        "restrictions[0].ends_on",
        "not be before starts_on",
        id="restriction-ending-before-it-starts",
    ),
    case(
        new_source(restrictions=[{"category": "syringe", "starts_on": "01/01/2020"}]),
        InvalidInput,
        "restrictions[0].starts_on",
        "date like",
        id="restriction-start-in-the-wrong-format",
    ),
]


@pytest.mark.parametrize("bad", BAD_INPUTS)
def test_bad_input_is_refused_with_an_actionable_message_and_nothing_is_written(
    program: InventoryApplication, bad: Bad
) -> None:
    before = program.recorder.max_notification_id()

    with pytest.raises(InventoryError) as refused:
        bad.call(program)

    assert type(refused.value) is bad.error, refused.value.message
    assert refused.value.field == bad.field, refused.value.message
    assert str(refused.value) == refused.value.message
    for word in bad.words:
        assert word.lower() in refused.value.message.lower()
    assert program.recorder.max_notification_id() == before


def test_a_refused_command_leaves_the_stock_as_it_was(program: InventoryApplication) -> None:
    before = program.stock("VAN-1", "NALOX-4MG")

    for bad in BAD_INPUTS:
        with pytest.raises(InventoryError):
            bad.values[0].call(program)

    assert program.stock("VAN-1", "NALOX-4MG") == before


def test_a_time_in_year_one_is_refused_with_a_message_not_a_crash(app: InventoryApplication) -> None:
    from datetime import datetime, timedelta, timezone

    seed_catalog(app)
    before = app.recorder.max_notification_id()
    ancient = datetime(1, 1, 1, tzinfo=timezone(timedelta(minutes=1)))
    with pytest.raises(InvalidInput) as refused:
        app.record_encounter(
            key="year-one-visit",
            site="VAN-1",
            lines=[{"sku": "NALOX-4MG", "quantity": 1}],
            actor=ADMIN,
            occurred_at=ancient,
        )
    assert refused.value.field == "occurred_at"
    assert app.recorder.max_notification_id() == before
