"""`inventory export grant-report|stock-report|distribution-log`: Excel workbooks for funders and auditors."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from datetime import date, datetime
from pathlib import Path

import click

from exports.grant_report import write_grant_report
from exports.reports import Source, check_known_at, distribution_log, grant_figures, stock_report
from inventory.cli.context import services
from inventory.domain.errors import InventoryError
from inventory.projections.replay import position_at_end_of


@click.group("export")
def export() -> None:
    """Write Excel workbooks from the read models (grant reports, stock and expiry, distribution log)."""


def _day(value: str, option: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise click.BadParameter(f"{value!r} is not a date like 2026-03-31.", param_hint=option) from None


def _source() -> Source:
    found = services()
    found.projector.catch_up()
    return Source(found.app, found.store, found.app.zone)


def _position(source: Source, known_at: str | None) -> int | None:
    """--known-at POSITION, or DATE: the last position recorded by the end of that day."""
    if not known_at:
        return None
    if known_at.isdigit():
        return int(known_at)
    day = _day(known_at, "--known-at")
    position = position_at_end_of(source.store, day, source.zone)
    if position == 0:
        raise click.BadParameter(f"Nothing had been recorded by the end of {day}.", param_hint="--known-at")
    return position


@contextmanager
def _refusals() -> Iterator[None]:
    """A refused request (unknown funding source, dates the wrong way round) says what to fix."""
    try:
        yield
    except InventoryError as error:
        option = f"--{error.field.replace('_', '-')}" if error.field else None
        raise click.BadParameter(error.message, param_hint=option) from None


KNOWN_AT = click.option(
    "--known-at",
    metavar="POSITION|DATE",
    help="The figures as the log knew them at this position (or at the end of this day): the same "
    "report it gave then, whatever was recorded since.",
)
OUTPUT = click.option(
    "-o", "--output", type=click.Path(dir_okay=False, path_type=Path), required=True, help="The .xlsx file to write."
)
WHO = click.option(
    "--by", "who", default="cli", show_default=True, help="Who generates it (shown on the Provenance sheet)."
)


@export.command("grant-report")
@click.option("--funding-source", metavar="CODE", help="One funding source's code; all sources when left out.")
@click.option("--from", "start", metavar="DATE", required=True, help="First business date of the period.")
@click.option("--to", "end", metavar="DATE", required=True, help="Last business date of the period.")
@KNOWN_AT
@OUTPUT
@WHO
def grant_report_command(
    funding_source: str | None, start: str, end: str, known_at: str | None, output: Path, who: str
) -> None:
    """The quarterly grant report: balances, flows, receipts and ledger that reconcile to the unit."""
    source = _source()
    first, last = _day(start, "--from"), _day(end, "--to")
    # The figures' snapshot stays open while the workbook is written: the ledger streams from it.
    with _refusals(), ExitStack() as snapshot:
        position = check_known_at(source, _position(source, known_at))
        if position is not None:
            with click.progressbar(length=position, label=f"Replaying the log to position {position}") as replay:
                figures, provenance = snapshot.enter_context(
                    grant_figures(
                        source,
                        funding_source=funding_source,
                        start=first,
                        end=last,
                        who=who,
                        position=position,
                        progress=replay.update,
                    )
                )
        else:
            figures, provenance = snapshot.enter_context(
                grant_figures(source, funding_source=funding_source, start=first, end=last, who=who)
            )
        with click.progressbar(length=max(figures.rows(), 1), label="Writing the workbook") as bar:
            write_grant_report(figures, provenance, str(output), progress=bar.update)
        movements = len(figures.ledger)
    click.echo(
        f"Grant report written to {output}: {movements} movements, figures as known at log position "
        f"{provenance.position}, seal head {provenance.seal[0] if provenance.seal else 0}."
    )


@export.command("stock-report")
@click.option("--funding-source", metavar="CODE", help="Only lots paid by this funding source.")
@click.option("--on", "on", metavar="DATE", help="Count days to expiry from this date (default: today).")
@KNOWN_AT
@OUTPUT
@WHO
def stock_report_command(
    funding_source: str | None, on: str | None, known_at: str | None, output: Path, who: str
) -> None:
    """Stock and expiry: on hand by site, item and lot, with days to expiry and value."""
    source = _source()
    day = _day(on, "--on") if on else datetime.now(source.zone).date()
    with _refusals():
        provenance = stock_report(
            source, str(output), funding_source=funding_source, on=day, who=who, position=_position(source, known_at)
        )
    click.echo(f"Stock and expiry report written to {output} (log position {provenance.position}).")


@export.command("distribution-log")
@click.option("--from", "start", metavar="DATE", required=True, help="First business date.")
@click.option("--to", "end", metavar="DATE", required=True, help="Last business date.")
@KNOWN_AT
@OUTPUT
@WHO
def distribution_log_command(start: str, end: str, known_at: str | None, output: Path, who: str) -> None:
    """Every encounter in a period (the anonymous code only if INVENTORY_EXPORT_PARTICIPANT_CODES allows)."""
    source = _source()
    with _refusals():
        provenance = distribution_log(
            source,
            str(output),
            start=_day(start, "--from"),
            end=_day(end, "--to"),
            who=who,
            participant_codes=services().settings.export_participant_codes,
            position=_position(source, known_at),
        )
    click.echo(f"Distribution log written to {output} (log position {provenance.position}).")
