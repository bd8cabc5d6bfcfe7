"""Which of our cash accounts a statement is for. Pure: no database.

The bank names the account by IBAN or by its own account number; ours are matched on either,
spaces and case ignored. Where one account number serves several currencies (a cash account of
ours per currency), the statement's currency decides.
"""

from collections.abc import Iterable

from app.reconciliation.statements.identity import normalised_account
from app.reference.values import AccountRef

CASH = "cash"


class NotOurAccount(ValueError):
    """The statement's account is none of our cash accounts, or more than one of them."""


def _identifiers(account: AccountRef) -> set[str]:
    given = (account.iban, account.account_number)
    return {normalised_account(value) for value in given if value}


def match_account(identifier: str, currency: str, accounts: Iterable[AccountRef]) -> AccountRef:
    """Our cash account with this IBAN or account number (in this currency where that tells
    several apart); ``NotOurAccount`` saying why there is not exactly one."""
    wanted = normalised_account(identifier)
    found = [a for a in accounts if a.kind == CASH and wanted in _identifiers(a)]
    if len(found) > 1:
        found = [a for a in found if a.currency == currency]
    if not found:
        raise NotOurAccount(f"'{identifier}' is none of our cash accounts (by IBAN or number)")
    if len(found) > 1:
        codes = ", ".join(sorted(a.code for a in found))
        raise NotOurAccount(f"'{identifier}' in {currency} is several of our accounts: {codes}")
    (account,) = found
    if account.currency != currency:
        raise NotOurAccount(
            f"'{identifier}' is our account {account.code} in {account.currency}, "
            f"but the statement is in {currency}"
        )
    return account
