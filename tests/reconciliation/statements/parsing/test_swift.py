"""SWIFT MT940 / MT950 / MT942: one sample file per oddity, and every refusal."""

import sys
from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal
from pathlib import Path

import pytest

from app.reconciliation.statements.parsing.model import (
    Balance,
    CreditDebit,
    EntryStatus,
    ParsedStatement,
    StatementKind,
    StatementParseError,
)
from app.reconciliation.statements.parsing.swift import parse_swift

SAMPLES = Path(__file__).parent / "samples"


def parse_sample(name: str) -> list[ParsedStatement]:
    return parse_swift((SAMPLES / name).read_bytes().decode("utf-8"))


def test_two_mt940_messages_in_one_file_are_two_statements() -> None:
    first, second = parse_sample("mt940_two_messages.txt")

    assert first.kind is StatementKind.STATEMENT
    assert first.statement_id == "STMT-0305"
    assert first.account == "DE89370400440532013000"  # the BIC/ prefix split off
    assert first.currency == "EUR"
    assert (first.legal_sequence, first.page, first.electronic_sequence) == (64, 1, None)
    assert first.opening_booked == Balance(Decimal("10000.00"), date(2026, 3, 4))
    assert first.closing_booked == Balance(Decimal("9015.54"), date(2026, 3, 5))
    assert first.closing_available == Balance(Decimal("9000.00"), date(2026, 3, 5))
    assert first.opening_available is None
    debit, credit = first.entries
    assert debit.amount == Decimal("-1234.56")
    assert debit.credit_debit is CreditDebit.DEBIT
    assert debit.status is EntryStatus.BOOKED
    assert (debit.value_date, debit.booking_date) == (date(2026, 3, 5), date(2026, 3, 5))
    assert debit.bank_transaction_code == "NTRF"
    assert debit.references == {
        "customer_reference": "PAY-0001",
        "account_servicer_reference": "BNK-7001",
    }
    assert debit.remittance_information == "Settlement trade T-1001"
    assert credit.amount == Decimal("250.10")
    assert credit.references == {"account_servicer_reference": "BNK-7002"}  # NONREF dropped
    assert credit.remittance_information == "Coupon ISIN DE0001102580"

    assert second.statement_id == "STMT-0306"
    assert second.legal_sequence == 65
    assert second.entries == ()
    assert second.opening_booked == Balance(Decimal("9015.54"), date(2026, 3, 5))
    assert second.closing_available is None


def test_mt950_from_block_2_with_five_decimals_and_intermediate_balances() -> None:
    (statement,) = parse_sample("mt950_statement.txt")

    assert statement.kind is StatementKind.STATEMENT
    assert statement.account == "400123456"
    assert statement.currency == "USD"
    assert (statement.legal_sequence, statement.page) == (12, 2)
    assert statement.opening_booked == Balance(Decimal("1000000.00"), date(2026, 3, 5))
    assert statement.closing_booked == Balance(Decimal("750012.34567"), date(2026, 3, 5))
    assert statement.closing_available == Balance(Decimal("750000.00"), date(2026, 3, 5))
    payment, interest = statement.entries
    assert payment.amount == Decimal("-250000.00")
    assert payment.booking_date is None  # no entry date given
    assert payment.value_date == date(2026, 3, 5)
    assert payment.bank_transaction_code == "S103"
    assert payment.references == {
        "customer_reference": "TRADE-77",
        "account_servicer_reference": "CHASE-123",
    }
    assert payment.remittance_information is None
    assert interest.amount == Decimal("12.34567")
    assert interest.references == {}


def test_mt942_is_a_report_detected_from_its_tags() -> None:
    (report,) = parse_sample("mt942_interim.txt")

    assert report.kind is StatementKind.REPORT
    assert report.account == "NL91ABNA0417164300"
    assert report.currency == "EUR"  # from :34F:, a report has no balances
    assert (report.legal_sequence, report.page) == (5, 1)
    assert report.created_at == datetime(2026, 3, 5, 14, 0, tzinfo=timezone(timedelta(hours=1)))
    assert report.opening_booked is None
    assert report.closing_booked is None
    (entry,) = report.entries
    assert entry.amount == Decimal("1500.00")
    assert entry.status is EntryStatus.BOOKED
    assert entry.references == {
        "customer_reference": "E2E-42",
        "account_servicer_reference": "ABN-9",
        "end_to_end_id": "E2E-42",
    }
    assert entry.remittance_information == "Invoice 2026-17"
    assert entry.counterparty_name == "ACME BV"
    assert entry.counterparty_account == "NL02ABNA0123456789"


def test_86_over_several_lines_with_subfields_slash_codes_and_plain_text() -> None:
    (statement,) = parse_sample("mt940_structured_86.txt")
    subfields, slash_codes, plain = statement.entries

    assert subfields.references == {
        "account_servicer_reference": "BNK-1",
        "end_to_end_id": "E2E-2026-0001",
    }
    assert subfields.remittance_information == "Invoice 4711 of 2026-03-01 thank you"
    assert subfields.counterparty_name == "ACME WERTPAPIERHANDEL GMBH"
    assert subfields.counterparty_account == "DE02120300000000202051"

    assert slash_codes.references == {
        "account_servicer_reference": "BNK-2",
        "uetr": "8a562c67-ca16-48ba-b074-65581be6f011",
    }  # EREF NOTPROVIDED is no reference
    assert slash_codes.remittance_information == "Fee March"
    assert slash_codes.counterparty_name == "RABO SERVICES"
    assert slash_codes.counterparty_account == "NL12RABO0123456789"

    assert plain.remittance_information == "Account maintenance fee March 2026"
    assert plain.counterparty_name is None
    assert plain.bank_transaction_code == "NMSC"


def test_entry_dates_cross_the_year_boundary_both_ways() -> None:
    (statement,) = parse_sample("mt940_year_boundary.txt")
    late, early, undated = statement.entries

    assert (late.value_date, late.booking_date) == (date(2026, 12, 31), date(2027, 1, 2))
    assert (early.value_date, early.booking_date) == (date(2027, 1, 2), date(2026, 12, 31))
    assert (undated.value_date, undated.booking_date) == (date(2027, 1, 2), None)
    assert [e.amount for e in statement.entries] == [
        Decimal("10.00"),
        Decimal("-5.00"),
        Decimal("-1.00"),
    ]


def test_negative_opening_and_zero_closing_balances() -> None:
    (statement,) = parse_sample("mt940_negative_zero.txt")

    assert statement.opening_booked == Balance(Decimal("-1234.56"), date(2026, 3, 5))
    assert statement.closing_booked == Balance(Decimal("0.00"), date(2026, 3, 5))
    assert statement.closing_available is not None
    assert statement.closing_available.amount == Decimal(0)
    assert not statement.closing_available.amount.is_signed()  # D0, is zero, not minus zero


def test_a_missing_final_crlf() -> None:
    (statement,) = parse_sample("mt940_no_final_crlf.txt")

    assert statement.closing_booked == Balance(Decimal("3.50"), date(2026, 3, 5))
    (entry,) = statement.entries
    assert entry.references == {"customer_reference": "REF-EOL"}


def test_control_characters_bom_tabs_and_a_stray_nul_are_dropped() -> None:
    (statement,) = parse_sample("mt940_control_chars.txt")

    assert statement.statement_id == "STMT-CTRL"
    assert statement.account == "DE89370400440532013000"
    assert statement.legal_sequence == 5
    assert statement.opening_booked == Balance(Decimal("1.00"), date(2026, 3, 5))
    (entry,) = statement.entries
    assert entry.bank_transaction_code == "NTRF"
    assert entry.references == {"customer_reference": "REF-CTRL"}
    assert entry.remittance_information == "Payment from ACME"


def test_a_missing_64_and_86() -> None:
    (statement,) = parse_sample("mt940_no_64.txt")

    assert statement.closing_available is None
    assert statement.currency == "CHF"
    (entry,) = statement.entries
    assert entry.amount == Decimal("-100.00")
    assert entry.remittance_information is None
    assert entry.references == {
        "customer_reference": "PAY-9",
        "account_servicer_reference": "CS-1",
    }


def test_reversals_sign_by_what_they_reverse() -> None:
    text = (
        ":20:REV\n:25:123\n:60F:C260305EUR100,00\n"
        ":61:2603050305RD10,00NTRFREV-1\n"  # reversal of a debit: money back in
        ":61:2603050305RC4,00NTRFREV-2\n"  # reversal of a credit: money out
        ":62F:C260305EUR106,00\n"
    )
    reversed_debit, reversed_credit = parse_swift(text)[0].entries

    assert (reversed_debit.amount, reversed_debit.credit_debit) == (
        Decimal("10.00"),
        CreditDebit.CREDIT,
    )
    assert (reversed_credit.amount, reversed_credit.credit_debit) == (
        Decimal("-4.00"),
        CreditDebit.DEBIT,
    )
    assert reversed_debit.reversal
    assert reversed_credit.reversal


def test_a_statement_that_does_not_add_up_is_not_refused() -> None:
    """Opening + entries != closing is for the import to flag, not for the parser to refuse."""
    (statement,) = parse_swift(
        ":20:X\n:25:123\n:60F:C260305EUR1,00\n:61:260305C1,00\n:62F:C260305EUR5,00"
    )

    assert statement.closing_booked == Balance(Decimal("5.00"), date(2026, 3, 5))


def test_messages_split_on_dash_lines_and_kind_from_an_input_block_2() -> None:
    plain = ":20:A\n:25:1\n:60F:C260305EUR1,00\n:62F:C260305EUR1,00\n-\n"
    plain += ":20:B\n:25:1\n:60F:C260305EUR1,00\n:61:260305D0,00NCHG\n:62F:C260305EUR1,00"
    header = "{1:F01BANKBEBBAXXX0000000000}{2:I942DEUTDEFFXXXXN}{4:\n"
    report = header + ":20:C\n:25:1\n:90C:0EUR0,\n-}{5:}"

    first, second, third = parse_swift(plain + "\n-}\n" + report)

    assert [s.statement_id for s in (first, second, third)] == ["A", "B", "C"]
    assert [s.kind for s in (first, second, third)] == [
        StatementKind.STATEMENT,
        StatementKind.STATEMENT,
        StatementKind.REPORT,
    ]
    (zero_fee,) = second.entries
    assert zero_fee.amount == Decimal("0.00")
    assert not zero_fee.amount.is_signed()
    assert zero_fee.credit_debit is CreditDebit.DEBIT
    assert third.currency == "EUR"


def test_13d_without_offset_is_utc() -> None:
    (report,) = parse_swift(":20:R\n:25:123\n:34F:EUR0,\n:13D:2603051400\n")

    assert report.created_at == datetime(2026, 3, 5, 14, 0, tzinfo=UTC)


HEADER = "{1:F01BANKBEBBAXXX0000000000}{2:O9401200260305DEUTDEFFXXXX00000000002603051200N}{4:\n"
VALID = (
    ":20:R\n:25:123\n:28C:1\n:60F:C260305EUR1,00\n:61:2603050305C1,00NTRF\n:62F:C260305EUR2,00\n"
)


@pytest.mark.parametrize(
    ("text", "location", "says"),
    [
        ("", "line 1", "no :20:"),
        ("date;amount\n2026-03-05;1.00\n", "line 1", "no :20:"),
        (":25:123\n:20:R\n", "line 1", ":25: before any :20:"),
        (HEADER.replace("O940", "O103") + VALID, "line 2", "MT103 is not"),
        (":20:R\n:28C:1\n:60F:C260305EUR1,00\n:62F:C260305EUR1,00\n", "line 1", "no :25:"),
        (":20:R\n:25:\n:60F:C260305EUR1,00\n:62F:C260305EUR1,00\n", "line 1", "empty :25:"),
        (":20:\n:25:1\n:60F:C260305EUR1,00\n:62F:C260305EUR1,00\n", "line 1", "empty :20:"),
        (":20:R\n:25:123\n:62F:C260305EUR1,00\n", "line 1", "no :60F:"),
        (":20:R\n:25:123\n:60F:C260305EUR1,00\n", "line 1", "no :62F:"),
        (":20:R\n:25:123\n:13D:2603051400+0100\n", "line 1", "no currency"),
        (VALID.replace(":60F:C", ":60F:X"), "line 4", "unreadable balance :60F:"),
        (VALID.replace("EUR1,00", "EUR1.00"), "line 4", "unreadable balance :60F:"),
        (VALID.replace("EUR1,00", "EUR1,00X"), "line 4", "unreadable balance :60F:"),
        (VALID.replace("C260305EUR2", "C261305EUR2"), "line 6", "unreadable balance :62F:"),
        (VALID.replace("C260305EUR2", "C260305USD2"), "line 6", "balance in USD"),
        (VALID.replace(":28C:1", ":28C:A/1"), "line 3", "unreadable :28C:"),
        (VALID.replace("C1,00NTRF", "C1.50NTRF"), "line 5", "unreadable :61:"),
        (VALID.replace("C1,00NTRF", "CNTRF"), "line 5", "unreadable :61:"),
        (VALID.replace("C1,00NTRF", "C1,0,0NTRF"), "line 5", "unreadable :61:"),
        (VALID.replace(":61:2603050305", ":61:2613050305"), "line 5", "unreadable :61:"),
        (VALID.replace(":61:2603050305", ":61:2603051340"), "line 5", "unreadable :61:"),
        (VALID.replace(":61:2603050305C", ":61:2603050305X"), "line 5", "unreadable :61:"),
        (":20:R\n:25:1\n:13D:26030514\n:34F:EUR0,", "line 3", "unreadable :13D:"),
        (VALID + "\n" + ":20:S\n:25:2\n:60F:C260305EUR1;00\n", "line 10", ":60F:"),
    ],
)
def test_refusals_name_the_line(text: str, location: str, says: str) -> None:
    with pytest.raises(StatementParseError) as refused:
        parse_swift(text)

    assert refused.value.location == location
    assert says in refused.value.message


def test_a_nul_full_binary_file_is_refused() -> None:
    with pytest.raises(StatementParseError) as refused:
        parse_swift("PK\x03\x04" + "\x00" * 200 + ":20:R\n")

    assert refused.value.location == "line 1"
    assert "binary" in refused.value.message


def test_no_library_exception_escapes_and_no_sqlalchemy_is_imported() -> None:
    balances = ":60F:C260305EUR1,00\n:62F:C260305EUR1,00\n"
    garbage = [
        ":20:R\n:25:1\n" + balances + ":61:" + "9" * 40,
        ":20:R\n:25:1\n" + balances + ":61:260305C,\n",
        ":20:R\n:25:1\n:34F:EUR0,\n:13D:2613051400+0100\n",
        ":20:R\n:25:1\n:34F:EUR0,\n:28C:1/2/3\n",
        "{4:\n-}",
    ]
    for text in garbage:
        with pytest.raises(StatementParseError):
            parse_swift(text)
    module = sys.modules["app.reconciliation.statements.parsing.swift"]
    assert "sqlalchemy" not in vars(module)
    source = Path(module.__file__ or "").read_text()
    assert "sqlalchemy" not in source.lower()
