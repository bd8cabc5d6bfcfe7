from decimal import Decimal

from tests.factories import trade_payload
from tests.support import Api


async def test_trade_round_trip(api: Api, reference: None) -> None:
    response = await api.post("/trades", json=trade_payload(), role="trader")
    assert response.status_code == 201, response.text
    body = response.json()
    assert body["settlement_date"] == "2026-11-25"
    assert body["gross_amount"] == "18925.00"
    assert Decimal(body["net_amount"]) == Decimal("18926.52")
    got = await api.get(f"/trades/{body['id']}", role="compliance")
    assert got.status_code == 200
    assert got.json() == body
