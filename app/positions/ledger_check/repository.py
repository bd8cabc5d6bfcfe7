"""Every query of the ledger check: the journal streamed in accounting order, chunk by chunk,
with its postings; every pending posting; every balance with its daily rows."""

from collections import defaultdict
from collections.abc import AsyncIterator, Sequence
from datetime import date
from typing import Any

from sqlalchemy import select, tuple_
from sqlalchemy.ext.asyncio import AsyncSession

from app.positions.balances.models import LedgerBalance, LedgerBalanceDay
from app.positions.journal.models import JournalEntry, PendingEntry, PendingPosting, Posting


async def journal_in_chunks(
    session: AsyncSession, *, chunk: int
) -> AsyncIterator[tuple[Sequence[Any], Sequence[Posting]]]:
    """Entries (``id``, ``accounting_date``, ``value_date``) in journal order, ``chunk`` at a
    time, each chunk with its postings in posting order. What a chunk loaded is forgotten
    before the next."""
    after: tuple[date, str] | None = None
    while True:
        statement = (
            select(JournalEntry.id, JournalEntry.accounting_date, JournalEntry.value_date)
            .order_by(JournalEntry.accounting_date, JournalEntry.id)
            .limit(chunk)
        )
        if after is not None:
            statement = statement.where(
                tuple_(JournalEntry.accounting_date, JournalEntry.id) > after
            )
        entries = (await session.execute(statement)).all()
        if not entries:
            return
        postings = await session.execute(
            select(Posting)
            .where(Posting.entry_id.in_([row.id for row in entries]))
            .order_by(Posting.id)
        )
        yield entries, postings.scalars().all()
        after = (entries[-1][1], entries[-1][0])
        session.expunge_all()


async def pending_postings(session: AsyncSession) -> Sequence[Any]:
    """Every pending posting with its entry's status, opening and resolution days."""
    statement = select(
        PendingEntry.status,
        PendingEntry.opened_on,
        PendingEntry.resolved_on,
        PendingPosting.ledger_account,
        PendingPosting.asset,
        PendingPosting.amount,
    ).join(PendingPosting, PendingPosting.pending_id == PendingEntry.id)
    return (await session.execute(statement)).all()


async def balances_with_days(
    session: AsyncSession,
) -> tuple[Sequence[LedgerBalance], dict[int, list[LedgerBalanceDay]]]:
    """Every balance, and its daily rows by balance id, in date order."""
    heads = (await session.scalars(select(LedgerBalance))).all()
    days: dict[int, list[LedgerBalanceDay]] = defaultdict(list)
    for row in (
        await session.scalars(
            select(LedgerBalanceDay).order_by(
                LedgerBalanceDay.balance_id, LedgerBalanceDay.as_of_date
            )
        )
    ).all():
        days[row.balance_id].append(row)
    return heads, days
