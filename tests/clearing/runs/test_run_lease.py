"""A run whose worker died (the process killed mid-chunk) stays ``running``; its lease tells it
from one still working: while the worker's heartbeat is within ``SETTLEMENT_RUN_LEASE_SECONDS``
nobody else may work on it (409), once it is older the run is stalled and a resume takes it
over, audited, and clears each trade once."""

import asyncio
import dataclasses
from datetime import date, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select

from app.audit.models import AuditRecord
from app.clearing.runs import service as clearing
from app.clearing.runs import work as clearing_work
from app.clearing.runs.models import ClearingRun
from app.core.auth import SYSTEM_ACTOR
from app.core.config import get_settings
from app.core.db import UnitOfWork
from app.core.runs import framework
from tests.clearing.support import MORGAN, OPS, book_confirmed, obligations, trade
from tests.conftest import DEFAULT_NOW, Database
from tests.positions.conftest import ledger_check
from tests.support import Api, FrozenClock

FREE = {"commission": "0", "fees": "0"}
JPM_DUE = "2026-11-25"


def dying_at(chunk: Any, at: int) -> Any:
    """The chunk, except that the process dies in chunk ``at``: its transaction never commits
    and nothing marks the run failed (a BaseException, as a SIGKILL leaves it)."""
    calls = 0

    async def chunk_or_die(*args: Any, **kwargs: Any) -> bool:
        nonlocal calls
        calls += 1
        more: bool = await chunk(*args, **kwargs)
        if calls == at:
            raise asyncio.CancelledError("killed")
        return more

    return chunk_or_die


async def killed_run(
    api: Api, db: Database, clock: FrozenClock, monkeypatch: pytest.MonkeyPatch
) -> tuple[list[dict[str, Any]], str]:
    """Five trades cleared two a chunk by a worker that dies in its second chunk."""
    booked = [
        await book_confirmed(api, side="buy", quantity="10", price="190.00", **FREE)
        for _ in range(3)
    ]
    booked += [
        await book_confirmed(
            api, side="sell", quantity="4", price="191.00", counterparty_lei=MORGAN, **FREE
        )
        for _ in range(2)
    ]
    monkeypatch.setattr(clearing_work, "CHUNK", 2)
    async with db.sessionmaker() as session, UnitOfWork(session):
        run = await clearing.start_run(
            session, settlement_date=date.fromisoformat(JPM_DUE), actor=SYSTEM_ACTOR, now=clock()
        )
    kind = dataclasses.replace(
        clearing.CLEARING_RUN, chunk=dying_at(clearing.CLEARING_RUN.chunk, 2)
    )
    with pytest.raises(asyncio.CancelledError):
        await framework.process(
            db.sessionmaker, kind, run_id=run.id, actor=SYSTEM_ACTOR, clock=clock
        )
    return booked, run.id


async def actions(db: Database, run_id: str) -> list[AuditRecord]:
    async with db.sessionmaker() as session:
        statement = (
            select(AuditRecord)
            .where(AuditRecord.entity_id == run_id)
            .order_by(AuditRecord.occurred_at, AuditRecord.id)
        )
        return list((await session.scalars(statement)).all())


async def test_a_run_whose_worker_lives_is_not_taken_over(
    api: Api, db: Database, clock: FrozenClock, reference: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    _, run_id = await killed_run(api, db, clock, monkeypatch)
    clock.advance(seconds=get_settings().run_lease_seconds)  # the lease still holds, just

    response = await api.post(f"/clearing-runs/{run_id}/resume", role=OPS)

    assert response.status_code == 409, response.text
    problem = response.json()
    assert response.headers["content-type"].startswith("application/problem+json")
    assert problem["detail"].startswith(f"The clearing run '{run_id}' is running: its worker (")
    assert f"last reported at {DEFAULT_NOW.isoformat()}" in problem["detail"]
    lease = timedelta(seconds=get_settings().run_lease_seconds)
    assert (problem["current_status"], problem["heartbeat_at"], problem["stalled_after"]) == (
        "running",
        DEFAULT_NOW.isoformat(),
        (DEFAULT_NOW + lease).isoformat(),
    )
    # A second worker started on it is refused too, and leaves the run to its worker.
    with pytest.raises(framework.RunBusy):
        await clearing.process_run(db.sessionmaker, run_id=run_id, actor=SYSTEM_ACTOR, clock=clock)
    run = (await api.get(f"/clearing-runs/{run_id}", role=OPS)).json()
    assert (run["status"], run["processed"]) == ("running", 2)
    # Operations see who holds it, and from when it counts as stalled.
    assert run["worker"].count(":") == 2
    assert (
        datetime.fromisoformat(run["heartbeat_at"]),
        datetime.fromisoformat(run["stalled_after"]),
    ) == (
        DEFAULT_NOW,
        DEFAULT_NOW + lease,
    )
    assert [record.action for record in await actions(db, run_id)] == ["started"]


async def test_a_stalled_run_is_taken_over_by_a_resume_and_clears_each_trade_once(
    api: Api, db: Database, clock: FrozenClock, reference: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    booked, run_id = await killed_run(api, db, clock, monkeypatch)
    async with db.sessionmaker() as session:
        dead = await session.get(ClearingRun, run_id)
        assert dead is not None
        dead_worker = dead.worker
    assert dead_worker is not None
    assert [(await trade(api, t["id"]))["status"] for t in booked].count("cleared") == 2
    clock.advance(seconds=get_settings().run_lease_seconds + 1)

    resumed = await api.post(f"/clearing-runs/{run_id}/resume", params={"wait": "true"}, role=OPS)

    assert resumed.status_code == 200, resumed.text
    run = resumed.json()
    assert (run["status"], run["processed"], run["obligations"], run["instructions"]) == (
        "completed",
        5,
        1,
        1,
    )
    [obligation] = await obligations(api, run_id=run_id)
    assert obligation["trade_ids"] == sorted(t["id"] for t in booked)
    # 3 x 10 bought, 2 x 4 sold, each once: +22; -5700.00 + 1528.00 = -4172.00.
    assert (obligation["net_quantity"], obligation["net_amount"]) == ("22", "-4172.00")
    assert {(await trade(api, t["id"]))["status"] for t in booked} == {"instructed"}
    assert (await ledger_check(api))["ok"] is True
    records = await actions(db, run_id)
    assert [record.action for record in records] == ["started", "taken_over", "completed"]
    taken_over = records[1]
    assert taken_over.before is not None
    assert taken_over.after is not None
    assert (taken_over.before["worker"], taken_over.before["heartbeat_at"]) == (
        dead_worker,
        DEFAULT_NOW.isoformat(),
    )
    assert (taken_over.after["status"], taken_over.after["worker"]) == ("running", None)
    assert run["stalled_after"] is None  # completed: no lease to run out
    # Taken over, it cannot be taken over again.
    again = await api.post(f"/clearing-runs/{run_id}/resume", role=OPS)
    assert again.status_code == 409


async def test_a_trade_confirmed_while_the_run_goes_is_cleared_and_counted_in_its_total(
    api: Api, db: Database, clock: FrozenClock, reference: None
) -> None:
    first = await book_confirmed(api, side="buy", quantity="10", price="190.00", **FREE)
    async with db.sessionmaker() as session, UnitOfWork(session):
        run = await clearing.start_run(
            session, settlement_date=date.fromisoformat(JPM_DUE), actor=SYSTEM_ACTOR, now=clock()
        )
    assert run.total == 1
    second = await book_confirmed(api, side="buy", quantity="5", price="190.00", **FREE)

    await clearing.process_run(db.sessionmaker, run_id=run.id, actor=SYSTEM_ACTOR, clock=clock)

    done = (await api.get(f"/clearing-runs/{run.id}", role=OPS)).json()
    assert (done["status"], done["total"], done["processed"]) == ("completed", 2, 2)
    assert {(await trade(api, t["id"]))["status"] for t in (first, second)} == {"instructed"}
