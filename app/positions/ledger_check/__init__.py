"""The ledger check: the journal read end to end against the balances it should have made."""
