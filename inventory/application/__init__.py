"""The inventory application: verbs that take and return plain values."""

from __future__ import annotations

from inventory.application.alerts import AlertVerbs
from inventory.application.catalog import CatalogVerbs
from inventory.application.corrections import CorrectionVerbs
from inventory.application.discards import DiscardVerbs
from inventory.application.kits import KitVerbs
from inventory.application.mail import MailVerbs
from inventory.application.partners import PartnerVerbs
from inventory.application.purchasing import PurchasingVerbs
from inventory.application.recalls import RecallVerbs
from inventory.application.stock import StockVerbs
from inventory.application.tallies import TallyVerbs
from inventory.application.transfers import TransferVerbs
from inventory.application.users import UserVerbs
from inventory.application.vending import VendingVerbs


class InventoryApplication(
    CatalogVerbs,
    StockVerbs,
    TallyVerbs,
    PartnerVerbs,
    MailVerbs,
    CorrectionVerbs,
    DiscardVerbs,
    KitVerbs,
    TransferVerbs,
    PurchasingVerbs,
    RecallVerbs,
    UserVerbs,
    AlertVerbs,
    VendingVerbs,
):
    """Every change to stock goes through one of these verbs and lands as events in the log."""


__all__ = ["InventoryApplication"]
