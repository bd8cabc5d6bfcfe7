"""Penalty test helpers: an instruction's penalty facts with defaults; over HTTP, a JPM sale
failing 40 of 100 (LACK) from its intended date 2026-11-25, prices, runs and lists."""

from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

from app.settlement.instructions.service import PenaltyFacts
from tests.clearing.support import OPS, book_confirmed, clear
from tests.factories import JPM
from tests.positions.conftest import Adjust, line
from tests.settlement.support import instruction_of
from tests.support import Api

DUE = "2026-11-25"
# A closing price per day; 11-26 (Thanksgiving) has one too, and is never penalised.
PRICES = {
    "2026-11-25": "190.25",
    "2026-11-26": "191.00",
    "2026-11-27": "192.13",
    "2026-11-30": "188.47",
    "2026-12-01": "189.99",
    "2026-12-02": "193.12",
}


def facts(
    *,
    quantity: str = "100",
    settled_quantity: str = "0",
    settled_on: date | None = None,
    status: str = "matched",
    held_from: str | None = None,
    matched_on: date | None = None,
) -> PenaltyFacts:
    return PenaltyFacts(
        instruction_id="sin-1",
        isin="US46625H1005",
        delivery_type="DVP",
        quantity=Decimal(quantity),
        amount=Decimal("19025.00"),
        currency="USD",
        counterparty_lei="NSCCDEMO000000000060",
        intended_settlement_date=date(2026, 11, 25),
        status=status,
        held_from=held_from,
        held_by=None,
        fail_reason="LACK",
        settled_on=settled_on,
        settled_quantity=Decimal(settled_quantity),
        settled_amount=Decimal(0),
        created_at=datetime(2026, 11, 24, 15, tzinfo=UTC),
        matched_at=None
        if matched_on is None
        else datetime(matched_on.year, matched_on.month, matched_on.day, 10, tzinfo=UTC),
    )


async def run_penalties(api: Api, day: str) -> dict[str, Any]:
    response = await api.post(
        "/penalty-runs", json={"date": day}, params={"wait": "true"}, role=OPS
    )
    assert response.status_code == 200, response.text
    run: dict[str, Any] = response.json()
    assert run["status"] == "completed", run
    return run


async def add_price(api: Api, day: str) -> None:
    response = await api.post(
        "/prices", json={"isin": JPM, "date": day, "price": PRICES[day]}, role=OPS
    )
    assert response.status_code == 201, response.text


async def settle(api: Api, day: str) -> None:
    response = await api.post(
        "/settlement-runs", json={"settlement_date": day}, params={"wait": "true"}, role=OPS
    )
    assert response.status_code == 200, response.text


async def penalties(api: Api, **params: str) -> list[dict[str, Any]]:
    response = await api.get("/penalties", params={"limit": "100", **params}, role=OPS)
    assert response.status_code == 200, response.text
    items: list[dict[str, Any]] = response.json()["items"]
    return sorted(items, key=lambda item: item["day"])


async def failing_jpm(api: Api, adjust: Adjust) -> dict[str, Any]:
    await adjust("opening", line("SEC-DTC", JPM, "60"), line("book:EQ-FLOW", JPM, "-60", cost="0"))
    sold = await book_confirmed(
        api, side="sell", quantity="100", price="190.25", commission="0", fees="0"
    )
    await clear(api, DUE)
    instruction = await instruction_of(api, sold)
    response = await api.patch(
        f"/settlement-instructions/{instruction['id']}",
        json={"partial_allowed": True},
        headers={"If-Match": f'"{instruction["version"]}"'},
        role=OPS,
    )
    assert response.status_code == 200, response.text
    await settle(api, DUE)
    instruction = await instruction_of(api, sold)
    assert (instruction["status"], instruction["settled_quantity"]) == ("partially_settled", "60")
    return instruction
