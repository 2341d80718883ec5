"""What was handed out: each encounter and shift tally, and daily totals by site, item and funding source.

A shift tally's visits are counted with the encounters (`daily_encounters.encounters`), and kept apart
as well (`tally_visits`), as is what tallies handed out (`daily_distribution.from_tallies`, part of
`quantity`), so reports can say which figures came from tallies. A voided visit or tally keeps its row (marked
`voided`, with the reason) and leaves every daily total, on its own date.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Sequence
from typing import Any

from inventory.domain import Encounter, ShiftTally
from inventory.projections.base import Projection, Recorded, to_json
from inventory.projections.store import Tx


class Distribution(Projection):
    name = "distribution"
    version = 3  # 2: shift tallies; 3: voids (a voided visit or tally stays, marked, out of the totals)
    tables = ("encounters", "shift_tallies", "daily_distribution", "daily_encounters")
    ddl = (
        """CREATE TABLE IF NOT EXISTS encounters (
            id TEXT PRIMARY KEY, position BIGINT NOT NULL, site TEXT NOT NULL, business_date TEXT NOT NULL,
            occurred_at TEXT NOT NULL, recorded_at TEXT NOT NULL, participant_code TEXT,
            reversals_reported INTEGER NOT NULL, syringes_collected INTEGER NOT NULL, refill_reason TEXT,
            actor TEXT NOT NULL, lines TEXT NOT NULL, voided TEXT, voided_at TEXT)""",
        "CREATE INDEX IF NOT EXISTS encounters_date ON encounters (business_date, site)",
        """CREATE TABLE IF NOT EXISTS shift_tallies (
            id TEXT PRIMARY KEY, position BIGINT NOT NULL, site TEXT NOT NULL, business_date TEXT NOT NULL,
            starts_at TEXT NOT NULL, ends_at TEXT NOT NULL, recorded_at TEXT NOT NULL, visits INTEGER NOT NULL,
            reversals_reported INTEGER NOT NULL, syringes_collected INTEGER NOT NULL, actor TEXT NOT NULL,
            lines TEXT NOT NULL, voided TEXT, voided_at TEXT)""",
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
    )

    def process(self, batch: Sequence[Recorded], tx: Tx) -> None:
        totals = _Totals()
        for recorded in batch:
            event = recorded.event
            kind = type(event)
            if kind is ShiftTally.Recorded:
                totals.tallies.append(_tally(recorded, totals.by_item, totals.by_site))
            elif kind is Encounter.Recorded:
                totals.visits.append(_visit(recorded, totals.by_item, totals.by_site))
            elif kind is Encounter.Voided or kind is ShiftTally.Voided:
                # What it voided may be in this batch: write what came before, then take it out.
                totals.write(tx)
                totals = _Totals()
                _void(recorded, tx)
        totals.write(tx)


class _Totals:
    """Rows and daily totals gathered from part of a batch, written together."""

    def __init__(self) -> None:
        self.visits: list[tuple[Any, ...]] = []
        self.tallies: list[tuple[Any, ...]] = []
        # by item: quantity, encounters, from tallies; by site: encounters, reversals, collected,
        # syringes handed out, with a participant code, visits from tallies
        self.by_item: ByItem = defaultdict(lambda: [0, 0, 0])
        self.by_site: BySite = defaultdict(lambda: [0, 0, 0, 0, 0, 0])

    def write(self, tx: Tx) -> None:
        tx.executemany(
            """INSERT INTO encounters (id, position, site, business_date, occurred_at, recorded_at, participant_code,
               reversals_reported, syringes_collected, refill_reason, actor, lines)
               VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)""",
            self.visits,
        )
        tx.executemany(
            """INSERT INTO shift_tallies (id, position, site, business_date, starts_at, ends_at, recorded_at, visits,
               reversals_reported, syringes_collected, actor, lines) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)""",
            self.tallies,
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


def _void(recorded: Recorded, tx: Tx) -> None:
    """Take a voided visit or tally out of the daily totals (on its own date) and mark its row."""
    event, totals = recorded.event, _Totals()
    tally = type(event) is ShiftTally.Voided
    table = "shift_tallies" if tally else "encounters"
    extra = "visits" if tally else "participant_code"
    [(site, day, lines, reversals, collected, other)] = tx.fetchall(
        f"SELECT site, business_date, lines, reversals_reported, syringes_collected, {extra} FROM {table} WHERE id = ?",
        (str(event.originator_id),),
    )
    figures = (other, reversals, collected, False) if tally else (1, reversals, collected, bool(other))
    _add(totals.by_item, totals.by_site, day, site, json.loads(lines), figures, tally, sign=-1)
    tx.execute(
        f"UPDATE {table} SET voided = ?, voided_at = ? WHERE id = ?",
        (event.reason, recorded.recorded_at, str(event.originator_id)),
    )
    totals.write(tx)


def _visit(recorded: Recorded, by_item: ByItem, by_site: BySite) -> tuple[Any, ...]:
    """Add a visit's figures to the day's totals; its row for the encounters table."""
    event, day = recorded.event, recorded.day
    figures = (1, event.reversals_reported, event.syringes_collected, bool(event.participant_code))
    _add(by_item, by_site, day, event.site, event.lines, figures, tally=False)
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
    )


def _tally(recorded: Recorded, by_item: ByItem, by_site: BySite) -> tuple[Any, ...]:
    """Add a shift tally's figures to the day's totals; its row for the shift_tallies table."""
    event, day = recorded.event, recorded.day
    figures = (event.visits, event.reversals_reported, event.syringes_collected, False)
    _add(by_item, by_site, day, event.site, event.lines, figures, tally=True)
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
    )
