"""The audit log: every event with its position, when it was recorded, who did it, and what it did."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import date
from typing import Any

from inventory.domain import (
    Encounter,
    FundingSource,
    Item,
    KitRecipe,
    MailOrder,
    Partner,
    PartnerIssue,
    PurchaseOrder,
    Recall,
    RecipientType,
    ShiftTally,
    Site,
    StockLedger,
    Transfer,
    User,
)
from inventory.domain.alerts import Alert, Digest
from inventory.domain.discards import DISCARD_REASONS, DiscardedVisit
from inventory.domain.holds import DISPOSITIONS, HOLD_REASONS
from inventory.domain.packs import units_in_words
from inventory.domain.partners import PARTNER_KINDS
from inventory.domain.reach import RECIPIENTS, UNKNOWN, channel_label
from inventory.domain.time_words import day_in_words
from inventory.domain.values import VOID_REASONS
from inventory.projections.base import Projection, Recorded, event_name
from inventory.projections.store import Tx


class AuditLog(Projection):
    name = "audit_log"
    version = 7  # 2: alert and digest events are summarised in words; 3: shift tallies; 4: staff accounts;
    # 5: a shift's day in words; 6: an alert's figures without the ones it has not got, its expiry in words;
    # 7: who a hand-out was for and how it left; partners, mail orders and recipient types
    tables = ("audit_log",)
    ddl = (
        """CREATE TABLE IF NOT EXISTS audit_log (
            position BIGINT PRIMARY KEY, recorded_at TEXT NOT NULL, actor TEXT NOT NULL,
            aggregate_id TEXT NOT NULL, aggregate_type TEXT NOT NULL, event_type TEXT NOT NULL,
            site TEXT, business_date TEXT, summary TEXT NOT NULL)""",
        # The history a page at a time, led by the filter given (queries.audit_page): newest first by position,
        # or, within days of recording, newest recorded first.
        "CREATE INDEX IF NOT EXISTS audit_log_site ON audit_log (site, position)",
        "CREATE INDEX IF NOT EXISTS audit_log_actor ON audit_log (actor, position)",
        "CREATE INDEX IF NOT EXISTS audit_log_event ON audit_log (event_type, position)",
        "CREATE INDEX IF NOT EXISTS audit_log_when ON audit_log (recorded_at, position)",
        "CREATE INDEX IF NOT EXISTS audit_log_actor_when ON audit_log (actor, recorded_at, position)",
        "CREATE INDEX IF NOT EXISTS audit_log_event_when ON audit_log (event_type, recorded_at, position)",
        "CREATE INDEX IF NOT EXISTS audit_log_site_when ON audit_log (site, recorded_at, position)",
    )

    def process(self, batch: Sequence[Recorded], tx: Tx) -> None:
        rows = []
        for recorded in batch:
            event = recorded.event
            name = event_name(event)
            rows.append(
                (
                    recorded.position,
                    recorded.recorded_at,
                    getattr(event, "actor", None) or "system",
                    str(event.originator_id),
                    name.split(".")[0],
                    name,
                    _site(event),
                    recorded.day or None,
                    summarise(event),
                )
            )
        tx.executemany(
            """INSERT INTO audit_log (position, recorded_at, actor, aggregate_id, aggregate_type, event_type,
               site, business_date, summary) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)""",
            rows,
        )


def _site(event: Any) -> str | None:
    for attribute in ("site", "from_site", "code"):
        value = getattr(event, attribute, None)
        if isinstance(value, str) and not isinstance(event, FundingSource.Event | Partner.Event | RecipientType.Event):
            return value
    return None


def _lots(rows: list[dict[str, Any]]) -> str:
    return ", ".join(f"{row['quantity']} from lot {row['lot']}" for row in rows)


def _lines(lines: list[dict[str, Any]]) -> str:
    return ", ".join(f"{line['sku']} x{line['quantity']}" for line in lines)


def _shortfall(shortfall: list[dict[str, Any]] | None) -> str:
    """A closed order's shortfall; nothing when it was not recorded (orders closed before it was)."""
    if shortfall is None:
        return ""
    return f"; short: {_lines(shortfall)}" if shortfall else " (all received)"


def _who(event: Any) -> str:
    """Who a hand-out was for and how it left, when recorded: "; for a friend or family member, collecting for
    3 others; outreach" (a type an admin added is named by its code)."""
    recipient, channel = getattr(event, "recipient", UNKNOWN), getattr(event, "channel", UNKNOWN)
    parts = []
    if recipient != UNKNOWN:
        parts.append("for " + RECIPIENTS.get(recipient, recipient).lower())
    if event.for_others:
        parts.append(f"collecting for {event.for_others} other(s)")
    if channel != UNKNOWN:
        parts.append(channel_label(channel).lower())
    return f"; {', '.join(parts)}" if parts else ""


def _access(role: str, sites: list[str]) -> str:
    return role.replace("_", " ") + (f" at {', '.join(sites)}" if sites else " (all sites)")


_SUMMARIES: dict[type, Callable[[Any], str]] = {
    # Staff accounts: never a secret, nor a token's label (typed text); the hashes stay out of the log's pages.
    User.Registered: lambda e: f"Account {e.email} added: {_access(e.role, e.sites)}",
    User.AccessChanged: lambda e: f"Access changed to {_access(e.role, e.sites)}",
    User.PasswordSet: lambda e: "Password set (everyone signed in with the old one is signed out)",
    User.Deactivated: lambda e: "Account deactivated: signed out, API tokens refused",
    User.Reactivated: lambda e: "Account reactivated",
    User.TokenIssued: lambda e: f"API token {e.token_id} issued",
    User.TokenRevoked: lambda e: f"API token {e.token_id} revoked",
    Item.Registered: lambda e: f"Item {e.sku} registered: {e.name} ({e.category}, per {e.unit})",
    Item.Retired: lambda e: "Item retired",
    Item.UnitsChanged: lambda e: f"Packs and doses set: {units_in_words(e.packs, e.doses_per_unit)}",
    Site.Registered: lambda e: f"Site {e.code} registered: {e.name} ({e.kind})",
    Site.StockLevelSet: lambda e: (
        f"Stock level for {e.sku}: reorder at {e.reorder_point}, par {e.par_level}, lead time {e.lead_time_days} days"
    ),
    Site.Closed: lambda e: "Site closed",
    Site.Reopened: lambda e: "Site reopened",
    FundingSource.Registered: lambda e: (
        f"Funding source {e.code} registered: {e.name}{' (federal)' if e.federal else ''}"
        + "".join(f"; {rule.describe()}" for rule in e.restrictions)
    ),
    FundingSource.RestrictionsChanged: lambda e: (
        "Funding rules changed: " + ("; ".join(rule.describe() for rule in e.restrictions) or "none")
    ),
    StockLedger.Opened: lambda e: f"Ledger opened for {e.sku} at {e.site}",
    StockLedger.Received: lambda e: (
        f"Received {e.quantity} {e.sku} lot {e.lot} at {e.site}, funded by {e.funding_source}"
        + (f", expires {e.expires_on}" if e.expires_on else "")
        + (f", PO {e.purchase_order}" if e.purchase_order else "")
        + (f", maker {e.manufacturer} lot {e.manufacturer_lot}" if e.manufacturer_lot else "")
    ),
    StockLedger.LotHeld: lambda e: (
        f"Held {e.sku} lot {e.lot} at {e.site}: {HOLD_REASONS.get(e.reason, e.reason).lower()}"
        + (f" (recall {e.recall})" if e.recall else "")
    ),
    StockLedger.LotReleased: lambda e: f"Released {e.sku} lot {e.lot} at {e.site} from its hold",
    StockLedger.WrittenOff: lambda e: (
        f"Wrote off {e.quantity} {e.sku} of held lot {e.lot} at {e.site}: "
        f"{DISPOSITIONS.get(e.disposition, e.disposition).lower()} ({HOLD_REASONS.get(e.reason, e.reason).lower()})"
    ),
    StockLedger.UsedInKits: lambda e: f"Put {e.sku} at {e.site} into kits of {e.kit_sku}: {_lots(e.picks)}",
    StockLedger.BackFromKits: lambda e: (
        f"Back in {e.sku} at {e.site} from kits of {e.kit_sku} taken apart: {_lots(e.lots)}"
    ),
    StockLedger.KitsAssembled: lambda e: f"Made kits of {e.sku} at {e.site}: {_lots(e.lots)}",
    StockLedger.KitsTakenApart: lambda e: f"Took kits of {e.sku} at {e.site} apart: {_lots(e.picks)}",
    KitRecipe.Started: lambda e: f"Kit {e.kit_sku} given a recipe",
    KitRecipe.Set: lambda e: (
        f"From {day_in_words(e.effective_from)} one kit holds "
        + ", ".join(f"{part['quantity']} {part['sku']}" for part in e.components)
    ),
    Recall.Announced: lambda e: (
        f"Recall of {e.manufacturer} lot {e.manufacturer_lot}"
        + (f" (notice {e.notice})" if e.notice else "")
        + ": "
        + (", ".join(f"{lot['sku']} lot {lot['lot']}" for lot in e.lots) or "no lot of it received yet")
    ),
    Recall.LotCovered: lambda e: f"Recall covers {e.sku} lot {e.lot} too (received after the recall)",
    Recall.Closed: lambda e: "Recall closed: every unit accounted for",
    StockLedger.Distributed: lambda e: f"Handed out {e.sku} at {e.site}: {_lots(e.picks)}",
    StockLedger.Dispatched: lambda e: f"Sent {e.sku} from {e.site} to {e.to_site}: {_lots(e.picks)}",
    StockLedger.Arrived: lambda e: f"Arrived {e.sku} at {e.site} from {e.from_site}: {_lots(e.lots)}",
    StockLedger.Returned: lambda e: f"Back in {e.sku} at {e.site} (transfer to {e.to_site} cancelled): {_lots(e.lots)}",
    StockLedger.Adjusted: lambda e: f"Adjusted {e.sku} lot {e.lot} at {e.site} by {e.quantity:+d} ({e.reason})",
    StockLedger.Counted: lambda e: f"Counted {e.counted} {e.sku} in lot {e.lot} at {e.site} (variance {e.variance:+d})",
    StockLedger.CountRestated: lambda e: (
        f"Count of {e.sku} lot {e.lot} at {e.site} (entry {e.count}) restated from variance {e.before:+d} to "
        f"{e.after:+d} by entry {e.because}, dated before the count and recorded after it"
    ),
    StockLedger.EntryVoided: lambda e: (
        f"Voided entry {e.entry} ({e.kind.replace('_', ' ')}) of {e.sku} at {e.site}: "
        f"{VOID_REASONS.get(e.reason, e.reason)}; {_lots(e.lots)}"
    ),
    StockLedger.EntryCorrected: lambda e: (
        f"Corrected entry {e.entry} ({e.kind.replace('_', ' ')}) of {e.sku} lot {e.lot} at {e.site} from {e.was} "
        f"to {e.now}: {VOID_REASONS.get(e.reason, e.reason)}"
    ),
    Encounter.Recorded: lambda e: (
        f"Encounter at {e.site}: {_lines(e.lines)}"
        + (f"; {e.reversals_reported} reversal(s) reported" if e.reversals_reported else "")
        + (f"; {e.syringes_collected} syringes collected" if e.syringes_collected else "")
        + _who(e)
    ),
    Encounter.Voided: lambda e: f"Visit voided: {VOID_REASONS.get(e.reason, e.reason)}",
    ShiftTally.Voided: lambda e: f"Shift tally voided: {VOID_REASONS.get(e.reason, e.reason)}",
    StockLedger.HandedOutOnShift: lambda e: f"Handed out on a shift: {e.sku} at {e.site}: {_lots(e.picks)}",
    ShiftTally.Recorded: lambda e: (
        f"Shift tally at {e.site} on {day_in_words(e.shift_date)}, {e.starts_at} to {e.ends_at}: {e.visits} visit(s)"
        + (f", {_lines(e.lines)}" if e.lines else "")
        + (f"; {e.reversals_reported} reversal(s) reported" if e.reversals_reported else "")
        + (f"; {e.syringes_collected} syringes collected" if e.syringes_collected else "")
        + _who(e)
    ),
    DiscardedVisit.Discarded: lambda e: (
        f"Visit kept offline at {e.site} discarded, refused as {e.refused_because.replace('_', ' ')}: "
        f"{DISCARD_REASONS.get(e.reason, e.reason)}" + (f" (asked for {_lines(e.lines)})" if e.lines else "")
    ),
    StockLedger.IssuedToPartner: lambda e: f"Issued {e.sku} at {e.site} to partner {e.partner}: {_lots(e.picks)}",
    StockLedger.Mailed: lambda e: f"Mailed {e.sku} from {e.site}: {_lots(e.picks)}",
    StockLedger.MailReturned: lambda e: f"Back in {e.sku} at {e.site} (parcel returned): {_lots(e.lots)}",
    RecipientType.Registered: lambda e: f"Recipient type {e.code} added: {e.name}",
    RecipientType.Retired: lambda e: "Recipient type retired",
    Partner.Registered: lambda e: (
        f"Partner {e.code} added: {e.name} ({PARTNER_KINDS.get(e.kind, e.kind).lower()}), contact: {e.contact_role}"
    ),
    Partner.Changed: lambda e: (
        f"Partner changed to {e.name} ({PARTNER_KINDS.get(e.kind, e.kind).lower()}), contact: {e.contact_role}"
    ),
    Partner.Retired: lambda e: "Partner retired: it takes no more supplies",
    Partner.ReportedBack: lambda e: (
        f"Partner {'report changed' if e.revises else 'reported'} for {day_in_words(e.starts_on)} to "
        f"{day_in_words(e.ends_on)}: {e.kits_distributed} naloxone kit(s) handed out onward, "
        f"{e.reversals_reported} reversal(s) reported"
        + (f", {e.kits_remaining} kit(s) left" if e.kits_remaining is not None else "")
    ),
    PartnerIssue.Recorded: lambda e: f"Issued from {e.site} to partner {e.partner}: {_lines(e.lines)}",
    PartnerIssue.Voided: lambda e: f"Issue to a partner voided: {VOID_REASONS.get(e.reason, e.reason)}",
    MailOrder.Sent: lambda e: (
        f"Mail order from {e.site} sent by {e.carrier}, tracking {e.tracking}: {_lines(e.lines)}" + _who(e)
    ),
    MailOrder.CameBack: lambda e: "Mail order's parcel came back undelivered: its stock is back",
    MailOrder.Voided: lambda e: f"Mail order voided: {VOID_REASONS.get(e.reason, e.reason)}",
    Transfer.Dispatched: lambda e: f"Transfer {e.from_site} to {e.to_site} dispatched: {_lines(e.lines)}",
    Transfer.Received: lambda e: (
        "Transfer received" + (f"; short: {_lines(e.shortfall)}" if e.shortfall else " in full")
    ),
    Transfer.Cancelled: lambda e: f"Transfer cancelled: {e.reason}",
    Transfer.Voided: lambda e: f"Transfer voided: {VOID_REASONS.get(e.reason, e.reason)}",
    PurchaseOrder.Raised: lambda e: (
        f"Purchase order {e.number} raised for {e.site} from {e.supplier}, paid by {e.funding_source}: "
        f"{_lines(e.lines)}"
    ),
    PurchaseOrder.Submitted: lambda e: "Purchase order submitted",
    PurchaseOrder.ReceiptRecorded: lambda e: f"Purchase order received: {_lines(e.lines)}",
    PurchaseOrder.Cancelled: lambda e: f"Purchase order cancelled: {e.reason}",
    PurchaseOrder.Closed: lambda e: "Purchase order closed" + _shortfall(e.shortfall),
    Alert.Started: lambda e: (
        f"Alert kept for {e.kind.replace('_', ' ')}: {e.sku} at {e.site}" + (f", lot {e.lot}" if e.lot else "")
    ),
    Alert.Raised: lambda e: "Alert raised" + _figures(e.details),
    Alert.Notified: lambda e: f"Alert (episode {e.episode}) sent by {e.channel} to {', '.join(e.recipients)}",
    Alert.Acknowledged: lambda e: f"Alert (episode {e.episode}) acknowledged",
    Alert.Resolved: lambda e: "Alert resolved" + _figures(e.details),
    Alert.Snoozed: lambda e: f"Alert (episode {e.episode}) snoozed until {day_in_words(e.until)}",
    Alert.Assigned: lambda e: f"Alert (episode {e.episode}) assigned to {e.to}",
    Digest.Prepared: lambda e: (
        f"Daily digest for {e.day} prepared: {len(e.alert_ids)} open alert(s) for {len(e.recipients)} people"
    ),
    Digest.Sent: lambda e: f"Daily digest sent to {', '.join(e.recipients)}",
}


def _figures(details: dict[str, Any]) -> str:
    """An alert's figures in words: "(on hand 0, days of supply 3)"; a figure it has not got is left out."""
    shown = [f"{words} {details[key]}" for key, words in (("on_hand", "on hand"), ("days_of_supply", "days of supply"))
             if details.get(key) is not None]  # fmt: skip
    if details.get("expires_on"):
        shown.append(f"expires {day_in_words(date.fromisoformat(str(details['expires_on'])))}")
    return f" ({', '.join(shown)})" if shown else ""


def summarise(event: Any) -> str:
    """A sentence an auditor can read; the event type name for anything without one."""
    describe = _SUMMARIES.get(type(event))
    return describe(event) if describe else event_name(event)
