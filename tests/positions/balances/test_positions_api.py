"""GET /positions and GET /cash-balances over HTTP: both bases, as-of answers, filters, refusals.

Hand arithmetic in the comments; amounts are the demo data's (tests/factories.py)."""

from dataclasses import replace
from datetime import date
from decimal import Decimal
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from app.core.auth import SYSTEM_ACTOR
from app.positions.bookings import service
from app.positions.bookings.service import Direction, SettlementMovement
from tests.factories import BUND, GOLDMAN, JPM, TOTAL, bund_trade_payload, trade_payload
from tests.positions.conftest import Adjust, cash_balances, line, positions
from tests.support import Api, FrozenClock, problem_fields

# The JPM buy of tests.factories.trade_payload: 100 x 189.25 = 18925.00; + 1.50 + 0.02 = 18926.52.
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
    settlement_date=date(2026, 11, 25),
)


def total_payload(**overrides: Any) -> dict[str, Any]:
    """A buy of 100 TotalEnergies at 57.40 EUR on Euronext Paris: gross 5740.00, net 5741.52."""
    return trade_payload(isin=TOTAL, currency="EUR", venue="XPAR", price="57.40", **overrides)


async def book(api: Api, payload: dict[str, Any]) -> dict[str, Any]:
    response = await api.post("/trades", json=payload, role="trader")
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    return body


def trade_date_view(item: dict[str, Any]) -> tuple[Any, ...]:
    return (
        item["book"],
        item["isin"],
        item["quantity"],
        item["currency"],
        item["average_cost"],
        item["cost"],
        item["realized_pnl"],
    )


def settlement_date_view(item: dict[str, Any]) -> tuple[Any, ...]:
    return (item["account"], item["isin"], item["quantity"], item["pending"], item["currency"])


def cash_view(item: dict[str, Any]) -> tuple[Any, ...]:
    return (item["account"], item["currency"], item["settled"], item["pending"], item["projected"])


async def jpm_position(api: Api) -> tuple[Any, ...]:
    [item] = await positions(api, book="EQ-FLOW", isin=JPM)
    return trade_date_view(item)[2:]


# Trade-date basis ------------------------------------------------------------------------------


async def test_trade_date_position_averages_buys_and_realises_on_a_partial_sell_and_a_sell(
    api: Api, reference: None
) -> None:
    await book(api, trade_payload())
    await book(api, trade_payload(quantity="50", price="190.10"))
    # 18925.00 + 50 x 190.10 = 18925.00 + 9505.00 = 28430.00 for 150; 28430 / 150 = 189.5333...
    assert await jpm_position(api) == ("150", "USD", "189.53333333", "28430.00", "0")

    await book(api, trade_payload(side="sell", quantity="70", price="191.00"))
    # Releases 28430.00 x 70 / 150 = 13267.333... -> 13267.33 of cost against 70 x 191.00 =
    # 13370.00: realised 102.67. Left: 80 at 28430.00 - 13267.33 = 15162.67 (189.533375 each).
    assert await jpm_position(api) == ("80", "USD", "189.53337500", "15162.67", "102.67")

    await book(api, trade_payload(side="sell", quantity="80", price="188.00"))
    # Sells the rest, 80 x 188.00 = 15040.00, against 15162.67: -122.67; 102.67 - 122.67 = -20.00.
    assert await jpm_position(api) == ("0", "USD", None, "0.00", "-20.00")


async def test_trade_date_positions_are_per_book_and_isin_and_filter_by_both(
    api: Api, reference: None
) -> None:
    await book(api, trade_payload())
    await book(api, total_payload())
    await book(api, bund_trade_payload())
    jpm = ("EQ-FLOW", JPM, "100", "USD", "189.25000000", "18925.00", "0")
    total = ("EQ-FLOW", TOTAL, "100", "EUR", "57.40000000", "5740.00", "0")
    # 1,000,000 nominal x 78.50 % = 785000.00; the average stays in percent of nominal, and the
    # accrued interest (5079.45) is booked apart from the cost.
    bund = ("FI-RATES", BUND, "1000000", "EUR", "78.50000000", "785000.00", "0")

    assert [trade_date_view(p) for p in await positions(api)] == [jpm, total, bund]
    assert [trade_date_view(p) for p in await positions(api, book="EQ-FLOW")] == [jpm, total]
    assert [trade_date_view(p) for p in await positions(api, book="FI-RATES")] == [bund]
    assert [trade_date_view(p) for p in await positions(api, isin=TOTAL)] == [total]
    assert [trade_date_view(p) for p in await positions(api, book="EQ-FLOW", isin=JPM)] == [jpm]
    assert await positions(api, book="FI-RATES", isin=JPM) == []
    [item] = await positions(api, book="FI-RATES", basis="trade_date")
    assert item == {
        "basis": "trade_date",
        "ledger_account": "book:FI-RATES",
        "book": "FI-RATES",
        "account": None,
        "isin": BUND,
        "quantity": "1000000",
        "pending": None,
        "currency": "EUR",
        "average_cost": "78.50000000",
        "cost": "785000.00",
        "realized_pnl": "0",
        "as_of": "2026-11-25",
        "known_at": None,
    }


# Settlement-date basis -------------------------------------------------------------------------


async def test_settlement_date_positions_show_what_settled_per_safekeeping_account(
    api: Api, reference: None, session: AsyncSession, clock: FrozenClock
) -> None:
    await book(api, trade_payload())
    await book(api, total_payload())
    assert await positions(api, basis="settlement_date") == []

    await service.post_settlement(session, movement=JPM_SETTLEMENT, actor=SYSTEM_ACTOR, now=clock())
    total_settlement = replace(
        JPM_SETTLEMENT,
        reference="INS-TOTAL-1",
        isin=TOTAL,
        quantity=Decimal("60"),
        currency="EUR",
        amount=Decimal("3444.91"),
        securities_account="SEC-EOCF",
        cash_account="CASH-EUR",
    )
    await service.post_settlement(
        session, movement=total_settlement, actor=SYSTEM_ACTOR, now=clock()
    )
    await session.commit()

    settled = await positions(api, basis="settlement_date")
    assert [settlement_date_view(p) for p in settled] == [
        ("SEC-DTC", JPM, "100", "0", "USD"),
        ("SEC-EOCF", TOTAL, "60", "0", "EUR"),
    ]
    assert settled[0] == {
        "basis": "settlement_date",
        "ledger_account": "securities:SEC-DTC",
        "book": None,
        "account": "SEC-DTC",
        "isin": JPM,
        "quantity": "100",
        "pending": "0",
        "currency": "USD",
        "average_cost": None,
        "cost": None,
        "realized_pnl": None,
        "as_of": "2026-11-25",
        "known_at": None,
    }
    only = await positions(api, basis="settlement_date", account="SEC-EOCF")
    assert [settlement_date_view(p) for p in only] == [("SEC-EOCF", TOTAL, "60", "0", "EUR")]
    assert await positions(api, basis="settlement_date", account="SEC-EOCF", isin=JPM) == []
    # The trade-date basis does not move on settlement.
    assert [trade_date_view(p)[:3] for p in await positions(api)] == [
        ("EQ-FLOW", JPM, "100"),
        ("EQ-FLOW", TOTAL, "100"),
    ]
    assert [cash_view(c) for c in await cash_balances(api)] == [
        ("CASH-USD", "USD", "-18926.52", "0", "-18926.52"),
        ("CASH-EUR", "EUR", "-3444.91", "0", "-3444.91"),
    ]


async def test_positions_refuse_a_bad_query_naming_the_field(api: Api) -> None:
    for params, field in [
        ({"basis": "trade_date", "account": "SEC-DTC"}, "account"),
        ({"account": "SEC-DTC"}, "account"),
        ({"basis": "settlement_date", "book": "EQ-FLOW"}, "book"),
        ({"basis": "value_date"}, "basis"),
        ({"isin": "US46625H1006"}, "isin"),
        ({"isin": "JPM"}, "isin"),
        ({"as_of": "2026-11-31"}, "as_of"),
        ({"as_of": "yesterday"}, "as_of"),
        ({"limit": "0"}, "limit"),
        ({"cursor": "not-a-cursor"}, "cursor"),
    ]:
        response = await api.get("/positions", params=params, role="operations")
        assert response.status_code == 422, (params, response.text)
        assert problem_fields(response) == {field}, (params, response.text)


async def test_positions_page_with_a_cursor(api: Api, reference: None) -> None:
    await book(api, trade_payload())
    await book(api, total_payload())
    first = await api.get("/positions", params={"limit": 1}, role="trader")
    assert first.status_code == 200, first.text
    assert [item["isin"] for item in first.json()["items"]] == [JPM]
    cursor = first.json()["next_cursor"]
    assert cursor

    second = await api.get("/positions", params={"limit": 1, "cursor": cursor}, role="trader")
    assert second.status_code == 200, second.text
    assert [item["isin"] for item in second.json()["items"]] == [TOTAL]
    assert second.json()["next_cursor"] is None


# As of -----------------------------------------------------------------------------------------


async def test_a_late_trade_changes_the_as_of_view_of_its_trade_date_not_what_was_known(
    api: Api, adjust: Adjust, clock: FrozenClock
) -> None:
    await book(api, trade_payload())
    await adjust("opening", line("CASH-USD", "USD", "1000000.00"))
    known_wednesday = "2026-11-25T23:00:00Z"
    wednesday_positions = await positions(api, as_of="2026-11-25")
    wednesday_cash = await cash_balances(api, as_of="2026-11-25")
    assert [trade_date_view(p) for p in wednesday_positions] == [
        ("EQ-FLOW", JPM, "100", "USD", "189.25000000", "18925.00", "0")
    ]
    assert [cash_view(c) for c in wednesday_cash] == [
        ("CASH-USD", "USD", "1000000.00", "0", "1000000.00")
    ]

    clock.advance(days=1)  # Thursday 26 November: a late booking of Wednesday's sell
    await book(
        api,
        trade_payload(
            side="sell",
            quantity="40",
            price="190.00",
            trade_date="2026-11-25",
            trade_time="2026-11-25T15:30:00Z",
        ),
    )
    await adjust("opening", line("CASH-USD", "USD", "250.00"))

    # What the book said on Wednesday evening never changes...
    as_known = await positions(api, as_of="2026-11-25", known_at=known_wednesday)
    assert [trade_date_view(p) for p in as_known] == [trade_date_view(wednesday_positions[0])]
    assert as_known[0]["known_at"] == "2026-11-25T23:00:00Z"
    assert [cash_view(c) for c in await cash_balances(api, known_at=known_wednesday)] == [
        cash_view(wednesday_cash[0])
    ]
    # ...while Wednesday's effective view now holds the sell: 40 of 100 sold at 190.00 =
    # 7600.00 against 18925.00 x 40 / 100 = 7570.00 of cost.
    sold = ("EQ-FLOW", JPM, "60", "USD", "189.25000000", "11355.00", "30.00")
    assert [trade_date_view(p) for p in await positions(api, as_of="2026-11-25")] == [sold]
    [today] = await positions(api)
    assert today["as_of"] == "2026-11-26"
    assert trade_date_view(today) == sold
    # The opening cash of 250.00 is dated today (the adjustment's value date).
    assert [cash_view(c) for c in await cash_balances(api, as_of="2026-11-25")] == [
        cash_view(wednesday_cash[0])
    ]
    assert [cash_view(c) for c in await cash_balances(api)] == [
        ("CASH-USD", "USD", "1000250.00", "0", "1000250.00")
    ]


async def test_as_of_views_count_from_trade_and_value_dates_known_at_from_booking(
    api: Api, adjust: Adjust, session: AsyncSession, clock: FrozenClock
) -> None:
    # Traded on Tuesday 24 but booked on Wednesday 25; it settles on the 25th.
    await book(api, trade_payload())
    await adjust("opening", line("CASH-USD", "USD", "1000000.00"))
    await service.post_settlement(session, movement=JPM_SETTLEMENT, actor=SYSTEM_ACTOR, now=clock())
    await session.commit()

    tuesday = await positions(api, as_of="2026-11-24")
    assert [trade_date_view(p) for p in tuesday] == [
        ("EQ-FLOW", JPM, "100", "USD", "189.25000000", "18925.00", "0")
    ]
    assert await positions(api, as_of="2026-11-24", basis="settlement_date") == []
    assert await cash_balances(api, as_of="2026-11-24") == []
    assert await positions(api, as_of="2026-11-23") == []
    # On Tuesday evening the book knew nothing of it.
    assert await positions(api, known_at="2026-11-24T22:00:00Z") == []
    assert await positions(api, as_of="2026-11-25", known_at="2026-11-24T22:00:00Z") == []
    assert await cash_balances(api, known_at="2026-11-24T22:00:00Z") == []


async def test_known_at_must_have_an_offset_and_not_be_to_come(
    api: Api, clock: FrozenClock
) -> None:
    for params in (
        {"known_at": "2026-11-25T10:00:00"},
        {"known_at": "2030-01-01T00:00:00Z"},
        {"known_at": "yesterday"},
        {"known_at": "0001-01-01T00:00:00+14:00"},
    ):
        for path in ("/positions", "/cash-balances"):
            response = await api.get(path, params=params, role="operations")
            assert response.status_code == 422, (path, params, response.text)
            assert problem_fields(response) == {"known_at"}, (path, params, response.text)


# Cash balances ---------------------------------------------------------------------------------


async def test_opening_cash_is_settled_and_projected(api: Api, adjust: Adjust) -> None:
    await adjust("opening", line("CASH-EUR", "EUR", "25000000.00"))
    await adjust("opening", line("CASH-USD", "USD", "1000000.00"))
    [eur] = await cash_balances(api, account="CASH-EUR")
    assert eur == {
        "ledger_account": "cash:CASH-EUR",
        "account": "CASH-EUR",
        "currency": "EUR",
        "settled": "25000000.00",
        "pending": "0",
        "projected": "25000000.00",
        "as_of": "2026-11-25",
        "known_at": None,
    }
    assert await cash_balances(api, currency="EUR") == [eur]
    assert await cash_balances(api, account="CASH-EUR", currency="USD") == []
    assert [cash_view(c) for c in await cash_balances(api)] == [
        ("CASH-EUR", "EUR", "25000000.00", "0", "25000000.00"),
        ("CASH-USD", "USD", "1000000.00", "0", "1000000.00"),
    ]


async def test_an_expected_settlement_is_pending_and_projected_until_it_settles(
    api: Api, adjust: Adjust, session: AsyncSession, clock: FrozenClock
) -> None:
    await book(api, trade_payload())
    await adjust("opening", line("CASH-USD", "USD", "1000000.00"))
    pending_id = await service.expect_settlement(
        session, movement=JPM_SETTLEMENT, actor=SYSTEM_ACTOR, now=clock()
    )
    await session.commit()

    # 1,000,000.00 - 18,926.52 = 981,073.48 projected; nothing has left the account yet.
    assert [cash_view(c) for c in await cash_balances(api, account="CASH-USD")] == [
        ("CASH-USD", "USD", "1000000.00", "-18926.52", "981073.48")
    ]
    assert [settlement_date_view(p) for p in await positions(api, basis="settlement_date")] == [
        ("SEC-DTC", JPM, "0", "100", "USD")
    ]

    await service.post_settlement(
        session,
        movement=JPM_SETTLEMENT,
        actor=SYSTEM_ACTOR,
        now=clock(),
        pending_id=pending_id,
    )
    await session.commit()
    assert [cash_view(c) for c in await cash_balances(api, account="CASH-USD")] == [
        ("CASH-USD", "USD", "981073.48", "0.00", "981073.48")
    ]
    assert [settlement_date_view(p) for p in await positions(api, basis="settlement_date")] == [
        ("SEC-DTC", JPM, "100", "0", "USD")
    ]


async def test_a_partial_settlement_confirmed_a_day_late_counts_on_its_settlement_date(
    api: Api, reference: None, session: AsyncSession, clock: FrozenClock
) -> None:
    await book(api, trade_payload())
    pending_id = await service.expect_settlement(
        session, movement=JPM_SETTLEMENT, actor=SYSTEM_ACTOR, now=clock()
    )
    await session.commit()
    clock.advance(days=1)
    # 60 of the 100 settle a day late, for 11355.91 of the 18926.52; 40 and 7570.61 remain due.
    posted = await service.post_settlement(
        session,
        movement=replace(JPM_SETTLEMENT, quantity=Decimal("60"), amount=Decimal("11355.91")),
        actor=SYSTEM_ACTOR,
        now=clock(),
        pending_id=pending_id,
    )
    await session.commit()
    assert posted.remainder_pending_id is not None

    assert [cash_view(c) for c in await cash_balances(api)] == [
        ("CASH-USD", "USD", "-11355.91", "-7570.61", "-18926.52")
    ]
    assert [settlement_date_view(p) for p in await positions(api, basis="settlement_date")] == [
        ("SEC-DTC", JPM, "60", "40", "USD")
    ]
    # It settled on the 25th: that day's effective view shows it, and what is still due.
    assert [cash_view(c) for c in await cash_balances(api, as_of="2026-11-25")] == [
        ("CASH-USD", "USD", "-11355.91", "-7570.61", "-18926.52")
    ]
    wednesday = await positions(api, basis="settlement_date", as_of="2026-11-25")
    assert [settlement_date_view(p) for p in wednesday] == [("SEC-DTC", JPM, "60", "40", "USD")]
    # What the book knew on Wednesday evening: all of it still due.
    known = {"as_of": "2026-11-25", "known_at": "2026-11-25T23:59:00Z"}
    assert [cash_view(c) for c in await cash_balances(api, **known)] == [
        ("CASH-USD", "USD", "0", "-18926.52", "-18926.52")
    ]
    as_known = await positions(api, basis="settlement_date", **known)
    assert [settlement_date_view(p) for p in as_known] == [("SEC-DTC", JPM, "0", "100", "USD")]


async def test_cash_balances_refuse_a_bad_query_naming_the_field(api: Api) -> None:
    for params, field in [
        ({"currency": "EURO"}, "currency"),
        ({"currency": "XYZ"}, "currency"),
        ({"as_of": "2026-02-30"}, "as_of"),
        ({"account": ""}, "account"),
    ]:
        response = await api.get("/cash-balances", params=params, role="operations")
        assert response.status_code == 422, (params, response.text)
        assert problem_fields(response) == {field}, (params, response.text)


# Who may read ----------------------------------------------------------------------------------


async def test_positions_and_cash_are_read_by_business_roles_not_by_admin(
    api: Api, reference: None
) -> None:
    for path in ("/positions", "/cash-balances"):
        for role in ("trader", "gateway", "operations", "compliance"):
            response = await api.get(path, role=role)
            assert response.status_code == 200, (path, role, response.text)
        refused = await api.get(path, role="admin")
        assert refused.status_code == 403, (path, refused.text)
        assert refused.json()["type"].endswith("/forbidden")
        anonymous = await api.get(path)
        assert anonymous.status_code == 401, (path, anonymous.text)
