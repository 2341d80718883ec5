"""`inventory audit replay|verify`: what auditors run."""

from __future__ import annotations

import csv
import sys
from datetime import date
from pathlib import Path
from typing import Any

import click

from exports.cells import csv_text
from inventory.cli.context import services
from inventory.projections import queries
from inventory.projections.replay import position_at_end_of, stock_known_at
from inventory.projections.seal import verify

COLUMNS = ("site", "sku", "lot", "expires_on", "funding_source", "quantity")


@click.group("audit")
def audit() -> None:
    """Replay the history and check the seal."""


def _day(value: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise click.BadParameter(f"{value!r} is not a date like 2026-03-31.") from None


@audit.command("replay")
@click.option(
    "--until",
    "until",
    metavar="DATE|POSITION",
    help="Stock as the log knew it at this log position, or at the end of this day (record time).",
)
@click.option(
    "--as-of",
    "as_of",
    metavar="DATE",
    help="Stock at the end of this business day, as the log knows it now (includes backdated entries).",
)
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path), help="Write CSV here.")
def replay(until: str | None, as_of: str | None, output: Path | None) -> None:
    """Reconstruct stock on hand at a point in the past."""
    found = services()
    if (until is None) == (as_of is None):
        raise click.UsageError("Give exactly one of --until DATE|POSITION or --as-of DATE.")
    found.projector.catch_up()
    if as_of is not None:
        day = _day(as_of)
        rows = queries.stock_as_of(found.store, day)
        title = f"Stock at the end of {day} (business date), as known at position {found.projector.head()}"
    else:
        assert until is not None
        if until.isdigit():
            position = int(until)
            title = f"Stock as known at log position {position}"
        else:
            day = _day(until)
            position = position_at_end_of(found.store, day, found.app.zone)
            title = f"Stock as known at the end of {day} (log position {position})"
        if position > found.projector.head():
            raise click.BadParameter(f"The log ends at position {found.projector.head()}.", param_hint="--until")
        rows = stock_known_at(found.app, found.app.zone, position)
    _write(rows, title, output)


def _write(rows: list[dict[str, Any]], title: str, output: Path | None) -> None:
    if output is not None:
        with output.open("w", newline="") as handle:
            writer = csv.DictWriter(handle, fieldnames=COLUMNS)
            writer.writeheader()
            writer.writerows({column: csv_text(row[column]) for column in COLUMNS} for row in rows)
        click.echo(f"{title}: {len(rows)} lots written to {output}.")
        return
    click.echo(title)
    widths = {c: max([len(c), *(len(str(r[c] if r[c] is not None else "")) for r in rows)]) for c in COLUMNS}
    click.echo("  ".join(c.ljust(widths[c]) for c in COLUMNS))
    for row in rows:
        cells = (str(row[c] if row[c] is not None else "") for c in COLUMNS)
        click.echo(
            "  ".join(
                v.rjust(widths[c]) if c == "quantity" else v.ljust(widths[c])
                for c, v in zip(COLUMNS, cells, strict=True)
            )
        )
    click.echo(f"{len(rows)} lots, {sum(r['quantity'] for r in rows)} units.")
    sys.stdout.flush()


@audit.command("verify")
def verify_command() -> None:
    """Check the seal over the whole log; exits 1 and names the first bad position if tampered."""
    found = services()
    # No catch-up first: a tampered event may not even decode, and the check must still run.
    check = verify(found.app.recorder, found.store, found.settings.seal_key)
    click.echo(check.describe())
    if not check.ok:
        sys.exit(1)
