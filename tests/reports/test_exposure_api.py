"""GET /reports/exposure: unsettled trades marked to the latest price on or before as_of
(replacement cost) and failing instructions (principal at risk), per counterparty and currency.
"""

from decimal import Decimal

import pytest

from tests.clearing.support import NSCC
from tests.factories import BUND, DEUTSCHE, GOLDMAN, JPM, TOTAL, bund_trade_payload, trade_payload
from tests.positions.conftest import Adjust
from tests.reports.support import OPS, REFUSED, book, cancel, price
from tests.settlement.instructions.test_buy_in_candidates_api import at, partial_jpm_fail
from tests.support import Api, FrozenClock, problem_fields

pytestmark = pytest.mark.usefixtures("reference")

REPORT = "/reports/exposure"


MONDAY = {"trade_date": "2026-11-23", "trade_time": "2026-11-23T15:00:00Z"}


async def positions_at_risk(api: Api) -> None:
    """Traded Monday 2026-11-23. Goldman, USD: bought 100 JPM at 189.25, sold 40 at 190.00, a
    cancelled purchase. Deutsche Bank, EUR: the Bund 1,000,000 nominal at 78.50 %, 100
    TotalEnergies at 60.00. The demo prices every instrument on the 24th only (JPM 312.40,
    TotalEnergies 57.42, the Bund 72.45)."""
    await book(api, trade_payload(quantity="100", price="189.25", **MONDAY))
    await book(api, trade_payload(side="sell", quantity="40", price="190.00", **MONDAY))
    await cancel(api, await book(api, trade_payload(quantity="1000", price="100", **MONDAY)))
    await book(api, bund_trade_payload(**MONDAY))
    total = {"counterparty_lei": DEUTSCHE, "isin": TOTAL, "currency": "EUR", "venue": "XPAR"}
    await book(api, trade_payload(price="60.00", **total, **MONDAY))
    await price(api, JPM, "2026-11-23", "180.00")
    await price(api, JPM, "2026-11-25", "192.00")
    await price(api, JPM, "2026-11-26", "250.00")  # after as_of: never used
    await price(api, BUND, "2026-11-25", "79.10")


def row(
    lei: str, currency: str, trades: int, unpriced: int, cost: Decimal, missing: list[str]
) -> dict[str, object]:
    return {
        "counterparty_lei": lei,
        "currency": currency,
        "unsettled_trades": trades,
        "unpriced_trades": unpriced,
        "replacement_cost": f"{cost:.2f}",
        "failing_instructions": 0,
        "unpriced_instructions": 0,
        "principal_at_risk": "0.00",
        "missing_prices": missing,
    }


async def test_unsettled_trades_are_marked_to_the_latest_price_by_counterparty(api: Api) -> None:
    await positions_at_risk(api)

    response = await api.get(REPORT, params={"as_of": "2026-11-25"}, role=OPS)

    assert response.status_code == 200, response.text
    # Marks on the 25th: JPM 192.00, the Bund 79.10 %, TotalEnergies 57.42 (the 24th's).
    # A purchase loses what the price has risen: 100 x (192.00 - 189.25); the sale at 190.00
    # below the mark costs nothing to replace, nor TotalEnergies bought above it.
    jpm_cost = Decimal(100) * (Decimal("192.00") - Decimal("189.25"))
    # Percent of nominal: 1,000,000 x (79.10 - 78.50) / 100.
    bund_cost = Decimal(1_000_000) * (Decimal("79.10") - Decimal("78.50")) / 100
    assert response.json() == {
        "as_of": "2026-11-25",
        "counterparties": [
            row(DEUTSCHE, "EUR", 2, 0, bund_cost, []),
            row(GOLDMAN, "USD", 2, 0, jpm_cost, []),
        ],
        "missing_prices": [],
        "marks": [
            {"isin": BUND, "date": "2026-11-25", "price": "79.10"},
            {"isin": TOTAL, "date": "2026-11-24", "price": "57.42"},
            {"isin": JPM, "date": "2026-11-25", "price": "192.00"},
        ],
    }


async def test_a_missing_price_is_listed_never_valued_at_zero(api: Api) -> None:
    await positions_at_risk(api)

    response = await api.get(REPORT, params={"as_of": "2026-11-23"}, role="compliance")

    # Only JPM has a price on or before the 23rd (180.00): the sale at 190.00 would be replaced
    # 10.00 lower, 40 x 10.00; the Bund and TotalEnergies cannot be marked.
    sale_cost = Decimal(40) * (Decimal("190.00") - Decimal("180.00"))
    body = response.json()
    assert body["counterparties"] == [
        row(DEUTSCHE, "EUR", 2, 2, Decimal(0), [BUND, TOTAL]),
        row(GOLDMAN, "USD", 2, 0, sale_cost, []),
    ]
    assert body["missing_prices"] == [BUND, TOTAL]


async def test_the_csv_has_one_row_per_counterparty_and_currency(api: Api) -> None:
    await positions_at_risk(api)

    response = await api.get(REPORT, params={"as_of": "2026-11-23", "format": "csv"}, role=OPS)

    assert response.status_code == 200, response.text
    assert response.headers["content-disposition"] == (
        'attachment; filename="exposure-2026-11-23.csv"'
    )
    assert response.text == (
        "counterparty_lei,currency,unsettled_trades,unpriced_trades,replacement_cost,"
        "failing_instructions,unpriced_instructions,principal_at_risk,missing_prices\r\n"
        f"{DEUTSCHE},EUR,2,2,0.00,0,0,0.00,{BUND} {TOTAL}\r\n"
        f"{GOLDMAN},USD,2,0,400.00,0,0,0.00,\r\n"
    )


async def test_trades_after_as_of_are_not_yet_exposure(api: Api) -> None:
    await positions_at_risk(api)

    response = await api.get(REPORT, params={"as_of": "2026-11-22"}, role=OPS)

    assert response.json()["counterparties"] == []


async def test_bad_as_of_is_refused(api: Api) -> None:
    response = await api.get(REPORT, params={"as_of": "yesterday"}, role=OPS)
    assert response.status_code == 422, response.text
    assert problem_fields(response) == {"as_of"}


@pytest.mark.parametrize("role", REFUSED)
async def test_only_operations_and_compliance_read_it(api: Api, role: str) -> None:
    response = await api.get(REPORT, role=role)
    assert response.status_code == 403, response.text


async def test_a_failing_dvp_delivery_puts_no_principal_at_risk(
    api: Api, adjust: Adjust, clock: FrozenClock
) -> None:
    # Sold 100 JPM at 190.25 holding 60 (partial allowed): 60 settle against cash on the 25th,
    # 40 fail. Novated: the CCP (NSCC) is the counterparty of the trade and the instruction.
    await partial_jpm_fail(api, adjust)
    clock.set(at("2026-11-27"))

    response = await api.get(REPORT, role=OPS)

    # Marked at the demo's 312.40 (the 24th), the sale at 190.25 costs nothing to replace; the
    # 60 delivered were paid for in the same settlement (DVP): nothing given for nothing.
    assert response.json()["counterparties"] == [
        {
            "counterparty_lei": NSCC,
            "currency": "USD",
            "unsettled_trades": 1,
            "unpriced_trades": 0,
            "replacement_cost": "0.00",
            "failing_instructions": 1,
            "unpriced_instructions": 0,
            "principal_at_risk": "0.00",
            "missing_prices": [],
        }
    ]
