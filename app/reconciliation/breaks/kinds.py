"""What a break is about, and what writing it off posts. Pure: no database.

Every amount is signed from our side, the outside world less the book: a cash break's amount
is money the bank shows and the book does not (``missing_in_book``), the statement line less
the book movement (``amount_difference``), the statement's closing balance less the book's
settled balance (``balance``); a ``holdings`` break's is the custodian's quantity less the
book's. A ``missing_at_bank`` break carries the book movement's amount, which the bank does
not show. Writing a break off makes the book agree with the outside world: the difference is
posted on our account against the write-offs ledger account. A value-date difference (the
amounts agree) and a statement's integrity break (the statement does not add up) have nothing
to write off: they are explained, or closed by a later statement."""

from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum

from app.positions.ledger_accounts.codes import WRITE_OFFS


class BreakKind(StrEnum):
    MISSING_IN_BOOK = "missing_in_book"
    MISSING_AT_BANK = "missing_at_bank"
    AMOUNT_DIFFERENCE = "amount_difference"
    VALUE_DATE_DIFFERENCE = "value_date_difference"
    INTEGRITY = "integrity"
    BALANCE = "balance"
    HOLDINGS = "holdings"


NOT_WRITABLE_OFF: dict[BreakKind, str] = {
    BreakKind.VALUE_DATE_DIFFERENCE: "the amounts agree and only the value dates differ: "
    "there is no amount to write off; explain it instead",
    BreakKind.INTEGRITY: "the statement itself does not add up or follow on: the book has "
    "nothing to correct; explain it, or a corrected statement closes it",
}


@dataclass(frozen=True, slots=True)
class WriteOffLine:
    account: str  # our account code or a ledger account code
    asset: str  # a currency or an ISIN
    amount: Decimal  # debit positive


def write_off_lines(
    kind: BreakKind, *, account: str, asset: str, amount: Decimal
) -> tuple[WriteOffLine, WriteOffLine]:
    """The two lines that make the book agree with the outside world (``kind`` is one that
    can be written off)."""
    correction = -amount if kind is BreakKind.MISSING_AT_BANK else amount
    return (
        WriteOffLine(account, asset, correction),
        WriteOffLine(WRITE_OFFS.code, asset, -correction),
    )
