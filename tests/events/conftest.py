"""Helpers for the feed and webhook tests: events written straight into the trail, a relay with
tiny delays, and waiting for what the relay does in the background."""

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any

import pytest

from app.audit.service import Change, record_changes
from app.core.auth import SYSTEM_ACTOR
from app.events.relay import Relay, RelayConfig
from tests.conftest import Database
from tests.support import Api, FrozenClock, seal

# The chain's head before each test: the records of the rows migrations seeded (seq 1 to 17,
# no events), then the test keys' api_key.created (seq 18 to 22).
HEAD = 22

# Timeouts and back-off in tens of milliseconds, so the relay's whole life fits in a test.
FAST = RelayConfig(
    poll_interval=0.01,
    timeout=0.5,
    connect_timeout=0.5,
    concurrency=8,
    retry_base=0.05,
    retry_cap=1.0,
    pause_after=10,
)


def change(entity_id: str, action: str, *, entity_type: str = "trade", n: int = 1) -> Change:
    """A change of ``entity_type`` ``entity_id``: created (no before) for ``captured``."""
    before = None if action == "captured" else {"id": entity_id, "n": n - 1}
    return Change(entity_type, entity_id, action, before, {"id": entity_id, "n": n})


async def emit(db: Database, *changes: Change, sealed: bool = True) -> None:
    """Commit ``changes`` in one transaction (and seal them, unless told not to)."""
    async with db.sessionmaker() as session, session.begin():
        await record_changes(session, list(changes), actor=SYSTEM_ACTOR, now=datetime.now(UTC))
    if sealed:
        await seal(db.sessionmaker)


async def eventually(check: Callable[[], Awaitable[bool]], *, within: float = 10.0) -> None:
    """Wait until ``check`` holds (the relay works in the background)."""
    deadline = time.monotonic() + within
    while not await check():
        if time.monotonic() > deadline:
            raise AssertionError(f"not within {within} s")
        await asyncio.sleep(0.01)


@contextlib.asynccontextmanager
async def running(*relays: Relay) -> AsyncIterator[None]:
    tasks = [asyncio.create_task(relay.run()) for relay in relays]
    try:
        yield
    finally:
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task


@dataclass(frozen=True)
class Subscription:
    id: str
    secret: str


@pytest.fixture
def relay_for(db: Database) -> Callable[..., Relay]:
    def make(**config: Any) -> Relay:
        jitter = config.pop("jitter", None)
        settings = replace(FAST, **config)
        if jitter is None:
            return Relay(db.sessionmaker, settings)
        return Relay(db.sessionmaker, settings, jitter=jitter)

    return make


@pytest.fixture
def subscribe(api: Api, clock: FrozenClock) -> Callable[..., Awaitable[Subscription]]:
    # The relay runs on the wall clock: so do the routes in these tests.
    clock.set(datetime.now(UTC))

    async def create(url: str, event_types: list[str] | None = None) -> Subscription:
        response = await api.post(
            "/webhooks", json={"url": url, "event_types": event_types or ["trade.*"]}, role="admin"
        )
        assert response.status_code == 201, response.text
        body = response.json()
        return Subscription(body["id"], body["secret"])

    return create
