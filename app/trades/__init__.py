"""Trades: capture (book, amend, cancel, hand on to clearing and settlement) and confirmations
(matching the counterparty's view, exceptions, force-match, affirmation deadlines)."""
