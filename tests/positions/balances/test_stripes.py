"""Striped balances (PostgreSQL): writers of a balance every trade moves never wait on each
other, each taking a stripe of its own; the balance is the sum of its stripes, as of any day;
balances a writer must see whole keep one row, and their writers queue."""

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import func, select, text, update
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.auth import Actor, Role
from app.positions.balances import repository
from app.positions.balances import service as balances
from app.positions.balances.models import LedgerBalance
from app.positions.balances.totals import Totals
from app.positions.journal import service as journal
from app.positions.journal.entries import EntryKind, Line, NewEntry
from app.positions.ledger_check.service import check_ledger
from tests.conftest import DEFAULT_NOW, Database

ACTOR = Actor(key_id="key_test", role=Role.OPERATIONS, name="test")
TODAY = DEFAULT_NOW.date()
SHARED = ("counterparty:529900T8BM49AURSDO55", "EUR")
COMMISSION = ("commission", "EUR")
CASH = ("cash:CASH-EUR", "EUR")


@pytest.fixture(autouse=True)
async def opened(db: Database) -> None:
    """The accounts and balances exist, as they do once a counterparty has traded: the first
    writer of a new account or balance does make the others wait until it commits."""
    if db.backend != "postgres":
        pytest.skip("stripes are PostgreSQL's: SQLite admits one writer at a time")
    async with db.sessionmaker() as session:
        await post(session, moving("0", SHARED, COMMISSION, CASH))
        await session.commit()


def moving(amount: str, *keys: tuple[str, str], day: date = TODAY) -> NewEntry:
    """``amount`` on each of ``keys``, against opening equity."""
    lines = [Line(account, asset, Decimal(amount)) for account, asset in keys]
    lines.append(Line("opening-equity", "EUR", -Decimal(amount) * len(keys)))
    return NewEntry(EntryKind.ADJUSTMENT, day, "striped", tuple(lines))


async def post(session: AsyncSession, entry: NewEntry, *, lock_timeout: str = "10s") -> None:
    """Post ``entry``; a wait on a lock longer than ``lock_timeout`` fails."""
    await session.execute(text(f"SET LOCAL lock_timeout = '{lock_timeout}'"))
    await journal.post(session, [entry], actor=ACTOR, now=datetime.now(UTC))


async def stripes(db: Database, key: tuple[str, str]) -> list[int]:
    async with db.sessionmaker() as session:
        found = await session.scalars(
            select(LedgerBalance.stripe)
            .where(LedgerBalance.ledger_account == key[0], LedgerBalance.asset == key[1])
            .order_by(LedgerBalance.stripe)
        )
        return list(found)


async def test_writers_of_a_shared_balance_each_take_a_stripe_and_never_wait(db: Database) -> None:
    async with db.sessionmaker() as first, db.sessionmaker() as second:
        await post(first, moving("10.50", SHARED, COMMISSION))
        # The first holds its stripes until it commits; the second must not wait for it.
        await post(second, moving("4.25", SHARED, COMMISSION), lock_timeout="2s")
        await second.commit()
        await first.commit()
    async with db.sessionmaker() as third:  # a free stripe is reused, not a new one opened
        await post(third, moving("1", SHARED))
        await third.commit()

    shared = await stripes(db, SHARED)
    assert shared[0] == 0
    assert len(shared) == 2  # the first's stripe 0, the one the second opened
    assert len(await stripes(db, COMMISSION)) == 2
    async with db.sessionmaker() as session:
        assert await balances.posted(session, [SHARED, COMMISSION]) == {
            SHARED: Decimal("15.75"),
            COMMISSION: Decimal("14.75"),
        }
        report = await check_ledger(session)
    assert report.ok, report.problems
    assert report.balances_checked == 4  # shared, commission, cash, equity: not per stripe


async def test_as_of_answers_add_every_stripes_latest_daily_row(db: Database) -> None:
    yesterday = TODAY - timedelta(days=1)
    async with db.sessionmaker() as first, db.sessionmaker() as second:
        await post(first, moving("100", SHARED, day=yesterday))
        await post(second, moving("7", SHARED, day=yesterday))
        await post(second, moving("3", SHARED))
        await first.commit()
        await second.commit()
    async with db.sessionmaker() as session:
        assert await repository.as_of_totals(session, [SHARED], yesterday) == {
            SHARED: Totals(posted=Decimal(107))
        }
        assert await repository.as_of_totals(session, [SHARED], TODAY) == {
            SHARED: Totals(posted=Decimal(110))
        }
        assert await repository.as_of_totals(session, [SHARED], yesterday - timedelta(1)) == {}
        assert (await check_ledger(session)).ok


async def test_a_balance_seen_whole_keeps_one_row_and_its_writers_queue(db: Database) -> None:
    async with db.sessionmaker() as first, db.sessionmaker() as second:
        await post(first, moving("50", CASH))
        with pytest.raises(DBAPIError, match="lock timeout"):  # the first holds the one row
            await post(second, moving("5", CASH), lock_timeout="500ms")
        await first.commit()
    assert await stripes(db, CASH) == [0]


async def test_the_ledger_check_finds_a_stripe_that_strayed(db: Database) -> None:
    async with db.sessionmaker() as first, db.sessionmaker() as second:
        await post(first, moving("10", SHARED))
        await post(second, moving("20", SHARED))
        await first.commit()
        await second.commit()
    async with db.sessionmaker() as session:
        strayed = await session.scalar(
            select(func.max(LedgerBalance.stripe)).where(LedgerBalance.ledger_account == SHARED[0])
        )
        await session.execute(
            update(LedgerBalance)
            .where(LedgerBalance.ledger_account == SHARED[0], LedgerBalance.stripe == strayed)
            .values(posted=LedgerBalance.posted + Decimal(1))
        )
        await session.commit()
        report = await check_ledger(session)
    [problem] = report.problems
    assert problem.kind == "balance_mismatch"
    assert (problem.ledger_account, problem.asset) == SHARED
    assert "is Totals(posted=Decimal('31')" in problem.detail


async def test_folding_puts_the_spare_stripes_back_into_one_row_as_of_every_day(
    db: Database,
) -> None:
    yesterday = TODAY - timedelta(days=1)
    async with db.sessionmaker() as first, db.sessionmaker() as second:
        await post(first, moving("100", SHARED, COMMISSION, day=yesterday))
        await post(second, moving("7", SHARED, day=yesterday))
        await post(second, moving("3", SHARED, COMMISSION))
        await first.commit()
        await second.commit()
    assert len(await stripes(db, SHARED)) == 2
    async with db.sessionmaker() as session:
        before = {
            day: await repository.as_of_totals(session, [SHARED, COMMISSION], day)
            for day in (yesterday, TODAY)
        }
        # The second's stripes of the shared balance, commission and opening equity.
        assert await balances.fold_stripes(session, now=datetime.now(UTC)) == 3
        await session.commit()
    assert await stripes(db, SHARED) == [0]
    assert await stripes(db, COMMISSION) == [0]
    async with db.sessionmaker() as session:
        for day, totals in before.items():
            assert await repository.as_of_totals(session, [SHARED, COMMISSION], day) == totals
        assert before[TODAY][SHARED] == Totals(posted=Decimal(110))
        assert (await check_ledger(session)).ok


async def test_folding_leaves_the_stripes_writers_hold(db: Database) -> None:
    async with (
        db.sessionmaker() as first,
        db.sessionmaker() as second,
        db.sessionmaker() as folding,
    ):
        await post(first, moving("1", SHARED))  # stripe 0
        await post(second, moving("2", SHARED))  # a stripe of its own
        await first.commit()
        assert await balances.fold_stripes(folding, now=datetime.now(UTC)) == 0
        await folding.commit()
        await second.commit()
    assert len(await stripes(db, SHARED)) == 2
    async with db.sessionmaker() as folding:  # once nobody holds them
        assert await balances.fold_stripes(folding, now=datetime.now(UTC)) == 2  # and equity's
        await folding.commit()
    assert await stripes(db, SHARED) == [0]
    async with db.sessionmaker() as session:
        assert await balances.posted(session, [SHARED]) == {SHARED: Decimal(3)}
        assert (await check_ledger(session)).ok
