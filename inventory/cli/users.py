"""`inventory users create|token|revoke-token`: staff accounts from the command line (the first admin, scripts)."""

from __future__ import annotations

import secrets
import sys

import click

from inventory.cli.context import services
from inventory.domain.errors import InventoryError
from inventory.projections import staff


@click.group("users")
def users() -> None:
    """Staff accounts."""


@users.command("create")
@click.argument("email")
@click.option(
    "--role",
    required=True,
    type=click.Choice(["admin", "coordinator", "purchasing", "grant_manager", "auditor", "partner"]),
)
@click.option("--site", "sites", multiple=True, help="A site code the user works at (repeat for more).")
@click.option("--partner", help="For a partner account: the code of its partner organisation.")
@click.option("--password", help="Their password (asked for when left out at a terminal, else generated).")
def create(email: str, role: str, sites: tuple[str, ...], partner: str | None, password: str | None) -> None:
    """Create a user with a role (coordinators need at least one --site; a partner account its --partner)."""
    generated = False
    if password is None:
        if sys.stdin.isatty():
            password = click.prompt("Password", hide_input=True, confirmation_prompt=True)
        else:
            password, generated = secrets.token_urlsafe(12), True
    try:
        user = services().app.register_user(
            email=email, role=role, sites=list(sites), partner=partner, password=password, actor="cli"
        )
    except InventoryError as error:
        raise click.ClickException(error.message) from None
    where = f" at {', '.join(user['sites'])}" if user["sites"] else ""
    where = f" for partner {user['partner']}" if user["partner"] else where
    click.echo(f"Created {user['email']} ({user['role']}{where}).")
    if generated:
        click.echo(f"Password: {password}")


@users.command("token")
@click.argument("email")
@click.option("--label", default="cli", show_default=True, help="What the token is for.")
def token(email: str, label: str) -> None:
    """Print a new API token for a user (shown once; stored only as a hash)."""
    try:
        click.echo(services().app.issue_token(email=email, label=label, actor="cli"))
    except InventoryError as error:
        raise click.ClickException(error.message) from None


@users.command("revoke-token")
@click.argument("token_id")
def revoke_token(token_id: str) -> None:
    """Revoke one API token by its id (the part after the token's second underscore); the user's
    other tokens go on working."""
    found = services()
    found.projector.catch_up()
    owners = staff.token_owners(found.store, token_id.strip())
    if not owners:
        raise click.ClickException(f"There is no API token {token_id}.")
    for email in owners:
        try:
            found.app.revoke_token(email=email, token_id=token_id.strip(), actor="cli")
        except InventoryError as error:
            raise click.ClickException(error.message) from None
        click.echo(f"Revoked API token {token_id.strip()} of {email}.")
    found.projector.catch_up()
