"""Reference data as a whole, for other domains: the rows a batch of trades names (one query
per table, whatever the batch's size) and every counterparty and account (clearing resolves
trades against them). Both answer with frozen values, never ORM rows."""

from collections.abc import Iterable

from sqlalchemy.ext.asyncio import AsyncSession

from app.reference.accounts import service as accounts
from app.reference.books.service import known_books
from app.reference.counterparties import service as counterparties
from app.reference.instruments import service as instruments
from app.reference.markets import service as markets
from app.reference.values import Parties, ReferenceSet

__all__ = [
    "Parties",
    "ReferenceSet",
    "isins_settled_at_csd",
    "load_reference",
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
    counterparties named, with the markets' closed days."""
    found_instruments = await instruments.instruments_by_isin(session, isins=isins)
    wanted_mics = set(mics) | {i.mic for i in found_instruments.values()}
    found_markets = await markets.markets_by_mic(session, mics=wanted_mics)
    return ReferenceSet(
        instruments=found_instruments,
        markets=found_markets,
        books=await known_books(session, codes=books),
        counterparties=await counterparties.known_leis(session, leis=leis),
        closed_days=await markets.closed_days_by_mic(session, mics=found_markets),
    )


async def parties_and_accounts(session: AsyncSession) -> Parties:
    every_counterparty = await counterparties.every_counterparty(session)
    by_bic = {c.bic: c for c in every_counterparty.values() if c.bic}
    return Parties(every_counterparty, by_bic, await accounts.every_account(session))


async def isins_settled_at_csd(session: AsyncSession) -> set[str]:
    """The instruments of every market whose ``settlement_mode`` is ``csd``: the depository
    settles them, not our settlement runs."""
    mics = await markets.mics_at_csd(session)
    return await instruments.isins_of_markets(session, mics=mics) if mics else set()
