"""Every query and lock of bank statements, their files and entries."""

import hashlib
from collections.abc import Sequence
from datetime import date
from types import MappingProxyType
from typing import Any

from sqlalchemy import and_, func, insert, or_, select, text
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.db import table_of
from app.core.pagination import PageRequest, fetch_page
from app.reconciliation.statements.models import BankStatement, StatementEntry, StatementFile
from app.reconciliation.statements.parsing.model import EntryStatus, StatementKind
from app.reconciliation.statements.values import ClosingBalance, StatementLine

_BOOKED = EntryStatus.BOOKED.value
_END_OF_DAY = StatementKind.STATEMENT.value


async def lock_accounts(session: AsyncSession, accounts: Sequence[str]) -> None:
    """Receive one account's statements one file at a time, so that each finds the one before
    it committed (two files at once would each miss the other's). PostgreSQL: a transaction
    advisory lock per account, taken in code order (no deadlock between multi-account files);
    SQLite: the writer's BEGIN IMMEDIATE serialises already."""
    if session.get_bind().dialect.name != "postgresql":
        return
    for account in sorted(set(accounts)):
        digest = hashlib.sha256(f"bank_statements:{account}".encode()).digest()
        key = int.from_bytes(digest[:8], "big", signed=True)
        await session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": key})


async def add_file(session: AsyncSession, file: StatementFile) -> None:
    session.add(file)
    await session.flush()


async def add_statement(
    session: AsyncSession, statement: BankStatement, entries: Sequence[dict[str, Any]]
) -> None:
    """The statement, then its entries in one INSERT of plain rows (no ORM bookkeeping)."""
    session.add(statement)
    await session.flush()
    if entries:
        await session.execute(insert(table_of(StatementEntry)), list(entries))


async def by_identity(
    session: AsyncSession, *, account: str, kind: str, statement_id: str, sequence_key: str
) -> BankStatement | None:
    """The statement stored under this key, read afresh."""
    statement = (
        select(BankStatement)
        .where(
            BankStatement.account == account,
            BankStatement.kind == kind,
            BankStatement.statement_id == statement_id,
            BankStatement.sequence_key == sequence_key,
        )
        .execution_options(populate_existing=True)
    )
    return (await session.scalars(statement)).one_or_none()


async def previous_by_sequence(
    session: AsyncSession, *, account: str, kind: str, sequence: int, page: int | None
) -> BankStatement | None:
    """The stored statement with the highest (sequence, page) not after this one's."""
    page_of = func.coalesce(BankStatement.page, 0)
    statement = (
        select(BankStatement)
        .where(
            BankStatement.account == account,
            BankStatement.kind == kind,
            or_(
                BankStatement.sequence < sequence,
                and_(BankStatement.sequence == sequence, page_of <= (page or 0)),
            ),
        )
        .order_by(BankStatement.sequence.desc(), page_of.desc(), BankStatement.id.desc())
        .limit(1)
    )
    return (await session.scalars(statement)).first()


async def previous_by_date(
    session: AsyncSession, *, account: str, kind: str, day: date | None
) -> BankStatement | None:
    """The latest stored statement about a day not after ``day`` (any, without a day)."""
    statement = select(BankStatement).where(
        BankStatement.account == account, BankStatement.kind == kind
    )
    if day is not None:
        statement = statement.where(BankStatement.statement_date <= day)
    statement = statement.order_by(
        BankStatement.statement_date.desc().nulls_last(), BankStatement.id.desc()
    ).limit(1)
    return (await session.scalars(statement)).first()


async def get(session: AsyncSession, statement_id: str) -> BankStatement | None:
    return await session.get(BankStatement, statement_id)


async def entries_of(session: AsyncSession, statement_id: str) -> Sequence[StatementEntry]:
    statement = (
        select(StatementEntry)
        .where(StatementEntry.bank_statement_id == statement_id)
        .order_by(StatementEntry.line)
    )
    return (await session.scalars(statement)).all()


async def page_of(
    session: AsyncSession,
    *,
    page: PageRequest,
    account: str | None,
    kind: str | None,
    from_date: date | None,
    to_date: date | None,
    integrity: str | None,
) -> tuple[Sequence[BankStatement], str | None]:
    """A page of statements in the order received, filtered by whichever is given."""
    statement = select(BankStatement)
    if account is not None:
        statement = statement.where(BankStatement.account == account)
    if kind is not None:
        statement = statement.where(BankStatement.kind == kind)
    if from_date is not None:
        statement = statement.where(BankStatement.statement_date >= from_date)
    if to_date is not None:
        statement = statement.where(BankStatement.statement_date <= to_date)
    if integrity is not None:
        statement = statement.where(BankStatement.integrity == integrity)
    return await fetch_page(session, statement, BankStatement.id, page)


_LINE_COLUMNS = (
    StatementEntry.id,
    StatementEntry.bank_statement_id.label("statement"),
    StatementEntry.account,
    StatementEntry.line,
    BankStatement.currency,
    StatementEntry.amount,
    StatementEntry.credit_debit,
    StatementEntry.booking_date,
    StatementEntry.value_date,
    StatementEntry.bank_transaction_code,
    StatementEntry.end_to_end_id,
    StatementEntry.account_servicer_reference,
    StatementEntry.instruction_id,
    StatementEntry.uetr,
    StatementEntry.references,
    StatementEntry.remittance_information,
    StatementEntry.counterparty_name,
    StatementEntry.counterparty_account,
    StatementEntry.reversal,
)


async def booked_lines(session: AsyncSession, *, account: str, day: date) -> list[StatementLine]:
    """The booked entries of the account's end-of-day statements dated ``day`` (value date,
    else booking date: ``entry_date``), in the order received: one index range."""
    statement = (
        select(*_LINE_COLUMNS)
        .join(BankStatement, BankStatement.id == StatementEntry.bank_statement_id)
        .where(
            StatementEntry.account == account,
            StatementEntry.entry_date == day,
            StatementEntry.status == _BOOKED,
            BankStatement.kind == _END_OF_DAY,
        )
        .order_by(StatementEntry.bank_statement_id, StatementEntry.line)
    )
    return [
        StatementLine(**{**row._mapping, "references": MappingProxyType(dict(row.references))})
        for row in (await session.execute(statement)).all()
    ]


async def closing_on(session: AsyncSession, *, account: str, day: date) -> ClosingBalance | None:
    """The closing booked balance of the account's latest end-of-day statement for ``day``."""
    statement = (
        select(
            BankStatement.id.label("statement"),
            BankStatement.account,
            BankStatement.currency,
            BankStatement.closing_booked_amount.label("amount"),
            BankStatement.closing_booked_date.label("date"),
        )
        .where(
            BankStatement.account == account,
            BankStatement.kind == _END_OF_DAY,
            BankStatement.statement_date == day,
            BankStatement.closing_booked_amount.is_not(None),
        )
        .order_by(
            BankStatement.sequence.desc().nulls_last(),
            func.coalesce(BankStatement.page, 0).desc(),
            BankStatement.id.desc(),
        )
        .limit(1)
    )
    row = (await session.execute(statement)).first()
    return None if row is None else ClosingBalance(**row._mapping)


async def lines_by_ids(session: AsyncSession, ids: Sequence[str]) -> list[StatementLine]:
    """The entries with these ids (any status), in id order; unknown ids are left out."""
    statement = (
        select(*_LINE_COLUMNS)
        .join(BankStatement, BankStatement.id == StatementEntry.bank_statement_id)
        .where(StatementEntry.id.in_(sorted(set(ids))))
        .order_by(StatementEntry.id)
    )
    return [
        StatementLine(**{**row._mapping, "references": MappingProxyType(dict(row.references))})
        for row in (await session.execute(statement)).all()
    ]


async def accounts_with_statement_on(session: AsyncSession, *, day: date) -> list[str]:
    """The accounts with an end-of-day statement dated ``day``, in code order."""
    statement = (
        select(BankStatement.account)
        .where(BankStatement.kind == _END_OF_DAY, BankStatement.statement_date == day)
        .distinct()
        .order_by(BankStatement.account)
    )
    return list((await session.scalars(statement)).all())
