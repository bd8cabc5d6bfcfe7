"""Penalties on a depository's market, from its advices: a late match and a counterparty fail
(CLAC) owed to us, then a late confirmation value-dated back that reverses one day.

The Bund (sovereign debt: 0.10 bp = 0.000010 a day; priced in percent of nominal) bought from
Goldman, 1,000,000 nominal due Thursday 2026-11-26 on TARGET, instructed on 11-25. The
depository advises it matched on Friday 11-27 (late: 11-26 is penalised, the counterparty
instructed late since ours was made before the intended date) and failing CLAC (Goldman lacks
the Bunds: it fails, the penalty is owed to us).
"""

from datetime import UTC, datetime
from decimal import ROUND_HALF_EVEN, Decimal

import pytest

from tests.clearing.support import OPS
from tests.factories import BUND, GOLDMAN
from tests.penalties.support import penalties, run_penalties
from tests.settlement.advices.test_status_advices_api import (
    bund_receipt,
    confirmation,
    created,
    post,
    status_advice,
)
from tests.support import Api, FrozenClock

pytestmark = pytest.mark.usefixtures("matched_by_advice")

PRICES = {"2026-11-26": "71.345", "2026-11-27": "71.12"}
RATE = Decimal("0.000010")
NOMINAL = Decimal(1000000)


def expected(day: str) -> Decimal:
    """nominal x price % x rate, half-even to cents."""
    basis = NOMINAL * Decimal(PRICES[day]) / 100
    return (basis * RATE).quantize(Decimal("0.01"), ROUND_HALF_EVEN)


def at(day: str) -> datetime:
    return datetime.fromisoformat(f"{day}T12:00:00").replace(tzinfo=UTC)


async def test_a_late_match_and_a_counterparty_fail_are_owed_to_us_until_corrected(
    api: Api, clock: FrozenClock, reference: None
) -> None:
    _, instruction = await bund_receipt(api)
    si = instruction["id"]
    for day, price in PRICES.items():
        response = await api.post(
            "/prices", json={"isin": BUND, "date": day, "price": price}, role=OPS
        )
        assert response.status_code == 201, response.text
    clock.set(at("2026-11-27"))
    created(await post(api, status_advice(si, "matched")))
    created(await post(api, status_advice(si, "failing", reasons=[{"code": "CLAC"}])))

    # Nothing on the intended date: not matched yet (its late match is penalised on the 27th).
    assert (await run_penalties(api, "2026-11-26"))["booked"] == 0
    assert (await run_penalties(api, "2026-11-27"))["booked"] == 2

    booked = await penalties(api, instruction_id=si)
    assert [(p["day"], p["kind"], p["payer"], p["amount"]) for p in booked] == [
        ("2026-11-26", "late_matching_fail", "counterparty", str(expected("2026-11-26"))),
        ("2026-11-27", "settlement_fail", "counterparty", str(expected("2026-11-27"))),
    ]
    assert {p["rate"] for p in booked} == {"0.000010"}
    assert booked[1]["fail_reason"] == "CLAC"
    entry = await api.get(f"/journal-entries/{booked[1]['journal_entry_id']}", role=OPS)
    amount = expected("2026-11-27")
    assert sorted((p["ledger_account"], p["amount"]) for p in entry.json()["postings"]) == [
        ("penalties_receivable:" + GOLDMAN, str(amount)),
        ("penalty-income", f"-{amount}"),
    ]

    # The depository confirms on 12-01 a settlement value-dated 11-27: that day was no fail.
    clock.set(at("2026-12-01"))
    created(await post(api, confirmation(si, "1000000", "790079.45", settlement_date="2026-11-27")))
    corrected = await run_penalties(api, "2026-11-30")
    assert (corrected["booked"], corrected["reversed"]) == (0, 1)
    assert corrected["report"]["reversals"] == [
        {
            "penalty_id": booked[1]["id"],
            "day": "2026-11-27",
            "reason": "settled on 2026-11-27, on or before 2026-11-27",
        }
    ]
    after = await penalties(api, instruction_id=si)
    assert [(p["kind"], p["status"]) for p in after] == [
        ("late_matching_fail", "active"),
        ("settlement_fail", "reversed"),
    ]
    report = await api.get("/reports/penalties", params={"month": "2026-11"}, role=OPS)
    late = str(expected("2026-11-26"))
    assert report.json()["totals"] == [
        {"currency": "EUR", "penalties": 1, "payable": "0.00", "receivable": late, "net": late}
    ]
