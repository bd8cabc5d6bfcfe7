"""Reading obligations with their lineage."""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy.ext.asyncio import AsyncSession

from app.audit.service import row_as_of
from app.clearing.obligations import repository
from app.clearing.obligations.models import Obligation
from app.core.pagination import PageRequest
from app.trades.capture import post_trade as trades

ENTITY = "obligation"


@dataclass(frozen=True)
class WithTrades:
    obligation: Obligation
    trade_ids: list[str]


async def get_obligation(
    session: AsyncSession, *, obligation_id: str, as_of: datetime | None = None
) -> WithTrades:
    """The obligation now, or with ``as_of`` as it stood then: its totals from its audit
    records, its trades those cleared into it by then (each trade's own record says when)."""
    if as_of is not None:
        obligation = await row_as_of(
            session, Obligation, entity_type=ENTITY, entity_id=obligation_id, as_of=as_of
        )
    else:
        obligation = await repository.get(session, obligation_id)
    lineage = (await repository.trade_ids_of(session, [obligation_id]))[obligation_id]
    if as_of is not None:
        cleared = await trades.cleared_by(session, trade_ids=lineage, as_of=as_of)
        lineage = [trade_id for trade_id in lineage if trade_id in cleared]
    return WithTrades(obligation, lineage)


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
