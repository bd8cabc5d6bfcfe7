"""One entry point for every format: the bytes received, the format (given or detected) and,
for CSV, the named mapping. Pure: no database."""

from app.reconciliation.statements.parsing.camt import parse_camt
from app.reconciliation.statements.parsing.csv_mapped import CsvMapping, parse_csv
from app.reconciliation.statements.parsing.detect import StatementFormat
from app.reconciliation.statements.parsing.json_format import parse_json
from app.reconciliation.statements.parsing.model import ParsedStatement, StatementParseError
from app.reconciliation.statements.parsing.swift import parse_swift


def _text(data: bytes, encoding: str) -> str:
    try:
        return data.decode(encoding)
    except UnicodeDecodeError as error:
        line = data[: error.start].count(b"\n") + 1
        raise StatementParseError(
            f"the file is not {encoding} text", location=f"line {line}"
        ) from None


def _swift_text(data: bytes) -> str:
    # SWIFT's character set is ASCII; banks add UTF-8 or, in older files, Latin-1 (which
    # decodes any byte): read what they sent rather than refuse the file for an umlaut.
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return data.decode("latin-1")


def parse_statements(
    data: bytes, *, statement_format: StatementFormat, mapping: CsvMapping | None = None
) -> list[ParsedStatement]:
    """Every statement in the file; ``StatementParseError`` naming where the file is unreadable."""
    if statement_format is StatementFormat.CAMT:
        return parse_camt(data)
    if statement_format is StatementFormat.JSON:
        return parse_json(data)
    if statement_format is StatementFormat.SWIFT:
        return parse_swift(_swift_text(data))
    if mapping is None:
        raise StatementParseError("a CSV statement needs a column mapping", location="mapping")
    return parse_csv(_text(data, mapping.encoding), mapping)
