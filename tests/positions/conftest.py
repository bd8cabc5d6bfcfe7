"""Fixtures for position keeping: post adjustments under four-eyes, read positions and cash."""

from collections.abc import Awaitable, Callable
from typing import Any

import pytest

from tests.support import Api, SecondKey

Adjust = Callable[..., Awaitable[dict[str, Any]]]


def line(account: str, asset: str, amount: str, cost: str | None = None) -> dict[str, Any]:
    body: dict[str, Any] = {"account": account, "asset": asset, "amount": amount}
    if cost is not None:
        body["cost"] = cost
    return body


@pytest.fixture
def adjust(api: Api, ops2: SecondKey, reference: None) -> Adjust:
    """``await adjust(kind, *lines, reason=...)``: propose as operations, approve with the
    second operations key; returns the approved adjustment."""

    async def post(kind: str, *lines: dict[str, Any], reason: str = "test") -> dict[str, Any]:
        proposed = await api.post(
            "/adjustments",
            json={"kind": kind, "reason": reason, "lines": list(lines)},
            role="operations",
        )
        assert proposed.status_code == 201, proposed.text
        approved = await api.post(
            f"/adjustments/{proposed.json()['id']}/approve", headers=ops2.headers
        )
        assert approved.status_code == 200, approved.text
        body: dict[str, Any] = approved.json()
        return body

    return post


async def positions(api: Api, **params: str) -> list[dict[str, Any]]:
    response = await api.get("/positions", params=params, role="operations")
    assert response.status_code == 200, response.text
    items: list[dict[str, Any]] = response.json()["items"]
    return items


async def cash_balances(api: Api, **params: str) -> list[dict[str, Any]]:
    response = await api.get("/cash-balances", params=params, role="operations")
    assert response.status_code == 200, response.text
    items: list[dict[str, Any]] = response.json()["items"]
    return items


async def ledger_check(api: Api) -> dict[str, Any]:
    response = await api.get("/ledger/check", role="compliance")
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body
