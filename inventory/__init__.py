"""Supply inventory and distribution for harm reduction programs, on an append-only event log."""

__version__ = "0.2.0"
