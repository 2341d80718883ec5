"""Voids and corrections: a mistaken entry undone or amended on its own business time (a visit, a
shift tally, a transfer, a receipt, an adjustment or a count).

The entry stays in the log; a void or correction event reverses or amends it, and the stock changes
on the entry's date (inventory.domain.lot_history decides what that does to later entries and
counts). Who may: the people who may record that kind of entry at that site, coordinators within
`rules.CORRECTION_WINDOW` of its recording, admins at any time (`access.correction_window`).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID

from inventory.application import rules as check
from inventory.application.answers import encounter_view, ledger_view, transfer_view
from inventory.application.core import InventoryCore
from inventory.application.mail import mail_order_view
from inventory.application.partners import issue_view
from inventory.application.tallies import tally_view
from inventory.domain import Encounter, MailOrder, PartnerIssue, ShiftTally, StockLedger, Transfer, ledger_id
from inventory.domain.errors import InsufficientStock, InvalidInput, NotFound, PastCorrectionWindow
from inventory.domain.time_words import moment_in_words
from inventory.domain.transfer import RECEIVED, VOIDED
from inventory.domain.values import VoidReason, parse_enum

# A log position fits a signed 64-bit integer (PostgreSQL's BIGINT); a larger one names no entry.
LAST_POSITION = 2**63 - 1
# What hands stock out of a site (each undone as a whole, with every ledger entry it made).
Handout = Encounter | ShiftTally | PartnerIssue | MailOrder
# What each kind of ledger entry is called, and which may be corrected (the rest are voided).
ENTRY_KINDS = {
    "inventory.domain.ledger:StockLedger.Received": "receipt",
    "inventory.domain.ledger:StockLedger.Adjusted": "adjustment",
    "inventory.domain.ledger:StockLedger.Counted": "count",
}


class CorrectionVerbs(InventoryCore):
    """Void a visit, a shift tally, a transfer or a ledger entry; correct a receipt, an adjustment or a count."""

    def void_visit(
        self, *, visit_id: UUID | str, reason: str, actor: str, within: timedelta | None = None
    ) -> dict[str, Any]:
        """Undo a visit: its kits go back to their lots on the visit's own time; the reports drop it."""
        the_id = _uuid(visit_id, "visit")
        return self._void_handout(lambda: self._handout(Encounter, the_id), the_id, reason, actor, within, "visit")

    def void_tally(
        self, *, tally_id: UUID | str, reason: str, actor: str, within: timedelta | None = None
    ) -> dict[str, Any]:
        """Undo a shift tally: what it handed out goes back on the shift's own time."""
        the_id = _uuid(tally_id, "tally")
        return self._void_handout(
            lambda: self._handout(ShiftTally, the_id), the_id, reason, actor, within, "shift tally"
        )

    def void_partner_issue(
        self, *, issue_id: UUID | str, reason: str, actor: str, within: timedelta | None = None
    ) -> dict[str, Any]:
        """Undo an issue to a partner entered by mistake: its stock goes back on the issue's own time."""
        the_id = _uuid(issue_id, "issue to a partner")
        return self._void_handout(
            lambda: self._handout(PartnerIssue, the_id), the_id, reason, actor, within, "issue to a partner"
        )

    def void_mail_order(
        self, *, mail_order_id: UUID | str, reason: str, actor: str, within: timedelta | None = None
    ) -> dict[str, Any]:
        """Undo a mail order entered by mistake (it was never sent): its stock goes back on its own time."""
        the_id = _uuid(mail_order_id, "mail order")
        return self._void_handout(lambda: self._handout(MailOrder, the_id), the_id, reason, actor, within, "mail order")

    def _void_handout(
        self,
        load: Callable[[], Handout | None],
        the_id: UUID,
        reason: str,
        actor: str,
        within: timedelta | None,
        what: str,
    ) -> dict[str, Any]:
        why = parse_enum(VoidReason, reason, "reason")
        found = load()
        if found is None:
            raise NotFound(f"There is no {what} with id {the_id}.", field="id")
        ids = [the_id, *(ledger_id(found.site, line["sku"]) for line in found.lines)]

        def attempt() -> dict[str, Any]:
            handout = load()
            assert handout is not None
            if getattr(handout, "voided", None) is not None:
                return _voided_view(handout)  # sent again: the same answer, nothing more recorded
            self._check_window(handout.created_on, within, what)
            now = check.when(None)
            ledgers: list[StockLedger] = []
            for line in handout.lines:
                ledger = self._get(StockLedger, ledger_id(handout.site, line["sku"]))
                assert ledger is not None, "a hand-out's ledger exists"
                if ledger in ledgers:
                    continue
                entries = ledger.entries_for(str(the_id))
                for entry in entries:
                    ledger.void(entry=entry, reason=why, actor=actor, zone=self.zone)
                if entries:
                    ledgers.append(ledger)
            handout.void(reason=why, actor=actor, occurred_at=now)
            self.save(handout, *ledgers)
            return _voided_view(handout)

        return self._retrying(ids, attempt)

    def void_transfer(
        self, *, transfer_id: UUID | str, reason: str, actor: str, within: timedelta | None = None
    ) -> dict[str, Any]:
        """Undo a transfer entered by mistake (to the wrong van, the wrong items): what left the sender goes
        back on the dispatch's own time and, if it was received, comes out of the receiver on the arrival's.
        Refused if the receiver has used the stock since; a cancelled transfer has nothing to void."""
        why = parse_enum(VoidReason, reason, "reason")
        the_id = _uuid(transfer_id, "transfer")
        first = self._transfer_named(the_id)
        skus = sorted({line["sku"] for line in first.lines})
        sites = (first.to_site, first.from_site)
        ids = [the_id, *(ledger_id(site, sku) for site in sites for sku in skus)]

        def attempt() -> dict[str, Any]:
            transfer = self._transfer_named(the_id)
            if transfer.status == VOIDED:
                return transfer_view(transfer)  # sent again: the same answer, nothing more recorded
            transfer.check_voidable()
            self._check_window(transfer.created_on, within, "transfer")
            # The receiver first: taking the stock back out is what can be refused.
            ledgers: list[StockLedger] = []
            for site in sites if transfer.status == RECEIVED else sites[1:]:
                for sku in skus:
                    ledger = self._get(StockLedger, ledger_id(site, sku))
                    entries = ledger.entries_for(str(the_id)) if ledger is not None else []
                    if ledger is None or not entries:
                        continue
                    for entry in entries:
                        try:
                            ledger.void(entry=entry, reason=why, actor=actor, zone=self.zone)
                        except InsufficientStock as short:
                            raise InsufficientStock(f"At {site}: {short.message}", field="id") from None
                    ledgers.append(ledger)
            transfer.void(reason=why, actor=actor, occurred_at=check.when(None))
            self.save(transfer, *ledgers)
            return transfer_view(transfer)

        return self._retrying(ids, attempt)

    def transfer_void_sites(self, transfer_id: UUID | str) -> list[str]:
        """The sites whose stock voiding this transfer changes (the sender's; the receiver's too once it
        was received), so that the caller's right to move stock at each can be checked first."""
        found = self._transfer_named(_uuid(transfer_id, "transfer"))
        return [found.from_site, found.to_site] if found.status == RECEIVED else [found.from_site]

    def _transfer_named(self, the_id: UUID) -> Transfer:
        found: Transfer | None = self._get(Transfer, the_id, strict=False)
        if found is None:
            raise NotFound(f"There is no transfer with id {the_id}.", field="id")
        return found

    def void_entry(self, *, position: int, reason: str, actor: str, within: timedelta | None = None) -> dict[str, Any]:
        """Undo a receipt, an adjustment or a count, named by its position in the log."""
        why = parse_enum(VoidReason, reason, "reason")
        the_ledger, version, recorded_at, what = self._ledger_entry(position)

        def attempt() -> dict[str, Any]:
            self._check_window(recorded_at, within, what)
            ledger = self._get(StockLedger, the_ledger)
            assert ledger is not None
            ledger.void(entry=version, reason=why, actor=actor, zone=self.zone)
            recordings = self.save(ledger)
            return dict(ledger_view(ledger), position=recordings[0].notification.id, voided=position)

        return self._retrying([the_ledger], attempt)

    def correct_entry(
        self, *, position: int, quantity: int, reason: str, actor: str, within: timedelta | None = None
    ) -> dict[str, Any]:
        """Correct a receipt's or an adjustment's quantity, or a count's figure, on its own time."""
        why = parse_enum(VoidReason, reason, "reason")
        the_ledger, version, recorded_at, what = self._ledger_entry(position)
        bounds = {"receipt": check.QUANTITY, "adjustment": check.ADJUSTMENT, "count": check.COUNTED}[what]
        figure = bounds.check(quantity, "quantity")

        def attempt() -> dict[str, Any]:
            self._check_window(recorded_at, within, what)
            ledger = self._get(StockLedger, the_ledger)
            assert ledger is not None
            ledger.correct(entry=version, now=figure, reason=why, actor=actor, zone=self.zone)
            recordings = self.save(ledger)
            return dict(ledger_view(ledger), position=recordings[0].notification.id, corrected=position)

        return self._retrying([the_ledger], attempt)

    def entry_site(self, kind: str, id_or_position: UUID | str | int) -> str:
        """The site of a visit, a shift tally ("visit", "tally": by id) or a ledger entry (by position),
        so that the caller's right to change it there can be checked first."""
        if kind in ("visit", "tally"):
            the_id = _uuid(str(id_or_position), kind)
            found = self._handout(Encounter if kind == "visit" else ShiftTally, the_id)
            if found is None:
                raise NotFound(f"There is no {'visit' if kind == 'visit' else 'shift tally'} with id {the_id}.",
                               field="id")  # fmt: skip
            return str(found.site)
        if not isinstance(id_or_position, int):
            raise InvalidInput("Give the entry's number.", field="id")
        the_ledger, _, _, _ = self._ledger_entry(id_or_position)
        ledger = self._get(StockLedger, the_ledger)
        assert ledger is not None
        return ledger.site

    def _handout(
        self, kind: type[Encounter] | type[ShiftTally] | type[PartnerIssue] | type[MailOrder], the_id: UUID
    ) -> Handout | None:
        """The visit, tally, issue to a partner or mail order with this id; None if there is none (or the id
        names something else)."""
        found: Handout | None = self._get(kind, the_id, strict=False)
        return found

    def entry_kind(self, position: int) -> str:
        """What the entry at `position` is: receipt, adjustment or count (anything else refused)."""
        return self._ledger_entry(position)[3]

    def _ledger_entry(self, position: int) -> tuple[UUID, int, datetime, str]:
        """The ledger, version, recording time and kind of the receipt, adjustment or count at `position`."""
        if isinstance(position, bool) or not isinstance(position, int):
            raise InvalidInput("Give the entry's number (its position in the log), 1 or more.", field="id")
        if position < 1:
            raise NotFound(f"There is no entry {position}: entries are numbered from 1.", field="id")
        if position > LAST_POSITION:
            raise NotFound(f"There is no entry {position}.", field="id")
        notifications = self.recorder.select_notifications(start=position, limit=1)
        found = notifications[0] if notifications else None
        if found is None or found.id != position:
            raise NotFound(f"There is no entry {position}.", field="id")
        what = ENTRY_KINDS.get(found.topic)
        if what is None:
            raise NotFound(
                f"Entry {position} is not a receipt, an adjustment or a count: void a visit or a shift tally by "
                "its own id.",
                field="id",
            )
        event: Any = self.mapper.to_domain_event(found)
        if what == "receipt" and getattr(event, "purchase_order", None):
            raise InvalidInput(
                f"Entry {position} was received against purchase order {event.purchase_order}; the order counts "
                "it as received. Record the difference as an adjustment instead.",
                field="id",
            )
        return UUID(str(found.originator_id)), found.originator_version, event.timestamp, what

    def _check_window(self, recorded_at: datetime, within: timedelta | None, what: str) -> None:
        if within is None:
            return
        if datetime.now(UTC) - recorded_at > within:
            days = within.days
            raise PastCorrectionWindow(
                f"This {what} was recorded on {moment_in_words(recorded_at, self.zone)}, more than {days} days ago. "
                f"Coordinators can void or correct entries for {days} days; ask an admin to do it.",
                field="id",
            )


def _uuid(value: UUID | str, field: str) -> UUID:
    try:
        return value if isinstance(value, UUID) else UUID(str(value))
    except ValueError:
        raise InvalidInput(f"{value!r} is not the id of a {field}.", field="id") from None


def _voided_view(handout: Handout) -> dict[str, Any]:
    if isinstance(handout, Encounter):
        view = encounter_view(handout)
    elif isinstance(handout, ShiftTally):
        view = tally_view(handout)
    elif isinstance(handout, PartnerIssue):
        view = issue_view(handout)
    else:
        view = mail_order_view(handout)
    return dict(view, voided=handout.voided)
