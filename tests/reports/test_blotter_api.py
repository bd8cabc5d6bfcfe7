"""GET /reports/blotter: every trade of a trade-date range, JSON or streamed CSV."""

from decimal import Decimal
from typing import Any

import pytest

from tests.factories import GOLDMAN, JPM, trade_payload
from tests.reports.support import OPS, REFUSED, book, cancel
from tests.support import Api, problem_fields

pytestmark = pytest.mark.usefixtures("reference")

REPORT = "/reports/blotter"


def expected(trade: dict[str, Any], *, status: str) -> dict[str, Any]:
    quantity, price = Decimal(trade["quantity"]), Decimal(trade["price"])
    gross = quantity * price
    net = gross + Decimal("1.50") + Decimal("0.02")  # a purchase: commission and fees added
    return {
        "id": trade["id"],
        "external_id": trade["external_id"],
        "status": status,
        "book": "EQ-FLOW",
        "counterparty_lei": GOLDMAN,
        "counterparty_of_record": None,
        "isin": JPM,
        "side": "buy",
        "quantity": trade["quantity"],
        "price": trade["price"],
        "currency": "USD",
        "gross_amount": f"{gross:.2f}",
        "commission": "1.50",
        "fees": "0.02",
        "accrued_interest": None,
        "net_amount": f"{net:.2f}",
        "trade_date": trade["trade_date"],
        # T+1 on the US settlement calendar.
        "settlement_date": {"2026-11-23": "2026-11-24", "2026-11-24": "2026-11-25"}[
            trade["trade_date"]
        ],
        "venue": "XNYS",
    }


async def three_trades(api: Api) -> list[dict[str, Any]]:
    first = await book(
        api, trade_payload(trade_date="2026-11-23", trade_time="2026-11-23T15:00:00Z")
    )
    second = await book(api, trade_payload(quantity="7", price="190.10"))
    await book(api, trade_payload(trade_date="2026-11-20", trade_time="2026-11-20T15:00:00Z"))
    await cancel(api, second)
    return [first, second]


async def test_the_blotter_lists_every_trade_of_the_range_cancelled_ones_too(api: Api) -> None:
    first, second = await three_trades(api)

    response = await api.get(REPORT, params={"from": "2026-11-23", "to": "2026-11-24"}, role=OPS)

    assert response.status_code == 200, response.text
    items = sorted(
        [expected(first, status="captured"), expected(second, status="cancelled")],
        key=lambda item: item["id"],
    )
    assert response.json() == {"from": "2026-11-23", "to": "2026-11-24", "items": items}


async def test_the_csv_is_streamed_with_every_column(api: Api) -> None:
    first, _ = await three_trades(api)

    response = await api.get(
        REPORT,
        params={"from": "2026-11-23", "to": "2026-11-23", "format": "csv"},
        role="compliance",
    )

    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/csv")
    assert response.headers["content-disposition"] == (
        'attachment; filename="blotter-2026-11-23-2026-11-23.csv"'
    )
    # 100 x 189.25 = 18925.00 gross; + 1.50 commission + 0.02 fees = 18926.52 net.
    assert response.text == (
        "id,external_id,status,book,counterparty_lei,counterparty_of_record,isin,side,quantity,"
        "price,currency,gross_amount,commission,fees,accrued_interest,net_amount,trade_date,"
        "settlement_date,venue\r\n"
        f"{first['id']},{first['external_id']},captured,EQ-FLOW,{GOLDMAN},,{JPM},buy,100,"
        "189.25,USD,18925.00,1.50,0.02,,18926.52,2026-11-23,2026-11-24,XNYS\r\n"
    )


async def test_a_long_blotter_is_read_in_chunks_and_streamed_whole(
    api: Api, monkeypatch: pytest.MonkeyPatch
) -> None:
    from app.trades.capture import repository

    monkeypatch.setattr(repository, "REPORT_CHUNK", 2)
    booked = [await book(api, trade_payload()) for _ in range(5)]

    response = await api.get(
        REPORT, params={"from": "2026-11-24", "to": "2026-11-24", "format": "csv"}, role=OPS
    )

    lines = response.text.splitlines()
    assert [line.split(",")[0] for line in lines[1:]] == sorted(t["id"] for t in booked)


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"to": "2026-11-24"}, "from"),
        ({"from": "2026-11-24"}, "to"),
        ({"from": "2026-11-24", "to": "2026-11-23"}, "to"),
        ({"from": "2025-11-23", "to": "2026-11-24"}, "to"),  # 366 days is the most: this is 367
        ({"from": "2026-11-24", "to": "2026-11-24", "format": "xml"}, "format"),
        ({"from": "24/11/2026", "to": "2026-11-24"}, "from"),
    ],
)
async def test_bad_ranges_are_refused(api: Api, params: dict[str, str], field: str) -> None:
    response = await api.get(REPORT, params=params, role=OPS)

    assert response.status_code == 422, response.text
    assert field in problem_fields(response)


async def test_a_full_year_of_366_days_is_allowed(api: Api) -> None:
    response = await api.get(REPORT, params={"from": "2025-11-25", "to": "2026-11-25"}, role=OPS)
    assert response.status_code == 200, response.text


@pytest.mark.parametrize("role", REFUSED)
async def test_only_operations_and_compliance_read_it(api: Api, role: str) -> None:
    response = await api.get(REPORT, params={"from": "2026-11-24", "to": "2026-11-24"}, role=role)
    assert response.status_code == 403, response.text
