"""Statements: what banks send, parsed into one shape (``parsing/``), checked (``integrity``),
kept with the raw file they came in, and read back by account and day for reconciliation."""
