"""Reference data as a whole, for other domains: the rows a batch of trades names (one query
per table, whatever the batch's size) and every counterparty and account (clearing resolves
trades against them). Both answer with frozen values, never ORM rows."""

from collections.abc import Callable, Iterable
from typing import Any

from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from app.core.coalesce import coalesced
from app.core.db import UnitOfWork
from app.reference.accounts import service as accounts
from app.reference.books.service import known_books
from app.reference.cached import ReferenceCache, cache_for
from app.reference.counterparties import service as counterparties
from app.reference.generation import committed_token, current_token
from app.reference.instruments import service as instruments
from app.reference.markets import service as markets
from app.reference.values import Parties, ReferenceSet

__all__ = [
    "Parties",
    "ReferenceSet",
    "isins_settled_at_csd",
    "load_reference",
    "load_reference_fresh",
    "parties_and_accounts",
]


async def load_reference(
    session: AsyncSession,
    *,
    isins: Iterable[str],
    mics: Iterable[str],
    books: Iterable[str],
    leis: Iterable[str],
) -> ReferenceSet:
    """The instruments, markets (those named and those of the instruments), books and
    counterparties named, with the markets' closed days.

    One statement (the generation token) when the process has read them all before under the
    same token; the rows it lacks, one query per table."""
    token = await current_token(session)
    named = {"isins": isins, "mics": mics, "books": books, "leis": leis}
    return await _load(lambda: session, session.get_bind(), token, **named)


async def load_reference_fresh(
    uow: UnitOfWork,
    *,
    isins: Iterable[str],
    mics: Iterable[str],
    books: Iterable[str],
    leis: Iterable[str],
) -> ReferenceSet:
    """``load_reference`` for a unit of work that has written nothing: on PostgreSQL the token
    is read outside it, in one statement with concurrent readers' (``app.core.coalesce``),
    started after this call; its session is used (so made) only for rows the cache lacks."""
    engine = uow.bind
    named = {"isins": isins, "mics": mics, "books": books, "leis": leis}
    if isinstance(engine, AsyncEngine) and engine.dialect.name == "postgresql":
        token = await coalesced(engine, "reference_token", committed_token).get(None)
        return await _load(lambda: uow.session, engine.sync_engine, token, **named)
    token = await current_token(uow.session)
    return await _load(lambda: uow.session, uow.session.get_bind(), token, **named)


async def _load(
    session_of: Callable[[], AsyncSession],
    bind: Any,
    token: str | None,
    *,
    isins: Iterable[str],
    mics: Iterable[str],
    books: Iterable[str],
    leis: Iterable[str],
) -> ReferenceSet:
    """``session_of``: the session to read what the cache (``bind``'s, for ``token``) lacks."""
    cache = cache_for(bind, token)
    wanted_isins = set(isins)
    if missing := wanted_isins - cache.instruments.keys():
        found = await instruments.instruments_by_isin(session_of(), isins=missing)
        cache.instruments.update(found)
    found_instruments = {i: cache.instruments[i] for i in wanted_isins if i in cache.instruments}
    wanted_mics = set(mics) | {i.mic for i in found_instruments.values()}
    if missing := wanted_mics - cache.markets.keys():
        await _fill_markets(session_of(), cache, missing)
    wanted_books, wanted_leis = set(books), set(leis)
    if missing := wanted_books - cache.books:
        cache.books |= await known_books(session_of(), codes=missing)
    if missing := wanted_leis - cache.counterparties:
        cache.counterparties |= await counterparties.known_leis(session_of(), leis=missing)
    found_markets = {m: cache.markets[m] for m in wanted_mics if m in cache.markets}
    return ReferenceSet(
        instruments=found_instruments,
        markets=found_markets,
        books=wanted_books & cache.books,
        counterparties=wanted_leis & cache.counterparties,
        closed_days={m: list(cache.closed_days[m]) for m in found_markets if cache.closed_days[m]},
        _calendars=cache.calendars,
    )


async def _fill_markets(session: AsyncSession, cache: ReferenceCache, mics: set[str]) -> None:
    """The markets of ``mics`` that exist, and their closed days, into ``cache``."""
    if not mics:
        return
    found = await markets.markets_by_mic(session, mics=mics)
    closed = await markets.closed_days_by_mic(session, mics=found) if found else {}
    for mic, market in found.items():
        cache.closed_days[mic] = closed.get(mic, [])
        cache.markets[mic] = market


async def parties_and_accounts(session: AsyncSession) -> Parties:
    every_counterparty = await counterparties.every_counterparty(session)
    by_bic = {c.bic: c for c in every_counterparty.values() if c.bic}
    return Parties(every_counterparty, by_bic, await accounts.every_account(session))


async def isins_settled_at_csd(session: AsyncSession) -> set[str]:
    """The instruments of every market whose ``settlement_mode`` is ``csd``: the depository
    settles them, not our settlement runs."""
    mics = await markets.mics_at_csd(session)
    return await instruments.isins_of_markets(session, mics=mics) if mics else set()
