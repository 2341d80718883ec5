"""Getting started: import sites, items, funding sources and opening stock from a spreadsheet."""

from __future__ import annotations

from inventory.importing.importer import ImportReport, import_file
from inventory.importing.reading import Problem, UnreadableFile
from inventory.importing.template import build_template

__all__ = ["ImportReport", "Problem", "UnreadableFile", "build_template", "import_file"]
