"""The demo's opening balances arrive through an approved opening adjustment, once."""

from decimal import Decimal

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.pagination import PageRequest
from app.positions.adjustments.demo import load_demo_opening
from app.positions.adjustments.models import Adjustment
from app.positions.balances.service import cash_balances, positions
from app.positions.ledger_check.service import check_ledger
from tests.conftest import DEFAULT_NOW
from tests.factories import BUND, JPM

TODAY = DEFAULT_NOW.date()


async def test_demo_opening_balances_are_approved_once_and_prove(
    session: AsyncSession, reference: None
) -> None:
    assert await load_demo_opening(session, now=DEFAULT_NOW) is True
    await session.commit()
    assert await load_demo_opening(session, now=DEFAULT_NOW) is False
    await session.commit()

    [adjustment] = (await session.scalars(select(Adjustment))).all()
    assert adjustment.status == "approved"
    assert adjustment.proposed_by != adjustment.decided_by
    held, _ = await positions(
        session,
        basis="settlement_date",
        as_of=TODAY,
        page=PageRequest(),
        account="SEC-DTC",
        isin=JPM,
    )
    assert [(p.account, p.quantity) for p in held] == [("SEC-DTC", Decimal("20000"))]
    [owned] = (
        await positions(
            session, basis="trade_date", as_of=TODAY, page=PageRequest(), book="FI-RATES", isin=BUND
        )
    )[0]
    # 50,000,000 nominal at the demo price 72.45 % of nominal.
    assert (owned.quantity, owned.cost, owned.average_cost) == (
        Decimal("50000000"),
        Decimal("36225000.00"),
        Decimal("72.45000000"),
    )
    cash, _ = await cash_balances(session, as_of=TODAY, page=PageRequest())
    assert sorted((c.account, c.currency, c.settled) for c in cash) == [
        ("CASH-EUR", "EUR", Decimal("100000000.00")),
        ("CASH-USD", "USD", Decimal("50000000.00")),
    ]
    assert (await check_ledger(session)).ok
    assert await session.scalar(select(func.count()).select_from(Adjustment)) == 1
