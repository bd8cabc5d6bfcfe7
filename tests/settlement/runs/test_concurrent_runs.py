"""Two settlement runs for one date at once: each instruction settles once, and the cash both
runs draw on is never spent twice."""

import asyncio
from datetime import date
from decimal import Decimal

import pytest
from sqlalchemy import select

from app.core.auth import SYSTEM_ACTOR
from app.core.db import UnitOfWork
from app.positions.journal.models import JournalEntry
from app.settlement.instructions.models import SettlementInstruction
from app.settlement.runs import service as runs
from app.settlement.runs import work as runs_work
from tests.clearing.support import book_confirmed, clear
from tests.conftest import Database
from tests.positions.conftest import Adjust, cash_balances, ledger_check, line
from tests.support import Api, FrozenClock

DUE = date(2026, 11, 25)
ISINS = ("US46625H1005", "US1912161007", "US4592001014", "US92826C8394", "US30231G1022")


async def test_two_runs_at_once_settle_each_instruction_once_within_the_cash(
    api: Api, adjust: Adjust, db: Database, clock: FrozenClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Five receipts of 1000.00 each against 3500.00: three settle, two fail MONY, whichever run
    # takes them.
    await adjust("opening", line("CASH-USD", "USD", "3500.00"))
    for isin in ISINS:
        await book_confirmed(
            api, isin=isin, side="buy", quantity="10", price="100.00", commission="0", fees="0"
        )
    await clear(api, DUE.isoformat())
    monkeypatch.setattr(runs_work, "CHUNK", 1)
    run_ids = []
    for _ in range(2):
        async with db.sessionmaker() as session, UnitOfWork(session):
            run = await runs.start_run(
                session, settlement_date=DUE, actor=SYSTEM_ACTOR, now=clock()
            )
            run_ids.append(run.id)

    await asyncio.gather(
        *(
            runs.process_run(db.sessionmaker, run_id=run_id, actor=SYSTEM_ACTOR, clock=clock)
            for run_id in run_ids
        )
    )

    async with db.sessionmaker() as session:
        statuses = sorted((await session.scalars(select(SettlementInstruction.status))).all())
        settlements = (
            await session.scalars(
                select(JournalEntry.source_id).where(JournalEntry.kind == "settlement")
            )
        ).all()
        finished = [await runs.get_run(session, run_id=run_id) for run_id in run_ids]
    assert statuses == ["matched", "matched", "settled", "settled", "settled"]
    assert len(settlements) == len(set(settlements)) == 3
    assert sum(r.settled for r in finished) == 3
    assert [r.status for r in finished] == ["completed", "completed"]
    [cash] = await cash_balances(api, account="CASH-USD")
    assert Decimal(cash["settled"]) == Decimal("500.00")
    assert (await ledger_check(api))["ok"] is True
