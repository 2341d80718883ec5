"""The services of the running Flask app."""

from __future__ import annotations

from flask import current_app

from inventory.bootstrap import Services


def services() -> Services:
    """The application, read store and projector this Flask app was built with."""
    found = current_app.extensions["inventory"]
    assert isinstance(found, Services)
    return found
