"""A statement adds up and follows on from the account's previous one, or says what is wrong."""

from dataclasses import replace
from datetime import date
from decimal import Decimal

import pytest

from app.reconciliation.statements.integrity import (
    IntegrityBreak,
    IntegrityCode,
    Previous,
    check,
)
from app.reconciliation.statements.parsing.model import (
    Balance,
    CreditDebit,
    EntryStatus,
    ParsedEntry,
    ParsedStatement,
    StatementKind,
)

DAY = date(2026, 11, 25)


def entry(amount: str, status: EntryStatus = EntryStatus.BOOKED) -> ParsedEntry:
    value = Decimal(amount)
    side = CreditDebit.CREDIT if value >= 0 else CreditDebit.DEBIT
    return ParsedEntry(value, side, DAY, DAY, status)


def statement(
    opening: str | None = "100.00",
    closing: str | None = "150.00",
    entries: tuple[ParsedEntry, ...] = (entry("80.00"), entry("-30.00")),
    sequence: int | None = 331,
    currency: str = "EUR",
) -> ParsedStatement:
    return ParsedStatement(
        kind=StatementKind.STATEMENT,
        account="DE89370400440532013000",
        currency=currency,
        statement_id="2026-11-25",
        legal_sequence=sequence,
        opening_booked=Balance(Decimal(opening), DAY) if opening is not None else None,
        closing_booked=Balance(Decimal(closing), DAY) if closing is not None else None,
        entries=entries,
    )


PREVIOUS = Previous("2026-11-24", "EUR", Decimal("100.00"), 330)


def test_a_statement_that_adds_up_and_follows_on_has_no_break() -> None:
    assert check(statement(), PREVIOUS) == []


def test_the_first_statement_of_an_account_only_has_to_add_up() -> None:
    assert check(statement(opening="-5.00", closing="45.00"), None) == []


def test_pending_entries_do_not_count_towards_the_closing_booked_balance() -> None:
    with_pending = statement(
        entries=(entry("80.00"), entry("-30.00"), entry("9.99", EntryStatus.PENDING))
    )

    assert check(with_pending, PREVIOUS) == []


def test_a_statement_that_does_not_add_up_names_the_difference() -> None:
    assert check(statement(closing="150.01"), PREVIOUS) == [
        IntegrityBreak(
            IntegrityCode.DOES_NOT_ADD_UP,
            "opening 100.00 plus booked entries 50.00 is 150.00, the closing balance is 150.01 "
            "(difference 0.01)",
            expected="150.00",
            found="150.01",
        )
    ]


def test_an_opening_that_is_not_the_previous_closing_is_a_break() -> None:
    found = check(statement(opening="90.00", closing="140.00"), PREVIOUS)

    assert found == [
        IntegrityBreak(
            IntegrityCode.OPENING_NOT_PREVIOUS_CLOSING,
            "opening 90.00 is not the closing 100.00 of statement 2026-11-24",
            expected="100.00",
            found="90.00",
        )
    ]


@pytest.mark.parametrize(
    ("sequence", "code", "detail"),
    [
        (
            333,
            IntegrityCode.SEQUENCE_GAP,
            "2 statement(s) missing between sequence 330 of 2026-11-24 and 333",
        ),
        (
            330,
            IntegrityCode.SEQUENCE_REPEATED,
            "sequence 330 does not follow 330 of statement 2026-11-24",
        ),
    ],
)
def test_a_gap_or_a_step_back_in_the_sequence_is_a_break(
    sequence: int, code: IntegrityCode, detail: str
) -> None:
    assert check(statement(sequence=sequence), PREVIOUS) == [
        IntegrityBreak(code, detail, expected="331", found=str(sequence))
    ]


def test_without_balances_or_sequence_there_is_nothing_to_check() -> None:
    report = replace(
        statement(opening=None, closing=None, sequence=None), kind=StatementKind.REPORT
    )

    assert check(report, PREVIOUS) == []


def test_a_statement_in_another_currency_than_the_accounts_previous_one_is_a_break() -> None:
    assert [b.code for b in check(statement(currency="USD"), PREVIOUS)] == [
        IntegrityCode.CURRENCY_CHANGED
    ]


def test_several_breaks_are_all_named() -> None:
    found = check(statement(opening="90.00", closing="999.00", sequence=340), PREVIOUS)

    assert [b.code for b in found] == [
        IntegrityCode.DOES_NOT_ADD_UP,
        IntegrityCode.SEQUENCE_GAP,
        IntegrityCode.OPENING_NOT_PREVIOUS_CLOSING,
    ]


def test_the_next_page_of_the_same_statement_follows_on() -> None:
    page_two = replace(statement(sequence=330), page=2)

    assert check(page_two, replace(PREVIOUS, page=1)) == []


def test_the_same_page_again_or_a_page_skipped_is_a_repeated_sequence() -> None:
    for page in (1, 3):
        found = check(replace(statement(sequence=330), page=page), replace(PREVIOUS, page=1))

        assert [b.code for b in found] == [IntegrityCode.SEQUENCE_REPEATED]


def test_an_electronic_sequence_counts_before_the_legal_one_and_zero_is_a_number() -> None:
    first = replace(statement(sequence=7), electronic_sequence=0)

    assert check(first, replace(PREVIOUS, sequence=0)) == [
        IntegrityBreak(
            IntegrityCode.SEQUENCE_REPEATED,
            "sequence 0 does not follow 0 of statement 2026-11-24",
            expected="1",
            found="0",
        )
    ]
