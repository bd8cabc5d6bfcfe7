"""What the database can keep of a parsed statement: refused here, with where, rather than
failing as it is written. Pure: no database.

PostgreSQL refuses NUL in text; keys have a length; sequence numbers are 64-bit (a page 32-bit);
amounts keep to the service's exact decimals (28 significant digits, 12 decimal places)."""

from collections.abc import Iterator, Sequence
from decimal import Decimal

from app.core.money import MAX_DECIMAL_PLACES, MAX_SIGNIFICANT_DIGITS, decimal_places
from app.reconciliation.statements.parsing.model import ParsedStatement, StatementParseError

MAX_KEY_LENGTH = 140  # statement id and account identifier: ISO's Max35Text with room to spare
_MAX_BIG = 2**63 - 1
_MAX_PAGE = 2**31 - 1


def _texts(statement: ParsedStatement) -> Iterator[tuple[str, str | None]]:
    yield "account", statement.account
    yield "statement_id", statement.statement_id
    yield "currency", statement.currency
    for line, entry in enumerate(statement.entries, start=1):
        yield f"entry {line} bank_transaction_code", entry.bank_transaction_code
        yield f"entry {line} remittance_information", entry.remittance_information
        yield f"entry {line} counterparty_name", entry.counterparty_name
        yield f"entry {line} counterparty_account", entry.counterparty_account
        for name, value in entry.references.items():
            yield f"entry {line} references", name
            yield f"entry {line} {name}", value


def _amounts(statement: ParsedStatement) -> Iterator[tuple[str, Decimal]]:
    for name in ("opening_booked", "closing_booked", "opening_available", "closing_available"):
        balance = getattr(statement, name)
        if balance is not None:
            yield name, balance.amount
    for line, entry in enumerate(statement.entries, start=1):
        yield f"entry {line} amount", entry.amount


def _fits(amount: Decimal) -> bool:
    return (
        decimal_places(amount) <= MAX_DECIMAL_PLACES and amount.adjusted() < MAX_SIGNIFICANT_DIGITS
    )


def _problem(statement: ParsedStatement) -> tuple[str, str] | None:
    """(what, why) of the first thing that cannot be kept, or None."""
    for what, text in _texts(statement):
        if text is not None and "\x00" in text:
            return what, "holds a NUL character"
    for what, text in (("account", statement.account), ("statement_id", statement.statement_id)):
        if len(text) > MAX_KEY_LENGTH:
            return what, f"is longer than {MAX_KEY_LENGTH} characters"
    for what, number, most in (
        ("electronic_sequence", statement.electronic_sequence, _MAX_BIG),
        ("legal_sequence", statement.legal_sequence, _MAX_BIG),
        ("page", statement.page, _MAX_PAGE),
    ):
        if number is not None and not 0 <= number <= most:
            return what, f"{number} is out of range"
    for what, amount in _amounts(statement):
        if not _fits(amount):
            return what, (
                f"{amount} has more than {MAX_SIGNIFICANT_DIGITS} digits or "
                f"{MAX_DECIMAL_PLACES} decimal places"
            )
    return None


def check_storable(statements: Sequence[ParsedStatement]) -> None:
    """``StatementParseError`` naming the statement (by its place in the file) and the field."""
    for number, statement in enumerate(statements, start=1):
        problem = _problem(statement)
        if problem is not None:
            what, why = problem
            raise StatementParseError(f"{what} {why}", location=f"statement {number}")
