"""`inventory projections rebuild|status`."""

from __future__ import annotations

import sys

import click

from inventory.cli.context import services


@click.group("projections")
def projections() -> None:
    """Read models: rebuild them from the log, or see how far behind they are."""


@projections.command("rebuild")
@click.argument("names", nargs=-1)
def rebuild(names: tuple[str, ...]) -> None:
    """Drop and rebuild the named read models (all of them by default) from the event log."""
    projector = services().projector
    try:
        chosen = [projector.by_name(name).name for name in names] or [p.name for p in projector.projections]
    except KeyError as error:
        raise click.BadParameter(str(error.args[0]), param_hint="NAMES") from None
    head = projector.head()
    with click.progressbar(length=head, label=f"Rebuilding {', '.join(chosen)}") as bar:
        projector.rebuild(chosen, progress=bar.update)
    click.echo(f"Rebuilt {len(chosen)} read model(s) up to position {head}.")


@projections.command("status")
def status() -> None:
    """Each read model's position against the log's head, and whether they stopped at an event (exit 1)."""
    projector = services().projector
    rows = projector.status()
    width = max(len(row.name) for row in rows)
    click.echo(f"{'read model':<{width}}  {'position':>10}  {'head':>10}  {'behind':>8}")
    for row in rows:
        click.echo(f"{row.name:<{width}}  {row.position:>10}  {row.head:>10}  {row.lag:>8}")
    stop = projector.stop(fresh=True)
    if stop is not None:
        click.echo("")
        click.echo(f"STOPPED: {stop.describe()}")
        click.echo(f"Tried {stop.attempts} time(s); admins emailed: {stop.notified_at or 'not yet'}.")
        click.echo("The worker tries the event again every half minute; once it applies, the read models go on.")
        sys.exit(1)
