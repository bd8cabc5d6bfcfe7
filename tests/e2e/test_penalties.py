"""CSDR cash penalties over HTTP, a whole fail from the first day to its correction.

JPM (a liquid share: 1.0 bp a day, seeded in /penalty-rates) settles at NSCC on the US
settlement calendar, an internal market: the settlement run decides. We sell 100 at 190.25 due
Wednesday 2026-11-25 holding 60, partial allowed: 60 settle, 40 fail LACK (we lack the
securities: we pay). Thanksgiving (Thursday 26th) is no business day. The fail is penalised for
five business days: 11-25 (the intended date: still failing at its end), 11-27, 11-30, 12-01 and
12-02, each day 40 x that day's closing price x 0.0001, rounded half-even to cents. It is a
buy-in candidate on 12-03 (five business days failing > four). A late settlement run then
settles the 40 value-dated 12-02: the 12-02 penalty is reversed by the next penalty run.
"""

from datetime import UTC, datetime
from decimal import ROUND_HALF_EVEN, Decimal
from typing import Any

import pytest

from tests.clearing.support import NSCC, OPS
from tests.factories import JPM
from tests.penalties.support import PRICES, add_price, failing_jpm, penalties, run_penalties, settle
from tests.positions.conftest import Adjust, line
from tests.support import Api, FrozenClock

pytestmark = pytest.mark.usefixtures("reference")

DUE = "2026-11-25"
PENALISED = ["2026-11-25", "2026-11-27", "2026-11-30", "2026-12-01", "2026-12-02"]
RATE = Decimal("0.0001")  # liquid shares, from /penalty-rates
FAILED = Decimal(40)


def expected(day: str) -> Decimal:
    """rate x price x quantity, half-even to cents."""
    return (RATE * Decimal(PRICES[day]) * FAILED).quantize(Decimal("0.01"), ROUND_HALF_EVEN)


def at(day: str) -> datetime:
    return datetime.fromisoformat(f"{day}T21:00:00").replace(tzinfo=UTC)


async def monthly(api: Api, month: str) -> dict[str, Any]:
    response = await api.get("/reports/penalties", params={"month": month}, role="compliance")
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


async def candidates(api: Api, day: str) -> list[str]:
    response = await api.get("/reports/buy-in-candidates", params={"as_of": day}, role=OPS)
    assert response.status_code == 200, response.text
    return [item["instruction_id"] for item in response.json()["items"]]


def summary(month: str, amounts: list[Decimal]) -> dict[str, Any]:
    total = str(sum(amounts, Decimal("0.00")))
    group = {
        "currency": "USD",
        "penalties": len(amounts),
        "payable": total,
        "receivable": "0.00",
        "net": f"-{total}",
    }
    return {
        "month": month,
        "counterparties": [{"counterparty_lei": NSCC, **group}],
        "totals": [group],
    }


async def test_a_five_day_fail_is_penalised_daily_reported_monthly_and_corrected(
    api: Api, adjust: Adjust, clock: FrozenClock
) -> None:
    instruction = await failing_jpm(api, adjust)
    for day in PRICES:
        if day != "2026-12-02":
            await add_price(api, day)

    for day in PRICES:
        clock.set(at(day))
        run = await run_penalties(api, day)
        assert run["booked"] == (1 if day in PENALISED and day != "2026-12-02" else 0), run

    # No price for 12-02 yet: an exception naming ISIN and day, never a zero penalty.
    assert run["report"]["exceptions"] == [
        {
            "instruction_id": instruction["id"],
            "isin": JPM,
            "day": "2026-12-02",
            "kind": "settlement_fail",
            "problem": "missing_price",
            "detail": f"No reference price of {JPM} on 2026-12-02: no penalty for that day.",
        }
    ]
    await add_price(api, "2026-12-02")
    assert (await run_penalties(api, "2026-12-02"))["booked"] == 1
    again = await run_penalties(api, "2026-12-02")
    assert (again["booked"], again["reversed"], again["exceptions"]) == (0, 0, 0)

    booked = await penalties(api, instruction_id=instruction["id"])
    assert [(p["day"], p["amount"], p["payer"], p["status"]) for p in booked] == [
        (day, str(expected(day)), "us", "active") for day in PENALISED
    ]
    first = booked[0]
    assert (first["kind"], first["basis"], first["rate"], first["currency"]) == (
        "settlement_fail",
        str(FAILED * Decimal(PRICES[DUE])),
        "0.0001",
        "USD",
    )

    entry = await api.get(f"/journal-entries/{first['journal_entry_id']}", role=OPS)
    assert entry.status_code == 200, entry.text
    assert (entry.json()["kind"], entry.json()["value_date"]) == ("penalty", DUE)
    assert sorted(
        (p["ledger_account"], p["asset"], p["amount"]) for p in entry.json()["postings"]
    ) == [
        ("penalties", "USD", str(expected(DUE))),
        (f"penalties_payable:{NSCC}", "USD", f"-{expected(DUE)}"),
    ]

    november = [expected(day) for day in PENALISED[:3]]
    december = [expected(day) for day in PENALISED[3:]]
    assert await monthly(api, "2026-11") == summary("2026-11", november)
    assert await monthly(api, "2026-12") == summary("2026-12", december)

    assert await candidates(api, "2026-12-02") == []
    assert await candidates(api, "2026-12-03") == [instruction["id"]]

    # The 40 arrive and a late settlement run settles them value-dated 12-02.
    clock.set(at("2026-12-03"))
    await adjust("opening", line("SEC-DTC", JPM, "40"), line("book:EQ-FLOW", JPM, "-40", cost="0"))
    await settle(api, "2026-12-02")
    corrected = await run_penalties(api, "2026-12-03")
    assert (corrected["booked"], corrected["reversed"]) == (0, 1)

    reversed_ = await penalties(api, instruction_id=instruction["id"], status="reversed")
    assert [(p["day"], p["status"]) for p in reversed_] == [("2026-12-02", "reversed")]
    assert reversed_[0]["reversal_entry_id"] is not None
    assert await monthly(api, "2026-12") == summary("2026-12", december[:1])
