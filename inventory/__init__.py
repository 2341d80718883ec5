"""Supply inventory and distribution for harm reduction programs, on an append-only event log."""

__version__ = "0.3.0.dev0"
