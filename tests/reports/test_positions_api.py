"""GET /reports/positions: every position and cash balance as of a day, the numbers of GET
/positions and GET /cash-balances."""

from decimal import Decimal
from typing import Any

import pytest

from tests.factories import JPM, trade_payload
from tests.positions.conftest import Adjust, line
from tests.reports.support import OPS, REFUSED, book
from tests.support import Api, problem_fields

pytestmark = pytest.mark.usefixtures("reference")

REPORT = "/reports/positions"


async def holdings(api: Api, adjust: Adjust) -> None:
    # 60 JPM at cost 180.00 each and 50,000 USD of cash, then a purchase of 100 at 189.25.
    await adjust(
        "opening", line("SEC-DTC", JPM, "60"), line("book:EQ-FLOW", JPM, "-60", cost="10800")
    )
    await adjust("opening", line("CASH-USD", "USD", "50000"))
    await book(api, trade_payload(quantity="100", price="189.25", trade_date="2026-11-24"))


async def items(api: Api, path: str, **params: str) -> list[dict[str, Any]]:
    response = await api.get(path, params={"limit": "1000", **params}, role=OPS)
    assert response.status_code == 200, response.text
    found: list[dict[str, Any]] = response.json()["items"]
    return found


async def test_the_report_gives_the_numbers_of_positions_and_cash_balances(
    api: Api, adjust: Adjust
) -> None:
    await holdings(api, adjust)

    response = await api.get(REPORT, params={"as_of": "2026-11-25"}, role=OPS)

    assert response.status_code == 200, response.text
    body = response.json()
    assert body == {
        "as_of": "2026-11-25",
        "basis": "trade_date",
        "positions": await items(api, "/positions", as_of="2026-11-25"),
        "cash": await items(api, "/cash-balances", as_of="2026-11-25"),
    }
    cost = Decimal("10800") + 100 * Decimal("189.25")
    [jpm] = body["positions"]
    assert (jpm["book"], jpm["quantity"], jpm["cost"], jpm["average_cost"]) == (
        "EQ-FLOW",
        str(60 + 100),
        f"{cost:.2f}",
        f"{cost / 160:.8f}",
    )
    [cash] = body["cash"]
    assert (cash["account"], cash["settled"], cash["projected"]) == ("CASH-USD", "50000", "50000")


async def test_the_csv_has_a_row_per_position_then_per_cash_balance(
    api: Api, adjust: Adjust
) -> None:
    await holdings(api, adjust)

    response = await api.get(
        REPORT,
        params={"as_of": "2026-11-25", "basis": "settlement_date", "format": "csv"},
        role="compliance",
    )

    assert response.status_code == 200, response.text
    assert response.headers["content-disposition"] == (
        'attachment; filename="positions-2026-11-25.csv"'
    )
    # Settled: the 60 of the opening in the DTC account; the purchase is not settled.
    assert response.text == (
        "kind,basis,ledger_account,book,account,isin,currency,quantity,pending,average_cost,"
        "cost,realized_pnl,settled,projected\r\n"
        f"position,settlement_date,securities:SEC-DTC,,SEC-DTC,{JPM},USD,60,0,,,,,\r\n"
        "cash,,cash:CASH-USD,,CASH-USD,,USD,,0,,,,50000,50000\r\n"
    )


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"basis": "value_date"}, "basis"),
        ({"as_of": "tomorrow"}, "as_of"),
        ({"format": "pdf"}, "format"),
    ],
)
async def test_bad_parameters_are_refused(api: Api, params: dict[str, str], field: str) -> None:
    response = await api.get(REPORT, params=params, role=OPS)
    assert response.status_code == 422, response.text
    assert problem_fields(response) == {field}


@pytest.mark.parametrize("role", REFUSED)
async def test_only_operations_and_compliance_read_it(api: Api, role: str) -> None:
    response = await api.get(REPORT, role=role)
    assert response.status_code == 403, response.text
