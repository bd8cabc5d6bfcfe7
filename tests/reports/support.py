"""Helpers of the report tests."""

from typing import Any

from tests.support import Api

OPS = "operations"
REFUSED = ("trader", "gateway", "admin")


async def book(api: Api, payload: dict[str, Any]) -> dict[str, Any]:
    response = await api.post("/trades", json=payload, role="trader")
    assert response.status_code == 201, response.text
    trade: dict[str, Any] = response.json()
    return trade


async def price(api: Api, isin: str, day: str, value: str) -> None:
    response = await api.post("/prices", json={"isin": isin, "date": day, "price": value}, role=OPS)
    assert response.status_code == 201, response.text


async def cancel(api: Api, trade: dict[str, Any]) -> None:
    response = await api.post(
        f"/trades/{trade['id']}/cancel", json={"reason": "booked in error"}, role="trader"
    )
    assert response.status_code == 200, response.text
