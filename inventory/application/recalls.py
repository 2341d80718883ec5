"""Verbs for lots kept off the shelf: hold, release and write off a lot (at a site or everywhere), and
recalls, which hold every lot received under a maker's lot number at every site in one save."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any
from uuid import UUID

from inventory.application import rules as check
from inventory.application.core import InventoryCore
from inventory.domain import Recall, StockLedger, ledger_id, recall_id
from inventory.domain.errors import InvalidInput, InvalidState, NotFound, UnknownLot
from inventory.domain.holds import HoldReason
from inventory.domain.text import CODE_LENGTH, NAME_LENGTH, clean_code, clean_lot, clean_text
from inventory.domain.time_words import day_in_words


class UnknownRecall(NotFound):
    code = "unknown_recall"


def recall_view(recall: Recall) -> dict[str, Any]:
    return {
        "id": str(recall.id),
        "manufacturer": recall.manufacturer,
        "manufacturer_lot": recall.manufacturer_lot,
        "notice": recall.notice,
        "lots": [dict(lot) for lot in recall.lots],
        "announced_at": recall.announced_at,
        "closed": recall.closed,
    }


def _hold_view(ledger: StockLedger, lot: str) -> dict[str, Any]:
    found = ledger.lot(lot)
    return {
        "site": ledger.site,
        "sku": ledger.sku,
        "lot": lot,
        "quantity": found.quantity,
        "held": found.held is not None,
        "reason": None if found.held is None else found.held.reason,
        "recall": None if found.held is None else found.held.recall,
    }


class RecallVerbs(InventoryCore):
    """Hold, release and write off lots; announce and close recalls."""

    def hold_lot(
        self,
        *,
        sku: str,
        lot: str,
        reason: str,
        actor: str,
        sites: list[str],
        occurred_at: datetime | None = None,
    ) -> list[dict[str, Any]]:
        """Keep a lot off the shelf at each of `sites` that has it (one, or every site that ever had it:
        inventory.projections.recall_queries.sites_with_lot). A lot held already stays as it is. Returns
        each site's lot."""
        moment = check.when(occurred_at, zone=self.zone)
        item = self._item(sku, must_be_active=False)
        code = clean_lot(lot) or ""
        if reason == HoldReason.RECALL:
            raise InvalidInput("A recall holds its lots itself: record the recall instead.", field="reason")
        places = [self._site(site, must_be_open=False).code for site in sites]
        ids = [ledger_id(place, item.sku) for place in places]

        def attempt() -> list[dict[str, Any]]:
            ledgers = self._ledgers_with(ids, code)
            if not ledgers:
                where = f"at {places[0]}" if len(places) == 1 else "at any site"
                raise UnknownLot(f"There is no lot {code} of {item.sku} {where}.", field="lot")
            changed = [
                ledger for ledger in ledgers if ledger.hold(lot=code, reason=reason, actor=actor, occurred_at=moment)
            ]
            if changed:
                self.save(*changed)
            return [_hold_view(ledger, code) for ledger in ledgers]

        return self._retrying(ids, attempt)

    def release_lot(
        self, *, site: str, sku: str, lot: str, actor: str, occurred_at: datetime | None = None
    ) -> dict[str, Any]:
        """Put a held lot back on the shelf; a lot held by a recall stays held until the recall is closed."""
        moment = check.when(occurred_at, zone=self.zone)
        place, item = self._site(site, must_be_open=False), self._item(sku, must_be_active=False)
        code = clean_lot(lot) or ""

        def attempt() -> dict[str, Any]:
            ledger = self._stocked_ledger(place, item, "lot")
            held = ledger.lot(code).held
            if held is not None and held.recall is not None:
                recall = self._get(Recall, UUID(held.recall))
                if recall is not None and not recall.closed:
                    raise InvalidState(
                        f"Lot {code} of {item.sku} is held for the recall of the maker's lot {recall.manufacturer_lot} "
                        f"({recall.manufacturer}): write it off as returned or destroyed, or close the recall first.",
                        field="lot",
                    )
            ledger.release(lot=code, actor=actor, occurred_at=moment)
            self.save(ledger)
            return _hold_view(ledger, code)

        return self._retrying([ledger_id(place.code, item.sku)], attempt)

    def write_off_lot(
        self,
        *,
        site: str,
        sku: str,
        lot: str,
        quantity: int,
        disposition: str,
        actor: str,
        occurred_at: datetime | None = None,
    ) -> dict[str, Any]:
        """Take held stock out for good: destroyed, or returned to the supplier."""
        moment = check.when(occurred_at, zone=self.zone)
        place, item = self._site(site, must_be_open=False), self._item(sku, must_be_active=False)
        code = clean_lot(lot) or ""
        amount = check.QUANTITY.check(quantity, "quantity")

        def attempt() -> dict[str, Any]:
            ledger = self._stocked_ledger(place, item, "lot")
            ledger.write_off(
                lot=code, quantity=amount, disposition=disposition, actor=actor, occurred_at=moment, zone=self.zone
            )
            self.save(ledger)
            return _hold_view(ledger, code)

        return self._retrying([ledger_id(place.code, item.sku)], attempt)

    # ----- recalls ---------------------------------------------------------------------------

    def announce_recall(
        self,
        *,
        manufacturer: str,
        manufacturer_lot: str,
        notice: str,
        lots: list[dict[str, str]],
        sites: list[str],
        actor: str,
        occurred_at: datetime | None = None,
    ) -> dict[str, Any]:
        """Record a maker's recall of one of its lots and hold, in one save, the program's `lots` received
        under it ({"sku", "lot"}: inventory.projections.recall_queries.recall_scope finds them, with the
        `sites` to look at) wherever they are. Stock of it that turns up later (a transfer on its way, a
        receipt of the same maker's lot) is held as it arrives. Announcing it again changes nothing."""
        moment = check.when(occurred_at, zone=self.zone)
        maker, maker_lot = recalled_lot(manufacturer, manufacturer_lot)
        reference = clean_text(notice, "notice", max_length=CODE_LENGTH * 2, required=False) or ""
        the_id = recall_id(maker, maker_lot)
        lots = [{"sku": clean_code(lot["sku"], "sku"), "lot": clean_lot(lot["lot"]) or ""} for lot in lots]
        places = [clean_code(site, "site") for site in sites]
        ids = [the_id, *(ledger_id(place, sku) for sku in sorted({lot["sku"] for lot in lots}) for place in places)]

        def attempt() -> dict[str, Any]:
            recall = self._get(Recall, the_id)
            if recall is not None:
                return recall_view(recall)
            recall = Recall(
                manufacturer=maker,
                manufacturer_lot=maker_lot,
                notice=reference,
                lots=lots,
                actor=actor,
                occurred_at=moment,
            )
            changed = []
            for ledger in self._ledgers_with(ids[1:], None):
                held = [
                    ledger.hold(
                        lot=lot["lot"], reason=HoldReason.RECALL, actor=actor, occurred_at=moment, recall=str(the_id)
                    )
                    for lot in lots
                    if lot["sku"] == ledger.sku and lot["lot"] in ledger.lots
                ]
                if any(held):
                    changed.append(ledger)
            self.save(recall, *changed)
            return recall_view(recall)

        return self._retrying(ids, attempt)

    def close_recall(
        self, *, recall: UUID | str, sites: list[str], actor: str, occurred_at: datetime | None = None
    ) -> dict[str, Any]:
        """Close a recall once none of its stock is left on a shelf at any of `sites` (every site)."""
        moment = check.when(occurred_at, zone=self.zone)
        found = self._recall(recall)
        places = [clean_code(site, "site") for site in sites]
        ids = [
            found.id,
            *(ledger_id(place, sku) for sku in sorted({lot["sku"] for lot in found.lots}) for place in places),
        ]

        def attempt() -> dict[str, Any]:
            recall = self._recall(found.id)
            left = [
                f"{ledger.lots[lot['lot']].quantity} at {ledger.site}"
                for ledger in self._ledgers_with(ids[1:], None)
                for lot in recall.lots
                if lot["sku"] == ledger.sku and lot["lot"] in ledger.lots and ledger.lots[lot["lot"]].quantity > 0
            ]
            if left:
                raise InvalidState(
                    f"Stock of this recall is still on a shelf ({', '.join(left)}): write it off as returned or "
                    "destroyed first.",
                    field="recall",
                )
            recall.close(actor=actor, occurred_at=moment)
            self.save(recall)
            return recall_view(recall)

        return self._retrying(ids, attempt)

    def recall(self, recall: UUID | str) -> dict[str, Any]:
        return recall_view(self._recall(recall))

    def _recall(self, recall: UUID | str) -> Recall:
        try:
            the_id = recall if isinstance(recall, UUID) else UUID(str(recall))
        except ValueError:
            raise UnknownRecall(f"There is no recall {recall}.", field="recall") from None
        found = self._get(Recall, the_id)
        if found is None:
            raise UnknownRecall(f"There is no recall {recall}.", field="recall")
        return found

    def _ledgers_with(self, ids: Iterable[UUID], lot: str | None) -> list[StockLedger]:
        """The ledgers among `ids` that exist (and have `lot`, when one is named)."""
        found = [ledger for the_id in ids if (ledger := self._get(StockLedger, the_id)) is not None]
        return [ledger for ledger in found if lot is None or lot in ledger.lots]


def recalled_lot(manufacturer: str, manufacturer_lot: str) -> tuple[str, str]:
    """The maker and the maker's lot number a recall names, checked (look its lots up with these)."""
    return clean_text(manufacturer, "manufacturer", max_length=NAME_LENGTH), clean_code(
        manufacturer_lot, "manufacturer_lot"
    )


def hold_if_recalled(
    ledger: StockLedger,
    lots: Iterable[str],
    moment: datetime,
    actor: str,
    *,
    recall: Recall | None = None,
    sender: StockLedger | None = None,
) -> None:
    """Hold, as it arrives, stock of a lot that a recall covers: named by `recall` (a receipt of the maker's
    lot: the recall then covers this lot too), or held for one at the site it came from (`sender`: a
    transfer that was on its way when the recall came)."""
    for code in lots:
        if recall is not None and not recall.closed:
            if not recall.covers(ledger.sku, code):
                recall.cover(sku=ledger.sku, lot=code, actor=actor, occurred_at=moment)
            ledger.hold(lot=code, reason=HoldReason.RECALL, actor=actor, occurred_at=moment, recall=str(recall.id))
        elif sender is not None and code in sender.lots:
            held = sender.lots[code].held
            if held is not None and held.recall is not None:
                ledger.hold(lot=code, reason=held.reason, actor=actor, occurred_at=moment, recall=held.recall)


def recall_words(recall: dict[str, Any]) -> str:
    """The recall in a sentence: the maker's lot, the notice, the day."""
    notice = f", notice {recall['notice']}" if recall["notice"] else ""
    return (
        f"Recall of {recall['manufacturer']} lot {recall['manufacturer_lot']}{notice}, "
        f"{day_in_words(recall['announced_at'].date())}"
    )
