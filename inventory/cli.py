"""The `inventory` command: a Flask CLI group with the product's own commands."""

from __future__ import annotations

import click
from flask import Flask
from flask.cli import FlaskGroup, with_appcontext

from inventory.demo import already_loaded, seed_demo
from inventory.web import create_app, inventory_app


def _create_app() -> Flask:
    return create_app()


@click.group(cls=FlaskGroup, create_app=_create_app, add_default_commands=False, add_version_option=False)
def main() -> None:
    """Supply inventory for harm reduction programs."""


@main.command("init")
@with_appcontext
def init_command() -> None:
    """Create the event store's tables (safe to run again)."""
    app = inventory_app()
    click.echo(f"Event store ready; the log holds {app.recorder.max_notification_id() or 0} events.")


@main.command("demo")
@click.option("--days", default=90, show_default=True, help="Days of activity to record.")
@click.option("--seed", default=20261123, show_default=True, help="Random seed (same seed, same events).")
@with_appcontext
def demo_command(days: int, seed: int) -> None:
    """Load a realistic demo program (skipped when the log already holds data)."""
    app = inventory_app()
    if already_loaded(app):
        click.echo("The log already holds data; demo not loaded again.")
        return
    with click.progressbar(length=days, label="Recording demo days", file=None) as bar:
        summary = seed_demo(app, days=days, seed=seed, progress=bar.update)
    click.echo(
        f"Demo loaded: {summary.encounters} encounters, {summary.receipts} receipts, "
        f"{summary.transfers} transfers, {summary.adjustments} adjustments, {summary.counts} counts "
        f"({summary.events} events)."
    )


@main.command("serve")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=5000, show_default=True)
@with_appcontext
def serve_command(host: str, port: int) -> None:
    """Run the development server (use gunicorn in production)."""
    from flask import current_app

    click.echo(f"Serving on http://{host}:{port}/  (Ctrl+C to stop)")
    current_app.run(host=host, port=port, debug=False, use_reloader=False)
