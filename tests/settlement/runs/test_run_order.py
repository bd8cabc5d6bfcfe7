"""A run's chunks go through settlement order from where the last one ended, not from its
start again, and take what is left behind them once the order is through."""

from datetime import date

import pytest

from app.settlement.instructions import repository
from app.settlement.runs import work
from app.settlement.runs.models import SettlementRun
from tests.clearing.support import clear
from tests.conftest import Database
from tests.settlement.runs.test_settlement_runs_api import DUE, jpm
from tests.support import Api


async def test_a_chunk_claims_after_the_last_one_then_what_is_left_from_the_start(
    api: Api, db: Database, reference: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    for isin in ("US46625H1005", "US1912161007", "US4592001014"):
        await jpm(api, "buy", "10", "100.00", isin=isin)
    await clear(api, DUE)
    monkeypatch.setattr(work, "CHUNK", 1)
    run = SettlementRun(id="str_order", settlement_date=date.fromisoformat(DUE))
    async with db.sessionmaker() as session:
        due = await repository.due_after(
            session, settlement_date=run.settlement_date, after=None, limit=3
        )
        first, second, third = (instruction.id for instruction in due)
        progress = work.Progress(frozenset(), after=repository.run_order_key(due[1]))
        claimed = [[row.id for row in await work._claim(session, run, progress)] for _ in range(3)]
        await session.rollback()

    assert claimed == [[third], [first], [second]]
