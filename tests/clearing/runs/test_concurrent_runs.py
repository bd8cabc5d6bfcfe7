"""Two clearing runs for one date at once: each trade is cleared by one of them, once."""

import asyncio
from collections import Counter
from datetime import date
from decimal import Decimal

import pytest
from sqlalchemy import select

from app.clearing.obligations.models import Obligation, ObligationTrade
from app.clearing.runs import service as clearing
from app.clearing.runs import work as clearing_work
from app.core.auth import SYSTEM_ACTOR
from app.core.db import UnitOfWork
from app.trades.capture.models import Trade
from tests.clearing.support import MORGAN, book_confirmed
from tests.conftest import Database
from tests.support import Api, FrozenClock

DUE = date(2026, 11, 25)


async def test_two_runs_at_once_share_the_trades_without_clearing_any_twice(
    api: Api, reference: None, db: Database, clock: FrozenClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    free = {"price": "190.00", "commission": "0", "fees": "0"}
    booked = []
    for _ in range(4):
        booked.append(await book_confirmed(api, side="buy", quantity="10", **free))
        booked.append(
            await book_confirmed(api, side="sell", quantity="3", counterparty_lei=MORGAN, **free)
        )
    monkeypatch.setattr(clearing_work, "CHUNK", 2)
    run_ids = []
    for _ in range(2):
        async with db.sessionmaker() as session, UnitOfWork(session):
            run = await clearing.start_run(
                session, settlement_date=DUE, actor=SYSTEM_ACTOR, now=clock()
            )
            run_ids.append(run.id)

    await asyncio.gather(
        *(
            clearing.process_run(db.sessionmaker, run_id=run_id, actor=SYSTEM_ACTOR, clock=clock)
            for run_id in run_ids
        )
    )

    async with db.sessionmaker() as session:
        lineage = (await session.scalars(select(ObligationTrade.trade_id))).all()
        assert Counter(lineage) == Counter(t["id"] for t in booked)
        statuses = (await session.scalars(select(Trade.status))).all()
        assert set(statuses) == {"instructed"}
        # Whichever run took which trades, together they net 4 x (10 - 3) = 28 JPM against
        # 4 x (-1900.00 + 570.00) = -5320.00 USD.
        nets = (await session.execute(select(Obligation.net_quantity, Obligation.net_amount))).all()
        assert sum((q for q, _ in nets), Decimal(0)) == Decimal(28)
        assert sum((a for _, a in nets), Decimal(0)) == Decimal("-5320.00")
        runs = [await clearing.get_run(session, run_id=run_id) for run_id in run_ids]
        assert [r.status for r in runs] == ["completed", "completed"]
        assert sum(r.processed for r in runs) == len(booked)
