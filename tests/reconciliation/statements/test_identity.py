"""What makes two statements the same one (account, kind, id, sequence key), and the content
hash that tells whether they say the same: stable, and blind to how the bank wrote it."""

from dataclasses import replace
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path

from app.reconciliation.statements.identity import (
    canonical_content,
    content_hash,
    normalised_account,
    sequence_key,
    statement_date,
)
from app.reconciliation.statements.parsing.camt import parse_camt
from app.reconciliation.statements.parsing.json_format import parse_json
from app.reconciliation.statements.parsing.model import (
    Balance,
    CreditDebit,
    ParsedEntry,
    ParsedStatement,
    StatementKind,
)

SAMPLES = Path(__file__).parent / "parsing" / "samples"
DAY = date(2026, 11, 25)


def statement(**changes: object) -> ParsedStatement:
    base = ParsedStatement(
        kind=StatementKind.STATEMENT,
        account="DE89370400440532013000",
        currency="EUR",
        statement_id="STMT-330",
        legal_sequence=330,
        created_at=datetime(2026, 11, 26, 5, 0, tzinfo=UTC),
        opening_booked=Balance(Decimal("100.00"), date(2026, 11, 24)),
        closing_booked=Balance(Decimal("150.00"), DAY),
        entries=(
            ParsedEntry(
                Decimal("50.00"),
                CreditDebit.CREDIT,
                DAY,
                DAY,
                references={"end_to_end_id": "E2E-1", "account_servicer_reference": "B-1"},
                remittance_information="Trade FO-1",
            ),
        ),
    )
    return replace(base, **changes)  # type: ignore[arg-type]


def test_the_content_hash_is_pinned_to_its_canonical_encoding() -> None:
    assert canonical_content(statement()) == (
        b'{"account":"DE89370400440532013000","closing_available":null,'
        b'"closing_booked":{"amount":"150","date":"2026-11-25"},"currency":"EUR",'
        b'"encoding":"statement-content/1","entries":[{"amount":"50",'
        b'"bank_transaction_code":null,"booking_date":"2026-11-25","counterparty_account":null,'
        b'"counterparty_name":null,"credit_debit":"CRDT","references":'
        b'{"account_servicer_reference":"B-1","end_to_end_id":"E2E-1"},'
        b'"remittance_information":"Trade FO-1","reversal":false,"status":"booked",'
        b'"value_date":"2026-11-25"}],"kind":"statement","opening_available":null,'
        b'"opening_booked":{"amount":"100","date":"2026-11-24"},"sequence":"-/330/-",'
        b'"statement_id":"STMT-330"}'
    )
    assert content_hash(statement()) == (
        "ef1a353b74d7bc47f893096a2af068bae5b3a7135f95ad7e73e0b30bdea4ef71"
    )


def test_trailing_zeros_spaces_case_and_the_creation_time_do_not_change_it() -> None:
    written_otherwise = statement(
        account="de89 3704 0044 0532 0130 00",
        created_at=datetime(2026, 11, 27, 9, 30, tzinfo=UTC),
        opening_booked=Balance(Decimal("100"), date(2026, 11, 24)),
        closing_booked=Balance(Decimal("150.0000"), DAY),
    )

    assert content_hash(written_otherwise) == content_hash(statement())


def test_any_change_of_what_it_says_changes_it() -> None:
    original = statement()
    entry = original.entries[0]
    changed = [
        statement(closing_booked=Balance(Decimal("150.01"), DAY)),
        statement(entries=(replace(entry, value_date=date(2026, 11, 26)),)),
        statement(entries=(replace(entry, references={"end_to_end_id": "E2E-2"}),)),
        statement(entries=(entry, entry)),
        statement(legal_sequence=331),
        statement(kind=StatementKind.REPORT),
    ]

    hashes = {content_hash(s) for s in changed}
    assert len(hashes) == len(changed)
    assert content_hash(original) not in hashes


def test_the_same_statement_in_camt_and_in_json_has_the_same_hash() -> None:
    [usd] = parse_camt((SAMPLES / "camt053_v02_two_statements.xml").read_bytes())[1:]
    as_json = parse_json(
        b'{"statements": [{"account": "0099887766", "currency": "USD", '
        b'"statement_id": "STMT-2024-071-USD", "electronic_sequence": 9, '
        b'"opening_balance": {"amount": "250.5", "date": "2024-03-11"}, '
        b'"closing_balance": {"amount": "250.50", "date": "2024-03-11"}, "entries": []}]}'
    )

    assert content_hash(as_json[0]) == content_hash(usd)


def test_the_sequence_key_is_never_empty() -> None:
    assert sequence_key(statement()) == "-/330/-"
    assert sequence_key(statement(electronic_sequence=71, legal_sequence=12)) == "71/12/-"
    assert sequence_key(statement(legal_sequence=64, page=1)) == "-/64/1"
    assert sequence_key(statement(legal_sequence=None)) == "-/-/-"
    assert sequence_key(statement(electronic_sequence=0, legal_sequence=None)) == "0/-/-"


def test_a_statement_is_about_its_closing_day_else_its_latest_entry_else_its_creation() -> None:
    entry = statement().entries[0]

    assert statement_date(statement()) == DAY
    late_value = replace(entry, booking_date=DAY, value_date=date(2026, 11, 27))
    assert statement_date(statement(closing_booked=None, entries=(late_value,))) == date(
        2026, 11, 27
    )
    assert statement_date(statement(closing_booked=None, entries=())) == date(2026, 11, 26)
    assert statement_date(statement(closing_booked=None, entries=(), created_at=None)) is None


def test_accounts_compare_without_spaces_and_case() -> None:
    assert normalised_account(" de89 3704\t0044 0532 0130 00 ") == "DE89370400440532013000"
