"""What the database cannot keep is refused before it is written, naming the statement."""

from dataclasses import replace
from datetime import date
from decimal import Decimal

import pytest

from app.reconciliation.statements.limits import check_storable
from app.reconciliation.statements.parsing.model import (
    Balance,
    CreditDebit,
    ParsedEntry,
    ParsedStatement,
    StatementKind,
    StatementParseError,
)

DAY = date(2026, 11, 25)
ENTRY = ParsedEntry(Decimal("1.00"), CreditDebit.CREDIT, DAY, DAY)
GOOD = ParsedStatement(
    kind=StatementKind.STATEMENT,
    account="DE89370400440532013000",
    currency="EUR",
    statement_id="S-1",
    electronic_sequence=2**63 - 1,
    closing_booked=Balance(Decimal("-9999999999999999999999999999"), DAY),
    entries=(replace(ENTRY, amount=Decimal("0.000000000001")),),
)


def test_what_fits_passes() -> None:
    check_storable([GOOD])


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"statement_id": "S\x001"}, "statement_id holds a NUL character"),
        (
            {"entries": (replace(ENTRY, references={"end_to_end_id": "E\x00"}),)},
            "entry 1 end_to_end_id holds a NUL character",
        ),
        (
            {"entries": (replace(ENTRY, remittance_information="a\x00b"),)},
            "entry 1 remittance_information holds a NUL character",
        ),
        ({"statement_id": "S" * 141}, "statement_id is longer than 140 characters"),
        ({"account": "A" * 141}, "account is longer than 140 characters"),
        ({"electronic_sequence": 2**63}, f"electronic_sequence {2**63} is out of range"),
        ({"page": 2**31}, f"page {2**31} is out of range"),
        (
            {"entries": (ENTRY, replace(ENTRY, amount=Decimal("1E+28")))},
            "entry 2 amount 1E+28 has more than 28 digits or 12 decimal places",
        ),
        (
            {"opening_booked": Balance(Decimal("0.0000000000001"), DAY)},
            "opening_booked 1E-13 has more than 28 digits or 12 decimal places",
        ),
    ],
)
def test_what_does_not_fit_is_refused_naming_the_statement_and_field(
    changes: dict[str, object], message: str
) -> None:
    with pytest.raises(StatementParseError) as refused:
        check_storable([GOOD, replace(GOOD, **changes)])  # type: ignore[arg-type]

    assert (refused.value.location, refused.value.message) == ("statement 2", message)
