"""Who a hand-out is for and how it left, as the forms offer them (inventory.domain.reach)."""

from __future__ import annotations

from typing import Any

from inventory.domain.reach import CHANNELS, NOT_RECORDED, UNKNOWN, Channel, channel_for_site
from inventory.projections import reach_queries
from inventory.web.pages.movements import option
from inventory.web.services import services

# The channels a visit or a shift can take; mail orders and partners have their own records.
VISIT_CHANNELS = (Channel.FIXED_SITE, Channel.OUTREACH, Channel.MOBILE_VAN)


def recipient_options(*, unknown: str | None = None) -> list[Any]:
    """The recipient types (with those an admin added); `unknown` labels a first choice of "not recorded"."""
    types = reach_queries.recipient_types(services().store)
    first = [option(UNKNOWN, unknown or NOT_RECORDED)] if unknown else []
    return [*first, *(option(code, label) for code, label in types.items())]


def channel_options(site_kind: str) -> list[Any]:
    """The channels a visit or shift at this kind of site can take, its usual one first."""
    usual = channel_for_site(site_kind)
    ways = [usual, *(way for way in VISIT_CHANNELS if way != usual)]
    return [option(way, CHANNELS[way]) for way in ways]
