"""What reconciliation reads of the book: a day's live movements on a cash account (with their
sources and counterparties), the settled cash balance and the settled securities of a value
date."""

from dataclasses import replace
from datetime import date
from decimal import Decimal

from sqlalchemy.ext.asyncio import AsyncSession

from app.core.auth import SYSTEM_ACTOR
from app.positions.bookings import service
from app.positions.bookings.service import Direction, SettlementMovement
from app.positions.journal import service as journal
from tests.factories import GOLDMAN, JPM, trade_payload
from tests.positions.conftest import Adjust, line
from tests.support import Api, FrozenClock

WEDNESDAY = date(2026, 11, 25)
# The JPM buy of tests.factories.trade_payload: 100 x 189.25 + 1.50 + 0.02 = 18926.52.
JPM_SETTLEMENT = SettlementMovement(
    reference="INS-JPM-1",
    counterparty=GOLDMAN,
    direction=Direction.RECEIVE,
    isin=JPM,
    quantity=Decimal("100"),
    currency="USD",
    amount=Decimal("18926.52"),
    securities_account="SEC-DTC",
    cash_account="CASH-USD",
    settlement_date=WEDNESDAY,
)


async def test_a_days_cash_movements_are_the_live_entries_on_the_account(
    api: Api, adjust: Adjust, session: AsyncSession, clock: FrozenClock
) -> None:
    assert (await api.post("/trades", json=trade_payload(), role="trader")).status_code == 201
    opening = await adjust("opening", line("CASH-USD", "USD", "1000000.00"))
    settled = await service.post_settlement(
        session, movement=JPM_SETTLEMENT, actor=SYSTEM_ACTOR, now=clock()
    )
    # A second settlement, reversed: neither it nor its reversal is a movement.
    mistaken = await service.post_settlement(
        session,
        movement=replace(JPM_SETTLEMENT, reference="INS-JPM-2", amount=Decimal("5.00")),
        actor=SYSTEM_ACTOR,
        now=clock(),
    )
    entry = await journal.get_entry(session, mistaken.entry_id)
    reversal = await journal.reversal_of(session, entry, description="Posted in error")
    await journal.post(session, [reversal], actor=SYSTEM_ACTOR, now=clock())
    await session.commit()

    movements = await service.cash_movements(session, cash_account="CASH-USD", value_date=WEDNESDAY)
    assert sorted(
        (m.entry_id, m.source_type, m.source_id, m.currency, m.amount, m.counterparty)
        for m in movements
    ) == sorted(
        [
            (opening["entry_id"], "adjustment", opening["id"], "USD", Decimal("1000000.00"), None),
            (settled.entry_id, "settlement", "INS-JPM-1", "USD", Decimal("-18926.52"), GOLDMAN),
        ]
    )
    assert {m.value_date for m in movements} == {WEDNESDAY}
    assert (
        await service.cash_movements(
            session, cash_account="CASH-USD", value_date=date(2026, 11, 24)
        )
        == []
    )
    assert (
        await service.cash_movements(session, cash_account="CASH-EUR", value_date=WEDNESDAY) == []
    )

    # 1,000,000.00 - 18,926.52 = 981,073.48 at the end of Wednesday; nothing the day before.
    assert await service.settled_cash(
        session, cash_account="CASH-USD", currency="USD", value_date=WEDNESDAY
    ) == Decimal("981073.48")
    assert await service.settled_cash(
        session, cash_account="CASH-USD", currency="USD", value_date=date(2026, 11, 24)
    ) == Decimal(0)
    assert await service.settled_securities(
        session, securities_account="SEC-DTC", value_date=WEDNESDAY
    ) == {JPM: Decimal("100")}
    assert (
        await service.settled_securities(
            session, securities_account="SEC-DTC", value_date=date(2026, 11, 24)
        )
        == {}
    )
