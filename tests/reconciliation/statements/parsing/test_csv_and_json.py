"""CSV through a named column mapping, the JSON format, and format detection."""

from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

import pytest

from app.reconciliation.statements.parsing.csv_mapped import CsvMapping, parse_csv
from app.reconciliation.statements.parsing.detect import StatementFormat, detect_format
from app.reconciliation.statements.parsing.json_format import parse_json
from app.reconciliation.statements.parsing.model import (
    Balance,
    CreditDebit,
    EntryStatus,
    StatementKind,
    StatementParseError,
)

IBAN = "DE89370400440532013000"

# A German bank's export: semicolons, comma decimals, dotted thousands, day-first dates.
GERMAN = CsvMapping(
    columns={
        "account": "Konto",
        "statement_id": "Auszug",
        "booking_date": "Buchungstag",
        "value_date": "Valuta",
        "amount": "Betrag",
        "credit_debit": "S/H",
        "remittance_information": "Verwendungszweck",
        "counterparty_name": "Name",
        "end_to_end_id": "E2E",
        "opening_balance": "Anfangssaldo",
        "closing_balance": "Endsaldo",
    },
    delimiter=";",
    decimal_separator=",",
    thousands_separator=".",
    date_format="%d.%m.%Y",
    currency="EUR",
    credit_values=frozenset({"H"}),
)
GERMAN_HEADER = (
    "Konto;Auszug;Buchungstag;Valuta;Betrag;S/H;Verwendungszweck;Name;E2E;Anfangssaldo;Endsaldo"
)


def german(*rows: str) -> str:
    return "\n".join([GERMAN_HEADER, *rows]) + "\n"


def test_a_german_export_reads_signed_exact_amounts_by_statement() -> None:
    text = german(
        f"{IBAN};330;25.11.2026;25.11.2026;1.234,56789;H;Trade FO-1;JPM;E2E-1;-100,00;",
        f"{IBAN};330;25.11.2026;26.11.2026;34,56;S;Fee;;;;1.100,00789",
        f"{IBAN};331;26.11.2026;26.11.2026;0,01;H;;;;1.100,00789;1.100,01789",
    )

    first, second = parse_csv(text, GERMAN)

    assert (first.account, first.currency, first.statement_id, first.kind) == (
        IBAN,
        "EUR",
        "330",
        StatementKind.STATEMENT,
    )
    assert first.opening_booked == Balance(Decimal("-100.00"), date(2026, 11, 25))
    assert first.closing_booked == Balance(Decimal("1100.00789"), date(2026, 11, 25))
    credit, debit = first.entries
    assert (credit.amount, credit.credit_debit, credit.value_date) == (
        Decimal("1234.56789"),
        CreditDebit.CREDIT,
        date(2026, 11, 25),
    )
    assert (credit.remittance_information, credit.counterparty_name, credit.references) == (
        "Trade FO-1",
        "JPM",
        {"end_to_end_id": "E2E-1"},
    )
    assert (debit.amount, debit.credit_debit, debit.value_date, debit.references) == (
        Decimal("-34.56"),
        CreditDebit.DEBIT,
        date(2026, 11, 26),
        {},
    )
    assert second.statement_id == "331"
    assert second.closing_booked == Balance(Decimal("1100.01789"), date(2026, 11, 26))


def test_separate_credit_and_debit_columns_and_a_byte_order_mark() -> None:
    mapping = CsvMapping(
        columns={
            "account": "account",
            "currency": "ccy",
            "booking_date": "date",
            "credit": "in",
            "debit": "out",
        }
    )
    text = "\ufeffaccount,ccy,date,in,out\nACC-1,usd,2026-11-25,10.00,\nACC-1,usd,2026-11-25,,2.5\n"

    [statement] = parse_csv(text, mapping)

    assert [e.amount for e in statement.entries] == [Decimal("10.00"), Decimal("-2.5")]
    assert (statement.currency, statement.statement_id) == ("USD", "2026-11-25..2026-11-25")


@pytest.mark.parametrize(
    ("row", "location", "message"),
    [
        (f"{IBAN};330;25.11.2026;;12,x0;H;;;;;", "line 2", "'12,x0' in 'Betrag' is not an amount"),
        (f"{IBAN};330;2026-11-25;;1,00;H;;;;;", "line 2", "is not a date"),
        (f"{IBAN};330;25.11.2026;;;H;;;;;", "line 2", "the amount is empty"),
        (f"{IBAN};330;25.11.2026;;1,00;H;;;;;;extra", "line 2", "more fields than the header"),
        (f"{IBAN};330;25.11.2026;;NaN;H;;;;;", "line 2", "is not an amount"),
    ],
)
def test_a_row_that_cannot_be_read_is_refused_naming_its_line(
    row: str, location: str, message: str
) -> None:
    with pytest.raises(StatementParseError) as refused:
        parse_csv(german(row), GERMAN)

    assert refused.value.location == location
    assert message in refused.value.message


def test_a_header_without_a_mapped_column_or_a_file_without_rows_is_refused() -> None:
    with pytest.raises(
        StatementParseError,
        match="no column Anfangssaldo, Betrag, E2E, Endsaldo, Name, S/H, Valuta, "
        "Verwendungszweck in the header",
    ):
        parse_csv("Konto;Auszug;Buchungstag\nX;1;25.11.2026\n", GERMAN)
    with pytest.raises(StatementParseError, match="no entries"):
        parse_csv(german(";;;;;;;;;;"), GERMAN)


@pytest.mark.parametrize(
    ("columns", "message"),
    [
        ({"booking_date": "d", "amount": "a"}, "'account'"),
        ({"account": "k", "booking_date": "d"}, "'amount', or both"),
        ({"account": "k", "booking_date": "d", "amount": "a", "colour": "c"}, "colour"),
    ],
)
def test_a_mapping_must_name_what_a_statement_needs(columns: dict[str, str], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        CsvMapping(columns=columns, currency="EUR")


def statement_json(**overrides: Any) -> dict[str, Any]:
    return {
        "account": IBAN,
        "currency": "EUR",
        "statement_id": "2026-11-25",
        "sequence": 330,
        "created_at": "2026-11-25T18:00:00+01:00",
        "opening_balance": {"amount": "-5.00", "date": "2026-11-24"},
        "closing_balance": {"amount": "0", "date": "2026-11-25"},
        "entries": [
            {
                "amount": "5.00",
                "booking_date": "2026-11-25",
                "references": {"end_to_end_id": "E2E-1", "uetr": "b5d9c8a2"},
                "counterparty": {"name": "JPM", "account": "GB29NWBK60161331926819"},
            },
            {"amount": 7, "booking_date": "2026-11-25", "status": "pending"},
        ],
        **overrides,
    }


def test_the_json_format_keeps_exact_amounts_and_every_field() -> None:
    import json

    [statement] = parse_json(json.dumps({"statements": [statement_json()]}))

    assert (statement.legal_sequence, statement.created_at) == (
        330,
        datetime(2026, 11, 25, 17, 0, tzinfo=UTC),
    )
    assert statement.opening_booked == Balance(Decimal("-5.00"), date(2026, 11, 24))
    assert statement.closing_booked == Balance(Decimal("0"), date(2026, 11, 25))
    received, pending = statement.entries
    assert (received.amount, received.value_date, received.counterparty_account) == (
        Decimal("5.00"),
        date(2026, 11, 25),
        "GB29NWBK60161331926819",
    )
    assert received.references == {"end_to_end_id": "E2E-1", "uetr": "b5d9c8a2"}
    assert (pending.amount, pending.status) == (Decimal("7"), EntryStatus.PENDING)


@pytest.mark.parametrize(
    ("document", "location"),
    [
        ('{"statements": [{"account": "A"', "the document"),
        ('{"statements": []}', "statements"),
        (
            '{"statements": [{"account": "A", "currency": "eur", "statement_id": "1", '
            '"entries": []}]}',
            "statements.0.currency",
        ),
        (
            '{"statements": [{"account": "A", "currency": "EUR", "statement_id": "1", '
            '"entries": [{"amount": 1.5}]}]}',
            "statements.0.entries.0.amount",
        ),
        (
            '{"statements": [{"account": "A", "currency": "EUR", "statement_id": "1", '
            '"entries": [], "colour": "red"}]}',
            "statements.0.colour",
        ),
    ],
)
def test_json_that_does_not_fit_is_refused_naming_the_field(document: str, location: str) -> None:
    with pytest.raises(StatementParseError) as refused:
        parse_json(document)

    assert refused.value.location == location


@pytest.mark.parametrize(
    ("data", "content_type", "expected"),
    [
        (b"anything", "application/xml; charset=utf-8", StatementFormat.CAMT),
        (b"anything", "text/csv", StatementFormat.CSV),
        (b"\xef\xbb\xbf  <?xml version='1.0'?><Document/>", None, StatementFormat.CAMT),
        (b'{"statements": []}', "application/octet-stream", StatementFormat.JSON),
        (b"{1:F01BANKDEFFAXXX0000000000}{2:O9401200...", "text/plain", StatementFormat.SWIFT),
        (b":20:STMT1\r\n:25:DE89370400440532013000\r\n:28C:1/1", None, StatementFormat.SWIFT),
        (b"Konto;Betrag\nX;1,00\n", None, None),
    ],
)
def test_the_format_is_told_by_the_content_type_or_the_content(
    data: bytes, content_type: str | None, expected: StatementFormat | None
) -> None:
    assert detect_format(data, content_type=content_type) == expected
