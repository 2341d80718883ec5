"""`inventory import FILE` and `inventory import-template -o FILE`: move in from a spreadsheet."""

from __future__ import annotations

from pathlib import Path

import click

from inventory.cli.context import services
from inventory.importing import UnreadableFile, build_template, import_file
from inventory.importing.reading import ImportFile


@click.command("import-template")
@click.option(
    "-o",
    "--output",
    type=click.Path(dir_okay=False, path_type=Path),
    default=Path("inventory-import.xlsx"),
    show_default=True,
    help="Where to write the template.",
)
@click.option("--examples/--no-examples", default=True, show_default=True, help="Fill in two example rows per sheet.")
def template_command(output: Path, examples: bool) -> None:
    """Write the import template: sheets for sites, items, funding sources and opening stock."""
    output.write_bytes(build_template(examples=examples))
    click.echo(f"Template written to {output}: fill in its four sheets, then run `inventory import {output}`.")


@click.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option(
    "--skip-invalid",
    is_flag=True,
    help="Import the good rows and list the bad ones (default: import nothing while any row is bad).",
)
@click.option(
    "--actor",
    default="cli",
    show_default=True,
    help="Who is importing (an email); recorded with each event.",
)
def import_command(file: Path, skip_invalid: bool, actor: str) -> None:
    """Import a template workbook (.xlsx) or one of its sheets as .csv.

    Every row is checked before anything is written; importing the same file again records nothing new.
    """
    found = services()
    try:
        total = ImportFile(file).estimated_rows()
        with click.progressbar(length=total, label=f"Importing {file.name}") as bar:
            report = import_file(found.app, file, actor=actor, skip_invalid=skip_invalid, progress=bar.update)
    except UnreadableFile as error:
        raise click.ClickException(str(error)) from None
    for problem in report.problems:
        where = f"{problem.sheet} row {problem.row}" + (f", column {problem.column}" if problem.column else "")
        click.echo(f"{where}: {problem.message}", err=True)
    if report.written:
        found.projector.catch_up()
    click.echo(report.summary())
    if not report.written:
        raise SystemExit(1)
