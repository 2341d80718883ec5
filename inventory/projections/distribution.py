"""What was handed out: each encounter and shift tally, and daily totals by site, item and funding source.

A shift tally's visits are counted with the encounters (`daily_encounters.encounters`), and kept apart
as well (`tally_visits`), as is what tallies handed out (`daily_distribution.from_tallies`, part of
`quantity`), so reports can say which figures came from tallies.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from typing import Any

from inventory.domain import Encounter, ShiftTally
from inventory.projections.base import Projection, Recorded, to_json
from inventory.projections.store import Tx


class Distribution(Projection):
    name = "distribution"
    version = 2  # 2: shift tallies
    tables = ("encounters", "shift_tallies", "daily_distribution", "daily_encounters")
    ddl = (
        """CREATE TABLE IF NOT EXISTS encounters (
            id TEXT PRIMARY KEY, position BIGINT NOT NULL, site TEXT NOT NULL, business_date TEXT NOT NULL,
            occurred_at TEXT NOT NULL, recorded_at TEXT NOT NULL, participant_code TEXT,
            reversals_reported INTEGER NOT NULL, syringes_collected INTEGER NOT NULL, refill_reason TEXT,
            actor TEXT NOT NULL, lines TEXT NOT NULL)""",
        "CREATE INDEX IF NOT EXISTS encounters_date ON encounters (business_date, site)",
        """CREATE TABLE IF NOT EXISTS shift_tallies (
            id TEXT PRIMARY KEY, position BIGINT NOT NULL, site TEXT NOT NULL, business_date TEXT NOT NULL,
            starts_at TEXT NOT NULL, ends_at TEXT NOT NULL, recorded_at TEXT NOT NULL, visits INTEGER NOT NULL,
            reversals_reported INTEGER NOT NULL, syringes_collected INTEGER NOT NULL, actor TEXT NOT NULL,
            lines TEXT NOT NULL)""",
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
        visits: list[tuple[Any, ...]] = []
        tallies: list[tuple[Any, ...]] = []
        # by item: quantity, encounters, from tallies; by site: encounters, reversals, collected,
        # syringes handed out, with a participant code, visits from tallies
        by_item: dict[tuple[str, str, str, str], list[int]] = defaultdict(lambda: [0, 0, 0])
        by_site: dict[tuple[str, str], list[int]] = defaultdict(lambda: [0, 0, 0, 0, 0, 0])
        for recorded in batch:
            event = recorded.event
            if type(event) is ShiftTally.Recorded:
                tallies.append(_tally(recorded, by_item, by_site))
                continue
            if type(event) is not Encounter.Recorded:
                continue
            day = recorded.day
            visits.append(
                (
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
            )
            syringes = 0
            for line in event.lines:
                funds: dict[str, int] = defaultdict(int)
                for pick in line["lots"]:
                    funds[pick["funding_source"] or ""] += pick["quantity"]
                for fund, quantity in funds.items():
                    totals = by_item[(day, event.site, line["sku"], fund)]
                    totals[0] += quantity
                    totals[1] += 1
                if line["category"] == "syringe":
                    syringes += line["quantity"]
            site_totals = by_site[(day, event.site)]
            site_totals[0] += 1
            site_totals[1] += event.reversals_reported
            site_totals[2] += event.syringes_collected
            site_totals[3] += syringes
            site_totals[4] += 1 if event.participant_code else 0
        tx.executemany(
            """INSERT INTO encounters (id, position, site, business_date, occurred_at, recorded_at, participant_code,
               reversals_reported, syringes_collected, refill_reason, actor, lines)
               VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)""",
            visits,
        )
        tx.executemany(
            """INSERT INTO shift_tallies (id, position, site, business_date, starts_at, ends_at, recorded_at, visits,
               reversals_reported, syringes_collected, actor, lines) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)""",
            tallies,
        )
        tx.executemany(
            """INSERT INTO daily_distribution (business_date, site, sku, funding_source, quantity, encounters,
               from_tallies) VALUES (?, ?, ?, ?, ?, ?, ?)
               ON CONFLICT (business_date, site, sku, funding_source) DO UPDATE SET
                   quantity = daily_distribution.quantity + excluded.quantity,
                   encounters = daily_distribution.encounters + excluded.encounters,
                   from_tallies = daily_distribution.from_tallies + excluded.from_tallies""",
            [(*key, *totals) for key, totals in by_item.items()],
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
            [(*key, *totals) for key, totals in by_site.items()],
        )


def _tally(
    recorded: Recorded,
    by_item: dict[tuple[str, str, str, str], list[int]],
    by_site: dict[tuple[str, str], list[int]],
) -> tuple[Any, ...]:
    """Add a shift tally's figures to the day's totals; its row for the shift_tallies table."""
    event, day = recorded.event, recorded.day
    syringes = 0
    for line in event.lines:
        funds: dict[str, int] = defaultdict(int)
        for pick in line["lots"]:
            funds[pick["funding_source"] or ""] += pick["quantity"]
        for fund, quantity in funds.items():
            totals = by_item[(day, event.site, line["sku"], fund)]
            totals[0] += quantity
            totals[2] += quantity
        if line["category"] == "syringe":
            syringes += line["quantity"]
    site_totals = by_site[(day, event.site)]
    site_totals[0] += event.visits
    site_totals[1] += event.reversals_reported
    site_totals[2] += event.syringes_collected
    site_totals[3] += syringes
    site_totals[5] += event.visits
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
