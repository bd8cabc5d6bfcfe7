"""Reference data: markets, calendars, instruments, counterparties, books, accounts, SSIs,
prices, penalty rates and matching tolerances, one subpackage per aggregate."""
