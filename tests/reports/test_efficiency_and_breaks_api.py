"""GET /reports/settlement-efficiency and GET /reports/breaks: exact values on a small book.

Efficiency: JPM sold 100 at 190.25 to NSCC (XNYS) due Wednesday 2026-11-25 with the shares held
settles that day (on time); a Bund bought from Goldman (XOFF) due Thursday 2026-11-26 is never
settled. TARGET is open on US Thanksgiving (the 26th), so the days are the 25th, 26th and 27th.
"""

from datetime import date, timedelta
from decimal import ROUND_HALF_EVEN, Decimal
from typing import Any

import pytest

from app.reports.efficiency.service import Group, share, tally
from app.settlement.instructions.service import DueInstruction
from tests.clearing.support import NSCC, OPS, book_confirmed, clear
from tests.factories import GOLDMAN, JPM
from tests.positions.conftest import Adjust, adjust, line
from tests.reconciliation.breaks.conftest import SeedBreak, seed_break
from tests.settlement.support import bund, instruction_of
from tests.support import Api, problem_fields

__all__ = ["adjust", "seed_break"]

EFFICIENCY = "/reports/settlement-efficiency"
BREAKS = "/reports/breaks"
JPM_AMOUNT = Decimal(100) * Decimal("190.25")
BUND_AMOUNT = "790079.45"  # 1,000,000 nominal at 78.50 % with accrued interest


def rate(part: Decimal | int, whole: Decimal | int) -> str:
    return str((Decimal(part) / Decimal(whole)).quantize(Decimal("0.0001"), ROUND_HALF_EVEN))


async def jpm_on_time_and_bund_failing(api: Api, adjust: Adjust) -> None:
    await adjust(
        "opening", line("SEC-DTC", JPM, "100"), line("book:EQ-FLOW", JPM, "-100", cost="0")
    )
    sold = await book_confirmed(
        api, side="sell", quantity="100", price="190.25", commission="0", fees="0"
    )
    await clear(api, "2026-11-25")
    response = await api.post(
        "/settlement-runs",
        json={"settlement_date": "2026-11-25"},
        params={"wait": "true"},
        role=OPS,
    )
    assert response.status_code == 200, response.text
    assert (await instruction_of(api, sold))["status"] == "settled"
    bought = await book_confirmed(api, **bund(counterparty_lei=GOLDMAN))
    await clear(api, "2026-11-26")
    instruction = await instruction_of(api, bought)
    assert instruction["amount"] == BUND_AMOUNT
    assert instruction["status"] != "settled"


def usd(due: Decimal, on_time: Decimal) -> dict[str, Any]:
    return {
        "currency": "USD",
        "due": f"{due:.2f}",
        "settled_on_time": f"{on_time:.2f}",
        "rate": rate(on_time, due),
    }


EUR_FAILED = {"currency": "EUR", "due": BUND_AMOUNT, "settled_on_time": "0.00", "rate": "0.0000"}
NOTHING_DUE: dict[str, Any] = {"due": 0, "settled_on_time": 0, "rate_by_count": None, "values": []}


async def test_efficiency_by_day_market_and_counterparty_by_count_and_value(
    api: Api, adjust: Adjust
) -> None:
    await jpm_on_time_and_bund_failing(api, adjust)
    on_time = {
        "due": 1,
        "settled_on_time": 1,
        "rate_by_count": rate(1, 1),
        "values": [usd(JPM_AMOUNT, JPM_AMOUNT)],
    }
    failed = {"due": 1, "settled_on_time": 0, "rate_by_count": rate(0, 1), "values": [EUR_FAILED]}

    response = await api.get(
        EFFICIENCY, params={"from": "2026-11-25", "to": "2026-11-27"}, role="compliance"
    )

    assert response.status_code == 200, response.text
    assert response.json() == {
        "from": "2026-11-25",
        "to": "2026-11-27",
        "total": {
            "due": 2,
            "settled_on_time": 1,
            "rate_by_count": rate(1, 2),
            "values": [EUR_FAILED, usd(JPM_AMOUNT, JPM_AMOUNT)],
        },
        "by_day": [
            {"date": "2026-11-25", **on_time},
            {"date": "2026-11-26", **failed},
            {"date": "2026-11-27", **NOTHING_DUE},
        ],
        "by_market": [{"market": "XNYS", **on_time}, {"market": "XOFF", **failed}],
        "by_counterparty": [
            {"counterparty_lei": GOLDMAN, **failed},
            {"counterparty_lei": NSCC, **on_time},
        ],
    }


async def test_efficiency_csv_has_one_line_per_group_and_currency(api: Api, adjust: Adjust) -> None:
    await jpm_on_time_and_bund_failing(api, adjust)

    response = await api.get(
        EFFICIENCY, params={"from": "2026-11-26", "to": "2026-11-26", "format": "csv"}, role=OPS
    )

    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/csv")
    assert response.headers["content-disposition"] == (
        'attachment; filename="settlement-efficiency-2026-11-26-2026-11-26.csv"'
    )
    failed = f"1,0,0.0000,EUR,{BUND_AMOUNT},0.00,0.0000\r\n"
    assert response.text == (
        "group,key,due,settled_on_time,rate_by_count,currency,value_due,"
        "value_settled_on_time,value_rate\r\n"
        f"total,,{failed}day,2026-11-26,{failed}market,XOFF,{failed}"
        f"counterparty,{GOLDMAN},{failed}"
    )


def target_days_back(to: date, count: int) -> date:
    # No TARGET holiday between October and Christmas: only weekends are closed.
    day = to
    while count:
        day -= timedelta(days=1)
        count -= day.weekday() < 5
    return day


async def test_efficiency_defaults_to_the_20_target_business_days_before_today(
    api: Api, reference: None
) -> None:
    response = await api.get(EFFICIENCY, role=OPS)  # the clock: Wednesday 2026-11-25

    assert response.status_code == 200, response.text
    body = response.json()
    start = target_days_back(date(2026, 11, 25), 20)
    assert (body["from"], body["to"]) == (start.isoformat(), "2026-11-25")
    assert [day["date"] for day in body["by_day"]] == [
        (start + timedelta(days=offset)).isoformat()
        for offset in range((date(2026, 11, 25) - start).days + 1)
        if (start + timedelta(days=offset)).weekday() < 5
    ]
    assert len(body["by_day"]) == 21
    assert body["total"] == NOTHING_DUE


def due(day: int, amount: str, *, on_time: bool, market: str = "XPAR") -> DueInstruction:
    return DueInstruction(date(2026, 12, day), market, GOLDMAN, "EUR", Decimal(amount), on_time)


def test_shares_have_4_places_rounded_half_even() -> None:
    # 1/32 = 0.03125 -> 0.0312 (even), 3/32 = 0.09375 -> 0.0938, 2/3 -> 0.6667.
    assert (share(1, 32), share(3, 32), share(2, 3)) == (
        Decimal("0.0312"),
        Decimal("0.0938"),
        Decimal("0.6667"),
    )
    assert share(0, 0) is None


def test_a_day_closed_for_target_has_no_row_but_counts_in_the_total() -> None:
    items = [due(24, "100.00", on_time=True), due(25, "50.00", on_time=False)]  # 25th: Christmas

    report = tally(items, start=date(2026, 12, 24), end=date(2026, 12, 28))

    assert [row["date"] for row in report["by_day"]] == [date(2026, 12, 24), date(2026, 12, 28)]
    total = Group()
    for item in items:
        total.add(item)
    assert report["total"] == total.out()
    assert report["total"]["rate_by_count"] == Decimal(rate(1, 2))
    assert report["total"]["values"][0]["rate"] == Decimal(rate(Decimal(100), Decimal(150)))


@pytest.mark.parametrize("role", ["trader", "gateway", "admin"])
async def test_only_operations_and_compliance_read_the_reports(
    api: Api, reference: None, role: str
) -> None:
    for path in (EFFICIENCY, BREAKS):
        response = await api.get(path, role=role)
        assert response.status_code == 403, response.text


@pytest.mark.parametrize(
    ("path", "params", "field"),
    [
        (EFFICIENCY, {"from": "2026-11-26", "to": "2026-11-25"}, "from"),
        (EFFICIENCY, {"from": "2025-11-23", "to": "2026-11-25"}, "from"),
        (EFFICIENCY, {"from": "2026-02-30"}, "from"),
        (EFFICIENCY, {"format": "pdf"}, "format"),
        (BREAKS, {"as_of": "yesterday"}, "as_of"),
        (BREAKS, {"format": "xml"}, "format"),
    ],
)
async def test_bad_queries_are_422_problems(
    api: Api, reference: None, path: str, params: dict[str, str], field: str
) -> None:
    response = await api.get(path, params=params, role=OPS)

    assert response.status_code == 422, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert field in problem_fields(response)


async def seed_breaks(seed_break: SeedBreak) -> None:
    # Ages on 2026-11-25: USD breaks on the US payment calendar, EUR ones on TARGET.
    await seed_break(id="brk_young", since=date(2026, 11, 25))  # 0 days: 0-1
    await seed_break(id="brk_old", since=date(2026, 11, 16), amount=Decimal("-25.40"))  # 7: 6-30
    await seed_break(
        id="brk_eur",
        account="CASH-EUR",
        currency="EUR",
        since=date(2026, 11, 20),
        amount=Decimal("10.00"),
    )  # 23rd, 24th, 25th: 2-5
    await seed_break(id="brk_explained", status="explained", since=date(2026, 11, 2))


async def test_breaks_by_age_and_account_with_the_open_breaks_oldest_first(
    api: Api, seed_break: SeedBreak
) -> None:
    await seed_breaks(seed_break)

    response = await api.get(BREAKS, params={"as_of": "2026-11-25"}, role=OPS)

    assert response.status_code == 200, response.text
    body = response.json()
    listed = [
        (await api.get(f"/breaks/{break_id}", role=OPS)).json()
        for break_id in ("brk_old", "brk_eur", "brk_young")
    ]
    assert body == {
        "as_of": "2026-11-25",
        "open": 3,
        "by_age": [
            {"bucket": "0-1", "count": 1, "amounts": [{"currency": "USD", "amount": "125.40"}]},
            {"bucket": "2-5", "count": 1, "amounts": [{"currency": "EUR", "amount": "10.00"}]},
            {"bucket": "6-30", "count": 1, "amounts": [{"currency": "USD", "amount": "-25.40"}]},
            {"bucket": "over_30", "count": 0, "amounts": []},
        ],
        "by_account": [
            {
                "account": "CASH-EUR",
                "count": 1,
                "amounts": [{"currency": "EUR", "amount": "10.00"}],
            },
            {
                "account": "CASH-USD",
                "count": 2,
                "amounts": [
                    {"currency": "USD", "amount": str(Decimal("125.40") - Decimal("25.40"))}
                ],
            },
        ],
        "items": listed,
    }
    assert [item["age_days"] for item in body["items"]] == [7, 3, 0]


async def test_breaks_csv_lists_each_open_break(api: Api, seed_break: SeedBreak) -> None:
    await seed_break(id="brk_young", since=date(2026, 11, 25))

    response = await api.get(BREAKS, params={"format": "csv"}, role="compliance")

    assert response.status_code == 200, response.text
    assert response.headers["content-disposition"] == 'attachment; filename="breaks-2026-11-25.csv"'
    assert response.text == (
        "id,kind,status,account,currency,isin,amount,since,value_date,age_days,ageing_bucket,"
        "owner,detail\r\n"
        "brk_young,missing_in_book,open,CASH-USD,USD,,125.40,2026-11-25,2026-11-25,0,0-1,,"
        "Statement line with no book movement\r\n"
    )
