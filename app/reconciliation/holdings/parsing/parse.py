"""One entry point for every holdings format: the bytes received, the format (given or
detected) and, for CSV, what the request says of the account and date. Pure: no database."""

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


def _checked(statements: list[ParsedHoldingsStatement]) -> list[ParsedHoldingsStatement]:
    """Identifiers every format must keep to, whatever its own rules let through."""
    for number, statement in enumerate(statements, start=1):
        for name, value, longest in (
            ("statement id", statement.statement_id, MAX_STATEMENT_ID),
            ("safekeeping account", statement.safekeeping_account, MAX_ACCOUNT),
        ):
            try:
                printable(value)
            except ValueError:
                problem = "has control characters"
            else:
                problem = f"is longer than {longest} characters" if len(value) > longest else ""
            if problem:
                raise HoldingsParseError(
                    f"the {name} {value!r} {problem}", location=f"statement {number}"
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
