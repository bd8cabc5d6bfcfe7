"""The double-entry journal: append-only entries and their postings, reversals, and pending
(two-phase) entries, each keeping the running balances in step."""
