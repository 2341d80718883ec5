"""A vending machine's dispenses, recorded from the machine's own export: each sale once, by its transaction id.

Stocking a machine is an ordinary transfer to its site. What it handed out is a visit at that site
with the channel "vending_machine" and the recipient "unknown" (a machine does not know who bought),
named by the machine's transaction id rather than by the key of whoever imports it: the same sale
imported again, by anyone and from any copy of the export, records nothing new.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any
from uuid import UUID

from inventory.application import rules as check
from inventory.application.core import InventoryCore
from inventory.domain import Encounter, Site, dispense_id
from inventory.domain.calendar import check_moment
from inventory.domain.errors import IdempotencyConflict, InvalidInput
from inventory.domain.reach import UNKNOWN, Channel
from inventory.domain.time_words import moment_in_words
from inventory.domain.values import SiteKind

# What one sale at a machine hands out: a machine holds a few hundred items at most.
DISPENSE_QUANTITY = check.WholeNumbers(1, 1_000)
TRANSACTION_LENGTH = 64
TRANSACTION = re.compile(rf"[A-Za-z0-9._:-]{{1,{TRANSACTION_LENGTH}}}")
DISPENSE_KEY = "machine:"  # the encounter's key: the machine's transaction id after this


def transaction_code(value: object) -> str:
    """A machine's transaction id: 1 to 64 letters, digits, '-', '_', '.' or ':' (spaces around it dropped)."""
    text = str(value or "").strip() if isinstance(value, str) or value is None else ""
    if not TRANSACTION.fullmatch(text):
        raise InvalidInput(
            f"A transaction id is 1 to {TRANSACTION_LENGTH} letters, digits, '-', '_', '.' or ':' "
            f"(got {shown(value)}).",
            field="transaction",
        )
    return text


def shown(value: object, most: int = 40) -> str:
    """A value from outside quoted for a message, cut short when long (never stored)."""
    text = str(value) if value is not None else ""
    return repr(text if len(text) <= most else text[:most] + "…")


class VendingVerbs(InventoryCore):
    """Record what a vending machine handed out, from the machine's own transaction ids."""

    if TYPE_CHECKING:
        # StockVerbs records the visit; InventoryApplication holds both.
        def _record_visit(self, the_id: UUID, asked: dict[str, Any], machine: bool = False) -> dict[str, Any]: ...

    def vending_machine(self, site: str) -> dict[str, Any]:
        """The site, if it is an open vending machine ({code, name}); else refused in words."""
        return {"code": (place := self._machine(site)).code, "name": place.name}

    def record_dispense(
        self, *, site: str, transaction: str, sku: str, quantity: int, dispensed_at: datetime, actor: str
    ) -> tuple[dict[str, Any], bool]:
        """Record one sale of a machine: `quantity` of `sku` at `dispensed_at`, named by the machine's `transaction`.

        The visit as recorded, and whether it is new. The same sale sent again (same transaction, same
        figures) is the earlier visit, not new; the same transaction with other figures is refused."""
        code = transaction_code(transaction)
        quantity = DISPENSE_QUANTITY.check(quantity, "quantity")
        moment = self._dispensed_at(dispensed_at)
        machine = self._machine(site)
        the_id = dispense_id(machine.code, code)
        asked = {
            "key": DISPENSE_KEY + code,
            "site": machine.code,
            "lines": [{"sku": sku, "quantity": quantity}],
            "participant_code": None,
            "reversals_reported": 0,
            "syringes_collected": 0,
            "refill_reason": None,
            "recipient": UNKNOWN,
            "for_others": None,
            "channel": Channel.VENDING_MACHINE.value,
            "actor": actor,
            "occurred_at": moment,
        }
        new = not list(self.events.get(the_id, limit=1))
        try:
            view = self._record_visit(the_id, asked, machine=True)
        except IdempotencyConflict:
            raise IdempotencyConflict(self._imported_before(the_id, code), field="transaction") from None
        return view, new

    def _machine(self, site: str) -> Site:
        """The open site named, if it is a vending machine."""
        place = self._site(site)
        if place.kind != SiteKind.VENDING_MACHINE:
            kind = str(place.kind).replace("_", " ")
            raise InvalidInput(
                f"{place.code} is not a vending machine: it is a {kind} site. Import a machine's export at "
                "the machine's own site.",
                field="site",
            )
        return place

    def _dispensed_at(self, value: object) -> datetime:
        """When the machine handed it out, in UTC: a date and time with its zone, not ahead of the clock."""
        if not isinstance(value, datetime) or value.utcoffset() is None:
            raise InvalidInput(
                "When it was dispensed must be a date and time with its time zone.", field="dispensed_at"
            )
        check_moment(value, "dispensed_at")
        now = datetime.now(UTC)
        if value > now + check.CLOCK_SKEW:
            year = now.astimezone(self.zone).year
            raise InvalidInput(
                f"{moment_in_words(value, self.zone, year)} is in the future (it is now "
                f"{moment_in_words(now, self.zone, year)}). Check the machine's clock and its export.",
                field="dispensed_at",
            )
        return value.astimezone(UTC)

    def _imported_before(self, the_id: UUID, code: str) -> str:
        """What to say of a sale imported before with other figures: those figures, which stand."""
        earlier = self._get(Encounter, the_id)
        assert earlier is not None
        year = datetime.now(self.zone).year
        figures = ", ".join(f"{line['quantity']} of {line['sku']}" for line in earlier.lines)
        when = moment_in_words(earlier.occurred_at, self.zone, year)
        return (
            f"Transaction {code} was imported before with other figures ({figures}, {when}); the earlier figures "
            "stand. Check the machine's export: a sale it already sent should not change."
        )
