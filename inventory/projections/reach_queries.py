"""Who it went to: recipient types, partner organisations and their reports, and hand-outs by channel."""

from __future__ import annotations

import json
from datetime import date
from typing import Any

from inventory.domain.reach import NOT_RECORDED, PARTNER_ORGANISATION, RECIPIENTS, UNKNOWN, channel_label
from inventory.projections.report_queries import Reader


def recipient_types(store: Reader, *, active_only: bool = True) -> dict[str, str]:
    """Every recipient type's label by code: the built-in ones first, then those an admin added."""
    rows = store.fetchall(
        "SELECT code, name FROM recipient_types" + (" WHERE retired = 0" if active_only else "") + " ORDER BY name"
    )
    return {**RECIPIENTS, **{str(code): str(name) for code, name in rows}}


def recipient_label(labels: dict[str, str], code: str | None) -> str:
    """A recipient type in words; "Not recorded" for hand-outs recorded before the question was asked."""
    if code in (None, UNKNOWN):
        return NOT_RECORDED
    if code == PARTNER_ORGANISATION:
        return "A partner organisation"
    return labels.get(str(code), str(code))


def partners(store: Reader, *, active_only: bool = False) -> list[dict[str, Any]]:
    """Every partner organisation (code, name, kind, contact role, retired), by name."""
    rows = store.fetchall(
        "SELECT code, name, kind, contact_role, retired FROM partners"
        + (" WHERE retired = 0" if active_only else "")
        + " ORDER BY name, code"
    )
    keys = ("code", "name", "kind", "contact_role", "retired")
    return [dict(zip(keys, (c, n, k, r, bool(x)), strict=True)) for c, n, k, r, x in rows]


def partner(store: Reader, code: str) -> dict[str, Any] | None:
    return next((row for row in partners(store) if row["code"] == code), None)


def partner_reports(
    store: Reader, partner: str | None = None, start: date | None = None, end: date | None = None
) -> list[dict[str, Any]]:
    """Partners' reports back, newest period first; with `start` and `end`, those whose period ends within them."""
    clauses, params = ["1 = 1"], []
    if partner is not None:
        clauses.append("partner = ?")
        params.append(partner)
    if start is not None and end is not None:
        clauses.append("ends_on BETWEEN ? AND ?")
        params += [start.isoformat(), end.isoformat()]
    keys = (
        "partner",
        "starts_on",
        "ends_on",
        "kits_distributed",
        "reversals_reported",
        "kits_remaining",
        "recorded_at",
        "actor",
        "revisions",
    )
    rows = store.fetchall(
        f"SELECT {', '.join(keys)} FROM partner_reports WHERE {' AND '.join(clauses)} ORDER BY starts_on DESC, partner",
        params,
    )
    return [dict(zip(keys, row, strict=True)) for row in rows]


def _filters(**given: str | None) -> tuple[str, list[Any]]:
    """ " AND site = ? AND ..." for the filters given (None: any)."""
    clause, params = "", []
    for column, value in given.items():
        if value:
            clause += f" AND {column} = ?"
            params.append(value)
    return clause, params


def reach_by_channel(
    store: Reader, start: date, end: date, site: str | None = None, funding_source: str | None = None
) -> list[dict[str, Any]]:
    """Units handed out by channel, recipient type and item in a period (partners' and mail's included), at one
    site or all, paid by one funding source or any."""
    clause, params = _filters(site=site, funding_source=funding_source)
    rows = store.fetchall(
        f"""SELECT channel, recipient, sku, SUM(quantity) FROM daily_reach
            WHERE business_date BETWEEN ? AND ? {clause}
            GROUP BY channel, recipient, sku HAVING SUM(quantity) <> 0 ORDER BY channel, recipient, sku""",
        [start.isoformat(), end.isoformat(), *params],
    )
    return [
        {"channel": c, "channel_label": channel_label(c), "recipient": r, "sku": s, "quantity": int(q)}
        for c, r, s, q in rows
    ]


def contacts_by_channel(store: Reader, start: date, end: date, site: str | None = None) -> list[dict[str, Any]]:
    """Contacts (visits, visits on tallies, parcels, dispenses) by channel and recipient type, with those
    collecting for others and about how many people they reach."""
    clause, params = _filters(site=site)
    rows = store.fetchall(
        f"""SELECT channel, recipient, SUM(contacts), SUM(collecting_for_others), SUM(people_reached)
            FROM daily_contacts WHERE business_date BETWEEN ? AND ? {clause}
            GROUP BY channel, recipient HAVING SUM(contacts) <> 0 OR SUM(people_reached) <> 0
            ORDER BY channel, recipient""",
        [start.isoformat(), end.isoformat(), *params],
    )
    keys = ("channel", "recipient", "contacts", "collecting_for_others", "people_reached")
    return [dict(zip(keys, (c, r, int(n), int(f), int(p)), strict=True)) for c, r, n, f, p in rows]


def partner_issues(
    store: Reader, partner: str | None, start: date, end: date, *, voided: bool = False
) -> list[dict[str, Any]]:
    """Issues to partners in a period (one partner's, or all), newest first, lines decoded; voided ones only
    when asked."""
    keys = ("id", "site", "partner", "business_date", "occurred_at", "actor", "lines", "voided")
    clauses = ["business_date BETWEEN ? AND ?", "1 = 1" if voided else "voided IS NULL"]
    params: list[Any] = [start.isoformat(), end.isoformat()]
    if partner is not None:
        clauses.append("partner = ?")
        params.append(partner)
    rows = store.fetchall(
        f"SELECT {', '.join(keys)} FROM partner_issues WHERE {' AND '.join(clauses)} ORDER BY position DESC", params
    )
    return [dict(zip(keys, row, strict=True), lines=json.loads(row[6])) for row in rows]


def mail_orders(store: Reader, site: str | None, start: date, end: date) -> list[dict[str, Any]]:
    """Mail orders sent in a period (one site's, or all), newest first, lines decoded."""
    clause, params = _filters(site=site)
    keys = (
        "id", "site", "business_date", "occurred_at", "actor", "lines", "carrier", "tracking", "recipient",
        "for_others", "returned_on", "voided",
    )  # fmt: skip
    rows = store.fetchall(
        f"""SELECT {", ".join(keys)} FROM mail_orders WHERE business_date BETWEEN ? AND ? {clause}
            ORDER BY position DESC""",
        [start.isoformat(), end.isoformat(), *params],
    )
    return [dict(zip(keys, row, strict=True), lines=json.loads(row[5])) for row in rows]
