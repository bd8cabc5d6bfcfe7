"""Position keeping: the double-entry journal and everything derived from it.

Subpackages, each importing only those listed before it: ``ledger_accounts`` (the chart of
accounts), ``balances`` (running and daily balances; positions and cash as of any day),
``journal`` (entries, postings, pending entries), ``bookings`` (what trades, clearing and
settlement post: the service other domains call), ``adjustments`` (four-eyes manual entries)
and ``ledger_check`` (the journal proved against the balances). ``costing`` is pure.
"""
