"""Excel workbooks for grant compliance, built from read models only."""
