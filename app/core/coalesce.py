"""Reads that many concurrent requests make, answered together (PostgreSQL).

Every request with a key looks its key up, and every capture reads the reference data's token:
one statement each, but also, each, a pooled connection, its BEGIN and its ROLLBACK, on the
request's own session. A ``CoalescedRead`` answers the asks made in one turn of the event loop
with one statement outside any transaction (no BEGIN, no ROLLBACK), started after the last of
them was asked: so no answer is older than its ask, and a change committed before a request
arrived (a revoked key, new reference data) is seen by it, as its own read would have seen it.

The statement goes to asyncpg itself: SQLAlchemy's connection, execution and result layers cost
more than the statement (measured one read at a time: 360-440 us of CPU a read through them,
220-270 us without), and these reads run once or twice a request. And it goes to a connection
the read holds for itself, taken out of the pool once (detached: the pool's size is the
requests'): a checkout and check-in through the pool's greenlets cost 100 us of CPU a read,
five times the fetch. The held connection is pinged when idle as the pool pings its own
(``app.core.db``), replaced when lost, and closed with ``close_coalesced_reads``; a read asked
while it is busy goes through the pool as before, so no read waits for another.
"""

import asyncio
import time
from collections.abc import Awaitable, Callable, Hashable, Mapping
from typing import Any, Generic, TypeVar
from weakref import WeakKeyDictionary

from sqlalchemy.engine import Dialect
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlalchemy.pool import PoolProxiedConnection
from sqlalchemy.util import greenlet_spawn

from app.core import db as core_db
from app.core.driver import as_sqlalchemy_error

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")
# asyncpg's connection (``asyncpg.Connection``), outside any transaction.
Read = Callable[[Any, frozenset[K]], Awaitable[Mapping[K, V]]]


class CoalescedRead(Generic[K, V]):
    """The asks of one event loop for one kind of read, and the reads that answer them."""

    def __init__(self, engine: AsyncEngine, read: Read[K, V]) -> None:
        self.loop = asyncio.get_running_loop()
        self._engine, self._read = engine, read
        self._asked: set[K] = set()
        self._answer: asyncio.Future[Mapping[K, V]] | None = None
        self._running: set[asyncio.Task[None]] = set()
        self._held: PoolProxiedConnection | None = None  # detached from the pool: ours
        self._held_busy = False
        self._held_used_at = 0.0

    async def get(self, key: K) -> V | None:
        """The value read for ``key`` by a statement started after this call (None: none)."""
        if self._answer is None:
            self._answer = self.loop.create_future()
            # Whoever is cancelled meanwhile, an error is the others' to see: never unretrieved.
            self._answer.add_done_callback(_retrieve)
            self.loop.call_soon(self._start)
        answer = self._answer
        self._asked.add(key)
        # Shielded: one asker cancelled (its client gone) does not cancel the others' read.
        return (await asyncio.shield(answer)).get(key)

    def _start(self) -> None:
        keys, answer = frozenset(self._asked), self._answer
        self._asked, self._answer = set(), None
        assert answer is not None
        task = self.loop.create_task(self._run(keys, answer))
        self._running.add(task)
        task.add_done_callback(self._running.discard)

    async def _run(self, keys: frozenset[K], answer: "asyncio.Future[Mapping[K, V]]") -> None:
        try:
            found = await (self._read_pooled(keys) if self._held_busy else self._read_held(keys))
        except BaseException as error:
            if not answer.done():
                answer.set_exception(error)
            raise
        answer.set_result(found)

    async def _read_pooled(self, keys: frozenset[K]) -> Mapping[K, V]:
        pooled = await self._engine.raw_connection()
        try:
            return await self._read(pooled.driver_connection, keys)
        except Exception as error:
            translated = await _as_sqlalchemy_error(
                self._engine.dialect, pooled, error, lost=pooled.invalidate
            )
            if translated is error:
                raise
            raise translated from error
        finally:
            # In a greenlet: the pool's check-in may talk to the server (a rollback, a close).
            await greenlet_spawn(pooled.close)

    async def _read_held(self, keys: frozenset[K]) -> Mapping[K, V]:
        self._held_busy = True
        try:
            held = await self._held_connection()
            try:
                return await self._read(_driver(held), keys)
            except Exception as error:
                translated = await _as_sqlalchemy_error(
                    self._engine.dialect, held, error, lost=lambda _: self._drop_held()
                )
                if translated is error:
                    raise
                raise translated from error
        finally:
            self._held_busy, self._held_used_at = False, time.monotonic()

    async def _held_connection(self) -> PoolProxiedConnection:
        """The connection held for these reads: opened at first use and after a loss; pinged
        when idle (a lost server shows at the ping, not as the read's error)."""
        held = self._held
        if held is not None and time.monotonic() - self._held_used_at >= core_db.PING_IDLE_SECONDS:
            try:
                await _driver(held).execute("SELECT 1")
            except Exception:  # lost or broken: replaced, as the pool replaces a dead one
                self._drop_held()
                held = None
        if held is None or _driver(held).is_closed():
            held = await self._engine.raw_connection()
            held.detach()
            self._held = held
        return held

    def _drop_held(self) -> None:
        held, self._held = self._held, None
        if held is not None and not _driver(held).is_closed():
            _driver(held).terminate()  # no round trip: its server may be gone

    async def aclose(self) -> None:
        """Close the held connection (a later read opens another)."""
        held, self._held = self._held, None
        if held is not None and not _driver(held).is_closed():
            await _driver(held).close()


def _driver(connection: PoolProxiedConnection) -> Any:
    """asyncpg's own connection (``asyncpg.Connection``) under SQLAlchemy's adapter (the
    fairy's ``driver_connection`` is its pool record's: None once detached)."""
    adapted: Any = connection.dbapi_connection
    return adapted.driver_connection


async def _as_sqlalchemy_error(
    dialect: Dialect,
    pooled: PoolProxiedConnection,
    error: Exception,
    *,
    lost: Callable[[Exception], None],
) -> Exception:
    """``driver.as_sqlalchemy_error`` for a read (a lost server is a 503, not a 500); the
    connection, when the error shows it dead, is given to ``lost`` (run in a greenlet)."""
    translated, dead = as_sqlalchemy_error(
        dialect, pooled.dbapi_connection, "(a coalesced read)", error
    )
    if dead is not None:
        await greenlet_spawn(lost, dead)
    return translated


def _retrieve(future: "asyncio.Future[Any]") -> None:
    if not future.cancelled():
        future.exception()


# Per engine (its pool), per name, the one of the running loop.
_READS: WeakKeyDictionary[Any, dict[str, CoalescedRead[Any, Any]]] = WeakKeyDictionary()


def coalesced(engine: AsyncEngine, name: str, read: Read[K, V]) -> CoalescedRead[K, V]:
    """The engine's ``CoalescedRead`` called ``name`` on the running loop (made at first use)."""
    reads = _READS.setdefault(engine.sync_engine, {})
    found = reads.get(name)
    if found is None or found.loop is not asyncio.get_running_loop():
        found = reads[name] = CoalescedRead(engine, read)
    return found


async def close_coalesced_reads(engine: AsyncEngine) -> None:
    """Close the connections the engine's coalesced reads of the running loop hold (before
    ``engine.dispose()``: detached from the pool, they are not the pool's to close)."""
    loop = asyncio.get_running_loop()
    for read in _READS.get(engine.sync_engine, {}).values():
        if read.loop is loop:
            await read.aclose()
