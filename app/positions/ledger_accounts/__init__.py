"""The chart of accounts: ledger account codes and the accounts created on first use."""
