"""Accrued interest on a confirmation over HTTP: stated, stored, compared with ours (ACRU).

Our trade: we buy 1,000,000 Bund 1.80 % 2053 at 78.50 from Deutsche Bank, traded Tue 24 Nov,
settling Thu 26 Nov (T+2 on TARGET): 785,000.00 + 5,079.45 accrued (103 days of 365) =
790,079.45. The demo EUR tolerance allows 0.05 on an amount, or 0.1 bp of our settlement amount
(7.9007945), whichever is more.
"""

from typing import Any

import pytest

from tests.factories import BUND, DEUTSCHE, bund_trade_payload
from tests.support import Api, problem_fields
from tests.trades.confirmations.factories import (
    confirm,
    confirmation_body,
    confirmation_payload,
    reason,
    send_confirmation,
    trade_status,
)
from tests.trades.conftest import BookTrade

OUR_ACCRUED = "5079.45"
OUR_NET = "790079.45"


def bund_confirmation(**overrides: Any) -> dict[str, Any]:
    """Deutsche Bank's view of the bund trade (it sells), stating our accrued interest."""
    return confirmation_payload(
        **{
            "counterparty_lei": DEUTSCHE,
            "isin": BUND,
            "quantity": "1000000",
            "price": "78.50",
            "currency": "EUR",
            "settlement_date": "2026-11-26",
            "net_amount": OUR_NET,
            "accrued_interest": OUR_ACCRUED,
            **overrides,
        }
    )


@pytest.fixture
async def bund(book_trade: BookTrade) -> dict[str, Any]:
    return await book_trade(**bund_trade_payload())


async def test_the_same_accrued_interest_matches_and_is_kept(
    api: Api, bund: dict[str, Any]
) -> None:
    payload = bund_confirmation(trade_reference=bund["external_id"])

    body = await confirm(api, payload)

    assert body == confirmation_body(payload, id_=body["id"], status="matched", trade_id=bund["id"])
    assert body["accrued_interest"] == OUR_ACCRUED
    assert await trade_status(api, bund["id"]) == ("confirmed", 2)


@pytest.mark.parametrize(
    ("accrued", "net_amount", "reasons"),
    [
        pytest.param(
            # A day more of interest (104 days): their settlement amount carries it too.
            "5128.77",
            "790128.77",
            [
                reason("ACRU", "accrued_interest", OUR_ACCRUED, "5128.77"),
                reason("DMON", "net_amount", OUR_NET, "790128.77"),
            ],
            id="ACRU-and-DMON",
        ),
        pytest.param(
            "5100.00",
            OUR_NET,
            [reason("ACRU", "accrued_interest", OUR_ACCRUED, "5100.00")],
            id="ACRU-alone",
        ),
        pytest.param(
            # 7.90 apart: within 0.1 bp of our settlement amount (7.9007945).
            "5087.35",
            OUR_NET,
            [],
            id="within-the-amount-tolerance",
        ),
        pytest.param(
            "5087.36",
            OUR_NET,
            [reason("ACRU", "accrued_interest", OUR_ACCRUED, "5087.36")],
            id="a-cent-beyond",
        ),
    ],
)
async def test_accrued_interest_differences_are_acru_with_both_values(
    api: Api, bund: dict[str, Any], accrued: str, net_amount: str, reasons: list[dict[str, str]]
) -> None:
    payload = bund_confirmation(
        trade_reference=bund["external_id"], accrued_interest=accrued, net_amount=net_amount
    )

    body = await confirm(api, payload)

    assert body["reasons"] == reasons
    assert body["status"] == ("unmatched" if reasons else "matched")
    assert await trade_status(api, bund["id"]) == ("mismatched" if reasons else "confirmed", 2)


async def test_without_accrued_interest_it_is_not_compared(api: Api, bund: dict[str, Any]) -> None:
    payload = bund_confirmation(trade_reference=bund["external_id"])
    del payload["accrued_interest"]

    body = await confirm(api, payload)

    assert (body["status"], body["accrued_interest"], body["reasons"]) == ("matched", None, [])


async def test_accrued_interest_on_an_equity_trade_is_not_compared(
    api: Api, book_trade: BookTrade
) -> None:
    booked = await book_trade()  # JPM: no accrued interest of ours

    body = await confirm(
        api,
        confirmation_payload(trade_reference=booked["external_id"], accrued_interest="12.00"),
    )

    assert (body["status"], body["accrued_interest"], body["reasons"]) == ("matched", "12.00", [])


async def test_a_correction_of_the_accrued_interest_alone_matches_again(
    api: Api, bund: dict[str, Any]
) -> None:
    wrong = await confirm(
        api, bund_confirmation(trade_reference=bund["external_id"], accrued_interest="5100.00")
    )
    assert wrong["status"] == "unmatched"

    corrected = await confirm(
        api,
        bund_confirmation(
            confirmation_id=wrong["confirmation_id"], trade_reference=bund["external_id"]
        ),
    )

    assert (corrected["id"], corrected["status"], corrected["reasons"]) == (
        wrong["id"],
        "matched",
        [],
    )
    assert (corrected["accrued_interest"], corrected["version"]) == (OUR_ACCRUED, 2)
    assert await trade_status(api, bund["id"]) == ("confirmed", 3)


async def test_an_alleged_confirmation_compares_its_accrued_interest_when_the_trade_is_booked(
    api: Api, book_trade: BookTrade
) -> None:
    trade = bund_trade_payload()
    alleged = await confirm(
        api, bund_confirmation(trade_reference=trade["external_id"], accrued_interest="5100.00")
    )
    assert (alleged["status"], alleged["accrued_interest"]) == ("alleged", "5100.00")

    booked = await book_trade(**trade)

    assert booked["status"] == "mismatched"
    found = await api.get(f"/confirmations/{alleged['id']}", role="operations")
    assert (found.json()["status"], found.json()["reasons"]) == (
        "unmatched",
        [reason("ACRU", "accrued_interest", OUR_ACCRUED, "5100.00")],
    )


@pytest.mark.parametrize("value", ["five thousand", "NaN", "Infinity", "1e400000", True, 5100.5])
async def test_accrued_interest_that_is_no_decimal_is_422(
    api: Api, bund: dict[str, Any], value: Any
) -> None:
    response = await send_confirmation(
        api, bund_confirmation(trade_reference=bund["external_id"], accrued_interest=value)
    )

    assert response.status_code == 422, response.text
    assert problem_fields(response) == {"accrued_interest"}
    assert await trade_status(api, bund["id"]) == ("captured", 1)
