"""The `inventory` command. Only `serve` loads Flask: every other command, the worker included, gets
its services from inventory.bootstrap."""

from __future__ import annotations

import base64
import os
import secrets
import signal
import threading
from types import FrameType

import click

from inventory.adapters.logs import configure_logging
from inventory.adapters.scheduler import build_scheduler, check_alerts_job
from inventory.application.demo import COORDINATORS, DEMO_PASSWORD, DEMO_USERS, PURCHASING, already_loaded, seed_demo
from inventory.bootstrap import create_schema
from inventory.cli.audit import audit
from inventory.cli.backups import backup_command, restore_command
from inventory.cli.context import services
from inventory.cli.exports import export
from inventory.cli.importing import import_command, template_command
from inventory.cli.projections import projections
from inventory.cli.users import users
from inventory.domain.errors import InvalidInput
from inventory.projections.alerts import open_alerts


@click.group()
def main() -> None:
    """Supply inventory for harm reduction programs."""


main.add_command(projections)
main.add_command(audit)
main.add_command(backup_command)
main.add_command(restore_command)
main.add_command(users)
main.add_command(export)
main.add_command(import_command)
main.add_command(template_command)


@main.command("keys")
def keys_command() -> None:
    """Print new random keys for INVENTORY_SECRET_KEY, INVENTORY_SEAL_KEY and INVENTORY_CIPHER_KEY.

    Keep them in your secret store. The seal key and the cipher key must stay the same for the life
    of the database: a lost cipher key makes the events unreadable.
    """
    click.echo(f"INVENTORY_SECRET_KEY={secrets.token_urlsafe(32)}")
    click.echo(f"INVENTORY_SEAL_KEY={secrets.token_urlsafe(32)}")
    click.echo(f"INVENTORY_CIPHER_KEY={base64.b64encode(secrets.token_bytes(32)).decode()}")


@main.command("init")
def init_command() -> None:
    """Create the event store's, the read models' and the web's tables (safe to run again)."""
    found = services()
    create_schema(found)
    click.echo(f"Event store and read models ready; the log holds {found.projector.head()} events.")


@main.command("demo")
@click.option("--days", default=90, show_default=True, help="Days of activity to record.")
@click.option("--seed", default=20261123, show_default=True, help="Random seed (same seed, same events).")
def demo_command(days: int, seed: int) -> None:
    """Load a realistic demo program (skipped when the log already holds data)."""
    found = services()
    if already_loaded(found.app):
        click.echo("The log already holds data; demo not loaded again.")
        return
    with click.progressbar(length=days, label="Recording demo days") as bar:
        summary = seed_demo(found.app, days=days, seed=seed, progress=bar.update)
    click.echo(
        f"Demo loaded: {summary.encounters} encounters, {summary.receipts} receipts, "
        f"{summary.transfers} transfers, {summary.adjustments} adjustments, {summary.counts} counts "
        f"({summary.events} events)."
    )
    with click.progressbar(length=summary.events, label="Building read models") as bar:
        found.projector.catch_up(progress=bar.update)
    check_alerts_job(found)
    # Purchasing has already given each stock-out to the coordinator of its site, to ask for a top-up run.
    for row in open_alerts(found.store, kind="out_of_stock"):
        if row["site"] in COORDINATORS:
            found.app.assign_alert(alert_id=row["id"], episode=row["episode"], to=COORDINATORS[row["site"]],
                                   actor=PURCHASING)  # fmt: skip
    found.projector.catch_up()
    click.echo(f"Alert check done: {len(open_alerts(found.store))} alerts open.")
    click.echo(
        f"Demo sign-in: {DEMO_USERS[0][0]} / {DEMO_PASSWORD} (admin); coordinators, purchasing, grants and "
        f"auditor accounts use the same password: {', '.join(email for email, _, _ in DEMO_USERS[1:])}."
    )


@main.command("serve")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=5000, show_default=True)
@click.option(
    "--projector/--no-projector",
    default=True,
    show_default=True,
    help="Do the worker's work in this process too: keep read models up to date, check alerts, deliver them "
    "(for the demo, without `inventory worker`).",
)
def serve_command(host: str, port: int, projector: bool) -> None:
    """Run the development server (use gunicorn in production)."""
    from werkzeug.serving import run_simple

    from inventory.web import create_app

    try:
        app = create_app()
    except InvalidInput as error:  # a setting to fix: say which, without a traceback
        raise click.ClickException(str(error)) from None
    found = app.extensions["inventory"]
    if projector:
        stop = threading.Event()
        threading.Thread(target=found.projector.run, args=(stop,), daemon=True, name="projector").start()
        # The development server is the demo's only process: it runs the worker's schedule too.
        build_scheduler(found).start()
    if os.environ.get("INVENTORY_ENV") != "production":
        # The built-in server speaks plain HTTP: a Secure session cookie would never come back.
        # (Behind HTTPS in production, gunicorn serves the app and the cookies stay Secure.)
        app.config.update(SESSION_COOKIE_SECURE=False, REMEMBER_COOKIE_SECURE=False)
    click.echo(f"Serving on http://{host}:{port}/  (Ctrl+C to stop)")
    run_simple(host, port, app, threaded=True, use_reloader=False)


@main.command("worker")
@click.option("--interval", default=0.5, show_default=True, help="Seconds between polls of the log.")
def worker_command(interval: float) -> None:
    """Keep the read models caught up with the log until stopped (SIGTERM or Ctrl+C)."""
    configure_logging(json_lines=os.environ.get("INVENTORY_LOG_FORMAT", "text") == "json")
    stop = threading.Event()

    def stopping(signum: int, frame: FrameType | None) -> None:
        click.echo("Stopping after the current batch.")
        stop.set()

    signal.signal(signal.SIGTERM, stopping)
    signal.signal(signal.SIGINT, stopping)
    found = services()
    create_schema(found)
    click.echo(f"Worker running: projecting {found.projector.head()} events and polling every {interval}s.")
    # Only the worker schedules (alert checks, deliveries, the digest); web processes never do.
    scheduler = build_scheduler(found)
    scheduler.start()
    try:
        found.projector.run(stop, interval=interval)
    finally:
        scheduler.shutdown(wait=False)
