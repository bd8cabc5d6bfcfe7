"""Clearing test helpers: book trades the counterparty has confirmed, run clearing, read what
it made. Shared by the clearing and settlement tests."""

from typing import Any

from tests.factories import trade_payload
from tests.support import Api
from tests.trades.confirmations.factories import confirm, confirmation_payload

OPS = "operations"

# The demo CCPs (app/reference/demo_data.py) and the bilateral-netting counterparties.
NSCC = "NSCCDEMO000000000060"  # XNYS
LCH = "R1IO4YJ0O79SMWVCHB58"  # XPAR
EUREX = "529900LN3S50JPU47S06"  # XETR
BNP = "R0MUWSFPU8MPRO8K5P83"  # netting: bilateral
MORGAN = "9R7GPTSO7KV3UQJZQ078"  # netting: none
SOCGEN = "O2RNE8IBXP4R0TD8PU41"  # netting: none
OAT = "FR001400WYO4"  # OAT 3.60 % 2042, XOFF, EUR
SAP = "DE0007164600"  # XETR, EUR
LVMH = "FR0000121014"  # XPAR, EUR


async def book(api: Api, **overrides: Any) -> dict[str, Any]:
    """Book a trade (``trade_payload`` with ``overrides``); returns the trade."""
    response = await api.post("/trades", json=trade_payload(**overrides), role="trader")
    assert response.status_code == 201, response.text
    trade: dict[str, Any] = response.json()
    return trade


async def book_confirmed(api: Api, **overrides: Any) -> dict[str, Any]:
    """Book a trade and have its counterparty confirm it as booked; returns the trade, now
    ``confirmed``. A trade on a locked-in venue (Xetra) is confirmed at capture: no
    counterparty confirmation is sent for it."""
    trade = await book(api, **overrides)
    if trade["status"] == "confirmed":
        return trade
    await confirm(
        api,
        confirmation_payload(
            counterparty_lei=trade["counterparty_lei"],
            trade_reference=trade["external_id"],
            isin=trade["isin"],
            side="sell" if trade["side"] == "buy" else "buy",
            quantity=trade["quantity"],
            price=trade["price"],
            currency=trade["currency"],
            trade_date=trade["trade_date"],
            settlement_date=trade["settlement_date"],
            net_amount=trade["net_amount"],
        ),
    )
    response = await api.get(f"/trades/{trade['id']}", role=OPS)
    confirmed: dict[str, Any] = response.json()
    assert confirmed["status"] == "confirmed", confirmed
    return confirmed


async def clear(api: Api, settlement_date: str, *, dry_run: bool = False) -> dict[str, Any]:
    """Run clearing for the date and wait for it; returns the run (or the dry-run report)."""
    response = await api.post(
        "/clearing-runs",
        json={"settlement_date": settlement_date, "dry_run": dry_run},
        params={"wait": "true"},
        role=OPS,
    )
    assert response.status_code == 200, response.text
    run: dict[str, Any] = response.json()
    return run


async def all_pages(api: Api, path: str, **params: Any) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = []
    cursor: str | None = None
    while True:
        query = {**params, "limit": 100} | ({"cursor": cursor} if cursor else {})
        response = await api.get(path, params=query, role=OPS)
        assert response.status_code == 200, response.text
        body = response.json()
        items += body["items"]
        cursor = body["next_cursor"]
        if cursor is None:
            return items


async def obligations(api: Api, **params: Any) -> list[dict[str, Any]]:
    return await all_pages(api, "/obligations", **params)


async def instructions(api: Api, **params: Any) -> list[dict[str, Any]]:
    return await all_pages(api, "/settlement-instructions", **params)


async def trade(api: Api, trade_id: str) -> dict[str, Any]:
    response = await api.get(f"/trades/{trade_id}", role=OPS)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body
