"""Pages: counts (being built)."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("counts", __name__)
