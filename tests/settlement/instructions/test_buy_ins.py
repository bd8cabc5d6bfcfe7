"""Buy-in candidates without a database: who is past the extension, the order, the CSV rows,
and which extension period is in force."""

from datetime import date
from decimal import Decimal

from app.reference.buy_in_periods.periods import ExtensionPeriods, Period
from app.settlement.instructions.buy_ins import (
    Candidate,
    csv_lines,
    direction,
    in_report_order,
    is_candidate,
)


def candidate(instruction_id: str, days_failing: int, extension_days: int) -> Candidate:
    return Candidate(
        instruction_id=instruction_id,
        obligation_id=f"obl-{instruction_id}",
        trade_ids=("trd-1", "trd-2"),
        isin="FR0000120271",
        csdr_class="liquid_share",
        counterparty_lei="LEI-A",
        direction="we_deliver",
        quantity_due=Decimal("40"),
        currency="EUR",
        amount_due=Decimal("7610.00"),
        intended_settlement_date=date(2026, 11, 25),
        days_failing=days_failing,
        extension_days=extension_days,
        fail_reason=None,
    )


def test_only_more_days_than_the_extension_make_a_candidate() -> None:
    assert [is_candidate(days, 4) for days in (3, 4, 5)] == [False, False, True]
    assert is_candidate(100, None) is False


def test_deliveries_are_ours_to_deliver_and_receipts_ours_to_receive() -> None:
    assert [direction(kind) for kind in ("DVP", "DFP", "RVP", "RFP")] == [
        "we_deliver",
        "we_deliver",
        "we_receive",
        "we_receive",
    ]


def test_the_furthest_past_come_first_then_by_instruction_id() -> None:
    ordered = in_report_order(
        [candidate("sin-b", 5, 4), candidate("sin-c", 9, 4), candidate("sin-a", 5, 4)]
    )

    assert [(c.instruction_id, c.days_past_extension) for c in ordered] == [
        ("sin-c", 5),
        ("sin-a", 1),
        ("sin-b", 1),
    ]


def test_csv_has_a_header_and_plain_decimals_and_an_unknown_reason_is_empty() -> None:
    assert "".join(csv_lines([candidate("sin-a", 8, 7)])) == (
        "instruction_id,obligation_id,trade_ids,isin,csdr_class,counterparty_lei,direction,"
        "quantity_due,currency,amount_due,intended_settlement_date,days_failing,"
        "extension_days,days_past_extension,fail_reason\r\n"
        "sin-a,obl-sin-a,trd-1 trd-2,FR0000120271,liquid_share,LEI-A,we_deliver,40,EUR,"
        "7610.00,2026-11-25,8,7,1,\r\n"
    )


PERIODS = ExtensionPeriods(
    [
        Period("default", 4, date(2022, 2, 1)),
        Period("illiquid_share", 7, date(2022, 2, 1)),
        Period("illiquid_share", 10, date(2027, 1, 1)),
    ]
)


def test_a_class_takes_its_own_period_in_force_on_the_day_else_the_default() -> None:
    assert PERIODS.in_force("illiquid_share", date(2026, 12, 31)) == 7
    assert PERIODS.in_force("illiquid_share", date(2027, 1, 1)) == 10
    assert PERIODS.in_force("liquid_share", date(2027, 1, 1)) == 4
    assert PERIODS.in_force("liquid_share", date(2022, 1, 31)) is None
