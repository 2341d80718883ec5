"""Partner organisations: shelters, clinics, pharmacies and others the program supplies in bulk.

A partner is an organisation, never a person: it has a code, a name, a kind and the role of its
contact ("shelter manager"), not anyone's name, phone or address. Stock issued to a partner leaves
the site like any issue (`StockLedger.IssuedToPartner`, through a `PartnerIssue` named by the
client's key); the partner's report back for a period (what it handed out onward, reversals it
heard of, what it still holds) is an event on the partner, so two reports for overlapping periods
cannot both stand.
"""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum
from typing import Any
from uuid import NAMESPACE_URL, UUID, uuid5

from eventsourcing.domain import Aggregate, event

from inventory.domain.errors import InvalidInput, InvalidState
from inventory.domain.time_words import day_in_words


class PartnerKind(StrEnum):
    SHELTER = "shelter"
    CLINIC = "clinic"
    PHARMACY = "pharmacy"
    COMMUNITY_GROUP = "community_group"
    SCHOOL = "school"
    POLICE_OR_FIRE = "police_or_fire"
    OTHER = "other"


PARTNER_KINDS: dict[str, str] = {
    PartnerKind.SHELTER: "Shelter",
    PartnerKind.CLINIC: "Clinic",
    PartnerKind.PHARMACY: "Pharmacy",
    PartnerKind.COMMUNITY_GROUP: "Community group",
    PartnerKind.SCHOOL: "School",
    PartnerKind.POLICE_OR_FIRE: "Police or fire service",
    PartnerKind.OTHER: "Other",
}


def partner_id(code: str) -> UUID:
    return uuid5(NAMESPACE_URL, f"/partners/{code}")


def partner_issue_id(actor: str, key: str) -> UUID:
    """The id of the issue to a partner recorded by this person with this client key."""
    return uuid5(NAMESPACE_URL, f"/partner-issues/{actor.strip().lower()}/{key}")


class Partner(Aggregate):
    """An organisation the program supplies, with its reports back, one per period."""

    @staticmethod
    def create_id(code: str, **_: Any) -> UUID:
        return partner_id(code)

    class Registered(Aggregate.Created):
        code: str
        name: str
        kind: str
        contact_role: str
        actor: str

    class Changed(Aggregate.Event):
        name: str
        kind: str
        contact_role: str
        actor: str

    class Retired(Aggregate.Event):
        actor: str

    class ReportedBack(Aggregate.Event):
        """What the partner reported for a period: naloxone kits it handed out onward, overdose reversals
        it heard of, kits it still held at the end. A second report for the same period replaces the
        first (`revises` is True); a report for a period overlapping another is refused."""

        starts_on: date
        ends_on: date
        kits_distributed: int
        reversals_reported: int
        kits_remaining: int | None
        revises: bool
        actor: str
        occurred_at: datetime

        def apply(self, aggregate: Any) -> None:
            aggregate.reports[(self.starts_on, self.ends_on)] = {
                "kits_distributed": self.kits_distributed,
                "reversals_reported": self.reversals_reported,
                "kits_remaining": self.kits_remaining,
            }

    @event(Registered)
    def __init__(self, code: str, name: str, kind: str, contact_role: str, actor: str) -> None:
        self.code = code
        self.name = name
        self.kind = kind
        self.contact_role = contact_role
        self.retired = False
        self.reports: dict[tuple[date, date], dict[str, Any]] = {}

    @event(Changed)
    def change(self, name: str, kind: str, contact_role: str, actor: str) -> None:
        self.name = name
        self.kind = kind
        self.contact_role = contact_role

    @event(Retired)
    def retire(self, actor: str) -> None:
        self.retired = True

    def report_back(
        self,
        *,
        starts_on: date,
        ends_on: date,
        kits_distributed: int,
        reversals_reported: int,
        kits_remaining: int | None,
        actor: str,
        occurred_at: datetime,
    ) -> None:
        if ends_on < starts_on:
            raise InvalidInput("The period must end on or after the day it starts.", field="ends_on")
        for start, end in self.reports:
            if (start, end) != (starts_on, ends_on) and start <= ends_on and starts_on <= end:
                raise InvalidState(
                    f"{self.name} has already reported for {day_in_words(start)} to {day_in_words(end)}, "
                    "which overlaps this period. Report for the days after it, or open that report and change it.",
                    field="starts_on",
                )
        self.trigger_event(
            self.ReportedBack,
            starts_on=starts_on,
            ends_on=ends_on,
            kits_distributed=kits_distributed,
            reversals_reported=reversals_reported,
            kits_remaining=kits_remaining,
            revises=(starts_on, ends_on) in self.reports,
            actor=actor,
            occurred_at=occurred_at,
        )


class PartnerIssue(Aggregate):
    """Stock issued in bulk from a site to a partner. Lines hold the lots issued, so a repeat answers the same."""

    @staticmethod
    def create_id(key: str, actor: str, **_: Any) -> UUID:
        return partner_issue_id(actor, key)

    class Recorded(Aggregate.Created):
        key: str
        fingerprint: str
        site: str
        partner: str
        lines: list[dict[str, Any]]
        actor: str
        occurred_at: datetime

    @event(Recorded)
    def __init__(
        self,
        key: str,
        fingerprint: str,
        site: str,
        partner: str,
        lines: list[dict[str, Any]],
        actor: str,
        occurred_at: datetime,
    ) -> None:
        self.key = key
        self.fingerprint = fingerprint
        self.site = site
        self.partner = partner
        self.lines = lines
        self.actor = actor
        self.occurred_at = occurred_at
        self.voided: str | None = None

    class Voided(Aggregate.Event):
        """The issue undone (recorded by mistake): its stock goes back on its own business time, in the same
        save; it stays in the log, and the reports count it nowhere. `reason` is a VoidReason."""

        reason: str
        actor: str
        occurred_at: datetime

        def apply(self, aggregate: Any) -> None:
            aggregate.voided = self.reason

    def void(self, *, reason: str, actor: str, occurred_at: datetime) -> None:
        if getattr(self, "voided", None) is not None:
            raise InvalidState("This issue to a partner is void already.", field="id")
        self.trigger_event(self.Voided, reason=reason, actor=actor, occurred_at=occurred_at)
