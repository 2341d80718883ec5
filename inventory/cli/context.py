"""How a CLI command gets the services: built once per run from the settings, without Flask, and
closed when the command ends. A caller (a test) may hand its own in as the click context's `obj`."""

from __future__ import annotations

import click

from inventory.adapters.settings import load_settings
from inventory.bootstrap import Services, build_services
from inventory.domain.errors import InvalidInput


def services() -> Services:
    """The services of this run of the `inventory` command."""
    root = click.get_current_context().find_root()
    if isinstance(root.obj, Services):
        return root.obj
    try:
        built = build_services(load_settings())
    except InvalidInput as error:  # a setting to fix: say which, without a traceback
        raise click.ClickException(str(error)) from None
    root.obj = built
    root.call_on_close(built.close)
    return built
