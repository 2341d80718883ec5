"""Who a hand-out went to and how it left: recipient types, channels and naloxone refill reasons.

Funders ask for distribution by recipient ("collecting on behalf of"), by channel (fixed site,
outreach, mail, vending machine, partner) and refills by reason. Each is a code from a list, never
free text about a person. Hand-outs recorded before these were asked load as "unknown" (not
recorded), never a guess.
"""

from __future__ import annotations

from enum import StrEnum

UNKNOWN = "unknown"  # not recorded: every hand-out recorded before the question was asked
NOT_RECORDED = "Not recorded"


class Channel(StrEnum):
    """How stock left the program's hands."""

    FIXED_SITE = "fixed_site"
    OUTREACH = "outreach"
    MOBILE_VAN = "mobile_van"
    MAIL = "mail"
    VENDING_MACHINE = "vending_machine"
    PARTNER = "partner"


CHANNELS: dict[str, str] = {
    Channel.FIXED_SITE: "Fixed site",
    Channel.OUTREACH: "Outreach",
    Channel.MOBILE_VAN: "Mobile van",
    Channel.MAIL: "Mail",
    Channel.VENDING_MACHINE: "Vending machine",
    Channel.PARTNER: "Partner organisation",
}

# The recipient types every program has; an admin may add more (inventory.domain.catalog.RecipientType).
PERSON_WHO_USES_DRUGS = "person_who_uses_drugs"
RECIPIENTS: dict[str, str] = {
    PERSON_WHO_USES_DRUGS: "Person who uses drugs",
    "friend_or_family": "Friend or family member",
    "staff_other_org": "Staff of another organisation",
    "other": "Other",
}

# Stock issued in bulk to a partner organisation: not a person, so no recipient type of its own.
PARTNER_ORGANISATION = "partner_organisation"

# Why a naloxone kit is a refill: the choices offered. "lost" and "stolen", offered before
# "lost or stolen" replaced them, are still read (and accepted from phones that kept an older form).
REFILL_REASONS: dict[str, str] = {
    "used_on_overdose": "Used on an overdose",
    "lost_or_stolen": "Lost or stolen",
    "confiscated": "Confiscated",
    "expired": "Expired",
    "given_away": "Given to someone else",
    "first_kit": "First kit",
    "other": "Other",
}
EARLIER_REFILL_REASONS: dict[str, str] = {"lost": "Lost", "stolen": "Stolen"}
REFILL_REASONS_READ: dict[str, str] = {**REFILL_REASONS, **EARLIER_REFILL_REASONS}

# The channel a hand-out at a kind of site takes unless another is chosen.
SITE_CHANNELS: dict[str, str] = {
    "fixed": Channel.FIXED_SITE,
    "warehouse": Channel.FIXED_SITE,
    "mobile": Channel.MOBILE_VAN,
    "vending_machine": Channel.VENDING_MACHINE,
}


def channel_for_site(kind: str) -> str:
    """The channel a hand-out at this kind of site takes by default."""
    return SITE_CHANNELS.get(kind, Channel.FIXED_SITE)


def channel_label(code: str | None) -> str:
    return CHANNELS.get(code or UNKNOWN, NOT_RECORDED if code in (None, UNKNOWN) else str(code))


def refill_label(code: str | None) -> str:
    return REFILL_REASONS_READ.get(code or "", (code or "").replace("_", " "))
