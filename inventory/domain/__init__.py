"""The domain model: aggregates, their events and the errors a coordinator can act on.

Imports only the standard library and `eventsourcing`.
"""

from inventory.domain.alerts import Alert, AlertKind, alert_id
from inventory.domain.catalog import FundingSource, Item, RecipientType, Site
from inventory.domain.discards import DISCARD_REASONS, DiscardedVisit, discarded_visit_id
from inventory.domain.encounter import Encounter, dispense_id, encounter_id
from inventory.domain.kits import KitRecipe, recipe_id
from inventory.domain.ledger import StockLedger, ledger_id
from inventory.domain.mail import MailOrder, mail_order_id
from inventory.domain.partners import Partner, PartnerIssue, partner_id, partner_issue_id
from inventory.domain.purchasing import PurchaseOrder
from inventory.domain.recalls import Recall, recall_id
from inventory.domain.tally import ShiftTally, tally_id
from inventory.domain.transfer import Transfer
from inventory.domain.users import User

__all__ = [
    "DISCARD_REASONS",
    "Alert",
    "AlertKind",
    "DiscardedVisit",
    "Encounter",
    "FundingSource",
    "Item",
    "KitRecipe",
    "MailOrder",
    "Partner",
    "PartnerIssue",
    "PurchaseOrder",
    "Recall",
    "RecipientType",
    "ShiftTally",
    "Site",
    "StockLedger",
    "Transfer",
    "User",
    "alert_id",
    "discarded_visit_id",
    "dispense_id",
    "encounter_id",
    "ledger_id",
    "mail_order_id",
    "partner_id",
    "partner_issue_id",
    "recall_id",
    "recipe_id",
    "tally_id",
]
