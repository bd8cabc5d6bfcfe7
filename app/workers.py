"""The background workers a server process runs beside the API: the audit sealer (one leader
among all processes seals), the webhook relay, which delivers what the sealer has chained
(any number of relays share the work), and the folder of balance stripes (any number)."""

import asyncio
import contextlib
from collections.abc import AsyncIterator

from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from app.audit.sealer import Sealer
from app.core.config import Settings
from app.events.relay import Relay, RelayConfig
from app.positions.balances.folder import StripeFolder


@contextlib.asynccontextmanager
async def background_workers(
    settings: Settings,
    engine: AsyncEngine,
    sessionmaker: async_sessionmaker[AsyncSession],
    *,
    enabled: bool | None = None,
) -> AsyncIterator[None]:
    """Run the workers while the block runs; cancel them when it ends."""
    if not (settings.background_workers if enabled is None else enabled):
        yield
        return
    sealer = Sealer(engine, sessionmaker, interval=settings.audit_seal_interval_seconds)
    relay = Relay(sessionmaker, RelayConfig.from_settings(settings))
    folder = StripeFolder(sessionmaker, interval=settings.balance_fold_interval_seconds)
    tasks = [
        asyncio.create_task(sealer.run(), name="audit-sealer"),
        asyncio.create_task(relay.run(), name="webhook-relay"),
        asyncio.create_task(folder.run(), name="balance-stripe-folder"),
    ]
    try:
        yield
    finally:
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
