"""Partner organisations: registering them, issuing them supplies in bulk, and their reports back.

An issue to a partner leaves the site like a visit's hand-out (lots first-expiry-first-out, or as
named), on its own date, through `StockLedger.IssuedToPartner`; it is named by the client's key, so
sending it twice records it once. What the partner hands out onward is its report back for a period,
kept apart from the program's own visits in every report.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any
from uuid import UUID

from inventory.application import rules as check
from inventory.application.core import InventoryCore
from inventory.domain import Partner, PartnerIssue, StockLedger, ledger_id, partner_id, partner_issue_id
from inventory.domain.errors import IdempotencyConflict, InvalidInput, NotFound
from inventory.domain.partners import PartnerKind
from inventory.domain.text import NAME_LENGTH, clean_code, clean_text
from inventory.domain.values import parse_enum

# What one report back may say (a partner hands out at most this many kits in a period).
REPORTED_KITS = check.WholeNumbers(0, 1_000_000)
REPORTED_REVERSALS = check.WholeNumbers(0, 100_000)


def partner_view(partner: Partner) -> dict[str, Any]:
    return {
        "code": partner.code,
        "name": partner.name,
        "kind": partner.kind,
        "contact_role": partner.contact_role,
        "retired": partner.retired,
    }


def issue_view(issue: PartnerIssue) -> dict[str, Any]:
    """An issue to a partner as recorded; the same for the first answer and every repeat."""
    return {
        "id": str(issue.id),
        "key": issue.key,
        "site": issue.site,
        "partner": issue.partner,
        "lines": [dict(line, lots=[dict(pick) for pick in line["lots"]]) for line in issue.lines],
        "occurred_at": issue.occurred_at,
        "recorded_at": issue.created_on,
        "actor": issue.actor,
        "voided": getattr(issue, "voided", None),
    }


class PartnerVerbs(InventoryCore):
    """Register partners, issue them supplies, record what they report back."""

    def register_partner(self, *, code: str, name: str, kind: str, contact_role: str, actor: str) -> dict[str, Any]:
        """Add a partner organisation. `contact_role` is a role ("shelter manager"), never a person's name."""
        code = clean_code(code, "code")
        partner = Partner(
            code=code,
            name=clean_text(name, "name", max_length=NAME_LENGTH),
            kind=parse_enum(PartnerKind, kind, "kind"),
            contact_role=clean_text(contact_role, "contact_role", max_length=NAME_LENGTH),
            actor=actor,
        )
        self._create(partner, f"A partner with code {code}", "code")
        return partner_view(partner)

    def change_partner(self, *, code: str, name: str, kind: str, contact_role: str, actor: str) -> dict[str, Any]:
        """Change a partner's name, kind or contact role."""
        new = (
            clean_text(name, "name", max_length=NAME_LENGTH),
            parse_enum(PartnerKind, kind, "kind"),
            clean_text(contact_role, "contact_role", max_length=NAME_LENGTH),
        )

        def attempt() -> dict[str, Any]:
            partner = self._partner(code, field="code", must_be_active=False)
            if (partner.name, partner.kind, partner.contact_role) != new:
                partner.change(name=new[0], kind=new[1], contact_role=new[2], actor=actor)
                self.save(partner)
            return partner_view(partner)

        return self._retrying([partner_id(clean_code(code, "code"))], attempt)

    def retire_partner(self, *, code: str, actor: str) -> dict[str, Any]:
        """The partner takes no more supplies; its issues and reports stay."""

        def attempt() -> dict[str, Any]:
            partner = self._partner(code, field="code", must_be_active=False)
            if not partner.retired:
                partner.retire(actor=actor)
                self.save(partner)
            return partner_view(partner)

        return self._retrying([partner_id(clean_code(code, "code"))], attempt)

    def issue_to_partner(
        self,
        *,
        key: str,
        site: str,
        partner: str,
        lines: list[dict[str, Any]],
        actor: str,
        occurred_at: datetime | None = None,
    ) -> dict[str, Any]:
        """Issue supplies from a site to a partner, in bulk; a repeat of the same key returns the first result."""
        key = check.client_key(key)
        site_code = clean_code(site, "site")
        partner_code = clean_code(partner, "partner")
        parsed = check.issue_lines(lines)
        digest = check.fingerprint(
            {
                "site": site_code,
                "partner": partner_code,
                "lines": sorted((line.sku, line.lot or "", line.quantity) for line in parsed),
                "occurred_at": occurred_at,
            }
        )
        moment = check.when(occurred_at, zone=self.zone)
        the_id = partner_issue_id(actor, key)

        def attempt() -> dict[str, Any]:
            earlier = self._get(PartnerIssue, the_id)
            if earlier is not None:
                if earlier.fingerprint != digest:
                    raise IdempotencyConflict(
                        "This request key was already used for a different issue to a partner. "
                        "Reload the form to get a new key and enter it again.",
                        field="key",
                    )
                return issue_view(earlier)
            place = self._site(site_code)
            receiver = self._partner(partner_code)

            def take(ledger: StockLedger, picks: list[dict[str, Any]]) -> None:
                ledger.issue_to_partner(
                    issue_id=the_id, partner=receiver.code, picks=picks, actor=actor, occurred_at=moment, zone=self.zone
                )

            ledgers, issued = self._issue_lines(place, parsed, moment, take)
            issue = PartnerIssue(
                key=key,
                fingerprint=digest,
                site=place.code,
                partner=receiver.code,
                lines=issued,
                actor=actor,
                occurred_at=moment,
            )
            self.save(issue, *ledgers)
            return issue_view(issue)

        ids: list[UUID] = [the_id, *(ledger_id(site_code, line.sku) for line in parsed)]
        return self._retrying(ids, attempt)

    def report_back(
        self,
        *,
        partner: str,
        starts_on: date | str,
        ends_on: date | str,
        kits_distributed: int,
        reversals_reported: int | None = 0,
        kits_remaining: int | None = None,
        actor: str,
    ) -> dict[str, Any]:
        """What a partner reports for a period; the same period again replaces its report."""
        first = check.a_date(starts_on, "starts_on", required=True)
        last = check.a_date(ends_on, "ends_on", required=True)
        assert first is not None and last is not None
        today = self.business_day(check.when(None))
        if last > today:
            raise InvalidInput("A report back covers days that have passed: the period may end today at the latest.",
                               field="ends_on")  # fmt: skip
        distributed = REPORTED_KITS.check(kits_distributed, "kits_distributed")
        reversals = check.reported(reversals_reported, "reversals_reported", REPORTED_REVERSALS)
        remaining = None if kits_remaining is None else REPORTED_KITS.check(kits_remaining, "kits_remaining")
        code = clean_code(partner, "partner")

        def attempt() -> dict[str, Any]:
            found = self._partner(code, must_be_active=False)
            found.report_back(
                starts_on=first,
                ends_on=last,
                kits_distributed=distributed,
                reversals_reported=reversals,
                kits_remaining=remaining,
                actor=actor,
                occurred_at=check.when(None),
            )
            self.save(found)
            return {"partner": found.code, "starts_on": first, "ends_on": last, **found.reports[(first, last)]}

        return self._retrying([partner_id(code)], attempt)

    def partner_issue(self, issue_id: UUID | str) -> dict[str, Any]:
        """An issue to a partner as recorded, by its id."""
        try:
            the_id = issue_id if isinstance(issue_id, UUID) else UUID(str(issue_id))
        except ValueError:
            raise NotFound(f"There is no issue to a partner with id {issue_id}.", field="id") from None
        found = self._get(PartnerIssue, the_id)
        if found is None:
            raise NotFound(f"There is no issue to a partner with id {issue_id}.", field="id")
        return issue_view(found)
