"""The sealer's loop: while this process leads, seal what has committed, every few milliseconds.

Runs inside ``settlement serve`` and ``settlement relay``; whichever process holds the lock
seals, the others stand by (and still report the backlog in their own ``/metrics``).
"""

import asyncio
from collections.abc import Coroutine
from datetime import UTC, datetime
from typing import Any, TypeVar

from prometheus_client import Gauge, Histogram
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, AsyncSession, async_sessionmaker

from app.audit.models import UnsealedRecord
from app.audit.sealing import SEAL_BATCH, Backlog, backlog, seal_pending
from app.core.leadership import Leadership, lead
from app.core.logging import get_logger

LOCK_NAME = "settlement.audit.sealer"
# Seconds between two vacuums of the queue by its leader (PostgreSQL). Every poll reads the
# queue from its oldest id, through each row deleted since the last vacuum: autovacuum, which
# visits a database once a minute at best, lets a run's queue leave hundreds of thousands behind.
VACUUM_INTERVAL = 5.0

UNSEALED = Gauge("audit_unsealed_records", "Committed audit records not sealed yet")
UNSEALED_AGE = Gauge(
    "audit_unsealed_oldest_age_seconds", "How long the oldest unsealed record has waited"
)
SEAL_LAG = Histogram(
    "audit_seal_lag_seconds",
    "From a writer's commit to its record's seal",
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0),
)

log = get_logger(__name__)

T = TypeVar("T")


class Sealer:
    def __init__(
        self,
        engine: AsyncEngine,
        sessionmaker: async_sessionmaker[AsyncSession],
        *,
        interval: float = 0.05,
        standby_interval: float = 1.0,
        batch: int = SEAL_BATCH,
        vacuum_interval: float = VACUUM_INTERVAL,
    ) -> None:
        self._engine = engine
        self._sessionmaker = sessionmaker
        self._interval = interval
        self._standby_interval = standby_interval
        self._batch = batch
        self._vacuum_interval = vacuum_interval

    async def run(self) -> None:
        """Forever (until cancelled): lead and seal, or stand by and report the backlog."""
        while True:
            try:
                async with lead(self._engine, LOCK_NAME) as leadership:
                    if leadership is None:
                        await self.report_backlog()
                        await asyncio.sleep(self._standby_interval)
                    else:
                        await self._seal_while_leading(leadership)
            except asyncio.CancelledError:
                raise
            except Exception:  # the database went away, or another sealer raced: try again
                log.exception("audit_sealer_failed")
                await asyncio.sleep(self._standby_interval)

    async def seal_once(self, connection: AsyncConnection | None = None) -> int:
        """One transaction of sealing (on ``connection`` when given); how many records it
        sealed."""

        async def transaction() -> list[float]:
            async with self._session(connection) as session, session.begin():
                return await seal_pending(session, now=datetime.now(UTC), limit=self._batch)

        lags = await _to_the_end(transaction())
        for lag in lags:
            SEAL_LAG.observe(lag)
        return len(lags)

    async def report_backlog(self, connection: AsyncConnection | None = None) -> None:
        async def read() -> Backlog:
            async with self._session(connection) as session:
                return await backlog(session, now=datetime.now(UTC))

        waiting = await _to_the_end(read())
        UNSEALED.set(waiting.unsealed)
        UNSEALED_AGE.set(waiting.oldest_age_seconds)

    async def vacuum_queue(self) -> None:
        """Clear the rows sealing deleted from the queue (PostgreSQL; a no-op elsewhere), on a
        connection of its own outside any transaction. A failure is logged, never raised: the
        seals do not depend on it."""
        if self._engine.dialect.name != "postgresql":
            return

        async def vacuum() -> None:
            async with self._engine.connect() as connection:
                autocommit = await connection.execution_options(isolation_level="AUTOCOMMIT")
                await autocommit.exec_driver_sql(f"VACUUM {UnsealedRecord.__tablename__}")

        try:
            await _to_the_end(vacuum())
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("audit_queue_vacuum_failed")

    def _session(self, connection: AsyncConnection | None) -> AsyncSession:
        return self._sessionmaker() if connection is None else self._sessionmaker(bind=connection)

    async def _seal_while_leading(self, leadership: Leadership) -> None:
        # On PostgreSQL the leader seals on the lock's own connection: no pool checkout per
        # transaction, and no seal once the lock is lost (its connection's failure ends this).
        connection = leadership.connection
        loop = asyncio.get_running_loop()
        next_report = next_vacuum = loop.time()
        while True:
            sealed = await self.seal_once(connection)
            if loop.time() >= next_vacuum:
                await self.vacuum_queue()
                next_vacuum = loop.time() + self._vacuum_interval
            if loop.time() >= next_report:
                await self.report_backlog(connection)
                next_report = loop.time() + self._standby_interval
            if sealed < self._batch:
                await asyncio.sleep(self._interval)


async def _to_the_end(work: Coroutine[Any, Any, T]) -> T:
    """``work``, run to its end even when the caller is cancelled meanwhile; the cancellation
    takes effect only then. A transaction cut off half-way could leave its connection holding
    SQLite's write lock, or the leader's connection busy while the lock is given up."""
    task = asyncio.ensure_future(work)
    try:
        return await asyncio.shield(task)
    except asyncio.CancelledError:
        await asyncio.wait([task])
        if not task.cancelled():
            task.exception()  # seen: the cancellation is what the caller gets
        raise
