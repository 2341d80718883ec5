"""The web fixtures, for the import page's tests."""

from __future__ import annotations

from tests.web.conftest import flask_app, inventory  # noqa: F401
from tests.web.pages.conftest import quick_hashing  # noqa: F401
