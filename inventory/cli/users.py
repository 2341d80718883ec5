"""`inventory users create|token`: staff accounts from the command line (the first admin, scripts)."""

from __future__ import annotations

import secrets
import sys

import click
from flask.cli import with_appcontext

from inventory.domain.errors import InventoryError
from inventory.web import services


@click.group("users")
def users() -> None:
    """Staff accounts."""


@users.command("create")
@click.argument("email")
@click.option(
    "--role", required=True, type=click.Choice(["admin", "coordinator", "purchasing", "grant_manager", "auditor"])
)
@click.option("--site", "sites", multiple=True, help="A site code the user works at (repeat for more).")
@click.option("--password", help="Their password (asked for when left out at a terminal, else generated).")
@with_appcontext
def create(email: str, role: str, sites: tuple[str, ...], password: str | None) -> None:
    """Create a user with a role (coordinators need at least one --site)."""
    generated = False
    if password is None:
        if sys.stdin.isatty():
            password = click.prompt("Password", hide_input=True, confirmation_prompt=True)
        else:
            password, generated = secrets.token_urlsafe(12), True
    try:
        user = services().app.register_user(email=email, role=role, sites=list(sites), password=password, actor="cli")
    except InventoryError as error:
        raise click.ClickException(error.message) from None
    where = f" at {', '.join(user['sites'])}" if user["sites"] else ""
    click.echo(f"Created {user['email']} ({user['role']}{where}).")
    if generated:
        click.echo(f"Password: {password}")


@users.command("token")
@click.argument("email")
@click.option("--label", default="cli", show_default=True, help="What the token is for.")
@with_appcontext
def token(email: str, label: str) -> None:
    """Print a new API token for a user (shown once; stored only as a hash)."""
    try:
        click.echo(services().app.issue_token(email=email, label=label, actor="cli"))
    except InventoryError as error:
        raise click.ClickException(error.message) from None
