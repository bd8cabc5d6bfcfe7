"""Penalty reports received: stored, found by sender and message id, listed."""

import hashlib
from collections.abc import Sequence

from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.errors import NotFound
from app.core.pagination import PageRequest, fetch_page
from app.penalties.reports.models import PenaltyReportRow


async def lock_message_id(session: AsyncSession, *, sender: str, message_id: str) -> None:
    """One sender's message taken in turns (PostgreSQL: a transaction advisory lock; SQLite
    serialises writers already): the same report posted twice at once replays, not 500s."""
    if session.get_bind().dialect.name != "postgresql":
        return
    digest = hashlib.sha256(f"penalty-report:{sender}:{message_id}".encode()).digest()
    key = int.from_bytes(digest[:8], "big", signed=True)
    await session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": key})


async def by_message_id(
    session: AsyncSession, *, sender: str, message_id: str
) -> PenaltyReportRow | None:
    statement = select(PenaltyReportRow).where(
        PenaltyReportRow.sender == sender, PenaltyReportRow.message_id == message_id
    )
    return (await session.scalars(statement)).one_or_none()


async def add(session: AsyncSession, row: PenaltyReportRow) -> None:
    session.add(row)
    await session.flush()


async def get(session: AsyncSession, report_id: str) -> PenaltyReportRow:
    row = await session.get(PenaltyReportRow, report_id)
    if row is None:
        raise NotFound(f"Penalty report {report_id} not found.")
    return row


async def page_of(
    session: AsyncSession, page: PageRequest
) -> tuple[Sequence[PenaltyReportRow], str | None]:
    return await fetch_page(session, select(PenaltyReportRow), PenaltyReportRow.id, page)
