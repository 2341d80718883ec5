"""What was handed out: each encounter and shift tally, and daily totals by site, item and funding source.

A shift tally's visits are counted with the encounters (`daily_encounters.encounters`), and kept apart
as well (`tally_visits`), as is what tallies handed out (`daily_distribution.from_tallies`, part of
`quantity`), so reports can say which figures came from tallies. A voided visit or tally keeps its row (marked
`voided`, with the reason) and leaves every daily total, on its own date.

Who it went to and how (inventory.domain.reach): each hand-out's units by day, site, item, channel
and recipient type (`daily_reach`), and its contacts with the people they reach when collecting for
others (`daily_contacts`). Hand-outs recorded before these were asked are under "unknown".

Issues to partner organisations (`partner_issues`) and mail orders (`mail_orders`) have rows of their
own and count in `daily_reach` under their channel; never in the visits' totals. A parcel that came
back leaves the mail channel's totals on the day it came back, as its stock comes back that day.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Sequence
from typing import Any

from inventory.domain import Encounter, MailOrder, PartnerIssue, ShiftTally, StockLedger
from inventory.domain.reach import PARTNER_ORGANISATION, Channel
from inventory.domain.values import Category
from inventory.projections.base import Projection, Recorded, to_json
from inventory.projections.store import Tx


class Distribution(Projection):
    name = "distribution"
    # 2: shift tallies; 3: voids (a voided visit or tally stays, marked, out of the totals); 4: recipients,
    # channels, partner issues and mail orders; 5: the parts of kits handed out, by each part's funder
    version = 5
    tables = (
        "encounters",
        "shift_tallies",
        "daily_distribution",
        "daily_encounters",
        "daily_reach",
        "daily_contacts",
        "partner_issues",
        "mail_orders",
        "kit_makeup",
        "daily_kit_parts",
    )
    ddl = (
        """CREATE TABLE IF NOT EXISTS encounters (
            id TEXT PRIMARY KEY, position BIGINT NOT NULL, site TEXT NOT NULL, business_date TEXT NOT NULL,
            occurred_at TEXT NOT NULL, recorded_at TEXT NOT NULL, participant_code TEXT,
            reversals_reported INTEGER NOT NULL, syringes_collected INTEGER NOT NULL, refill_reason TEXT,
            actor TEXT NOT NULL, lines TEXT NOT NULL, voided TEXT, voided_at TEXT,
            recipient TEXT NOT NULL, for_others INTEGER, channel TEXT NOT NULL)""",
        "CREATE INDEX IF NOT EXISTS encounters_date ON encounters (business_date, site)",
        """CREATE TABLE IF NOT EXISTS shift_tallies (
            id TEXT PRIMARY KEY, position BIGINT NOT NULL, site TEXT NOT NULL, business_date TEXT NOT NULL,
            starts_at TEXT NOT NULL, ends_at TEXT NOT NULL, recorded_at TEXT NOT NULL, visits INTEGER NOT NULL,
            reversals_reported INTEGER NOT NULL, syringes_collected INTEGER NOT NULL, actor TEXT NOT NULL,
            lines TEXT NOT NULL, voided TEXT, voided_at TEXT,
            recipient TEXT NOT NULL, for_others INTEGER, channel TEXT NOT NULL)""",
        "CREATE INDEX IF NOT EXISTS shift_tallies_date ON shift_tallies (business_date, site)",
        """CREATE TABLE IF NOT EXISTS daily_distribution (
            business_date TEXT NOT NULL, site TEXT NOT NULL, sku TEXT NOT NULL, funding_source TEXT NOT NULL,
            quantity BIGINT NOT NULL, encounters BIGINT NOT NULL, from_tallies BIGINT NOT NULL DEFAULT 0,
            PRIMARY KEY (business_date, site, sku, funding_source))""",
        """CREATE TABLE IF NOT EXISTS daily_encounters (
            business_date TEXT NOT NULL, site TEXT NOT NULL, encounters BIGINT NOT NULL,
            reversals_reported BIGINT NOT NULL, syringes_collected BIGINT NOT NULL,
            syringes_distributed BIGINT NOT NULL, with_participant_code BIGINT NOT NULL,
            tally_visits BIGINT NOT NULL DEFAULT 0, PRIMARY KEY (business_date, site))""",
        """CREATE TABLE IF NOT EXISTS daily_reach (
            business_date TEXT NOT NULL, site TEXT NOT NULL, sku TEXT NOT NULL, funding_source TEXT NOT NULL,
            channel TEXT NOT NULL, recipient TEXT NOT NULL, quantity BIGINT NOT NULL,
            PRIMARY KEY (business_date, site, sku, funding_source, channel, recipient))""",
        """CREATE TABLE IF NOT EXISTS daily_contacts (
            business_date TEXT NOT NULL, site TEXT NOT NULL, channel TEXT NOT NULL, recipient TEXT NOT NULL,
            contacts BIGINT NOT NULL, collecting_for_others BIGINT NOT NULL, people_reached BIGINT NOT NULL,
            PRIMARY KEY (business_date, site, channel, recipient))""",
        """CREATE TABLE IF NOT EXISTS partner_issues (
            id TEXT PRIMARY KEY, position BIGINT NOT NULL, site TEXT NOT NULL, partner TEXT NOT NULL,
            business_date TEXT NOT NULL, occurred_at TEXT NOT NULL, recorded_at TEXT NOT NULL, actor TEXT NOT NULL,
            lines TEXT NOT NULL, voided TEXT, voided_at TEXT)""",
        "CREATE INDEX IF NOT EXISTS partner_issues_date ON partner_issues (business_date, partner)",
        """CREATE TABLE IF NOT EXISTS mail_orders (
            id TEXT PRIMARY KEY, position BIGINT NOT NULL, site TEXT NOT NULL, business_date TEXT NOT NULL,
            occurred_at TEXT NOT NULL, recorded_at TEXT NOT NULL, actor TEXT NOT NULL, lines TEXT NOT NULL,
            carrier TEXT NOT NULL, tracking TEXT NOT NULL, recipient TEXT NOT NULL, for_others INTEGER NOT NULL,
            returned_on TEXT, voided TEXT, voided_at TEXT)""",
        "CREATE INDEX IF NOT EXISTS mail_orders_date ON mail_orders (business_date, site)",
        # What one kit of each kit lot holds (its parts' lots and funders), and the parts of the kits handed
        # out each day, by the funder of each part: a kit's syringes count under whoever paid for them.
        """CREATE TABLE IF NOT EXISTS kit_makeup (
            site TEXT NOT NULL, kit_sku TEXT NOT NULL, lot TEXT NOT NULL, parts TEXT NOT NULL,
            PRIMARY KEY (site, kit_sku, lot))""",
        """CREATE TABLE IF NOT EXISTS daily_kit_parts (
            business_date TEXT NOT NULL, site TEXT NOT NULL, kit_sku TEXT NOT NULL, sku TEXT NOT NULL,
            funding_source TEXT NOT NULL, quantity BIGINT NOT NULL,
            PRIMARY KEY (business_date, site, kit_sku, sku, funding_source))""",
    )

    def process(self, batch: Sequence[Recorded], tx: Tx) -> None:
        totals = _Totals(tx)
        for recorded in batch:
            event = recorded.event
            kind = type(event)
            if kind is StockLedger.KitsAssembled:
                tx.executemany(
                    "INSERT INTO kit_makeup (site, kit_sku, lot, parts) VALUES (?, ?, ?, ?)",
                    [(event.site, event.sku, row["lot"], to_json(row["components"])) for row in event.lots],
                )
            elif kind is ShiftTally.Recorded:
                totals.tallies.append(_tally(recorded, totals))
            elif kind is Encounter.Recorded:
                totals.visits.append(_visit(recorded, totals))
            elif kind is PartnerIssue.Recorded:
                totals.partner_issues.append(_partner_issue(recorded, totals))
            elif kind is MailOrder.Sent:
                totals.mail_orders.append(_mail_order(recorded, totals))
            elif kind in _AFTER_ITS_ROW:
                # What it changes may be in this batch: write what came before, then change it.
                totals.write(tx)
                totals = _Totals(tx)
                _AFTER_ITS_ROW[kind](recorded, tx)
        totals.write(tx)


class _Totals:
    """Rows and daily totals gathered from part of a batch, written together."""

    def __init__(self, tx: Tx) -> None:
        self.tx = tx
        # the parts of kits handed out: (day, site, kit, part, the part's funder): units
        self.kit_parts: dict[tuple[str, str, str, str, str], int] = defaultdict(int)
        self.makeups: dict[tuple[str, str, str], list[dict[str, Any]]] = {}
        self.visits: list[tuple[Any, ...]] = []
        self.tallies: list[tuple[Any, ...]] = []
        self.partner_issues: list[tuple[Any, ...]] = []
        self.mail_orders: list[tuple[Any, ...]] = []
        # by item: quantity, encounters, from tallies; by site: encounters, reversals, collected,
        # syringes handed out, with a participant code, visits from tallies
        self.by_item: ByItem = defaultdict(lambda: [0, 0, 0])
        self.by_site: BySite = defaultdict(lambda: [0, 0, 0, 0, 0, 0])
        # by channel and recipient: units by item; contacts, those collecting for others, people they reach
        self.reach: dict[tuple[str, str, str, str, str, str], int] = defaultdict(int)
        self.contacts: dict[tuple[str, str, str, str], list[int]] = defaultdict(lambda: [0, 0, 0])

    def write(self, tx: Tx) -> None:
        tx.executemany(
            """INSERT INTO encounters (id, position, site, business_date, occurred_at, recorded_at, participant_code,
               reversals_reported, syringes_collected, refill_reason, actor, lines, recipient, for_others, channel)
               VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)""",
            self.visits,
        )
        tx.executemany(
            """INSERT INTO shift_tallies (id, position, site, business_date, starts_at, ends_at, recorded_at, visits,
               reversals_reported, syringes_collected, actor, lines, recipient, for_others, channel)
               VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)""",
            self.tallies,
        )
        tx.executemany(
            """INSERT INTO partner_issues (id, position, site, partner, business_date, occurred_at, recorded_at, actor,
               lines) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)""",
            self.partner_issues,
        )
        tx.executemany(
            """INSERT INTO mail_orders (id, position, site, business_date, occurred_at, recorded_at, actor, lines,
               carrier, tracking, recipient, for_others) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)""",
            self.mail_orders,
        )
        tx.executemany(
            """INSERT INTO daily_distribution (business_date, site, sku, funding_source, quantity, encounters,
               from_tallies) VALUES (?, ?, ?, ?, ?, ?, ?)
               ON CONFLICT (business_date, site, sku, funding_source) DO UPDATE SET
                   quantity = daily_distribution.quantity + excluded.quantity,
                   encounters = daily_distribution.encounters + excluded.encounters,
                   from_tallies = daily_distribution.from_tallies + excluded.from_tallies""",
            [(*key, *totals) for key, totals in self.by_item.items()],
        )
        tx.executemany(
            """INSERT INTO daily_encounters (business_date, site, encounters, reversals_reported,
               syringes_collected, syringes_distributed, with_participant_code, tally_visits)
               VALUES (?, ?, ?, ?, ?, ?, ?, ?)
               ON CONFLICT (business_date, site) DO UPDATE SET
                   encounters = daily_encounters.encounters + excluded.encounters,
                   reversals_reported = daily_encounters.reversals_reported + excluded.reversals_reported,
                   syringes_collected = daily_encounters.syringes_collected + excluded.syringes_collected,
                   syringes_distributed = daily_encounters.syringes_distributed + excluded.syringes_distributed,
                   with_participant_code = daily_encounters.with_participant_code + excluded.with_participant_code,
                   tally_visits = daily_encounters.tally_visits + excluded.tally_visits""",
            [(*key, *totals) for key, totals in self.by_site.items()],
        )
        tx.executemany(
            """INSERT INTO daily_reach (business_date, site, sku, funding_source, channel, recipient, quantity)
               VALUES (?, ?, ?, ?, ?, ?, ?)
               ON CONFLICT (business_date, site, sku, funding_source, channel, recipient) DO UPDATE SET
                   quantity = daily_reach.quantity + excluded.quantity""",
            [(*key, quantity) for key, quantity in self.reach.items() if quantity],
        )
        tx.executemany(
            """INSERT INTO daily_contacts (business_date, site, channel, recipient, contacts, collecting_for_others,
               people_reached) VALUES (?, ?, ?, ?, ?, ?, ?)
               ON CONFLICT (business_date, site, channel, recipient) DO UPDATE SET
                   contacts = daily_contacts.contacts + excluded.contacts,
                   collecting_for_others = daily_contacts.collecting_for_others + excluded.collecting_for_others,
                   people_reached = daily_contacts.people_reached + excluded.people_reached""",
            [(*key, *totals) for key, totals in self.contacts.items() if any(totals)],
        )
        tx.executemany(
            """INSERT INTO daily_kit_parts (business_date, site, kit_sku, sku, funding_source, quantity)
               VALUES (?, ?, ?, ?, ?, ?)
               ON CONFLICT (business_date, site, kit_sku, sku, funding_source) DO UPDATE SET
                   quantity = daily_kit_parts.quantity + excluded.quantity""",
            [(*key, quantity) for key, quantity in self.kit_parts.items() if quantity],
        )
        tx.executemany(
            """DELETE FROM daily_kit_parts WHERE business_date = ? AND site = ? AND kit_sku = ? AND sku = ?
               AND funding_source = ? AND quantity = 0""",
            [key for key, quantity in self.kit_parts.items() if quantity < 0],
        )
        # A total taken back to nothing (a void, a parcel back) leaves no row, as if it had never been: the
        # rows are the same however the log was cut into batches.
        tx.executemany(
            """DELETE FROM daily_reach WHERE business_date = ? AND site = ? AND sku = ? AND funding_source = ?
               AND channel = ? AND recipient = ? AND quantity = 0""",
            [key for key, quantity in self.reach.items() if quantity < 0],
        )
        tx.executemany(
            """DELETE FROM daily_contacts WHERE business_date = ? AND site = ? AND channel = ? AND recipient = ?
               AND contacts = 0 AND collecting_for_others = 0 AND people_reached = 0""",
            [key for key, totals in self.contacts.items() if min(totals) < 0],
        )

    def add_kit_parts(self, day: str, site: str, lines: list[dict[str, Any]], sign: int = 1) -> None:
        """The parts inside the kits a hand-out holds, each under its own funder (a void: sign -1)."""
        for line in lines:
            if line.get("category") != Category.KIT:
                continue
            for pick in line["lots"]:
                for part in self._makeup(site, line["sku"], pick["lot"]):
                    key = (day, site, line["sku"], part["sku"], part["funding_source"] or "")
                    self.kit_parts[key] += sign * pick["quantity"] * part["quantity"]

    def _makeup(self, site: str, kit_sku: str, lot: str) -> list[dict[str, Any]]:
        key = (site, kit_sku, lot)
        if key not in self.makeups:
            rows = self.tx.fetchall("SELECT parts FROM kit_makeup WHERE site = ? AND kit_sku = ? AND lot = ?", key)
            self.makeups[key] = json.loads(rows[0][0]) if rows else []
        return self.makeups[key]

    def add_reach(
        self, day: str, site: str, lines: list[dict[str, Any]], way: Way, contacts: int, collecting: int, sign: int = 1
    ) -> None:
        """What a hand-out adds to the totals by channel and recipient (a void: sign -1)."""
        channel, recipient, others = way
        for line in lines:
            for pick in line["lots"]:
                key = (day, site, line["sku"], pick["funding_source"] or "", channel, recipient)
                self.reach[key] += sign * pick["quantity"]
        totals = self.contacts[(day, site, channel, recipient)]
        totals[0] += sign * contacts
        totals[1] += sign * collecting
        totals[2] += sign * (others or 0)


Way = tuple[str, str, int | None]  # channel, recipient type, people reached when collecting for others
ByItem = dict[tuple[str, str, str, str], list[int]]
BySite = dict[tuple[str, str], list[int]]


def _add(
    by_item: ByItem,
    by_site: BySite,
    day: str,
    site: str,
    lines: list[dict[str, Any]],
    figures: tuple[int, int, int, bool],
    tally: bool,
    sign: int = 1,
) -> None:
    """What one visit or tally adds to its day's totals (a void: sign -1, the same taken away).

    `figures`: visits (1 for a visit), reversals reported, syringes collected, whether a participant
    code was given."""
    visits, reversals, collected, coded = figures
    syringes = 0
    for line in lines:
        funds: dict[str, int] = defaultdict(int)
        for pick in line["lots"]:
            funds[pick["funding_source"] or ""] += pick["quantity"]
        for fund, quantity in funds.items():
            totals = by_item[(day, site, line["sku"], fund)]
            totals[0] += sign * quantity
            if tally:
                totals[2] += sign * quantity
            else:
                totals[1] += sign
        if line["category"] == "syringe":
            syringes += line["quantity"]
    site_totals = by_site[(day, site)]
    site_totals[0] += sign * visits
    site_totals[1] += sign * reversals
    site_totals[2] += sign * collected
    site_totals[3] += sign * syringes
    site_totals[4] += sign * (1 if coded else 0)
    if tally:
        site_totals[5] += sign * visits


def _partner_issue(recorded: Recorded, totals: _Totals) -> tuple[Any, ...]:
    """Add an issue to a partner to the partner channel's totals; its row for the partner_issues table."""
    event, day = recorded.event, recorded.day
    totals.add_reach(day, event.site, event.lines, (Channel.PARTNER, PARTNER_ORGANISATION, None), 0, 0)
    return (
        str(event.originator_id),
        recorded.position,
        event.site,
        event.partner,
        day,
        recorded.occurred_at,
        recorded.recorded_at,
        event.actor,
        to_json(event.lines),
    )


def _mail_order(recorded: Recorded, totals: _Totals) -> tuple[Any, ...]:
    """Add a parcel to the mail channel's totals; its row for the mail_orders table."""
    event, day = recorded.event, recorded.day
    way = (Channel.MAIL, event.recipient, event.for_others)
    totals.add_reach(day, event.site, event.lines, way, 1, int(bool(event.for_others)))
    return (
        str(event.originator_id),
        recorded.position,
        event.site,
        day,
        recorded.occurred_at,
        recorded.recorded_at,
        event.actor,
        to_json(event.lines),
        event.carrier,
        event.tracking,
        event.recipient,
        event.for_others,
    )


def _parcel(recorded: Recorded, tx: Tx, returned: bool) -> None:
    """A parcel that came back leaves the mail totals on the day it came back; a mail order voided leaves
    them on the day it was sent (and, if it had come back, its return is undone too)."""
    event, totals = recorded.event, _Totals(tx)
    [(site, day, lines, recipient, others, returned_on)] = tx.fetchall(
        "SELECT site, business_date, lines, recipient, for_others, returned_on FROM mail_orders WHERE id = ?",
        (str(event.originator_id),),
    )
    rows, way = json.loads(lines), (Channel.MAIL, recipient, others)
    collecting = int(bool(others))
    if returned:
        totals.add_reach(recorded.day, site, rows, way, 1, collecting, sign=-1)
        tx.execute("UPDATE mail_orders SET returned_on = ? WHERE id = ?", (recorded.day, str(event.originator_id)))
    else:
        totals.add_reach(day, site, rows, way, 1, collecting, sign=-1)
        if returned_on is not None:
            totals.add_reach(returned_on, site, rows, way, 1, collecting)
        tx.execute(
            "UPDATE mail_orders SET voided = ?, voided_at = ? WHERE id = ?",
            (event.reason, recorded.recorded_at, str(event.originator_id)),
        )
    totals.write(tx)


def _partner_issue_voided(recorded: Recorded, tx: Tx) -> None:
    event, totals = recorded.event, _Totals(tx)
    [(site, day, lines)] = tx.fetchall(
        "SELECT site, business_date, lines FROM partner_issues WHERE id = ?", (str(event.originator_id),)
    )
    totals.add_reach(day, site, json.loads(lines), (Channel.PARTNER, PARTNER_ORGANISATION, None), 0, 0, sign=-1)
    tx.execute(
        "UPDATE partner_issues SET voided = ?, voided_at = ? WHERE id = ?",
        (event.reason, recorded.recorded_at, str(event.originator_id)),
    )
    totals.write(tx)


def _void(recorded: Recorded, tx: Tx) -> None:
    """Take a voided visit or tally out of the daily totals (on its own date) and mark its row."""
    event, totals = recorded.event, _Totals(tx)
    tally = type(event) is ShiftTally.Voided
    table = "shift_tallies" if tally else "encounters"
    extra = "visits" if tally else "participant_code"
    [(site, day, lines, reversals, collected, other, channel, recipient, others)] = tx.fetchall(
        f"""SELECT site, business_date, lines, reversals_reported, syringes_collected, {extra}, channel, recipient,
                   for_others FROM {table} WHERE id = ?""",
        (str(event.originator_id),),
    )
    figures = (other, reversals, collected, False) if tally else (1, reversals, collected, bool(other))
    rows = json.loads(lines)
    _add(totals.by_item, totals.by_site, day, site, rows, figures, tally, sign=-1)
    totals.add_kit_parts(day, site, rows, sign=-1)
    contacts, collecting = (other, 0) if tally else (1, int(bool(others)))
    totals.add_reach(day, site, rows, (channel, recipient, others), contacts, collecting, sign=-1)
    tx.execute(
        f"UPDATE {table} SET voided = ?, voided_at = ? WHERE id = ?",
        (event.reason, recorded.recorded_at, str(event.originator_id)),
    )
    totals.write(tx)


def _visit(recorded: Recorded, totals: _Totals) -> tuple[Any, ...]:
    """Add a visit's figures to the day's totals; its row for the encounters table."""
    event, day = recorded.event, recorded.day
    figures = (1, event.reversals_reported, event.syringes_collected, bool(event.participant_code))
    _add(totals.by_item, totals.by_site, day, event.site, event.lines, figures, tally=False)
    totals.add_kit_parts(day, event.site, event.lines)
    way = (event.channel, event.recipient, event.for_others)
    totals.add_reach(day, event.site, event.lines, way, 1, int(bool(event.for_others)))
    return (
        str(event.originator_id),
        recorded.position,
        event.site,
        day,
        recorded.occurred_at,
        recorded.recorded_at,
        event.participant_code,
        event.reversals_reported,
        event.syringes_collected,
        event.refill_reason,
        event.actor,
        to_json(event.lines),
        event.recipient,
        event.for_others,
        event.channel,
    )


def _tally(recorded: Recorded, totals: _Totals) -> tuple[Any, ...]:
    """Add a shift tally's figures to the day's totals; its row for the shift_tallies table."""
    event, day = recorded.event, recorded.day
    figures = (event.visits, event.reversals_reported, event.syringes_collected, False)
    _add(totals.by_item, totals.by_site, day, event.site, event.lines, figures, tally=True)
    totals.add_kit_parts(day, event.site, event.lines)
    totals.add_reach(day, event.site, event.lines, (event.channel, event.recipient, event.for_others), event.visits, 0)
    return (
        str(event.originator_id),
        recorded.position,
        event.site,
        day,
        event.starts_at,
        event.ends_at,
        recorded.recorded_at,
        event.visits,
        event.reversals_reported,
        event.syringes_collected,
        event.actor,
        to_json(event.lines),
        event.recipient,
        event.for_others,
        event.channel,
    )


# Events that change a row recorded before them (perhaps in the same batch).
_AFTER_ITS_ROW: dict[type, Any] = {
    Encounter.Voided: _void,
    ShiftTally.Voided: _void,
    PartnerIssue.Voided: _partner_issue_voided,
    MailOrder.CameBack: lambda recorded, tx: _parcel(recorded, tx, returned=True),
    MailOrder.Voided: lambda recorded, tx: _parcel(recorded, tx, returned=False),
}
