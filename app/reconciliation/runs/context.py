"""What every part of one reconciliation run shares: the account and day, who runs it, whether
it writes (a dry run does not), and the tally of breaks it opened, kept, reopened, closed."""

from dataclasses import dataclass, field
from datetime import date, datetime

from sqlalchemy.ext.asyncio import AsyncSession

from app.core.auth import Actor
from app.reconciliation.breaks import detection
from app.reconciliation.breaks.detection import Closing, FoundBreak, Tally


@dataclass
class RunContext:
    session: AsyncSession
    account: str
    day: date
    run_id: str | None
    actor: Actor
    now: datetime
    write: bool
    tally: Tally = field(default_factory=Tally)

    async def record(self, found: list[FoundBreak]) -> dict[str, str | None]:
        recorded = await detection.record_found(
            self.session,
            found,
            account=self.account,
            value_date=self.day,
            run_id=self.run_id,
            actor=self.actor,
            now=self.now,
            tally=self.tally,
            write=self.write,
        )
        return recorded.ids

    async def close(self, closings: list[Closing]) -> None:
        await detection.close(
            self.session,
            closings,
            actor=self.actor,
            now=self.now,
            tally=self.tally,
            write=self.write,
        )

    async def settle_day(self, kinds: tuple[str, ...], found: list[FoundBreak], note: str) -> None:
        """Record what was found of these kinds for the day, and close the day's open breaks of
        these kinds that were not found again: the difference is gone (closed by the run)."""
        await self.record(found)
        keys = {item.key for item in found}
        still_open = await detection.open_on(
            self.session, account=self.account, value_date=self.day, kinds=kinds
        )
        closed_by = self.run_id or "dry run"
        await self.close(
            [Closing(row, "resolved", closed_by, note) for row in still_open if row.key not in keys]
        )
