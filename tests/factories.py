"""Factories for valid payloads; each test changes only what it is about."""

import itertools
from typing import Any

_sequence = itertools.count(1)

# Demo reference data (app/reference/demo_data.py).
JPM = "US46625H1005"  # JPMorgan Chase, XNYS, USD
TOTAL = "FR0000120271"  # TotalEnergies, XPAR, EUR
BUND = "DE0001102614"  # Bund 1.80 % 15/08/2053, XOFF, ACT/ACT-ICMA, annual
GOLDMAN = "FOR8UP27PHTHYVLBNG30"  # Goldman Sachs & Co. LLC
DEUTSCHE = "7LTWFZYICNSX8D621K86"  # Deutsche Bank AG


def trade_payload(**overrides: Any) -> dict[str, Any]:
    payload: dict[str, Any] = {
        "external_id": f"FO-20261124-{next(_sequence):06d}",
        "book": "EQ-FLOW",
        "counterparty_lei": GOLDMAN,
        "isin": JPM,
        "side": "buy",
        "quantity": "100",
        "price": "189.25",
        "currency": "USD",
        "trade_date": "2026-11-24",
        "trade_time": "2026-11-24T14:31:05Z",
        "venue": "XNYS",
        "settlement_date": None,
        "commission": "1.50",
        "fees": "0.02",
    }
    payload.update(overrides)
    return payload


def bund_trade_payload(**overrides: Any) -> dict[str, Any]:
    return trade_payload(
        **{
            "book": "FI-RATES",
            "counterparty_lei": DEUTSCHE,
            "isin": BUND,
            "quantity": "1000000",
            "price": "78.50",
            "currency": "EUR",
            "venue": "XOFF",
            "commission": "0",
            "fees": "0",
            "trade_time": "2026-11-24T10:00:00Z",
            **overrides,
        }
    )


def trade_out(
    payload: dict[str, Any],
    trade_id: str,
    *,
    gross_amount: str,
    net_amount: str,
    settlement_date: str = "2026-11-25",
    **overrides: Any,
) -> dict[str, Any]:
    """The ``TradeOut`` body of a trade just booked from ``payload`` (its terms as sent, at the
    tests' frozen clock, 2026-11-25T15:00Z): the derived amounts and dates are the caller's,
    worked out in the test; ``overrides`` for anything else the test is about."""
    body: dict[str, Any] = {
        "id": trade_id,
        **{
            name: payload[name]
            for name in (
                "external_id",
                "book",
                "counterparty_lei",
                "isin",
                "side",
                "quantity",
                "price",
                "currency",
                "trade_date",
                "trade_time",
                "venue",
                "commission",
                "fees",
            )
        },
        "settlement_date": settlement_date,
        "accrued_interest": None,
        "gross_amount": gross_amount,
        "net_amount": net_amount,
        "status": "captured",
        "cancel_reason": None,
        "counterparty_of_record": None,
        "obligation_id": None,
        "version": 1,
        "created_at": "2026-11-25T15:00:00Z",
        "updated_at": "2026-11-25T15:00:00Z",
    }
    body.update(overrides)
    return body


# Cash accounts the statement samples name (tests/reconciliation/statements/parsing/samples/);
# the demo's CASH-EUR is the samples' German IBAN DE89 3704 0044 0532 0130 00 already.
EUR_IBAN = "DE89370400440532013000"


def cash_account_payload(
    code: str, currency: str, *, iban: str | None = None, account_number: str | None = None
) -> dict[str, Any]:
    return {
        "code": code,
        "name": f"{currency} cash ({code})",
        "kind": "cash",
        "currency": currency,
        "servicer_bic": "COBADEFF",
        "iban": iban,
        "account_number": account_number,
    }


STATEMENT_ACCOUNTS = [
    # camt053_v02_two_statements.xml: the second statement, by the bank's own account number.
    cash_account_payload("CASH-USD-CBK", "USD", account_number="0099887766"),
    # camt052_v08_intraday_report.xml, mt942_interim.txt.
    cash_account_payload("CASH-EUR-ABN", "EUR", iban="NL91ABNA0417164300"),
    # mt950_statement.txt.
    cash_account_payload("CASH-USD-CHASE", "USD", account_number="400123456"),
]
