"""One entry point for every format: detected or given, each reaches its parser."""

from pathlib import Path

import pytest

from app.reconciliation.statements.parsing.csv_mapped import CsvMapping
from app.reconciliation.statements.parsing.detect import StatementFormat, detect_format
from app.reconciliation.statements.parsing.model import StatementKind, StatementParseError
from app.reconciliation.statements.parsing.parse import parse_statements

SAMPLES = Path(__file__).parent / "samples"
MAPPING = CsvMapping(
    columns={"account": "account", "booking_date": "date", "amount": "amount"},
    currency="EUR",
    encoding="latin-1",
)


@pytest.mark.parametrize(
    ("sample", "kind", "statements"),
    [
        ("camt053_v02_two_statements.xml", StatementKind.STATEMENT, 2),
        ("camt052_v08_intraday_report.xml", StatementKind.REPORT, 1),
        ("mt940_two_messages.txt", StatementKind.STATEMENT, 2),
        ("mt942_interim.txt", StatementKind.REPORT, 1),
    ],
)
def test_a_detected_file_reaches_its_parser(
    sample: str, kind: StatementKind, statements: int
) -> None:
    data = (SAMPLES / sample).read_bytes()
    found = detect_format(data)
    assert found is not None

    parsed = parse_statements(data, statement_format=found)

    assert [s.kind for s in parsed] == [kind] * statements


def test_swift_text_with_latin_1_extras_is_read_not_refused() -> None:
    data = (SAMPLES / "mt940_two_messages.txt").read_bytes().replace(b":86:", b":86:M\xfcller ", 1)

    [first, _] = parse_statements(data, statement_format=StatementFormat.SWIFT)

    assert any("Müller" in (e.remittance_information or "") for e in first.entries)


def test_csv_is_read_in_its_mapping_encoding() -> None:
    data = "account,date,amount\nMÜNCHEN-1,2026-11-25,1.00\n".encode("latin-1")

    [statement] = parse_statements(data, statement_format=StatementFormat.CSV, mapping=MAPPING)

    assert statement.account == "MÜNCHEN-1"


def test_csv_without_a_mapping_or_in_another_encoding_is_refused() -> None:
    data = b"account,date,amount\nA,2026-11-25,1.00\n"
    with pytest.raises(StatementParseError, match="needs a column mapping"):
        parse_statements(data, statement_format=StatementFormat.CSV)
    utf8 = CsvMapping(columns=MAPPING.columns, currency="EUR")
    with pytest.raises(StatementParseError) as refused:
        parse_statements(
            b"account,date,amount\nA\xff,2026-11-25,1\n",
            statement_format=StatementFormat.CSV,
            mapping=utf8,
        )
    assert (refused.value.location, refused.value.message) == (
        "line 2",
        "the file is not utf-8 text",
    )
