"""Pages: encounters (being built)."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("encounters", __name__)
