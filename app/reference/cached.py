"""Reference rows kept in the process, trusted only under the generation token they were read
with (``app.reference.generation``): every change of the tracked tables renews the token in its
own transaction, so a reader that finds the token unchanged knows the rows unchanged too.

Only rows that exist are kept (an unknown ISIN is asked of the database each time), so the cache
is never larger than the tables, whatever codes clients send."""

from dataclasses import dataclass, field
from datetime import date
from typing import Any
from weakref import WeakKeyDictionary

from app.core.calendars import BusinessCalendar
from app.reference.values import InstrumentRef, MarketRef


@dataclass
class ReferenceCache:
    """The rows read under ``token`` (None: a cache for one call, kept nowhere)."""

    token: str | None
    instruments: dict[str, InstrumentRef] = field(default_factory=dict)
    markets: dict[str, MarketRef] = field(default_factory=dict)
    # Per market kept in ``markets``: its closed days (often none).
    closed_days: dict[str, list[date]] = field(default_factory=dict)
    books: set[str] = field(default_factory=set)
    counterparties: set[str] = field(default_factory=set)
    # The markets' business calendars, made from the rows above (so as good as they are) at
    # the first request that asks and shared by every ``ReferenceSet`` read under the token:
    # made afresh per request, a single capture paid for two calendars and their first
    # lookups each time.
    calendars: dict[tuple[str, str], BusinessCalendar] = field(default_factory=dict)


# One per engine (one per database): a test suite's SQLite and PostgreSQL never share rows.
_CACHES: WeakKeyDictionary[Any, ReferenceCache] = WeakKeyDictionary()


def cache_for(engine: Any, token: str | None) -> ReferenceCache:
    """The engine's cache for ``token``: the one kept when it was filled under the same token,
    else a new one, kept for the next reader (when there is a token)."""
    if token is None:
        return ReferenceCache(None)
    cache = _CACHES.get(engine)
    if cache is None or cache.token != token:
        cache = _CACHES[engine] = ReferenceCache(token)
    return cache
