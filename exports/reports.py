"""The exports the edges offer (CLI, API, page): check the request, read a snapshot, write the workbook."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, timedelta
from typing import IO, Any, Protocol
from zoneinfo import ZoneInfo

from eventsourcing.application import Application

from exports.distribution_log import gather_visits, write_distribution_log
from exports.grant_figures import GrantFigures, gather
from exports.grant_report import write_grant_report
from exports.provenance import Provenance
from exports.recall_report import write_recall_report
from exports.snapshot import Snapshot, current, known_at, log_head
from exports.stock_report import gather_lots, write_stock_report
from inventory.domain.errors import InvalidInput, NotFound, UnknownFundingSource
from inventory.projections import queries, recall_queries
from inventory.projections import report_queries as rq
from inventory.projections.store import ReadStore

MAX_DAYS = 3660  # ten years: a longer period is more than one workbook should hold
Progress = Callable[[int], None]


class Stages(Protocol):
    """Where long work reports how far it has got: `stage` starts a step of `total` units (events
    replayed, rows written; 0 when it cannot be counted) and returns the callback for units done."""

    def stage(self, label: str, total: int, unit: str) -> Progress: ...


@dataclass(frozen=True)
class Source:
    """Where exports read from: the application's log and its read store."""

    app: Application[Any]
    store: ReadStore
    zone: ZoneInfo


def check_period(start: date, end: date) -> None:
    """Refuse a period that ends before it starts or spans more than ten years."""
    if end < start:
        raise InvalidInput(f"The period ends ({end}) before it starts ({start}): swap the dates.", field="to")
    if (end - start).days >= MAX_DAYS:
        raise InvalidInput("Choose a period of at most ten years; export longer spans in parts.", field="from")


def check_funding_source(source: Source, code: str | None) -> str | None:
    """The funding source's code (upper case), or None for all; unknown codes are refused."""
    if not code:
        return None
    code = code.strip().upper()
    known = [row["code"] for row in queries.funding_sources(source.store)]
    if code not in known:
        listed = ", ".join(known) or "none yet"
        raise UnknownFundingSource(
            f"There is no funding source {code}; choose one of: {listed}.", field="funding_source"
        )
    return code


def check_known_at(source: Source, position: int | None) -> int | None:
    if position is None:
        return None
    head = log_head(source.app)
    if position < 1 or position > head:
        raise InvalidInput(f"Choose a log position from 1 to {head} (the log's last).", field="known_at")
    return position


@contextmanager
def snapshot(source: Source, position: int | None, progress: Progress | None = None) -> Iterator[Snapshot]:
    """The read models now, or as known at `position` (rebuilt from the log)."""
    if position is None:
        with current(source.store, source.zone) as found:
            yield found
    else:
        with known_at(source.app, source.store, source.zone, position, progress) as found:
            yield found


@contextmanager
def grant_figures(
    source: Source,
    *,
    funding_source: str | None,
    start: date,
    end: date,
    who: str,
    position: int | None = None,
    progress: Progress | None = None,
    stages: Stages | None = None,
) -> Iterator[tuple[GrantFigures, Provenance]]:
    """Check the request and read the figures (progress: events replayed, when `position` is given;
    or `stages`, told of each step).

    The snapshot stays open until the `with` ends: write the workbook inside it, as the ledger is
    streamed from the snapshot while it is written (and refused once the snapshot has ended).
    """
    check_period(start, end)
    code = check_funding_source(source, funding_source)
    position = check_known_at(source, position)
    parameters = {"funding source": code or "all", "from": start, "to": end, "known at": position or "now"}
    with snapshot(source, position, progress or _replay(stages, position)) as found:
        if stages:
            stages.stage("Reading the figures", 0, "")
        figures = gather(found, code, start, end)
        fixes = rq.corrections(found.reader, start, end)
        yield figures, Provenance.of("Grant report", who, parameters, found, fixes)


def grant_report(
    source: Source,
    target: str | IO[bytes],
    *,
    funding_source: str | None,
    start: date,
    end: date,
    who: str,
    position: int | None = None,
    stages: Stages | None = None,
) -> Provenance:
    """Write a grant report to a path or stream."""
    figures = grant_figures(
        source, funding_source=funding_source, start=start, end=end, who=who, position=position, stages=stages
    )
    with figures as (found, provenance):
        rows = stages.stage("Writing the workbook", found.rows(), "rows") if stages else None
        write_grant_report(found, provenance, target, progress=rows)
    return provenance


def stock_report(
    source: Source,
    target: str | IO[bytes],
    *,
    funding_source: str | None,
    on: date,
    who: str,
    position: int | None = None,
    stages: Stages | None = None,
) -> Provenance:
    """Write the stock and expiry report (lots on hand, days to expiry counted from `on`)."""
    code = check_funding_source(source, funding_source)
    position = check_known_at(source, position)
    with snapshot(source, position, _replay(stages, position)) as found:
        if stages:
            stages.stage("Reading the lots on hand", 0, "")
        lots = gather_lots(found, code)
        parameters = {"funding source": code or "all", "days to expiry from": on, "known at": position or "now"}
        provenance = Provenance.of("Stock and expiry report", who, parameters, found)
    rows = stages.stage("Writing the workbook", len(lots), "rows") if stages else None
    write_stock_report(lots, on, provenance, target, progress=rows)
    return provenance


def recall_report(source: Source, target: str | IO[bytes], *, recall_id: str, who: str) -> Provenance:
    """Write a recall's workbook: every unit of its lots, from receipt to where it is now (figures now)."""
    with current(source.store, source.zone) as found:
        recall = recall_queries.recall(found.reader, recall_id)
        if recall is None:
            raise NotFound(f"There is no recall {recall_id}.", field="recall")
        figures = recall_queries.recall_figures(found.reader, recall["lots"])
        parameters = {"maker": recall["manufacturer"], "maker's lot": recall["manufacturer_lot"]}
        provenance = Provenance.of("Recall workbook", who, parameters, found)
    write_recall_report(recall, figures, provenance, target)
    return provenance


def distribution_log(
    source: Source,
    target: str | IO[bytes],
    *,
    start: date,
    end: date,
    who: str,
    participant_codes: bool,
    position: int | None = None,
    stages: Stages | None = None,
) -> Provenance:
    """Write every encounter in a period; the participant code only when the setting allows."""
    check_period(start, end)
    position = check_known_at(source, position)
    parameters = {"from": start, "to": end, "known at": position or "now", "participant codes": participant_codes}
    with snapshot(source, position, _replay(stages, position)) as found:
        if stages:
            stages.stage("Reading the visits", 0, "")
        visits = gather_visits(found, start, end)
        provenance = Provenance.of("Distribution log", who, parameters, found, rq.corrections(found.reader, start, end))
    rows = stages.stage("Writing the workbook", len(visits), "rows") if stages else None
    write_distribution_log(visits, provenance, target, participant_codes=participant_codes, progress=rows)
    return provenance


def _replay(stages: Stages | None, position: int | None) -> Progress | None:
    """The progress of replaying the log to `position` (a report as known then), if reported."""
    if stages is None or position is None:
        return None
    return stages.stage(f"Replaying the log to position {position:,}", position, "events")


def default_period(today: date) -> tuple[date, date]:
    """The last full calendar quarter before `today`."""
    first_this_quarter = date(today.year, 3 * ((today.month - 1) // 3) + 1, 1)
    end = first_this_quarter - timedelta(days=1)
    return date(end.year, 3 * ((end.month - 1) // 3) + 1, 1), end
