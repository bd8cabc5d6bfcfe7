"""A statement's account is one of our cash accounts, by IBAN or number, spaces and case
ignored; the currency tells apart accounts that share a number."""

import pytest

from app.reconciliation.statements.our_account import NotOurAccount, match_account
from app.reference.values import AccountRef


def account(
    code: str,
    currency: str | None,
    *,
    iban: str | None = None,
    number: str | None = None,
    kind: str = "cash",
) -> AccountRef:
    return AccountRef(
        code=code,
        name=code,
        kind=kind,
        currency=currency,
        servicer_bic="COBADEFF",
        iban=iban,
        account_number=number,
        markets=(),
    )


OURS = [
    account("CASH-EUR", "EUR", iban="DE89370400440532013000"),
    account("CASH-USD", "USD", number="nostro-77"),
    account("CASH-GBP", "GBP", number="NOSTRO-77"),
    account("SEC-CBF", None, number="4455667788", kind="securities"),
]


@pytest.mark.parametrize(
    ("identifier", "currency", "code"),
    [
        ("DE89370400440532013000", "EUR", "CASH-EUR"),
        ("de89 3704 0044 0532 0130 00", "EUR", "CASH-EUR"),
        ("NOSTRO-77", "USD", "CASH-USD"),
        ("Nostro-77", "GBP", "CASH-GBP"),
    ],
)
def test_an_iban_or_number_finds_our_cash_account(
    identifier: str, currency: str, code: str
) -> None:
    assert match_account(identifier, currency, OURS).code == code


@pytest.mark.parametrize(
    ("identifier", "currency", "message"),
    [
        (
            "NL91ABNA0417164300",
            "EUR",
            "'NL91ABNA0417164300' is none of our cash accounts (by IBAN or number)",
        ),
        ("4455667788", "EUR", "'4455667788' is none of our cash accounts (by IBAN or number)"),
        ("NOSTRO-77", "CHF", "'NOSTRO-77' is none of our cash accounts (by IBAN or number)"),
        (
            "DE89370400440532013000",
            "USD",
            "'DE89370400440532013000' is our account CASH-EUR in EUR, but the statement is in USD",
        ),
    ],
)
def test_an_account_not_ours_or_in_another_currency_is_refused(
    identifier: str, currency: str, message: str
) -> None:
    with pytest.raises(NotOurAccount) as refused:
        match_account(identifier, currency, OURS)

    assert str(refused.value) == message


def test_two_accounts_of_ours_in_one_currency_with_one_number_are_refused() -> None:
    twice = [*OURS, account("CASH-USD-2", "USD", number=" nostro-77")]

    with pytest.raises(NotOurAccount) as refused:
        match_account("NOSTRO-77", "USD", twice)

    assert str(refused.value) == (
        "'NOSTRO-77' in USD is several of our accounts: CASH-USD, CASH-USD-2"
    )
