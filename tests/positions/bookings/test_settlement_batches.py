"""positions.post_settlements: a settlement run's chunk posted in one go, against the pending
entries that showed it as due; the same answers as posting each settlement on its own.

Hand arithmetic in the comments; amounts are the demo data's (tests/factories.py)."""

from dataclasses import replace
from decimal import Decimal

import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.auth import SYSTEM_ACTOR
from app.core.errors import Conflict
from app.positions.bookings import service
from app.positions.bookings.service import Settling
from tests.factories import trade_payload
from tests.positions.balances.test_positions_api import JPM_SETTLEMENT, book, cash_view
from tests.positions.balances.test_positions_api import (
    settlement_date_view as securities_view,
)
from tests.positions.conftest import cash_balances, ledger_check, positions
from tests.support import Api, FrozenClock

FIRST = JPM_SETTLEMENT  # receive 100 JPM, pay 18926.52
SECOND = replace(JPM_SETTLEMENT, reference="INS-JPM-2")
THIRD = replace(JPM_SETTLEMENT, reference="INS-JPM-3")


async def settlement_entries(api: Api) -> dict[str, list[tuple[str, str, str]]]:
    response = await api.get("/journal-entries", params={"kind": "settlement"}, role="operations")
    assert response.status_code == 200, response.text
    return {
        entry["source_id"]: sorted(
            (p["ledger_account"], p["asset"], p["amount"]) for p in entry["postings"]
        )
        for entry in response.json()["items"]
    }


async def test_a_batch_posts_full_partial_and_unexpected_settlements_each_as_one_entry(
    api: Api, reference: None, session: AsyncSession, clock: FrozenClock
) -> None:
    for _ in range(3):
        await book(api, trade_payload())
    first_due = await service.expect_settlement(
        session, movement=FIRST, actor=SYSTEM_ACTOR, now=clock()
    )
    second_due = await service.expect_settlement(
        session, movement=SECOND, actor=SYSTEM_ACTOR, now=clock()
    )
    await session.commit()

    # FIRST settles in full; SECOND 60 of 100 for 11355.91 (7570.61 and 40 left); THIRD was
    # never expected and posts without a pending entry.
    posted = await service.post_settlements(
        session,
        settlements=[
            Settling([FIRST], first_due),
            Settling(
                [replace(SECOND, quantity=Decimal("60"), amount=Decimal("11355.91"))], second_due
            ),
            Settling([THIRD]),
        ],
        actor=SYSTEM_ACTOR,
        now=clock(),
    )
    await session.commit()

    assert [p.remainder_pending_id is None for p in posted] == [True, False, True]
    assert len({p.entry_id for p in posted}) == 3
    # Settled 18926.52 x 2 + 11355.91 = 49208.95; 7570.61 still due.
    assert [cash_view(c) for c in await cash_balances(api, account="CASH-USD")] == [
        ("CASH-USD", "USD", "-49208.95", "-7570.61", "-56779.56")
    ]
    assert [securities_view(p) for p in await positions(api, basis="settlement_date")] == [
        ("SEC-DTC", FIRST.isin, "260", "40", "USD")
    ]
    entries = await settlement_entries(api)
    assert entries["INS-JPM-2"] == [
        ("cash:CASH-USD", "USD", "-11355.91"),
        ("counterparty:" + FIRST.counterparty, FIRST.isin, "-60"),
        ("counterparty:" + FIRST.counterparty, "USD", "11355.91"),
        ("securities:SEC-DTC", FIRST.isin, "60"),
    ]
    assert sorted(entries) == ["INS-JPM-1", "INS-JPM-2", "INS-JPM-3"]
    assert (await ledger_check(api))["ok"] is True


async def test_an_instructions_movements_of_one_day_post_as_one_entry(
    api: Api, reference: None, session: AsyncSession, clock: FrozenClock
) -> None:
    await book(api, trade_payload())
    # A net obligation can receive securities and cash at once: two movements, one entry.
    securities_in = replace(FIRST, amount=Decimal("0"))
    cash_in = replace(FIRST, direction=FIRST.direction.DELIVER, quantity=Decimal("0"))
    [posted] = await service.post_settlements(
        session,
        settlements=[Settling([securities_in, cash_in])],
        actor=SYSTEM_ACTOR,
        now=clock(),
    )
    await session.commit()

    assert (await settlement_entries(api))["INS-JPM-1"] == [
        ("cash:CASH-USD", "USD", "18926.52"),
        ("counterparty:" + FIRST.counterparty, FIRST.isin, "-100"),
        ("counterparty:" + FIRST.counterparty, "USD", "-18926.52"),
        ("securities:SEC-DTC", FIRST.isin, "100"),
    ]
    assert posted.remainder_pending_id is None


async def test_a_pending_entry_named_twice_in_a_batch_is_refused_before_anything_is_written(
    api: Api, reference: None, session: AsyncSession, clock: FrozenClock
) -> None:
    await book(api, trade_payload())
    due = await service.expect_settlement(session, movement=FIRST, actor=SYSTEM_ACTOR, now=clock())
    await session.commit()
    half = replace(FIRST, quantity=Decimal("50"), amount=Decimal("9463.26"))

    with pytest.raises(Conflict, match="posted only once"):
        await service.post_settlements(
            session,
            settlements=[Settling([half], due), Settling([half], due)],
            actor=SYSTEM_ACTOR,
            now=clock(),
        )
    await session.rollback()

    assert await settlement_entries(api) == {}
    assert [cash_view(c) for c in await cash_balances(api, account="CASH-USD")] == [
        ("CASH-USD", "USD", "0", "-18926.52", "-18926.52")
    ]


async def test_a_settlement_beyond_what_was_expected_refuses_the_whole_batch(
    api: Api, reference: None, session: AsyncSession, clock: FrozenClock
) -> None:
    await book(api, trade_payload())
    first_due = await service.expect_settlement(
        session, movement=FIRST, actor=SYSTEM_ACTOR, now=clock()
    )
    second_due = await service.expect_settlement(
        session, movement=SECOND, actor=SYSTEM_ACTOR, now=clock()
    )
    await session.commit()
    too_much = replace(SECOND, quantity=Decimal("101"), amount=Decimal("19115.79"))

    with pytest.raises(Conflict, match="INS-JPM-2 does not fit"):
        await service.post_settlements(
            session,
            settlements=[Settling([FIRST], first_due), Settling([too_much], second_due)],
            actor=SYSTEM_ACTOR,
            now=clock(),
        )
    await session.rollback()

    assert await settlement_entries(api) == {}
    # Both still due: 18926.52 x 2 = 37853.04.
    assert [cash_view(c) for c in await cash_balances(api, account="CASH-USD")] == [
        ("CASH-USD", "USD", "0", "-37853.04", "-37853.04")
    ]
