"""``trade_answer`` (a single capture's 201, written out) is what pydantic makes of the row:
``TradeOut.model_validate(row).model_dump(mode="json", by_alias=True)``, the same keys in the
same order with the same values, for any row capture can make."""

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from app.trades.capture.schemas import Side, TradeOut, trade_answer
from app.trades.capture.states import TradeStatus

# Decimals of every shape capture may hold: up to 12 places, positive exponents (1E+2), zero.
DECIMALS = st.builds(
    lambda digits, exponent, negative: Decimal((int(negative), tuple(digits), exponent)),
    st.lists(st.integers(0, 9), min_size=1, max_size=16),
    st.integers(-12, 3),
    st.booleans(),
)
MOMENTS = st.datetimes(
    min_value=datetime(1990, 1, 1), max_value=datetime(2100, 1, 1), timezones=st.just(UTC)
)


def _row(**values: Any) -> dict[str, Any]:
    row = {
        "id": "trd_01jbz3q7x0abcdef0123456789",
        "external_id": "FO-20261124-000001",
        "book": "EQ-FLOW",
        "counterparty_lei": "W22LROWP2IHZNBB6K528",
        "isin": "US46625H1005",
        "side": Side.BUY,
        "quantity": Decimal("100"),
        "price": Decimal("50.25"),
        "currency": "USD",
        "trade_date": date(2026, 11, 24),
        "trade_time": datetime(2026, 11, 24, 14, 31, 5, tzinfo=UTC),
        "venue": "XNYS",
        "settlement_date": date(2026, 11, 25),
        "commission": Decimal("1.50"),
        "fees": Decimal("0.02"),
        "accrued_interest": None,
        "gross_amount": Decimal("5025.00"),
        "net_amount": Decimal("5026.52"),
        "status": TradeStatus.CAPTURED.value,
        "version": 1,
        "created_at": datetime(2026, 11, 24, 15, 0, 0, 120000, tzinfo=UTC),
        "updated_at": datetime(2026, 11, 24, 15, 0, 0, 120000, tzinfo=UTC),
        "created_by": "key_01",
        "cancel_reason": None,
        "affirmation_overdue_at": None,
        "counterparty_of_record": None,
        "obligation_id": None,
    }
    return {**row, **values}


def _pydantic(row: dict[str, Any]) -> dict[str, Any]:
    return TradeOut.model_validate(row).model_dump(mode="json", by_alias=True)


def test_a_captured_trade_is_answered_as_pydantic_answers_it() -> None:
    row = _row()
    answer = trade_answer(row)
    assert list(answer.items()) == list(_pydantic(row).items())
    assert answer["trade_time"] == "2026-11-24T14:31:05Z"
    assert answer["created_at"] == "2026-11-24T15:00:00.120000Z"
    assert answer["quantity"] == "100"
    assert answer["accrued_interest"] is None


def test_a_bond_confirmed_on_a_locked_in_venue_too() -> None:
    row = _row(
        side=Side.SELL,
        accrued_interest=Decimal("1234.56"),
        status=TradeStatus.CONFIRMED.value,
        version=2,
        quantity=Decimal("1E+5"),
    )
    answer = trade_answer(row)
    assert list(answer.items()) == list(_pydantic(row).items())
    assert answer["quantity"] == "100000"


@given(
    decimals=st.lists(DECIMALS, min_size=7, max_size=7),
    moments=st.lists(MOMENTS, min_size=3, max_size=3),
    days=st.integers(0, 40_000),
    side=st.sampled_from(list(Side)),
    status=st.sampled_from([s.value for s in TradeStatus]),
    version=st.integers(1, 50),
    accrued=st.booleans(),
)
def test_any_row_is_answered_as_pydantic_answers_it(
    decimals: list[Decimal],
    moments: list[datetime],
    days: int,
    side: Side,
    status: str,
    version: int,
    accrued: bool,
) -> None:
    quantity, price, commission, fees, accrued_interest, gross, net = decimals
    trade_time, created_at, updated_at = moments
    trade_date = date(1990, 1, 1) + timedelta(days=days)
    row = _row(
        side=side,
        quantity=quantity,
        price=price,
        commission=commission,
        fees=fees,
        accrued_interest=accrued_interest if accrued else None,
        gross_amount=gross,
        net_amount=net,
        trade_date=trade_date,
        settlement_date=trade_date + timedelta(days=2),
        trade_time=trade_time,
        created_at=created_at,
        updated_at=updated_at,
        status=status,
        version=version,
    )
    assert list(trade_answer(row).items()) == list(_pydantic(row).items())
