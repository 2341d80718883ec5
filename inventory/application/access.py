"""Who may do what, and where: one table that the web pages and the API both enforce."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from enum import StrEnum

from inventory.application.rules import CORRECTION_WINDOW
from inventory.domain.users import Role


class Action(StrEnum):
    READ_STOCK = "read_stock"
    RECORD_ENCOUNTER = "record_encounter"
    RECEIVE_STOCK = "receive_stock"
    TRANSFER = "transfer"
    ADJUST_STOCK = "adjust_stock"
    COUNT_STOCK = "count_stock"
    MANAGE_CATALOG = "manage_catalog"
    SET_LEVELS = "set_levels"
    PURCHASE = "purchase"
    READ_ALERTS = "read_alerts"
    ACKNOWLEDGE_ALERTS = "acknowledge_alerts"
    READ_AUDIT = "read_audit"
    EXPORT = "export"
    MANAGE_USERS = "manage_users"
    SUPPLY_PARTNERS = "supply_partners"  # issue stock to partner organisations, read their pages
    REPORT_FOR_PARTNER = "report_for_partner"  # enter a partner's report back (a partner account: its own only)
    RECALL = "recall"  # record a maker's recall (it holds the lots everywhere) and close it
    READ_RECALLS = "read_recalls"  # see every recall and where each unit went, at every site


_ALL = frozenset(Action)
PERMISSIONS: dict[str, frozenset[Action]] = {
    Role.ADMIN: _ALL,
    Role.COORDINATOR: frozenset(
        {
            Action.READ_STOCK,
            Action.RECORD_ENCOUNTER,
            Action.RECEIVE_STOCK,
            Action.TRANSFER,
            Action.ADJUST_STOCK,
            Action.COUNT_STOCK,
            Action.READ_ALERTS,
            Action.SUPPLY_PARTNERS,
            Action.REPORT_FOR_PARTNER,
        }
    ),
    Role.PURCHASING: frozenset(
        {
            Action.READ_STOCK,
            Action.RECEIVE_STOCK,
            Action.SET_LEVELS,
            Action.PURCHASE,
            Action.READ_ALERTS,
            Action.ACKNOWLEDGE_ALERTS,
            Action.RECALL,
            Action.READ_RECALLS,
        }
    ),
    Role.GRANT_MANAGER: frozenset({Action.READ_STOCK, Action.EXPORT, Action.READ_ALERTS, Action.READ_RECALLS}),
    Role.AUDITOR: frozenset(
        {Action.READ_STOCK, Action.READ_ALERTS, Action.READ_AUDIT, Action.EXPORT, Action.READ_RECALLS}
    ),
    Role.PARTNER: frozenset({Action.REPORT_FOR_PARTNER}),
}

# Roles that see and act only at the sites they are given; every other role covers all sites. A partner
# account sees no site at all.
SITE_SCOPED = frozenset({Role.COORDINATOR, Role.PARTNER})


@dataclass(frozen=True)
class Principal:
    """The person behind a request: signed in on a page or holding an API token."""

    email: str
    role: str
    sites: frozenset[str]
    partner: str | None = None  # a partner account's organisation

    def can(self, action: Action, site: str | None = None) -> bool:
        """May this person do `action` (at `site`, when the action concerns one)?"""
        if action not in PERMISSIONS.get(self.role, frozenset()):
            return False
        if site is None or self.role not in SITE_SCOPED:
            return True
        return site.upper() in self.sites

    def may_report_for(self, partner: str) -> bool:
        """May this person enter (and read) the reports back of this partner organisation?"""
        if self.role == Role.PARTNER:
            return self.partner == partner
        return self.can(Action.REPORT_FOR_PARTNER)

    def visible_sites(self, all_sites: list[str]) -> list[str]:
        """The sites whose data this person may see."""
        if self.role in SITE_SCOPED:
            return [site for site in all_sites if site in self.sites]
        return list(all_sites)

    @property
    def all_sites(self) -> bool:
        return self.role not in SITE_SCOPED

    @property
    def correction_window(self) -> timedelta | None:
        """How long after recording an entry this person may void or correct it (None: always)."""
        return None if self.role == Role.ADMIN else CORRECTION_WINDOW
