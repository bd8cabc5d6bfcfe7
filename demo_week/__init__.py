"""``settlement demo --days N``: a realistic week of business, played through the HTTP API.

Not part of the app (which never imports it) and not part of the CSD simulator (which never
imports the app): it drives both, in process. The app runs under httpx's ASGITransport with a
clock the week moves forward; the simulator answers the depository markets' instructions.

- ``script``: what happens, pure and seeded (trades, confirmations, scripted incidents).
- ``statements``: the bank's camt.053 of a day, written from the book with deliberate
  differences so reconciliation finds breaks.
- ``week``: each business day as a list of steps, each one API call (or the simulator's day).
- ``command``: the CLI glue (the app, its clock, the demo keys).
"""
