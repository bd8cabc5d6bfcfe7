"""Who fails, as the fail reason or the hold says it; who matched late."""

from datetime import date
from decimal import Decimal

import pytest

from app.penalties.calculation import FailReason, Party
from app.penalties.failing import failing_party, late_matching_party
from app.penalties.penalties.monthly import MonthlyLine, monthly_report
from app.penalties.runs.assess import failed_quantity, matched_by
from tests.penalties.support import facts

SECURITIES, CASH = FailReason.LACK_OF_SECURITIES, FailReason.LACK_OF_CASH


@pytest.mark.parametrize(
    ("fail_reason", "held_by", "we_deliver", "expected"),
    [
        ("LACK", None, True, (Party.US, SECURITIES)),
        ("MONY", None, False, (Party.US, CASH)),
        ("CLAC", None, False, (Party.COUNTERPARTY, SECURITIES)),
        ("CMON", None, True, (Party.COUNTERPARTY, CASH)),
        # A hold: whoever holds fails, for what that party owes.
        ("PREA", "us", True, (Party.US, SECURITIES)),
        ("PREA", "us", False, (Party.US, CASH)),
        ("PRCY", "counterparty", True, (Party.COUNTERPARTY, CASH)),
        ("PRCY", "counterparty", False, (Party.COUNTERPARTY, SECURITIES)),
        # No failing party named: an exception, never a guess.
        (None, None, True, None),
        ("CSDH", "csd", True, None),
        ("XPRP", None, True, None),
    ],
)
def test_the_reason_or_the_hold_names_the_failing_party(
    fail_reason: str | None,
    held_by: str | None,
    we_deliver: bool,
    expected: tuple[Party, FailReason] | None,
) -> None:
    assert failing_party(fail_reason=fail_reason, held_by=held_by, we_deliver=we_deliver) == (
        expected
    )


def test_we_matched_late_when_we_instructed_after_the_intended_date() -> None:
    isd = date(2026, 11, 25)
    assert late_matching_party(instructed_on=date(2026, 11, 26), intended_settlement_date=isd) is (
        Party.US
    )
    assert late_matching_party(instructed_on=isd, intended_settlement_date=isd) is (
        Party.COUNTERPARTY
    )


def test_what_settled_after_a_day_still_failed_on_it() -> None:
    # 100 due, 100 settled now, of which 70 value-dated after 11-27: 70 failed at its end.
    fact = facts(quantity="100", settled_quantity="100", settled_on=date(2026, 11, 30))
    assert failed_quantity(fact, date(2026, 11, 27), {fact.instruction_id: Decimal(70)}) == 70
    assert failed_quantity(fact, date(2026, 11, 30), {}) == 0


def test_matched_by_a_day_from_the_depositorys_advice_or_since_made() -> None:
    advised = facts(status="matched", matched_on=date(2026, 11, 26))
    assert not matched_by(advised, date(2026, 11, 25))
    assert matched_by(advised, date(2026, 11, 26))
    assert matched_by(facts(status="partially_settled"), date(2026, 11, 25))
    assert not matched_by(facts(status="pending"), date(2026, 11, 25))
    assert not matched_by(facts(status="on_hold", held_from="pending"), date(2026, 11, 25))


def test_the_month_nets_receivable_against_payable_per_counterparty_and_currency() -> None:
    lines = [
        MonthlyLine("B" * 20, "EUR", Decimal("5.74"), we_pay=True),
        MonthlyLine("B" * 20, "EUR", Decimal("1.00"), we_pay=False),
        MonthlyLine("A" * 20, "EUR", Decimal("2.29"), we_pay=False),
        MonthlyLine("A" * 20, "USD", Decimal("0.77"), we_pay=True),
    ]
    assert monthly_report("2026-12", lines) == {
        "month": "2026-12",
        "counterparties": [
            {"counterparty_lei": "A" * 20, "currency": "EUR", "penalties": 1,
             "payable": "0.00", "receivable": "2.29", "net": "2.29"},
            {"counterparty_lei": "A" * 20, "currency": "USD", "penalties": 1,
             "payable": "0.77", "receivable": "0.00", "net": "-0.77"},
            {"counterparty_lei": "B" * 20, "currency": "EUR", "penalties": 2,
             "payable": "5.74", "receivable": "1.00", "net": "-4.74"},
        ],
        "totals": [
            # 5.74 payable; 1.00 + 2.29 = 3.29 receivable; net 3.29 - 5.74 = -2.45
            {"currency": "EUR", "penalties": 3, "payable": "5.74", "receivable": "3.29",
             "net": "-2.45"},
            {"currency": "USD", "penalties": 1, "payable": "0.77", "receivable": "0.00",
             "net": "-0.77"},
        ],
    }  # fmt: skip
