"""Mail orders: supplies packed and posted from a site, without an address.

What leaves is picked like a visit's hand-out and leaves the site on the day it was sent
(`StockLedger.Mailed`); a parcel that comes back undelivered puts its stock back in the same lots on
the day it came back (`StockLedger.MailReturned`). The carrier and its tracking reference are kept;
the address never is (the README says where a program keeps it).
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any
from uuid import UUID

from inventory.application import rules as check
from inventory.application.core import InventoryCore
from inventory.domain import MailOrder, StockLedger, ledger_id, mail_order_id
from inventory.domain.errors import IdempotencyConflict, InvalidInput, NotFound
from inventory.domain.text import clean_code, clean_text

CARRIER_LENGTH = 40
# A tracking reference as carriers print them: 8 to 40 letters, digits and dashes, at least 6 of them digits
# (so that a street address or a name typed in the wrong box is refused).
TRACKING = re.compile(r"(?=(?:[^0-9]*[0-9]){6})[A-Z0-9][A-Z0-9-]{6,38}[A-Z0-9]")


def mail_order_view(order: MailOrder) -> dict[str, Any]:
    """A mail order as recorded; the same for the first answer and every repeat."""
    return {
        "id": str(order.id),
        "key": order.key,
        "site": order.site,
        "lines": [dict(line, lots=[dict(pick) for pick in line["lots"]]) for line in order.lines],
        "carrier": order.carrier,
        "tracking": order.tracking,
        "recipient": order.recipient,
        "for_others": order.for_others,
        "occurred_at": order.occurred_at,
        "recorded_at": order.created_on,
        "returned_at": order.returned_at,
        "actor": order.actor,
        "voided": order.voided,
    }


def tracking_reference(value: object) -> str:
    """A carrier's tracking reference, upper-cased, spaces removed; never anything about the addressee."""
    text = re.sub(r"\s+", "", str(value or "")).upper()
    if not TRACKING.fullmatch(text):
        raise InvalidInput(
            "Enter the tracking reference as the carrier printed it: 8 to 40 letters, digits and dashes, at least "
            "6 of them digits. Never an address or a name.",
            field="tracking",
        )
    return text


class MailVerbs(InventoryCore):
    """Send a mail order; record a parcel that came back."""

    def send_mail_order(
        self,
        *,
        key: str,
        site: str,
        lines: list[dict[str, Any]],
        carrier: str,
        tracking: str,
        recipient: str | None = None,
        for_others: int | None = 0,
        actor: str,
        occurred_at: datetime | None = None,
    ) -> dict[str, Any]:
        """Record a parcel packed and sent from a site; a repeat of the same key returns the first result."""
        key = check.client_key(key)
        site_code = clean_code(site, "site")
        parsed = check.issue_lines(lines)
        by = clean_text(carrier, "carrier", max_length=CARRIER_LENGTH)
        reference = tracking_reference(tracking)
        who = self._recipient(recipient)
        others = check.reported(for_others, "for_others", check.VISIT_FOR_OTHERS)
        digest = check.fingerprint(
            {
                "site": site_code,
                "lines": sorted((line.sku, line.lot or "", line.quantity) for line in parsed),
                "carrier": by,
                "tracking": reference,
                "recipient": who,
                "for_others": others,
                "occurred_at": occurred_at,
            }
        )
        moment = check.when(occurred_at, zone=self.zone)
        the_id = mail_order_id(actor, key)

        def attempt() -> dict[str, Any]:
            earlier = self._get(MailOrder, the_id)
            if earlier is not None:
                if earlier.fingerprint != digest:
                    raise IdempotencyConflict(
                        "This request key was already used for a different mail order. "
                        "Reload the form to get a new key and enter it again.",
                        field="key",
                    )
                return mail_order_view(earlier)
            place = self._site(site_code)

            def take(ledger: StockLedger, picks: list[dict[str, Any]]) -> None:
                ledger.mail(mail_order_id=the_id, picks=picks, actor=actor, occurred_at=moment, zone=self.zone)

            ledgers, issued = self._issue_lines(place, parsed, moment, take)
            order = MailOrder(
                key=key,
                fingerprint=digest,
                site=place.code,
                lines=issued,
                carrier=by,
                tracking=reference,
                recipient=who,
                for_others=others,
                actor=actor,
                occurred_at=moment,
            )
            self.save(order, *ledgers)
            return mail_order_view(order)

        ids: list[UUID] = [the_id, *(ledger_id(site_code, line.sku) for line in parsed)]
        return self._retrying(ids, attempt)

    def parcel_returned(
        self, *, mail_order: UUID | str, actor: str, occurred_at: datetime | None = None
    ) -> dict[str, Any]:
        """A parcel came back undelivered: its stock goes back into the lots it was packed from, that day."""
        the_id = _order_id(mail_order)
        moment = check.when(occurred_at, zone=self.zone)
        first = self._mail_order(the_id)
        ids = [the_id, *(ledger_id(first.site, line["sku"]) for line in first.lines)]

        def attempt() -> dict[str, Any]:
            order = self._mail_order(the_id)
            if order.returned_at is not None:
                return mail_order_view(order)  # sent again: the same answer, nothing more recorded
            order.came_back(actor=actor, occurred_at=moment)
            ledgers = []
            for line in order.lines:
                ledger = self._get(StockLedger, ledger_id(order.site, line["sku"]))
                assert ledger is not None, "a mail order's ledger exists"
                ledger.mail_returned(mail_order_id=the_id, lots=line["lots"], actor=actor, occurred_at=moment,
                                     zone=self.zone)  # fmt: skip
                ledgers.append(ledger)
            self.save(order, *ledgers)
            return mail_order_view(order)

        return self._retrying(ids, attempt)

    def mail_order(self, mail_order: UUID | str) -> dict[str, Any]:
        return mail_order_view(self._mail_order(_order_id(mail_order)))

    def _mail_order(self, the_id: UUID) -> MailOrder:
        found = self._get(MailOrder, the_id)
        if found is None:
            raise NotFound(f"There is no mail order with id {the_id}.", field="id")
        return found


def _order_id(value: UUID | str) -> UUID:
    try:
        return value if isinstance(value, UUID) else UUID(str(value))
    except ValueError:
        raise NotFound(f"There is no mail order with id {value}.", field="id") from None
