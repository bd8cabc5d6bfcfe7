"""Our penalties against the depository's list: matched on (reference, day, kind), every
difference listed, in a fixed order."""

from datetime import date
from decimal import Decimal

from app.penalties.calculation import Party, PenaltyKind
from app.penalties.reports.model import PenaltyUpdate, ReportedPenalty
from app.penalties.reports.reconcile import DifferenceKind, OurPenalty, Side, reconcile
from app.penalties.reports.semt044 import parse_semt044
from tests.penalties.reports.test_semt044 import golden

SEFP, LMFP = PenaltyKind.SETTLEMENT_FAIL, PenaltyKind.LATE_MATCHING_FAIL
DAY = date(2026, 11, 24)


def ours(
    reference: str,
    amount: str,
    *,
    day: date = DAY,
    kind: PenaltyKind = SEFP,
    currency: str = "EUR",
    payer: Party = Party.US,
    status: str = "active",
) -> OurPenalty:
    return OurPenalty(
        penalty_id=f"P-{reference}-{day.isoformat()}",
        reference=reference,
        instruction_id=f"I-{reference}",
        day=day,
        kind=kind,
        amount=Decimal(amount),
        currency=currency,
        payer=payer,
        status=status,
    )


def theirs(
    reference: str,
    amount: str,
    *,
    days: tuple[date, ...] = (DAY,),
    kind: PenaltyKind = SEFP,
    currency: str = "EUR",
    payer: Party = Party.US,
    update: PenaltyUpdate = PenaltyUpdate.NEW,
) -> ReportedPenalty:
    return ReportedPenalty(
        penalty_id=f"CSD-{reference}",
        kind=kind,
        our_reference=reference,
        their_reference=None,
        isin=None,
        days=days,
        amount=Decimal(amount),
        currency=currency,
        payer=payer,
        update=update,
    )


def test_the_golden_list_against_our_penalties() -> None:
    our_lines = [
        ours("SEME-0001", "12.34"),
        ours("SEME-0002", "3.70", day=date(2026, 11, 20), kind=LMFP, payer=Party.COUNTERPARTY),
        ours("SEME-0002", "3.75", day=date(2026, 11, 23), kind=LMFP, payer=Party.COUNTERPARTY),
        ours("SEME-0003", "0.85"),
        ours("SEME-0004", "95.20", currency="DKK"),
        ours("SEME-0005", "4.00"),
    ]

    result = reconcile(our_lines, parse_semt044(golden()).lines)

    summary = [
        (c.reference, c.day, c.kind, c.differences, c.amount_difference) for c in result.comparisons
    ]
    assert summary == [
        ("SEME-0001", DAY, SEFP, (), Decimal("0.00")),
        (
            "SEME-0002",
            date(2026, 11, 20),
            LMFP,
            (DifferenceKind.AMOUNT,),
            Decimal("7.50") - (Decimal("3.70") + Decimal("3.75")),
        ),
        ("SEME-0003", DAY, SEFP, (DifferenceKind.REMOVED,), None),
        ("SEME-0004", DAY, SEFP, (DifferenceKind.PAYER,), Decimal("0.00")),
        ("SEME-0005", DAY, SEFP, (DifferenceKind.MISSING_AT_DEPOSITORY,), None),
    ]
    late = result.comparisons[1]
    assert late.our_side == Side(
        Decimal("7.45"), "EUR", Party.COUNTERPARTY, (date(2026, 11, 20), date(2026, 11, 23))
    )
    assert late.their_side == Side(
        Decimal("7.50"), "EUR", Party.COUNTERPARTY, (date(2026, 11, 20), date(2026, 11, 23))
    )
    assert [c.reference for c in result.matched] == ["SEME-0001"]
    assert len(result.differing) == 4


def test_a_penalty_only_the_depository_has_is_missing_in_ours() -> None:
    (comparison,) = reconcile([], [theirs("SEME-0006", "2.00")]).comparisons

    assert comparison.differences == (DifferenceKind.MISSING_IN_OURS,)
    assert (comparison.our_side, comparison.their_side) == (
        None,
        Side(Decimal("2.00"), "EUR", Party.US, (DAY,)),
    )


def test_another_currency_is_a_difference_and_amounts_are_not_compared() -> None:
    (comparison,) = reconcile(
        [ours("SEME-0007", "1.00")], [theirs("SEME-0007", "1.00", currency="USD")]
    ).comparisons

    assert (comparison.differences, comparison.amount_difference) == (
        (DifferenceKind.CURRENCY,),
        None,
    )


def test_a_late_match_over_other_days_lists_the_days_and_the_amount() -> None:
    first, second = date(2026, 11, 19), date(2026, 11, 20)
    our_lines = [
        ours("SEME-0008", "1.10", day=first, kind=LMFP),
        ours("SEME-0008", "1.20", day=second, kind=LMFP),
    ]

    (comparison,) = reconcile(
        our_lines, [theirs("SEME-0008", "1.10", days=(first,), kind=LMFP)]
    ).comparisons

    assert comparison.differences == (DifferenceKind.AMOUNT, DifferenceKind.DAYS)
    assert comparison.amount_difference == Decimal("1.10") - (Decimal("1.10") + Decimal("1.20"))
    assert (comparison.our_side and comparison.our_side.days) == (first, second)


def test_removed_on_both_sides_or_on_one_with_nothing_on_the_other_agrees() -> None:
    result = reconcile(
        [ours("SEME-0009", "1.00", status="removed"), ours("SEME-0010", "1.00", status="removed")],
        [
            theirs("SEME-0009", "1.00", update=PenaltyUpdate.REMOVED),
            theirs("SEME-0011", "1.00", update=PenaltyUpdate.REMOVED),
        ],
    )

    assert [(c.reference, c.matched) for c in result.comparisons] == [
        ("SEME-0009", True),
        ("SEME-0010", True),
        ("SEME-0011", True),
    ]


def test_lines_under_one_key_are_netted_and_the_net_names_the_payer() -> None:
    # The depository reports the penalty again, switched to the other side: we now receive.
    (comparison,) = reconcile(
        [ours("SEME-0012", "0.40", payer=Party.COUNTERPARTY)],
        [
            theirs("SEME-0012", "1.00", payer=Party.US),
            theirs("SEME-0012", "1.40", payer=Party.COUNTERPARTY, update=PenaltyUpdate.MODIFIED),
        ],
    ).comparisons

    assert comparison.their_side == Side(
        Decimal("1.40") - Decimal("1.00"), "EUR", Party.COUNTERPARTY, (DAY,)
    )
    assert comparison.matched


def test_the_order_is_reference_day_kind_whatever_the_input_order() -> None:
    later = date(2026, 11, 25)
    lines = [
        ours("B", "1", day=later),
        ours("B", "1", kind=LMFP),
        ours("A", "1", day=later),
        ours("B", "1"),
    ]

    keys = [(c.reference, c.day, c.kind) for c in reconcile(lines, []).comparisons]

    assert keys == [("A", later, SEFP), ("B", DAY, LMFP), ("B", DAY, SEFP), ("B", later, SEFP)]
