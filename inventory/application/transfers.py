"""Verbs for stock moving between sites."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID, uuid4

from inventory.application import rules as check
from inventory.application.answers import (
    transfer_view,
)
from inventory.application.core import InventoryCore
from inventory.application.recalls import hold_if_recalled
from inventory.domain import (
    StockLedger,
    Transfer,
    ledger_id,
)
from inventory.domain.errors import (
    InvalidInput,
    UnknownTransfer,
)
from inventory.domain.text import clean_code, clean_lot, clean_note, clean_text


class TransferVerbs(InventoryCore):
    """Dispatch, receive and cancel transfers."""

    def dispatch_transfer(
        self,
        *,
        from_site: str,
        to_site: str,
        lines: list[dict[str, Any]],
        actor: str,
        occurred_at: datetime | None = None,
        transfer_id: UUID | None = None,
    ) -> dict[str, Any]:
        """Send stock from one site to another: it leaves the sender now and is in transit."""
        moment = check.when(occurred_at, zone=self.zone)
        parsed = check.issue_lines(lines)
        sender = self._site(from_site, field="from_site")
        receiver = self._site(to_site, field="to_site")
        if sender.code == receiver.code:
            raise InvalidInput("from_site and to_site must be different sites.", field="to_site")
        items = {line.sku: self._item(line.sku, field=f"lines[{i}].sku") for i, line in enumerate(parsed)}
        the_id = transfer_id or uuid4()

        def attempt() -> dict[str, Any]:
            day = self.business_day(moment)
            ledgers: dict[str, StockLedger] = {}
            sent: list[dict[str, Any]] = []
            for index, line in enumerate(parsed):
                item = items[line.sku]
                ledger = ledgers.get(item.sku) or self._stocked_ledger(sender, item, f"lines[{index}].sku")
                ledgers[item.sku] = ledger
                picks = ledger.plan_issue(line.quantity, day, line.lot, at=moment, zone=self.zone)
                ledger.dispatch(
                    transfer_id=the_id,
                    to_site=receiver.code,
                    picks=picks,
                    actor=actor,
                    occurred_at=moment,
                    zone=self.zone,
                )
                for pick in picks:
                    _add_line(sent, dict(pick, sku=item.sku))
            # The id is chosen before the first attempt, so a retry records the same transfer.
            transfer = Transfer._create(
                Transfer.Dispatched,
                id=the_id,
                from_site=sender.code,
                to_site=receiver.code,
                lines=sent,
                actor=actor,
                occurred_at=moment,
            )
            self.save(transfer, *ledgers.values())
            return transfer_view(transfer)

        ids = [the_id, *(ledger_id(sender.code, sku) for sku in items)]
        return self._retrying(ids, attempt)

    def _transfer(self, transfer_id: UUID | str) -> Transfer:
        try:
            the_id = transfer_id if isinstance(transfer_id, UUID) else UUID(str(transfer_id))
        except ValueError:
            raise UnknownTransfer(f"{transfer_id!r} is not a transfer id.", field="transfer_id") from None
        transfer = self._get(Transfer, the_id)
        if transfer is None:
            raise UnknownTransfer(f"There is no transfer {the_id}.", field="transfer_id")
        return transfer

    def receive_transfer(
        self,
        *,
        transfer_id: UUID | str,
        received: list[dict[str, Any]] | None = None,
        note: str = "",
        actor: str,
        occurred_at: datetime | None = None,
    ) -> dict[str, Any]:
        """Book a transfer in at the receiving site; what did not arrive is recorded as shortfall.

        `received` lists (sku, lot, quantity) as counted on arrival; None means all as sent.
        """
        moment = check.when(occurred_at, zone=self.zone)
        first = self._transfer(transfer_id)
        the_id = first.id
        skus = sorted({line["sku"] for line in first.lines})

        def attempt() -> dict[str, Any]:
            transfer = self._transfer(the_id)
            transfer.check_in_transit("received")
            transfer.check_not_before_dispatch(moment, "received", self.zone)
            arrived, shortfall = _match_arrivals(transfer.lines, received)
            receiver = self._site(transfer.to_site)
            ledgers = []
            for sku in skus:
                rows = [row for row in arrived if row["sku"] == sku]
                if not any(row["quantity"] for row in rows):
                    continue
                item = self._item(sku, must_be_active=False)
                ledger = self._open_ledger(receiver, item)
                lots = [{k: row[k] for k in ("lot", "quantity", "expires_on", "funding_source")} for row in rows]
                ledger.arrive(
                    transfer_id=transfer.id,
                    from_site=transfer.from_site,
                    lots=lots,
                    actor=actor,
                    occurred_at=moment,
                    zone=self.zone,
                )
                # Stock recalled while it was on its way is held as it arrives, as it is at the sender's.
                sender = self._get(StockLedger, ledger_id(transfer.from_site, sku))
                hold_if_recalled(ledger, [row["lot"] for row in lots if row["quantity"]], moment, actor, sender=sender)
                ledgers.append(ledger)
            transfer.receive(
                received=arrived, shortfall=shortfall, note=clean_note(note), actor=actor, occurred_at=moment
            )
            self.save(transfer, *ledgers)
            return transfer_view(transfer)

        return self._retrying([the_id, *(ledger_id(first.to_site, sku) for sku in skus)], attempt)

    def cancel_transfer(
        self, *, transfer_id: UUID | str, reason: str, actor: str, occurred_at: datetime | None = None
    ) -> dict[str, Any]:
        """Call a transfer off while in transit: the stock goes back into the sender's lots."""
        moment = check.when(occurred_at, zone=self.zone)
        why = clean_text(reason, "reason", max_length=200)
        first = self._transfer(transfer_id)
        the_id = first.id
        skus = sorted({line["sku"] for line in first.lines})

        def attempt() -> dict[str, Any]:
            transfer = self._transfer(the_id)
            transfer.check_in_transit("cancelled")
            transfer.check_not_before_dispatch(moment, "cancelled", self.zone)
            sender = self._site(transfer.from_site, must_be_open=False)
            ledgers = []
            for sku in skus:
                ledger = self._stocked_ledger(sender, self._item(sku, must_be_active=False))
                lots = [
                    {k: row[k] for k in ("lot", "quantity", "expires_on", "funding_source")}
                    for row in transfer.lines
                    if row["sku"] == sku
                ]
                ledger.take_back(
                    transfer_id=transfer.id,
                    to_site=transfer.to_site,
                    lots=lots,
                    actor=actor,
                    occurred_at=moment,
                    zone=self.zone,
                )
                ledgers.append(ledger)
            transfer.cancel(reason=why, actor=actor, occurred_at=moment)
            self.save(transfer, *ledgers)
            return transfer_view(transfer)

        return self._retrying([the_id, *(ledger_id(first.from_site, sku) for sku in skus)], attempt)

    def transfer(self, transfer_id: UUID | str) -> dict[str, Any]:
        """A transfer with its lines, status and any shortfall."""
        return transfer_view(self._transfer(transfer_id))


def _add_line(lines: list[dict[str, Any]], line: dict[str, Any]) -> None:
    """Add a transfer line, merging it with an earlier line for the same SKU and lot."""
    for existing in lines:
        if existing["sku"] == line["sku"] and existing["lot"] == line["lot"]:
            existing["quantity"] += line["quantity"]
            return
    lines.append(line)


def _match_arrivals(
    sent: list[dict[str, Any]], received: list[dict[str, Any]] | None
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Pair what arrived with what was sent, lot by lot; the difference is the shortfall."""
    if received is None:
        return [dict(row) for row in sent], []
    counted: dict[tuple[str, str], int] = {}
    for index, row in enumerate(received):
        sku = clean_code(str(row.get("sku") or ""), f"received[{index}].sku")
        lot = clean_lot(row.get("lot"), f"received[{index}].lot", required=False) or ""
        quantity = row.get("quantity")
        if isinstance(quantity, bool) or not isinstance(quantity, int) or quantity < 0:
            raise InvalidInput(
                "quantity received must be a whole number, 0 or more.", field=f"received[{index}].quantity"
            )
        if not any(line["sku"] == sku and line["lot"] == lot for line in sent):
            raise InvalidInput(f"Lot {lot} of {sku} was not sent in this transfer.", field=f"received[{index}]")
        counted[(sku, lot)] = counted.get((sku, lot), 0) + quantity
    arrived, shortfall = [], []
    for line in sent:
        got = counted.get((line["sku"], line["lot"]), 0)
        if got > line["quantity"]:
            raise InvalidInput(
                f"{got} of lot {line['lot']} of {line['sku']} entered as received, but only "
                f"{line['quantity']} were sent. Record extra stock as a 'found' adjustment.",
                field="received",
            )
        arrived.append(dict(line, quantity=got))
        if got < line["quantity"]:
            shortfall.append(dict(line, quantity=line["quantity"] - got))
    return arrived, shortfall
