"""Running and daily balances of every (ledger account, asset), and what is read from them:
positions on both bases and cash balances, as of any day."""
