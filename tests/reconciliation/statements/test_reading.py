"""What the rest of reconciliation asks of statements: the booked entries an account's
end-of-day statements report for a day, and the closing balance of that day, as frozen values."""

import dataclasses
import json
from datetime import date
from decimal import Decimal

import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from app.reconciliation.statements.service import booked_entries, closing_balance
from app.reconciliation.statements.values import ClosingBalance
from tests.reconciliation.statements.support import json_statement, received, sample
from tests.support import Api

pytestmark = pytest.mark.usefixtures("accounts")

CAMT = "camt053_v02_two_statements.xml"


async def test_the_booked_entries_of_a_day_are_those_with_that_value_date(
    api: Api, session: AsyncSession
) -> None:
    euro, _ = await received(api, sample(CAMT))

    [credit] = await booked_entries(session, "CASH-EUR", date(2024, 3, 11))
    [debit] = await booked_entries(session, "CASH-EUR", date(2024, 3, 12))

    assert credit.statement == euro["id"]
    assert (credit.account, credit.line, credit.currency) == ("CASH-EUR", 1, "EUR")
    assert (credit.amount, credit.credit_debit) == (Decimal("2500.00"), "CRDT")
    assert (credit.booking_date, credit.value_date) == (date(2024, 3, 11), date(2024, 3, 11))
    assert (credit.end_to_end_id, credit.account_servicer_reference) == (
        "E2E-SETTLE-0001",
        "BANKREF-0001",
    )
    assert (credit.instruction_id, credit.uetr) == ("INSTR-77", None)
    assert credit.references["transaction_id"] == "TX-77"
    assert (credit.counterparty_name, credit.remittance_information) == (
        "Acme Asset Management",
        "Settlement of trade T-2024-000123",
    )
    # Booked on the 11th, value the 12th: it is the 12th's.
    assert (debit.line, debit.amount, debit.booking_date) == (
        2,
        Decimal("-500.00"),
        date(2024, 3, 11),
    )
    assert await booked_entries(session, "CASH-EUR", date(2024, 3, 13)) == []
    assert await booked_entries(session, "CASH-USD-CBK", date(2024, 3, 11)) == []


async def test_an_entry_without_value_date_counts_on_its_booking_date(
    api: Api, session: AsyncSession
) -> None:
    without = sample(CAMT, ("<ValDt><Dt>2024-03-12</Dt></ValDt>", ""))
    await received(api, without)

    on_booking_day = await booked_entries(session, "CASH-EUR", date(2024, 3, 11))

    assert [(e.line, e.value_date) for e in on_booking_day] == [(1, date(2024, 3, 11)), (2, None)]


async def test_pending_entries_and_intraday_reports_do_not_count(
    api: Api, session: AsyncSession
) -> None:
    statement = json_statement(
        "S-1",
        "0.00",
        "1.00",
        entries=[
            {"amount": "1.00", "value_date": "2026-11-25", "status": "booked"},
            {"amount": "7.00", "value_date": "2026-11-25", "status": "pending"},
        ],
    )
    report = {**statement, "statement_id": "R-1", "kind": "report"}
    await received(api, json.dumps({"statements": [statement, report]}).encode())

    [booked] = await booked_entries(session, "CASH-EUR", date(2026, 11, 25))

    assert (booked.amount, booked.line) == (Decimal("1.00"), 1)


async def test_the_lines_are_frozen_values(api: Api, session: AsyncSession) -> None:
    await received(api, sample(CAMT))
    [line] = await booked_entries(session, "CASH-EUR", date(2024, 3, 11))

    with pytest.raises(dataclasses.FrozenInstanceError):
        line.amount = Decimal(0)  # type: ignore[misc]
    with pytest.raises(TypeError):
        line.references["uetr"] = "x"  # type: ignore[index]


async def test_the_closing_balance_of_a_day_is_the_latest_statements(
    api: Api, session: AsyncSession
) -> None:
    first, second = await received(api, sample("mt940_two_messages.txt"))

    assert await closing_balance(session, "CASH-EUR", date(2026, 3, 5)) == ClosingBalance(
        statement=first["id"],
        account="CASH-EUR",
        currency="EUR",
        amount=Decimal("9015.54"),
        date=date(2026, 3, 5),
    )
    assert (await closing_balance(session, "CASH-EUR", date(2026, 3, 6))) == ClosingBalance(
        statement=second["id"],
        account="CASH-EUR",
        currency="EUR",
        amount=Decimal("9015.54"),
        date=date(2026, 3, 6),
    )
    assert await closing_balance(session, "CASH-EUR", date(2026, 3, 7)) is None
    assert await closing_balance(session, "CASH-USD", date(2026, 3, 5)) is None


async def test_of_two_statements_for_a_day_the_later_sequence_gives_the_closing_balance(
    api: Api, session: AsyncSession
) -> None:
    early = json_statement("S-1", "0.00", "5.00", sequence=7)
    late = json_statement("S-1-CORRECTED", "0.00", "6.00", sequence=8)
    await received(api, json.dumps({"statements": [late, early]}).encode())

    found = await closing_balance(session, "CASH-EUR", date(2026, 11, 25))

    assert found is not None
    assert found.amount == Decimal("6.00")
