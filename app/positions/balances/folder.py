"""The background worker that folds the spare stripes of busy balances back into their stripe
0 (``service.fold_stripes``), so reads stay at about one row a balance. Any number of server
processes may run it: each folds only rows no other transaction holds."""

import asyncio
from datetime import UTC, datetime

from prometheus_client import Counter
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.core.logging import get_logger
from app.positions.balances import service

log = get_logger(__name__)

STRIPES_FOLDED = Counter(
    "settlement_balance_stripes_folded_total",
    "Spare stripes of balances folded back into their balance's first row.",
)


class StripeFolder:
    def __init__(self, sessionmaker: async_sessionmaker[AsyncSession], *, interval: float) -> None:
        self._sessionmaker = sessionmaker
        self._interval = interval

    async def fold_once(self) -> int:
        """Fold until nothing is left that no writer holds; how many stripes were folded."""

        async def transaction() -> int:
            async with self._sessionmaker() as session, session.begin():
                return await service.fold_stripes(session, now=datetime.now(UTC))

        total = 0
        # Once begun, a transaction finishes before a cancellation takes effect.
        while folded := await asyncio.shield(transaction()):
            total += folded
        STRIPES_FOLDED.inc(total)
        return total

    async def run(self) -> None:
        """Forever (until cancelled): fold, then wait."""
        while True:
            try:
                await self.fold_once()
            except asyncio.CancelledError:
                raise
            except Exception:  # the database went away: try again next time
                log.exception("balance_stripe_folding_failed")
            await asyncio.sleep(self._interval)
