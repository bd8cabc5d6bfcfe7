"""Whether a statement adds up and follows on from the account's previous one. Pure: no
database. A statement that fails is still stored, flagged with what is wrong: the entries
happened, and losing them would be worse than showing them."""

from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum

from app.core.money import format_decimal
from app.reconciliation.statements.parsing.model import EntryStatus, ParsedStatement


class IntegrityCode(StrEnum):
    DOES_NOT_ADD_UP = "does_not_add_up"  # opening + booked entries != closing
    OPENING_NOT_PREVIOUS_CLOSING = "opening_not_previous_closing"
    SEQUENCE_GAP = "sequence_gap"
    SEQUENCE_REPEATED = "sequence_repeated"  # not after the previous one
    CURRENCY_CHANGED = "currency_changed"


@dataclass(frozen=True, slots=True)
class Previous:
    """What continuity needs of the account's previous statement."""

    statement_id: str
    currency: str
    closing: Decimal | None
    sequence: int | None
    page: int | None = None


@dataclass(frozen=True, slots=True)
class IntegrityBreak:
    code: IntegrityCode
    detail: str
    expected: str | None = None
    found: str | None = None


def sequence_of(statement: ParsedStatement) -> int | None:
    """The number continuity counts: the electronic sequence, else the legal one."""
    if statement.electronic_sequence is not None:
        return statement.electronic_sequence
    return statement.legal_sequence


def _next_page(statement: ParsedStatement, previous: Previous) -> bool:
    """The next page of the same statement (an MT940 sent in several messages)."""
    page, before = statement.page, previous.page
    return page is not None and before is not None and page == before + 1


def adds_up(statement: ParsedStatement) -> list[IntegrityBreak]:
    """Opening booked plus the booked entries is the closing booked balance (when the statement
    carries both; an intraday report or a notification may carry neither)."""
    opening, closing = statement.opening_booked, statement.closing_booked
    if opening is None or closing is None:
        return []
    booked = sum(
        (e.amount for e in statement.entries if e.status is EntryStatus.BOOKED), Decimal(0)
    )
    expected = opening.amount + booked
    difference = closing.amount - expected
    if not difference:
        return []
    return [
        IntegrityBreak(
            IntegrityCode.DOES_NOT_ADD_UP,
            f"opening {format_decimal(opening.amount)} plus booked entries "
            f"{format_decimal(booked)} is {format_decimal(expected)}, the closing balance is "
            f"{format_decimal(closing.amount)} (difference {format_decimal(difference)})",
            expected=format_decimal(expected),
            found=format_decimal(closing.amount),
        )
    ]


def _sequence_breaks(statement: ParsedStatement, previous: Previous) -> list[IntegrityBreak]:
    number = sequence_of(statement)
    if number is None or previous.sequence is None or number == previous.sequence + 1:
        return []
    if number == previous.sequence and _next_page(statement, previous):
        return []
    if number <= previous.sequence:
        return [
            IntegrityBreak(
                IntegrityCode.SEQUENCE_REPEATED,
                f"sequence {number} does not follow {previous.sequence} of statement "
                f"{previous.statement_id}",
                expected=str(previous.sequence + 1),
                found=str(number),
            )
        ]
    missing = number - previous.sequence - 1
    return [
        IntegrityBreak(
            IntegrityCode.SEQUENCE_GAP,
            f"{missing} statement(s) missing between sequence {previous.sequence} of "
            f"{previous.statement_id} and {number}",
            expected=str(previous.sequence + 1),
            found=str(number),
        )
    ]


def follows_on(statement: ParsedStatement, previous: Previous | None) -> list[IntegrityBreak]:
    """The opening balance is the previous statement's closing balance, in the same currency,
    and the sequence number the next one."""
    if previous is None:
        return []
    if statement.currency != previous.currency:
        return [
            IntegrityBreak(
                IntegrityCode.CURRENCY_CHANGED,
                f"the account's previous statement {previous.statement_id} is in "
                f"{previous.currency}",
                expected=previous.currency,
                found=statement.currency,
            )
        ]
    breaks = _sequence_breaks(statement, previous)
    opening = statement.opening_booked
    if opening is not None and previous.closing is not None and opening.amount != previous.closing:
        breaks.append(
            IntegrityBreak(
                IntegrityCode.OPENING_NOT_PREVIOUS_CLOSING,
                f"opening {format_decimal(opening.amount)} is not the closing "
                f"{format_decimal(previous.closing)} of statement {previous.statement_id}",
                expected=format_decimal(previous.closing),
                found=format_decimal(opening.amount),
            )
        )
    return breaks


def check(statement: ParsedStatement, previous: Previous | None) -> list[IntegrityBreak]:
    """Everything wrong with the statement; empty when it adds up and follows on."""
    return adds_up(statement) + follows_on(statement, previous)
