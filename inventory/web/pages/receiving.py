"""Pages: receiving (being built)."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("receiving", __name__)
