"""What was handed out: each encounter, and daily totals by site, item and funding source."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from typing import Any

from inventory.domain import Encounter
from inventory.projections.base import Projection, Recorded, to_json
from inventory.projections.store import Tx


class Distribution(Projection):
    name = "distribution"
    tables = ("encounters", "daily_distribution", "daily_encounters")
    ddl = (
        """CREATE TABLE IF NOT EXISTS encounters (
            id TEXT PRIMARY KEY, position BIGINT NOT NULL, site TEXT NOT NULL, business_date TEXT NOT NULL,
            occurred_at TEXT NOT NULL, recorded_at TEXT NOT NULL, participant_code TEXT,
            reversals_reported INTEGER NOT NULL, syringes_collected INTEGER NOT NULL, refill_reason TEXT,
            actor TEXT NOT NULL, lines TEXT NOT NULL)""",
        "CREATE INDEX IF NOT EXISTS encounters_date ON encounters (business_date, site)",
        """CREATE TABLE IF NOT EXISTS daily_distribution (
            business_date TEXT NOT NULL, site TEXT NOT NULL, sku TEXT NOT NULL, funding_source TEXT NOT NULL,
            quantity BIGINT NOT NULL, encounters BIGINT NOT NULL,
            PRIMARY KEY (business_date, site, sku, funding_source))""",
        """CREATE TABLE IF NOT EXISTS daily_encounters (
            business_date TEXT NOT NULL, site TEXT NOT NULL, encounters BIGINT NOT NULL,
            reversals_reported BIGINT NOT NULL, syringes_collected BIGINT NOT NULL,
            syringes_distributed BIGINT NOT NULL, with_participant_code BIGINT NOT NULL,
            PRIMARY KEY (business_date, site))""",
    )

    def process(self, batch: Sequence[Recorded], tx: Tx) -> None:
        visits: list[tuple[Any, ...]] = []
        by_item: dict[tuple[str, str, str, str], list[int]] = defaultdict(lambda: [0, 0])
        by_site: dict[tuple[str, str], list[int]] = defaultdict(lambda: [0, 0, 0, 0, 0])
        for recorded in batch:
            event = recorded.event
            if type(event) is not Encounter.Recorded:  # type: ignore[attr-defined]
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
            """INSERT INTO daily_distribution (business_date, site, sku, funding_source, quantity, encounters)
               VALUES (?, ?, ?, ?, ?, ?)
               ON CONFLICT (business_date, site, sku, funding_source) DO UPDATE SET
                   quantity = daily_distribution.quantity + excluded.quantity,
                   encounters = daily_distribution.encounters + excluded.encounters""",
            [(*key, *totals) for key, totals in by_item.items()],
        )
        tx.executemany(
            """INSERT INTO daily_encounters (business_date, site, encounters, reversals_reported,
               syringes_collected, syringes_distributed, with_participant_code) VALUES (?, ?, ?, ?, ?, ?, ?)
               ON CONFLICT (business_date, site) DO UPDATE SET
                   encounters = daily_encounters.encounters + excluded.encounters,
                   reversals_reported = daily_encounters.reversals_reported + excluded.reversals_reported,
                   syringes_collected = daily_encounters.syringes_collected + excluded.syringes_collected,
                   syringes_distributed = daily_encounters.syringes_distributed + excluded.syringes_distributed,
                   with_participant_code = daily_encounters.with_participant_code + excluded.with_participant_code""",
            [(*key, *totals) for key, totals in by_site.items()],
        )
