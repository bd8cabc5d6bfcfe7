"""Writers that create balance rows while others lock them never wait on each other in a
circle (PostgreSQL: SQLite lets one writer in at a time)."""

import asyncio
import random
from datetime import UTC, datetime
from decimal import Decimal

import pytest

from app.core.auth import Actor, Role
from app.positions.journal import service as journal
from app.positions.journal.entries import EntryKind, Line, NewEntry
from app.positions.ledger_check.service import check_ledger
from tests.conftest import DEFAULT_NOW, Database

ACTOR = Actor(key_id="key_test", role=Role.OPERATIONS, name="test")
ACCOUNTS = [f"counterparty:PARTY{i:02d}" for i in range(6)]
ASSETS = ["EUR", "USD", "GBP"]


def entry(rng: random.Random) -> NewEntry:
    """Two to four accounts, among them ones no writer has booked yet, in a random order."""
    picked = rng.sample([(a, c) for a in ACCOUNTS for c in ASSETS[:1]], rng.randint(2, 4))
    asset = ASSETS[rng.randrange(len(ASSETS))]
    lines = [Line(account, asset, Decimal(10)) for account, _ in picked]
    lines.append(Line("opening-equity", asset, Decimal(-10 * len(picked))))
    rng.shuffle(lines)
    return NewEntry(EntryKind.ADJUSTMENT, DEFAULT_NOW.date(), "concurrent", tuple(lines))


async def test_writers_creating_and_locking_balance_rows_at_once_all_commit(
    db: Database,
) -> None:
    if db.backend != "postgres":
        pytest.skip("SQLite admits one writer at a time")
    rng = random.Random(20261205)
    entries = [entry(rng) for _ in range(40)]
    start = asyncio.Event()

    async def write(new: NewEntry) -> None:
        async with db.sessionmaker() as session:
            await start.wait()
            await journal.post(session, [new], actor=ACTOR, now=datetime.now(UTC))
            await asyncio.sleep(0.01)  # hold the locks a moment, as a request does
            await session.commit()

    tasks = [asyncio.create_task(write(new)) for new in entries]
    await asyncio.sleep(0.05)
    start.set()
    results = await asyncio.gather(*tasks, return_exceptions=True)
    assert [r for r in results if isinstance(r, BaseException)] == []
    async with db.sessionmaker() as session:
        report = await check_ledger(session)
    assert report.ok, report.problems
