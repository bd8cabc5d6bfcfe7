"""What a posting on balances that exist sends to PostgreSQL: one statement per step. The lock
of whole balances looks and locks at once, the running totals and daily rows are written
together, so are the entries and their postings, and the postings' ledger accounts, proven by
the balance rows held, are not looked up; a balance still missing is created before anything
is locked."""

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from decimal import Decimal

import pytest
from sqlalchemy import event, select, text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.auth import Actor, Role
from app.positions.balances import service as balances
from app.positions.balances.models import LedgerBalance
from app.positions.journal import service as journal
from app.positions.journal.entries import EntryKind, Line, NewEntry
from app.positions.ledger_check.service import check_ledger
from tests.conftest import DEFAULT_NOW, Database

ACTOR = Actor(key_id="key_test", role=Role.OPERATIONS, name="test")
STRIPED = ("counterparty:529900T8BM49AURSDO55", "EUR")
WHOLE = ("cash:CASH-EUR", "EUR")
EQUITY = ("opening-equity", "EUR")


@pytest.fixture(autouse=True)
def _postgres_only(db: Database) -> None:
    if db.backend != "postgres":
        pytest.skip("striped balances and these statements are PostgreSQL's")


def moving(amount: str) -> NewEntry:
    lines = (
        Line(*STRIPED, Decimal(amount)),
        Line(*WHOLE, Decimal(amount)),
        Line(*EQUITY, -2 * Decimal(amount)),
    )
    return NewEntry(EntryKind.ADJUSTMENT, DEFAULT_NOW.date(), "round trips", lines)


@contextmanager
def sent(session: AsyncSession) -> Iterator[list[str]]:
    """Each statement's first words, as sent."""
    statements: list[str] = []
    engine = session.get_bind()

    def record(*args: object) -> None:
        statements.append(" ".join(str(args[2]).split()[:4]))

    event.listen(engine, "before_cursor_execute", record)
    try:
        yield statements
    finally:
        event.remove(engine, "before_cursor_execute", record)


async def post(db: Database, entry: NewEntry) -> list[str]:
    async with db.sessionmaker() as session:
        with sent(session) as statements:
            await journal.post(session, [entry], actor=ACTOR, now=datetime.now(UTC))
        await session.commit()
    return statements


async def test_a_posting_on_balances_that_exist_sends_one_statement_per_step(
    db: Database,
) -> None:
    await post(db, moving("1"))  # opens the accounts and balances

    statements = await post(db, moving("12.50"))

    assert statements == [
        "SELECT free.id, free.ledger_account, free.asset,",  # a stripe of the striped ones
        "SELECT ledger_balances.id, ledger_balances.ledger_account, ledger_balances.asset,",
        "WITH moved_heads AS (UPDATE",
        "WITH new_entries AS (INSERT",  # the entries and their postings
    ]
    async with db.sessionmaker() as session:
        assert await balances.posted(session, [STRIPED, WHOLE]) == {
            STRIPED: Decimal("13.50"),
            WHOLE: Decimal("13.50"),
        }
        assert (await check_ledger(session)).ok


async def test_a_lock_with_a_balance_missing_creates_it_before_locking_any(db: Database) -> None:
    await post(db, moving("1"))
    new = ("cash:CASH-EUR", "USD")
    now = datetime.now(UTC)

    async with db.sessionmaker() as session:
        heads = await balances.lock(session, [WHOLE, new], now=now)
        async with db.sessionmaker() as other:
            await other.execute(text("SET LOCAL lock_timeout = '100ms'"))
            with pytest.raises(DBAPIError, match="lock timeout"):
                await other.execute(
                    select(LedgerBalance.id)
                    .where(LedgerBalance.ledger_account == WHOLE[0])
                    .where(LedgerBalance.asset == WHOLE[1], LedgerBalance.stripe == 0)
                    .with_for_update()
                )
        await session.commit()

    assert sorted(heads) == [WHOLE, new]
    assert heads[new].totals.posted == Decimal(0)


async def test_a_lock_claims_the_stripes_given_in_the_same_statement(db: Database) -> None:
    """A trade's booking locks its position and claims a stripe of each other balance it moves
    in one statement; the posting then claims nothing more."""
    await post(db, moving("1"))

    async with db.sessionmaker() as session:
        with sent(session) as statements:
            spread = [STRIPED, EQUITY]
            heads = await balances.lock(session, [WHOLE], now=datetime.now(UTC), spread=spread)
            await journal.post(session, [moving("12.50")], actor=ACTOR, now=datetime.now(UTC))
        await session.commit()

    assert list(heads) == [WHOLE]
    assert statements == [
        "WITH locked AS (",  # the position locked, a stripe of each striped one claimed
        "WITH moved_heads AS (UPDATE",
        "WITH new_entries AS (INSERT",
    ]
    async with db.sessionmaker() as session:
        assert await balances.posted(session, [STRIPED, WHOLE]) == {
            STRIPED: Decimal("13.50"),
            WHOLE: Decimal("13.50"),
        }
        assert (await check_ledger(session)).ok


async def test_a_stripe_claimed_with_a_lock_never_waits_for_one_held(db: Database) -> None:
    """The claim skips a stripe another transaction holds (a new stripe is opened), and a
    position missing its row is still created before anything is locked."""
    await post(db, moving("1"))
    new = ("cash:CASH-EUR", "USD")
    async with db.sessionmaker() as first, db.sessionmaker() as second:
        await journal.post(first, [moving("2")], actor=ACTOR, now=datetime.now(UTC))  # holds
        await second.execute(text("SET LOCAL lock_timeout = '2s'"))
        await balances.lock(second, [new], now=datetime.now(UTC), spread=[STRIPED])
        striped_only = NewEntry(
            EntryKind.ADJUSTMENT,
            DEFAULT_NOW.date(),
            "striped",
            (Line(*STRIPED, Decimal("4")), Line(*EQUITY, Decimal("-4"))),
        )
        await journal.post(second, [striped_only], actor=ACTOR, now=datetime.now(UTC))
        await second.commit()
        await first.commit()

    async with db.sessionmaker() as session:
        stripes = await session.scalars(
            select(LedgerBalance.stripe).where(
                LedgerBalance.ledger_account == STRIPED[0], LedgerBalance.asset == STRIPED[1]
            )
        )
        assert len(list(stripes)) == 2
        assert await balances.posted(session, [STRIPED, WHOLE, new]) == {
            STRIPED: Decimal("7"),
            WHOLE: Decimal("3"),
            new: Decimal("0"),
        }
        assert (await check_ledger(session)).ok
