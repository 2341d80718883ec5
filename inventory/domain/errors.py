"""Domain errors: each message tells a coordinator what went wrong and what to do."""

from __future__ import annotations


class InventoryError(Exception):
    """Base of every error the domain raises on purpose."""

    code = "inventory_error"

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field


class InvalidInput(InventoryError):
    """A value given to a command is malformed or out of range."""

    code = "invalid_input"


class NotFound(InventoryError):
    """Something named in a command does not exist."""

    code = "not_found"


class UnknownSite(NotFound):
    code = "unknown_site"


class UnknownItem(NotFound):
    code = "unknown_item"


class UnknownFundingSource(NotFound):
    code = "unknown_funding_source"


class UnknownLot(NotFound):
    code = "unknown_lot"


class UnknownTransfer(NotFound):
    code = "unknown_transfer"


class UnknownPurchaseOrder(NotFound):
    code = "unknown_purchase_order"


class AlreadyExists(InventoryError):
    """A site, item or funding source with that code is already registered."""

    code = "already_exists"


class Conflict(InventoryError):
    """The command cannot apply to the stock or record as it stands now."""

    code = "conflict"


class InsufficientStock(Conflict):
    code = "insufficient_stock"


class LotExpired(Conflict):
    code = "lot_expired"


class LotOnHold(Conflict):
    code = "lot_on_hold"


class FundingRestricted(Conflict):
    code = "funding_restricted"


class SiteClosed(Conflict):
    code = "site_closed"


class ItemRetired(Conflict):
    code = "item_retired"


class CountConflict(Conflict):
    """An entry dated across a physical count of the same lot: it would be counted twice or lost."""

    code = "count_conflict"


class PastCorrectionWindow(Conflict):
    """A coordinator's void or correction of an entry recorded longer ago than they may change."""

    code = "past_correction_window"


class InvalidState(Conflict):
    """A transfer or purchase order is not in a state that allows this step."""

    code = "invalid_state"


class IdempotencyConflict(Conflict):
    """A client key was used before for a different request."""

    code = "idempotency_conflict"


class ConcurrentUpdate(Conflict):
    """Others kept changing the same stock; the command could not be applied."""

    code = "concurrent_update"


class Busy(ConcurrentUpdate):
    """Others held the lock a command needs for longer than the service waits (INVENTORY_LOCK_WAIT_SECONDS)."""

    code = "busy"
