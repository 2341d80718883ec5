"""What each kind of event in the log is called on screen: "Visit recorded", never
`Encounter.Recorded`. The audit history shows these words; its filter lists them. A kind of event
with no words here is shown by its own name, and a test asks for its words."""

from __future__ import annotations

EVENT_WORDS = {
    "Alert.Acknowledged": "Alert acknowledged",
    "Alert.Notified": "Alert emailed",
    "Alert.Raised": "Alert raised",
    "Alert.Resolved": "Alert resolved",
    "Alert.Snoozed": "Alert snoozed",
    "Alert.Assigned": "Alert assigned",
    "Alert.Started": "Alert first raised",
    "DiscardedVisit.Discarded": "Queued visit discarded",
    "Encounter.Recorded": "Visit recorded",
    "Encounter.Voided": "Visit undone",
    "FundingSource.Registered": "Funding source added",
    "FundingSource.RestrictionsChanged": "Funding rules changed",
    "Item.Registered": "Item added",
    "Item.Retired": "Item retired",
    "PurchaseOrder.Cancelled": "Purchase order cancelled",
    "PurchaseOrder.Closed": "Purchase order closed",
    "PurchaseOrder.Raised": "Purchase order drafted",
    "PurchaseOrder.ReceiptRecorded": "Delivery received on an order",
    "PurchaseOrder.Submitted": "Purchase order sent",
    "ShiftTally.Recorded": "Shift tally recorded",
    "ShiftTally.Voided": "Shift tally undone",
    "Site.Closed": "Site closed",
    "Site.Registered": "Site added",
    "Site.Reopened": "Site reopened",
    "Site.StockLevelSet": "Reorder level set",
    "StockLedger.Adjusted": "Stock adjusted",
    "StockLedger.Arrived": "Stock in from a transfer",
    "StockLedger.CountRestated": "Count variance restated",
    "StockLedger.Counted": "Stock counted",
    "StockLedger.Dispatched": "Stock out on a transfer",
    "StockLedger.Distributed": "Handed out at a visit",
    "StockLedger.EntryCorrected": "Entry corrected",
    "StockLedger.EntryVoided": "Entry voided",
    "StockLedger.HandedOutOnShift": "Handed out on a shift",
    "StockLedger.Opened": "Item first stocked at a site",
    "StockLedger.Received": "Stock received",
    "StockLedger.Returned": "Stock back from a cancelled transfer",
    "Transfer.Cancelled": "Transfer cancelled",
    "Transfer.Dispatched": "Transfer sent",
    "Transfer.Received": "Transfer received",
    "Transfer.Voided": "Transfer voided",
    "User.AccessChanged": "Role or sites changed",
    "User.Deactivated": "Account deactivated",
    "User.PasswordSet": "Password set",
    "User.Reactivated": "Account reactivated",
    "User.Registered": "Account created",
    "User.TokenIssued": "API token issued",
    "User.TokenRevoked": "API token revoked",
}


def event_in_words(event_type: str) -> str:
    """The words for a kind of event, or its own name for one not listed yet."""
    return EVENT_WORDS.get(event_type, event_type)
