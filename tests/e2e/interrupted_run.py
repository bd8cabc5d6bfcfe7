"""A clearing or settlement run in a process of its own, for the reliability tests to kill.

    python -m tests.e2e.interrupted_run clearing|settlement DATE [RUN_ID]

Without ``RUN_ID`` it starts a run for ``DATE`` (printing ``run <id>``) and works through it;
with one it goes on with that run (the run framework's ``process``, which picks up from what
was committed). The test drives it with environment
variables read here only, never by the app:

- ``SETTLEMENT_TEST_RUN_CHUNK``: the run's chunk size (small, so a run has many chunks);
- ``SETTLEMENT_TEST_STALL_AT_CHUNK``: at that chunk (1-based) the chunk's work is done in its
  still-open transaction, ``stalled`` is printed and the process sleeps until it is killed.
"""

import asyncio
import dataclasses
import os
import sys
from datetime import date
from typing import Any

from app.clearing.runs import service as clearing
from app.clearing.runs import work as clearing_work
from app.core.auth import SYSTEM_ACTOR
from app.core.clock import system_clock
from app.core.config import get_settings
from app.core.db import UnitOfWork, create_engine, create_sessionmaker
from app.core.runs import framework
from app.settlement.runs import service as settlement
from app.settlement.runs import work as settlement_work

KINDS: dict[str, Any] = {
    "clearing": (clearing.CLEARING_RUN, clearing.start_run, clearing_work),
    "settlement": (settlement.SETTLEMENT_RUN, settlement.start_run, settlement_work),
}


def stalling(chunk: Any, at: int) -> Any:
    calls = 0

    async def stall_or_work(*args: Any, **kwargs: Any) -> bool:
        nonlocal calls
        calls += 1
        more: bool = await chunk(*args, **kwargs)
        if calls == at:
            print("stalled", flush=True)
            await asyncio.sleep(3600)
        return more

    return stall_or_work


async def main(name: str, day: date, run_id: str | None) -> None:
    kind, start, work = KINDS[name]
    work.CHUNK = int(os.environ.get("SETTLEMENT_TEST_RUN_CHUNK", work.CHUNK))
    stall_at = int(os.environ.get("SETTLEMENT_TEST_STALL_AT_CHUNK", "0"))
    if stall_at:
        kind = dataclasses.replace(kind, chunk=stalling(kind.chunk, stall_at))
    engine = create_engine(get_settings().database_url)
    sessionmaker = create_sessionmaker(engine)
    try:
        if run_id is None:
            async with sessionmaker() as session, UnitOfWork(session):
                run = await start(
                    session, settlement_date=day, actor=SYSTEM_ACTOR, now=system_clock()
                )
                run_id = run.id
            print(f"run {run_id}", flush=True)
        await framework.process(
            sessionmaker, kind, run_id=run_id, actor=SYSTEM_ACTOR, clock=system_clock
        )
        print("done", flush=True)
    finally:
        await engine.dispose()


if __name__ == "__main__":
    kind_name, day, *resumed = sys.argv[1:]
    asyncio.run(main(kind_name, date.fromisoformat(day), resumed[0] if resumed else None))
