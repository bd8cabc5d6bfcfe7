"""Penalty runs: one per business day, on the run framework."""
