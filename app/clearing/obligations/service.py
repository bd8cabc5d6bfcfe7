"""Reading obligations with their lineage."""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

from sqlalchemy.ext.asyncio import AsyncSession

from app.clearing.obligations import repository
from app.clearing.obligations.models import Obligation
from app.core.pagination import PageRequest


@dataclass(frozen=True)
class WithTrades:
    obligation: Obligation
    trade_ids: list[str]


async def get_obligation(session: AsyncSession, *, obligation_id: str) -> WithTrades:
    obligation = await repository.get(session, obligation_id)
    lineage = await repository.trade_ids_of(session, [obligation.id])
    return WithTrades(obligation, lineage[obligation.id])


async def list_obligations(
    session: AsyncSession,
    *,
    page: PageRequest,
    run_id: str | None = None,
    settlement_date: date | None = None,
    counterparty_lei: str | None = None,
    isin: str | None = None,
) -> tuple[Sequence[WithTrades], str | None]:
    rows, cursor = await repository.page(
        session,
        page=page,
        run_id=run_id,
        settlement_date=settlement_date,
        counterparty_lei=counterparty_lei,
        isin=isin,
    )
    lineage = await repository.trade_ids_of(session, [row.id for row in rows])
    return [WithTrades(row, lineage[row.id]) for row in rows], cursor
