"""Each export tells whoever follows it what step it is on and how far through it is."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path

from openpyxl import load_workbook

from exports.reports import distribution_log, grant_report, stock_report
from tests.exports.conftest import Program


class Steps:
    """A follower that keeps every step it is told of, with the units done in each (as the job page does)."""

    def __init__(self) -> None:
        self.seen: list[list[object]] = []

    def stage(self, label: str, total: int, unit: str) -> Callable[[int], None]:
        step: list[object] = [label, total, unit, 0]
        self.seen.append(step)

        def advance(units: int) -> None:
            # A follower shows the latest step: units reported for an earlier one would show against it.
            assert self.seen[-1] is step, f"{label!r} reported units while {self.seen[-1][0]!r} was shown"
            step[3] = int(str(step[3])) + units

        return advance


def test_a_grant_report_as_known_then_replays_reads_and_writes_in_that_order(demo: Program, tmp_path: Path) -> None:
    source = demo.source
    position = demo.projector.head() // 2
    steps = Steps()
    start, end = demo.last_day - timedelta(days=30), demo.last_day
    grant_report(
        source,
        str(tmp_path / "g.xlsx"),
        funding_source=None,
        start=start,
        end=end,
        who="t",
        position=position,
        stages=steps,
    )
    labels = [step[0] for step in steps.seen]
    assert labels == [f"Replaying the log to position {position:,}", "Reading the figures", "Writing the workbook"]
    replay, reading, writing = steps.seen
    assert replay[1:] == [position, "events", position]  # every event up to the position, counted once
    assert reading[1] == 0  # a step that cannot be counted
    assert writing[2] == "rows" and writing[1] == writing[3] and int(str(writing[1])) > 100


def test_the_stock_report_and_distribution_log_count_their_rows(demo: Program, tmp_path: Path) -> None:
    source = demo.source
    steps = Steps()
    stock_report(source, str(tmp_path / "s.xlsx"), funding_source=None, on=demo.last_day, who="t", stages=steps)
    assert [step[0] for step in steps.seen] == ["Reading the lots on hand", "Writing the workbook"]
    lots = steps.seen[1]
    assert lots[1] == lots[3] and int(str(lots[1])) > 0

    steps = Steps()
    start, end = demo.last_day - timedelta(days=6), demo.last_day
    distribution_log(
        source, str(tmp_path / "d.xlsx"), start=start, end=end, who="t", participant_codes=False, stages=steps
    )
    assert [step[0] for step in steps.seen] == ["Reading the visits", "Writing the workbook"]
    visits = steps.seen[1]
    book = load_workbook(tmp_path / "d.xlsx", read_only=True)
    data_rows = sum(
        1 for row in book["Distribution log"].iter_rows(min_row=2, values_only=True) if isinstance(row[0], int)
    )
    # The partners' and the parcels' sheets count too: a row of theirs starts with its business date.
    other_rows = sum(
        1
        for name in ("Issued to partners", "Mail orders")
        for row in book[name].iter_rows(min_row=2, values_only=True)
        if isinstance(row[0], datetime)
    )
    assert visits[1] == visits[3] == data_rows + other_rows and data_rows > 0 and other_rows > 0
