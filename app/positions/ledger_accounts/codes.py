"""Ledger account codes: one per book, safekeeping account, cash account and counterparty, and
the fixed accounts. Pure: no database."""

from dataclasses import dataclass
from enum import StrEnum


class LedgerKind(StrEnum):
    BOOK = "book"
    SECURITIES = "securities"
    CASH = "cash"
    COUNTERPARTY = "counterparty"
    COMMISSION = "commission"
    FEES = "fees"
    ACCRUED_INTEREST = "accrued_interest"
    PENALTIES = "penalties"
    PENALTY_INCOME = "penalty_income"
    PENALTIES_PAYABLE = "penalties_payable"
    PENALTIES_RECEIVABLE = "penalties_receivable"
    WRITE_OFF = "write_off"
    SUSPENSE = "suspense"
    EQUITY = "equity"


# Accounts that stand for one of our objects: "<prefix>:<its code>".
_PREFIXED = {
    LedgerKind.BOOK: "Book",
    LedgerKind.SECURITIES: "Safekeeping account",
    LedgerKind.CASH: "Cash account",
    LedgerKind.COUNTERPARTY: "Unsettled with counterparty",
    LedgerKind.PENALTIES_PAYABLE: "Penalties payable to counterparty",
    LedgerKind.PENALTIES_RECEIVABLE: "Penalties receivable from counterparty",
}


@dataclass(frozen=True)
class FixedAccount:
    code: str
    kind: LedgerKind
    name: str


COMMISSION = FixedAccount("commission", LedgerKind.COMMISSION, "Commission paid")
FEES = FixedAccount("fees", LedgerKind.FEES, "Fees and taxes paid")
ACCRUED_INTEREST = FixedAccount(
    "accrued-interest", LedgerKind.ACCRUED_INTEREST, "Accrued interest bought and sold"
)
PENALTIES = FixedAccount("penalties", LedgerKind.PENALTIES, "Settlement penalties")
PENALTY_INCOME = FixedAccount(
    "penalty-income", LedgerKind.PENALTY_INCOME, "Settlement penalties received"
)
WRITE_OFFS = FixedAccount("write-offs", LedgerKind.WRITE_OFF, "Write-offs")
SUSPENSE = FixedAccount("suspense", LedgerKind.SUSPENSE, "Suspense: unexplained items")
OPENING_EQUITY = FixedAccount("opening-equity", LedgerKind.EQUITY, "Opening balance equity")

FIXED_ACCOUNTS = (
    COMMISSION,
    FEES,
    ACCRUED_INTEREST,
    PENALTIES,
    PENALTY_INCOME,
    WRITE_OFFS,
    SUSPENSE,
    OPENING_EQUITY,
)
FIXED_BY_CODE = {account.code: account for account in FIXED_ACCOUNTS}


# The prefixes, formatted once: a batch of trades names these accounts thousands of times, and
# formatting an enum member is a Python call each time.
_BOOK = f"{LedgerKind.BOOK}:"
_SECURITIES = f"{LedgerKind.SECURITIES}:"
_CASH = f"{LedgerKind.CASH}:"
_COUNTERPARTY = f"{LedgerKind.COUNTERPARTY}:"


def book(code: str) -> str:
    return _BOOK + code


def securities(code: str) -> str:
    return _SECURITIES + code


def cash(code: str) -> str:
    return _CASH + code


def counterparty(party: str) -> str:
    """The unsettled account of a counterparty (an LEI) or a CCP: what it owes us is a debit."""
    return _COUNTERPARTY + party


def penalties_payable(party: str) -> str:
    """CSDR penalties we owe a counterparty (an LEI), through the depository: a credit."""
    return f"{LedgerKind.PENALTIES_PAYABLE}:{party}"


def penalties_receivable(party: str) -> str:
    """CSDR penalties a counterparty owes us, through the depository: a debit."""
    return f"{LedgerKind.PENALTIES_RECEIVABLE}:{party}"


@dataclass(frozen=True)
class ParsedCode:
    kind: LedgerKind
    reference: str | None
    name: str


def parse(code: str) -> ParsedCode | None:
    """What a ledger account code stands for, or None if it is not a code of ours."""
    fixed = FIXED_BY_CODE.get(code)
    if fixed is not None:
        return ParsedCode(fixed.kind, None, fixed.name)
    prefix, separator, reference = code.partition(":")
    if not separator or not reference:
        return None
    for kind, label in _PREFIXED.items():
        if prefix == kind.value:
            return ParsedCode(kind, reference, f"{label} {reference}")
    return None


def is_security(asset: str) -> bool:
    """ISINs are twelve characters, currency codes three: the asset says which it is."""
    return len(asset) == 12
