"""Outbound test helpers: trades on the depository-settled demo markets (Euronext Paris,
ISO 20022; Xetra, ISO 15022), cleared into instructions whose messages wait in the queue."""

from typing import Any

from tests.clearing.support import OPS, book_confirmed, clear
from tests.settlement.support import instruction_of
from tests.support import Api

LVMH = "FR0000121014"  # XPAR
SAP = "DE0007164600"  # XETR (locked in: confirmed at capture)
DUE = "2026-11-25"  # the frozen clock's day
# Traded on Monday 23 November: T+2 on TARGET days settles on the 25th.
MONDAY = {"trade_date": "2026-11-23", "trade_time": "2026-11-23T10:00:00Z"}
FREE = {"commission": "0", "fees": "0"}
PARIS = {"isin": LVMH, "venue": "XPAR", "currency": "EUR", "price": "689.20", **MONDAY, **FREE}
XETRA = {"isin": SAP, "venue": "XETR", "currency": "EUR", "price": "212.35", **MONDAY, **FREE}


async def instructed(api: Api, **overrides: Any) -> dict[str, Any]:
    """Book, confirm and clear one trade (``PARIS`` unless overridden); its instruction."""
    trade = await book_confirmed(api, **{**PARIS, **overrides})
    await clear(api, trade["settlement_date"])
    return await instruction_of(api, trade)


async def messages_of(api: Api, instruction_id: str) -> list[dict[str, Any]]:
    response = await api.get(f"/settlement-instructions/{instruction_id}/messages", role=OPS)
    assert response.status_code == 200, response.text
    body: list[dict[str, Any]] = response.json()
    return body


async def claim(api: Api, limit: int = 10, role: str = "gateway") -> list[dict[str, Any]]:
    response = await api.post("/outbound-messages/claim", params={"limit": limit}, role=role)
    assert response.status_code == 200, response.text
    items: list[dict[str, Any]] = response.json()["items"]
    return items


async def sent(api: Api, message_id: str) -> dict[str, Any]:
    response = await api.post(f"/outbound-messages/{message_id}/sent", role="gateway")
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body
