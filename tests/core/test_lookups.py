"""Statements planned as lookups by key: no sequential scan inside, the planner as before after."""

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.lookups import by_key


async def test_inside_no_sequential_scan_is_planned_and_after_it_is_again(
    session: AsyncSession,
) -> None:
    if session.get_bind().dialect.name != "postgresql":
        pytest.skip("a PostgreSQL planner setting")
    show = text("SHOW enable_seqscan")
    async with by_key(session):
        inside = await session.scalar(show)
    assert (inside, await session.scalar(show)) == ("off", "on")


async def test_nested_or_already_off_it_stays_as_the_caller_had_it(session: AsyncSession) -> None:
    if session.get_bind().dialect.name != "postgresql":
        pytest.skip("a PostgreSQL planner setting")
    show = text("SHOW enable_seqscan")
    async with by_key(session):
        async with by_key(session):
            pass
        inner_done = await session.scalar(show)
    await session.execute(text("SET LOCAL enable_seqscan = off"))
    async with by_key(session):
        pass
    assert (inner_done, await session.scalar(show)) == ("off", "off")


async def test_on_other_dialects_the_block_just_runs(session: AsyncSession) -> None:
    if session.get_bind().dialect.name == "postgresql":
        pytest.skip("the other dialects")
    ran = []
    async with by_key(session):
        ran.append(True)
    assert ran == [True]
