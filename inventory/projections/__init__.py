"""Read models built from the event log (stock on hand, stock card, totals, audit)."""
