"""The pure comparison of a custodian's holdings with the book's positions."""

from decimal import Decimal

import pytest

from app.reconciliation.holdings.comparison import HoldingDifference, compare
from app.reconciliation.holdings.parsing.model import ParsedHolding, QuantityType
from app.reconciliation.holdings.values import HoldingLine

JPM, APPLE, TOTAL, BUND = "US46625H1005", "US0378331005", "FR0000120271", "DE0001102614"


def line(isin: str, quantity: str) -> HoldingLine:
    return HoldingLine(isin, Decimal(quantity), QuantityType.UNIT, None)


def test_equal_quantities_give_nothing_whatever_their_scale() -> None:
    lines = [line(JPM, "1500"), line(BUND, "2500000.00")]
    assert compare(lines, {JPM: Decimal("1500.0"), BUND: Decimal("2500000")}) == []


@pytest.mark.parametrize(
    ("lines", "book", "expected"),
    [
        # the custodian holds more than the book
        ([line(JPM, "1500")], {JPM: Decimal("1400")}, [(JPM, "1500", "1400", "100")]),
        # the custodian holds less
        ([line(JPM, "1400")], {JPM: Decimal("1500")}, [(JPM, "1400", "1500", "-100")]),
        # only at the custodian: zero in the book
        ([line(APPLE, "200")], {}, [(APPLE, "200", "0", "200")]),
        # only in the book: zero at the custodian
        ([], {TOTAL: Decimal("-300")}, [(TOTAL, "0", "-300", "300")]),
        # a short at the custodian against a long in the book
        ([line(TOTAL, "-300")], {TOTAL: Decimal("300")}, [(TOTAL, "-300", "300", "-600")]),
    ],
)
def test_each_difference_names_both_sides(
    lines: list[HoldingLine], book: dict[str, Decimal], expected: list[tuple[str, ...]]
) -> None:
    assert compare(lines, book) == [
        HoldingDifference(isin, Decimal(c), Decimal(b), Decimal(d)) for isin, c, b, d in expected
    ]


def test_zero_on_one_side_against_nothing_on_the_other_is_no_difference() -> None:
    assert compare([line(APPLE, "0")], {TOTAL: Decimal("0")}) == []


def test_lines_of_one_isin_add_up_and_differences_come_in_isin_order() -> None:
    lines = [line(JPM, "1000"), line(APPLE, "5"), line(JPM, "500")]
    book = {JPM: Decimal("1500"), TOTAL: Decimal("10"), APPLE: Decimal("4")}
    assert compare(lines, book) == [
        HoldingDifference(TOTAL, Decimal("0"), Decimal("10"), Decimal("-10")),
        HoldingDifference(APPLE, Decimal("5"), Decimal("4"), Decimal("1")),
    ]


def test_parsed_holdings_compare_as_well() -> None:
    parsed = [ParsedHolding(BUND, Decimal("1000000"), QuantityType.FAMT)]
    assert compare(parsed, {BUND: Decimal("999000")}) == [
        HoldingDifference(BUND, Decimal("1000000"), Decimal("999000"), Decimal("1000"))
    ]
