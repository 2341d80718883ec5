"""Tests of the Excel exports: they reconcile, open in LibreOffice, and never run user text as a formula."""
