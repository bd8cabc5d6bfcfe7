"""A trade and an opening adjustment reach positions, cash and the ledger check."""

from tests.factories import JPM, trade_payload
from tests.positions.conftest import Adjust, cash_balances, ledger_check, line, positions
from tests.support import Api


async def test_a_trade_and_an_opening_adjustment_are_booked_and_proved(
    api: Api, adjust: Adjust
) -> None:
    booked = await api.post("/trades", json=trade_payload(), role="trader")
    assert booked.status_code == 201, booked.text
    approved = await adjust("opening", line("CASH-USD", "USD", "1000000.00"))
    assert approved["status"] == "approved"
    assert approved["postings"] == [
        {
            "ledger_account": "cash:CASH-USD",
            "asset": "USD",
            "amount": "1000000.00",
            "cost": None,
            "realized_pnl": None,
        },
        {
            "ledger_account": "opening-equity",
            "asset": "USD",
            "amount": "-1000000.00",
            "cost": None,
            "realized_pnl": None,
        },
    ]
    [position] = await positions(api, book="EQ-FLOW")
    assert (position["isin"], position["quantity"], position["average_cost"]) == (
        JPM,
        "100",
        "189.25000000",
    )
    assert position["cost"] == "18925.00"
    [cash] = await cash_balances(api, account="CASH-USD")
    assert (cash["settled"], cash["projected"]) == ("1000000.00", "1000000.00")
    check = await ledger_check(api)
    assert check["ok"], check
    assert check["entries_checked"] == 2
