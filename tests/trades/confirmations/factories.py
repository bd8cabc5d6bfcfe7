"""Confirmation payloads and the helpers the confirmation tests share.

The default confirmation is Goldman's view of the default ``trade_payload``: Goldman sells 100 JPM
at 189.25 USD, traded 2026-11-24, settling 2026-11-25, net 18926.52 (our 18925.00 gross plus
1.50 commission and 0.02 fees). Without ``trade_reference`` it is found by its economics.
"""

import itertools
from collections.abc import Sequence
from typing import Any

import httpx

from app.core.auth import Role
from tests.factories import GOLDMAN, JPM
from tests.support import Api

_sequence = itertools.count(1)

# The frozen clock's default instant, as the API writes it.
NOW = "2026-11-25T15:00:00Z"


def confirmation_payload(**overrides: Any) -> dict[str, Any]:
    payload: dict[str, Any] = {
        "confirmation_id": f"CP-{next(_sequence):06d}",
        "counterparty_lei": GOLDMAN,
        "trade_reference": None,
        "isin": JPM,
        "side": "sell",
        "quantity": "100",
        "price": "189.25",
        "currency": "USD",
        "trade_date": "2026-11-24",
        "settlement_date": "2026-11-25",
        "net_amount": "18926.52",
    }
    payload.update(overrides)
    return payload


def reason(code: str, field: str, ours: str, theirs: str) -> dict[str, str]:
    return {"code": code, "field": field, "ours": ours, "theirs": theirs}


def confirmation_body(
    payload: dict[str, Any],
    *,
    id_: str,
    status: str,
    trade_id: str | None,
    reasons: Sequence[dict[str, str]] = (),
    candidates: Sequence[str] = (),
    force_match: dict[str, Any] | None = None,
    version: int = 1,
    received_at: str = NOW,
    updated_at: str | None = None,
) -> dict[str, Any]:
    """The whole answer the API gives for a confirmation sent as ``payload``."""
    return {
        "id": id_,
        "accrued_interest": None,  # not stated unless the payload states it
        **payload,
        "status": status,
        "trade_id": trade_id,
        "reasons": list(reasons),
        "candidates": list(candidates),
        "force_match": force_match,
        "version": version,
        "received_at": received_at,
        "updated_at": updated_at or received_at,
    }


async def send_confirmation(
    api: Api, payload: dict[str, Any], *, role: str = "gateway", **kwargs: Any
) -> httpx.Response:
    return await api.post("/confirmations", json=payload, role=role, **kwargs)


async def confirm(api: Api, payload: dict[str, Any], *, role: str = "gateway") -> dict[str, Any]:
    """POST a confirmation that must be accepted (201); return the body."""
    response = await send_confirmation(api, payload, role=role)
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    return body


async def get_json(api: Api, path: str, *, role: str = "operations") -> Any:
    response = await api.get(path, role=role)
    assert response.status_code == 200, response.text
    return response.json()


async def trade_status(api: Api, trade_id: str) -> tuple[str, int]:
    trade = await get_json(api, f"/trades/{trade_id}", role="trader")
    return trade["status"], trade["version"]


async def key_id(api: Api, role: Role | str) -> str:
    """The id of the test key issued for ``role`` (conftest names it 'test <role>')."""
    keys = await get_json(api, "/api-keys", role="admin")
    return str(next(k["id"] for k in keys["items"] if k["name"] == f"test {Role(role)}"))
