"""One entry point for every holdings format: the bytes received, the format (given or
detected) and, for CSV, what the request says of the account and date. Pure: no database."""

from decimal import Decimal

from app.core.money import MAX_DECIMAL_PLACES, MAX_SIGNIFICANT_DIGITS, decimal_places
from app.core.text import printable
from app.reconciliation.holdings.parsing.csv_format import StatementDefaults, parse_csv
from app.reconciliation.holdings.parsing.detect import HoldingsFormat
from app.reconciliation.holdings.parsing.json_format import parse_json
from app.reconciliation.holdings.parsing.model import HoldingsParseError, ParsedHoldingsStatement
from app.reconciliation.holdings.parsing.mt535 import parse_mt535
from app.reconciliation.holdings.parsing.semt002 import parse_semt002


def _utf8(data: bytes) -> str:
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as error:
        line = data[: error.start].count(b"\n") + 1
        raise HoldingsParseError("the file is not UTF-8 text", location=f"line {line}") from None


def _swift_text(data: bytes) -> str:
    # SWIFT's character set is ASCII; custodians add UTF-8 or, in older files, Latin-1 (which
    # decodes any byte): read what they sent rather than refuse the file for an accent.
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return data.decode("latin-1")


# The longest identifiers kept: ISO 20022 Max35Text statement ids; our account numbers.
MAX_STATEMENT_ID, MAX_ACCOUNT = 35, 40


def _text_problem(value: str, longest: int) -> str | None:
    try:
        printable(value)
    except ValueError:
        return "has control characters"
    return f"is longer than {longest} characters" if len(value) > longest else None


def _quantity_problem(value: Decimal | None) -> str | None:
    """The service's exact decimals: at most 28 significant digits, 12 decimal places."""
    if value is None:
        return None
    if decimal_places(value) > MAX_DECIMAL_PLACES or value.adjusted() >= MAX_SIGNIFICANT_DIGITS:
        return (
            f"has more than {MAX_SIGNIFICANT_DIGITS} digits or {MAX_DECIMAL_PLACES} decimal places"
        )
    return None


def _checked(statements: list[ParsedHoldingsStatement]) -> list[ParsedHoldingsStatement]:
    """What every format must keep to, whatever its own rules let through."""
    for number, statement in enumerate(statements, start=1):
        for name, text, longest in (
            ("statement id", statement.statement_id, MAX_STATEMENT_ID),
            ("safekeeping account", statement.safekeeping_account, MAX_ACCOUNT),
        ):
            if problem := _text_problem(text, longest):
                raise HoldingsParseError(
                    f"the {name} {text!r} {problem}", location=f"statement {number}"
                )
        for line, holding in enumerate(statement.holdings, start=1):
            for name, value in (("quantity", holding.quantity), ("available", holding.available)):
                if problem := _quantity_problem(value):
                    raise HoldingsParseError(
                        f"the {name} {value} {problem}",
                        location=f"statement {number} holding {line}",
                    )
    return statements


def parse_holdings(
    data: bytes,
    *,
    holdings_format: HoldingsFormat,
    defaults: StatementDefaults = StatementDefaults(),
) -> list[ParsedHoldingsStatement]:
    """Every statement in the file; ``HoldingsParseError`` naming where the file is unreadable."""
    if not data.strip():
        raise HoldingsParseError("the file is empty", location="line 1")
    if holdings_format is HoldingsFormat.SEMT002:
        return _checked(parse_semt002(data))
    if holdings_format is HoldingsFormat.MT535:
        return _checked(parse_mt535(_swift_text(data)))
    if holdings_format is HoldingsFormat.JSON:
        return _checked(parse_json(data))
    return _checked(parse_csv(_utf8(data), defaults))
