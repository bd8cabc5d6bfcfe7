"""The webhook relay: fans the sealed feed out into deliveries and sends them, signed.

Runs inside ``settlement serve`` and as ``settlement relay``; any number may run at once (the
cursor and the deliveries are claimed with SKIP LOCKED, so no leader is needed). Deliveries go
out concurrently, at most ``concurrency`` at a time, each bounded by its timeout: a receiver
that hangs holds one slot until its timeout, never the others.
"""

import asyncio
import contextlib
import random
import weakref
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, timedelta
from typing import Any, TypeVar

import httpx
import orjson
from prometheus_client import Counter, Gauge
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from app.core.clock import Clock, system_clock
from app.core.config import Settings
from app.core.logging import get_logger
from app.events import signing
from app.events.backoff import Backoff
from app.events.types import event_id
from app.events.webhooks.dispatch import (
    Claimed,
    Outcome,
    RetryPolicy,
    backlog,
    claim_due,
    fan_out,
    record_attempt,
)

T = TypeVar("T")

FAN_OUT_BATCH = 500
REPORT_INTERVAL = 5.0  # seconds between two updates of the backlog gauges
USER_AGENT = "settlement-webhooks/1"

ATTEMPTS = Counter("webhook_attempts", "Webhook delivery attempts", ["outcome"])
NOT_FANNED_OUT = Gauge("webhook_events_not_fanned_out", "Sealed events the relay has not queued")
PENDING = Gauge("webhook_pending_deliveries", "Webhook deliveries not delivered yet")

log = get_logger(__name__)


@dataclass(frozen=True)
class RelayConfig:
    poll_interval: float = 0.5
    timeout: float = 5.0  # one attempt, connection to answer
    connect_timeout: float = 2.0
    concurrency: int = 16
    retry_base: float = 5.0
    retry_cap: float = 3600.0
    pause_after: int = 10
    batch: int = FAN_OUT_BATCH

    @classmethod
    def from_settings(cls, settings: Settings) -> "RelayConfig":
        return cls(
            poll_interval=settings.webhook_poll_interval_seconds,
            timeout=settings.webhook_timeout_seconds,
            connect_timeout=settings.webhook_connect_timeout_seconds,
            concurrency=settings.webhook_concurrency,
            retry_base=settings.webhook_retry_base_seconds,
            retry_cap=settings.webhook_retry_cap_seconds,
            pause_after=settings.webhook_pause_after_failures,
        )

    @property
    def lease(self) -> timedelta:
        """How long a claimed delivery is ours: twice what an attempt may take."""
        return timedelta(seconds=2 * self.timeout)


def payload(claimed: Claimed) -> bytes:
    """The body: Standard Webhooks' ``type``, ``timestamp`` (when the change happened) and
    ``data`` (the change; ``before`` null on creation)."""
    event = claimed.event
    return orjson.dumps(
        {
            "type": event.event_type,
            "timestamp": event.occurred_at.astimezone(UTC).isoformat().replace("+00:00", "Z"),
            "data": {
                "event_id": event_id(event.seq),
                "seq": event.seq,
                "entity_type": event.entity_type,
                "entity_id": event.entity_id,
                "before": event.before,
                "after": event.after,
            },
        }
    )


# SQLite writes one transaction at a time, and makes the others poll for its lock with growing
# sleeps (up to 100 ms each, in no order): the relay's short transactions, and the relays of one
# process, queue on an asyncio lock instead, first come first served. A delivery's outcome is
# then recorded well within its lease, whatever else this process writes.
_SQLITE_WRITERS: "weakref.WeakKeyDictionary[AsyncEngine, asyncio.Lock]" = (
    weakref.WeakKeyDictionary()
)


def _serialised(
    sessionmaker: async_sessionmaker[AsyncSession],
) -> contextlib.AbstractAsyncContextManager[Any]:
    engine = sessionmaker.kw.get("bind")
    if not isinstance(engine, AsyncEngine) or engine.dialect.name != "sqlite":
        return contextlib.nullcontext()
    return _SQLITE_WRITERS.setdefault(engine, asyncio.Lock())


class Relay:
    def __init__(
        self,
        sessionmaker: async_sessionmaker[AsyncSession],
        config: RelayConfig = RelayConfig(),  # frozen: one shared default is safe
        *,
        clock: Clock = system_clock,
        jitter: Callable[[], float] = random.random,
    ) -> None:
        self._sessionmaker = sessionmaker
        self._config = config
        self._clock = clock
        self._policy = RetryPolicy(
            Backoff(config.retry_base, config.retry_cap), config.pause_after, jitter
        )
        self._in_flight: set[asyncio.Task[None]] = set()
        self._serial = _serialised(sessionmaker)

    async def _in_transaction(self, work: Callable[[AsyncSession], Awaitable[T]]) -> T:
        """``work`` in one transaction, run to its end even when the relay is cancelled
        meanwhile: a transaction cut off mid-statement can leave its connection holding a lock
        (on SQLite, the whole database's) until the process ends."""

        async def transaction() -> T:
            async with self._serial, self._sessionmaker() as session, session.begin():
                return await work(session)

        return await asyncio.shield(transaction())

    def client(self) -> httpx.AsyncClient:
        limits = httpx.Limits(max_connections=self._config.concurrency)
        # Connecting has its own bound; the whole attempt is bounded in ``send``.
        timeout = httpx.Timeout(None, connect=self._config.connect_timeout)
        return httpx.AsyncClient(
            timeout=timeout, limits=limits, follow_redirects=False, trust_env=False
        )

    async def run(self) -> None:
        """Forever (until cancelled): fan out, claim what is due into the free slots, repeat."""
        loop = asyncio.get_running_loop()
        next_report = loop.time()
        async with self.client() as client:
            try:
                while True:
                    try:
                        await self.step(client)
                        if loop.time() >= next_report:
                            await self.report_backlog()
                            next_report = loop.time() + REPORT_INTERVAL
                    except asyncio.CancelledError:
                        raise
                    except Exception:  # the database went away: try again at the next tick
                        log.exception("webhook_relay_failed")
                    await asyncio.sleep(self._config.poll_interval)
            finally:
                await self._cancel_in_flight()

    async def step(self, client: httpx.AsyncClient) -> int:
        """Fan out, then start sending what is due into the free slots; how many it started."""
        await self.fan_out()
        free = self._config.concurrency - len(self._in_flight)
        if free <= 0:
            return 0
        claimed = await self.claim(limit=free)
        for delivery in claimed:
            task = asyncio.create_task(self.deliver(client, delivery))
            self._in_flight.add(task)
            task.add_done_callback(self._in_flight.discard)
        return len(claimed)

    async def deliver_due(self, client: httpx.AsyncClient) -> int:
        """Fan out, send everything due now and wait for the answers (one round, for tests and
        tools); how many deliveries it attempted."""
        await self.fan_out()
        claimed = await self.claim(limit=self._config.concurrency)
        await asyncio.gather(*(self.deliver(client, delivery) for delivery in claimed))
        return len(claimed)

    async def fan_out(self) -> None:
        """Queue deliveries for every event sealed so far (several batches if need be)."""
        batch = self._config.batch
        while True:
            read = await self._in_transaction(
                lambda session: fan_out(session, now=self._clock(), batch=batch)
            )
            if read is None or read < batch:
                return

    async def claim(self, *, limit: int) -> list[Claimed]:
        lease = self._config.lease
        return await self._in_transaction(
            lambda session: claim_due(session, now=self._clock(), limit=limit, lease=lease)
        )

    async def deliver(self, client: httpx.AsyncClient, claimed: Claimed) -> None:
        """One attempt, logged; an error here leaves the delivery to its lease's end."""
        try:
            outcome = await self.send(client, claimed)
            ATTEMPTS.labels("delivered" if outcome.delivered else "failed").inc()
            await self._in_transaction(
                lambda session: record_attempt(
                    session, claimed=claimed, outcome=outcome, policy=self._policy
                )
            )
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("webhook_delivery_failed", delivery_id=claimed.delivery_id)

    async def send(self, client: httpx.AsyncClient, claimed: Claimed) -> Outcome:
        """POST the signed event; never raises for what the receiver or the network does."""
        body = payload(claimed)
        attempted_at = self._clock()
        headers = signing.headers(
            claimed.secret,
            message_id=event_id(claimed.event.seq),
            timestamp=int(attempted_at.timestamp()),
            body=body,
        )
        headers |= {"content-type": "application/json", "user-agent": USER_AGENT}
        loop = asyncio.get_running_loop()
        started = loop.time()
        status_code = error = None
        try:
            async with asyncio.timeout(self._config.timeout):
                request = client.stream("POST", claimed.url, content=body, headers=headers)
                async with request as response:  # the answer's body is never read
                    status_code = response.status_code
        except TimeoutError:
            error = f"no answer within {self._config.timeout:g} s"
        except httpx.ConnectTimeout:
            error = f"could not connect within {self._config.connect_timeout:g} s"
        except Exception as exc:  # refused, reset, bad address...: a failed attempt, not a crash
            error = f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
        duration_ms = round((loop.time() - started) * 1000)
        return Outcome(attempted_at, duration_ms, status_code, error)

    async def report_backlog(self) -> None:
        waiting = await self._in_transaction(backlog)
        NOT_FANNED_OUT.set(waiting["events_not_fanned_out"])
        PENDING.set(waiting["pending_deliveries"])

    async def _cancel_in_flight(self) -> None:
        tasks = list(self._in_flight)
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
