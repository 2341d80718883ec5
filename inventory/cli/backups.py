"""`inventory backup DIR` and `inventory restore DIR`: see inventory/adapters/backup.py."""

from __future__ import annotations

from pathlib import Path

import click

from inventory.adapters.backup import check_restored, restore_backup, take_backup
from inventory.adapters.settings import load_settings
from inventory.bootstrap import build_services
from inventory.domain.errors import InventoryError


@click.command("backup")
@click.argument("target", type=click.Path(file_okay=False, path_type=Path))
def backup_command(target: Path) -> None:
    """Back up the live database into the new folder TARGET (the service may keep running)."""
    try:
        manifest = take_backup(load_settings(), target)
    except InventoryError as error:
        raise click.ClickException(str(error)) from None
    click.echo(
        f"Backed up {manifest.database} to {target}: the log up to position {manifest.head}; "
        f"seal head {manifest.seal_position} {manifest.seal_hash or '(not sealed yet)'}."
    )


@click.command("restore")
@click.argument("source", type=click.Path(file_okay=False, exists=True, path_type=Path))
@click.option("--replace", is_flag=True, help="Overwrite a database that already holds events.")
def restore_command(source: Path, replace: bool) -> None:
    """Restore the backup in SOURCE into the database INVENTORY_DATABASE_URL names (stop the service first)."""
    settings = load_settings()
    try:
        manifest = restore_backup(settings, source, replace=replace)
        click.echo(f"Restored the log up to position {manifest.head}, taken at {manifest.taken_at}.")
        services = build_services(settings)
        try:
            restored = check_restored(services, manifest)
        finally:
            services.close()
    except InventoryError as error:
        raise click.ClickException(str(error)) from None
    seal = restored.seal
    if not seal.ok:
        raise click.ClickException(
            f"The seal does not verify over the restored log: first bad position {seal.first_bad_position} "
            f"({seal.problem})."
        )
    click.echo(
        f"Read models caught up to position {restored.head}; the seal verifies: head {seal.head_position} "
        f"{seal.head_hash}."
    )
