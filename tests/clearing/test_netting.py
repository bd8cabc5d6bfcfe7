"""Netting trades into settlement obligations: pure, no database.

Every expected value in the tables is hand arithmetic, written out in a comment next to the case.
Seen from us: a buy receives securities (+quantity) and pays cash (-net amount); a sell delivers
securities (-quantity) and receives cash (+net amount). Gross figures are sums of absolute values.
"""

import random
from collections import Counter
from dataclasses import dataclass, replace
from datetime import date
from decimal import Decimal
from itertools import pairwise
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from app.clearing.netting import (
    ClearingTrade,
    Direction,
    Efficiency,
    Net,
    Netting,
    NettingKey,
    NettingSet,
    direction_of,
    efficiency,
    net,
    netting_key,
)
from app.trades.capture.pricing import trade_amounts

CCP = NettingSet.CCP
BILATERAL = NettingSet.BILATERAL
GROSS = NettingSet.GROSS

APPLE = "US0378331005"
MICROSOFT = "US5949181045"
SAP = "DE0007164600"
NSCC = "NSCC"
ALPHA = "CP-ALPHA"
BETA = "CP-BETA"
SETTLES = date(2026, 11, 30)
NEXT_DAY = date(2026, 12, 1)


def key(
    *,
    netting_set: NettingSet = CCP,
    counterparty: str = NSCC,
    securities_account: str = "SAFE-1",
    cash_account: str = "CASH-USD-1",
    isin: str = APPLE,
    currency: str = "USD",
    settlement_date: date = SETTLES,
    trade_id: str | None = None,
) -> NettingKey:
    return NettingKey(
        netting_set=netting_set,
        counterparty=counterparty,
        securities_account=securities_account,
        cash_account=cash_account,
        isin=isin,
        currency=currency,
        settlement_date=settlement_date,
        trade_id=trade_id,
    )


# The netting keys the tables use (a GROSS key gets its trade id when a trade is made from it).
CCP_APPLE = key()
CCP_MICROSOFT = key(isin=MICROSOFT)
CCP_APPLE_EUR = key(currency="EUR", cash_account="CASH-EUR-1")
CCP_SAP_EUR = key(isin=SAP, currency="EUR", cash_account="CASH-EUR-1")
ALPHA_APPLE = key(netting_set=BILATERAL, counterparty=ALPHA)
BETA_APPLE = key(netting_set=GROSS, counterparty=BETA)


def trade(trade_id: str, side: str, quantity: str, amount: str, at: NettingKey) -> ClearingTrade:
    """A trade whose netting fields are those of ``at``."""
    return ClearingTrade(
        trade_id=trade_id,
        netting_set=at.netting_set,
        counterparty=at.counterparty,
        securities_account=at.securities_account,
        cash_account=at.cash_account,
        isin=at.isin,
        currency=at.currency,
        settlement_date=at.settlement_date,
        side=side,
        quantity=Decimal(quantity),
        net_amount=Decimal(amount),
    )


def gross_key(at: NettingKey, trade_id: str) -> NettingKey:
    return replace(at, trade_id=trade_id)


@dataclass(frozen=True)
class Obligation:
    """What one netting key must come to; decimals as their exact text."""

    key: NettingKey
    trade_ids: tuple[str, ...]
    net_quantity: str
    net_amount: str
    gross_quantity: str
    gross_amount: str
    direction: Direction


def assert_exact(actual: Decimal, expected: str) -> None:
    """Same value and same scale: a Decimal, never a float, and cents stay cents."""
    assert isinstance(actual, Decimal)
    assert str(actual) == expected, f"{actual!r} != {expected}"


def assert_obligation(actual: Net, expected: Obligation) -> None:
    assert_exact(actual.net_quantity, expected.net_quantity)
    assert_exact(actual.net_amount, expected.net_amount)
    assert_exact(actual.gross_quantity, expected.gross_quantity)
    assert_exact(actual.gross_amount, expected.gross_amount)
    assert actual.trade_count == len(expected.trade_ids)
    assert actual.direction is expected.direction


def check(trades: list[ClearingTrade], expected: list[Obligation]) -> None:
    nets = net(trades)
    assert set(nets) == {obligation.key for obligation in expected}
    for obligation in expected:
        assert_obligation(nets[obligation.key], obligation)
    lineage = Netting().add(trades)
    assert lineage == {obligation.key: list(obligation.trade_ids) for obligation in expected}


# Worked cases ---------------------------------------------------------------------------------

CASES: list[Any] = [
    pytest.param(
        [
            trade("T1", "buy", "100", "18926.52", CCP_APPLE),
            trade("T2", "sell", "100", "18926.52", CCP_APPLE),
        ],
        [
            # qty +100 - 100 = 0; cash -18926.52 + 18926.52 = 0.00 -> nothing to settle.
            # gross 100 + 100 = 200; 18926.52 + 18926.52 = 37853.04.
            Obligation(CCP_APPLE, ("T1", "T2"), "0", "0.00", "200", "37853.04", Direction.NONE),
        ],
        id="flat-in-securities-and-cash",
    ),
    pytest.param(
        [
            trade("T1", "buy", "100", "18926.52", CCP_APPLE),
            trade("T2", "sell", "100", "19000.00", CCP_APPLE),
        ],
        [
            # qty +100 - 100 = 0; cash -18926.52 + 19000.00 = +73.48 received.
            # gross 200; 18926.52 + 19000.00 = 37926.52.
            Obligation(
                CCP_APPLE, ("T1", "T2"), "0", "73.48", "200", "37926.52", Direction.CASH_ONLY
            ),
        ],
        id="flat-with-cash-received",
    ),
    pytest.param(
        [
            trade("T1", "sell", "60", "11355.91", CCP_APPLE),
            trade("T2", "buy", "40", "7570.61", CCP_APPLE),
            trade("T3", "buy", "20", "3786.30", CCP_APPLE),
        ],
        [
            # qty -60 + 40 + 20 = 0; cash +11355.91 - 7570.61 - 3786.30
            #   = 11355.91 - 11356.91 = -1.00 paid.
            # gross 60 + 40 + 20 = 120; 11355.91 + 7570.61 + 3786.30 = 22712.82.
            Obligation(
                CCP_APPLE, ("T1", "T2", "T3"), "0", "-1.00", "120", "22712.82", Direction.CASH_ONLY
            ),
        ],
        id="flat-with-cash-paid",
    ),
    pytest.param(
        [
            trade("T1", "buy", "300", "56779.56", CCP_APPLE),
            trade("T2", "buy", "200", "37853.04", CCP_APPLE),
            trade("T3", "sell", "150", "28500.00", CCP_APPLE),
        ],
        [
            # qty 300 + 200 - 150 = +350; cash -56779.56 - 37853.04 + 28500.00
            #   = -94632.60 + 28500.00 = -66132.60.
            # gross 300 + 200 + 150 = 650; 94632.60 + 28500.00 = 123132.60.
            Obligation(
                CCP_APPLE,
                ("T1", "T2", "T3"),
                "350",
                "-66132.60",
                "650",
                "123132.60",
                Direction.RECEIVE,
            ),
        ],
        id="long",
    ),
    pytest.param(
        [
            trade("T1", "buy", "10", "100.00", CCP_APPLE),
            trade("T2", "sell", "5", "600.00", CCP_APPLE),
        ],
        [
            # qty 10 - 5 = +5; cash -100.00 + 600.00 = +500.00: securities decide the direction.
            # gross 15; 100.00 + 600.00 = 700.00.
            Obligation(CCP_APPLE, ("T1", "T2"), "5", "500.00", "15", "700.00", Direction.RECEIVE),
        ],
        id="long-with-cash-received",
    ),
    pytest.param(
        [
            trade("T1", "sell", "1000", "189265.20", CCP_APPLE),
            trade("T2", "buy", "400", "75900.00", CCP_APPLE),
        ],
        [
            # qty -1000 + 400 = -600; cash +189265.20 - 75900.00 = +113365.20.
            # gross 1400; 189265.20 + 75900.00 = 265165.20.
            Obligation(
                CCP_APPLE, ("T1", "T2"), "-600", "113365.20", "1400", "265165.20", Direction.DELIVER
            ),
        ],
        id="short",
    ),
    pytest.param(
        [
            trade("T1", "sell", "5", "950.00", CCP_APPLE),
            trade("T2", "buy", "2", "1000.00", CCP_APPLE),
        ],
        [
            # qty -5 + 2 = -3; cash +950.00 - 1000.00 = -50.00 paid while delivering.
            # gross 7; 950.00 + 1000.00 = 1950.00.
            Obligation(CCP_APPLE, ("T1", "T2"), "-3", "-50.00", "7", "1950.00", Direction.DELIVER),
        ],
        id="short-with-cash-paid",
    ),
    pytest.param(
        [trade("T1", "buy", "1", "189.27", CCP_APPLE)],
        [
            # One trade: qty +1, cash -189.27, gross 1 and 189.27.
            Obligation(CCP_APPLE, ("T1",), "1", "-189.27", "1", "189.27", Direction.RECEIVE),
        ],
        id="single-trade",
    ),
    pytest.param([], [], id="no-trades"),
    pytest.param(
        [
            trade("T1", "buy", "100", "18926.52", CCP_APPLE),
            trade("T2", "sell", "40", "7600.00", CCP_APPLE),
            trade("T3", "sell", "200", "36000.00", CCP_SAP_EUR),
            trade("T4", "buy", "10", "1700.50", CCP_APPLE_EUR),
            trade("T5", "sell", "10", "1800.00", CCP_SAP_EUR),
            trade("T6", "sell", "50", "20000.00", CCP_MICROSOFT),
            trade("T7", "buy", "50", "20000.00", CCP_MICROSOFT),
        ],
        [
            # Apple in USD: qty 100 - 40 = +60; cash -18926.52 + 7600.00 = -11326.52;
            #   gross 140; 18926.52 + 7600.00 = 26526.52.
            Obligation(
                CCP_APPLE, ("T1", "T2"), "60", "-11326.52", "140", "26526.52", Direction.RECEIVE
            ),
            # Apple in EUR (same ISIN, other currency) stays apart: +10, -1700.50.
            Obligation(
                CCP_APPLE_EUR, ("T4",), "10", "-1700.50", "10", "1700.50", Direction.RECEIVE
            ),
            # SAP in EUR: qty -200 - 10 = -210; cash 36000.00 + 1800.00 = +37800.00; gross same.
            Obligation(
                CCP_SAP_EUR, ("T3", "T5"), "-210", "37800.00", "210", "37800.00", Direction.DELIVER
            ),
            # Microsoft: -50 + 50 = 0; +20000.00 - 20000.00 = 0.00; gross 100, 40000.00.
            Obligation(CCP_MICROSOFT, ("T6", "T7"), "0", "0.00", "100", "40000.00", Direction.NONE),
        ],
        id="isins-and-currencies-apart",
    ),
    pytest.param(
        [
            trade("T1", "buy", "100", "18926.52", CCP_APPLE),
            trade("T2", "sell", "100", "19000.00", ALPHA_APPLE),
            trade("T3", "sell", "100", "19000.00", CCP_APPLE),
            trade("T4", "buy", "100", "18926.52", BETA_APPLE),
            trade("T5", "sell", "100", "18926.52", BETA_APPLE),
            trade("T6", "buy", "60", "11355.91", ALPHA_APPLE),
            trade("T7", "buy", "100", "18926.52", BETA_APPLE),
        ],
        [
            # CCP: qty +100 - 100 = 0; cash -18926.52 + 19000.00 = +73.48; gross 200, 37926.52.
            Obligation(
                CCP_APPLE, ("T1", "T3"), "0", "73.48", "200", "37926.52", Direction.CASH_ONLY
            ),
            # Bilateral with Alpha: qty -100 + 60 = -40; cash +19000.00 - 11355.91 = +7644.09;
            #   gross 160; 19000.00 + 11355.91 = 30355.91.
            Obligation(
                ALPHA_APPLE, ("T2", "T6"), "-40", "7644.09", "160", "30355.91", Direction.DELIVER
            ),
            # Gross with Beta: one obligation per trade, although T4 and T7 are alike in every
            # field but the id and T4 + T5 would net to nothing.
            Obligation(
                gross_key(BETA_APPLE, "T4"),
                ("T4",),
                "100",
                "-18926.52",
                "100",
                "18926.52",
                Direction.RECEIVE,
            ),
            Obligation(
                gross_key(BETA_APPLE, "T5"),
                ("T5",),
                "-100",
                "18926.52",
                "100",
                "18926.52",
                Direction.DELIVER,
            ),
            Obligation(
                gross_key(BETA_APPLE, "T7"),
                ("T7",),
                "100",
                "-18926.52",
                "100",
                "18926.52",
                Direction.RECEIVE,
            ),
        ],
        id="ccp-bilateral-and-gross-mixed",
    ),
]


@pytest.mark.parametrize(("trades", "expected"), CASES)
def test_worked_cases(trades: list[ClearingTrade], expected: list[Obligation]) -> None:
    check(trades, expected)


# One field of the key apart at a time: a buy and a sell of the same 100 @ 18926.52 that would net
# to nothing (NONE) stay two obligations, +100 / -18926.52 receive and -100 / +18926.52 deliver.
APART: list[Any] = [
    pytest.param(replace(CCP_APPLE, netting_set=BILATERAL), id="netting-set-ccp-vs-bilateral"),
    pytest.param(replace(CCP_APPLE, netting_set=GROSS), id="netting-set-ccp-vs-gross"),
    pytest.param(replace(CCP_APPLE, counterparty=ALPHA), id="counterparty"),
    pytest.param(replace(CCP_APPLE, securities_account="SAFE-2"), id="securities-account"),
    pytest.param(replace(CCP_APPLE, cash_account="CASH-USD-2"), id="cash-account"),
    pytest.param(replace(CCP_APPLE, isin=MICROSOFT), id="isin"),
    pytest.param(replace(CCP_APPLE, currency="EUR"), id="currency-same-cash-account"),
    pytest.param(replace(CCP_APPLE, settlement_date=NEXT_DAY), id="settlement-date"),
]


@pytest.mark.parametrize("other", APART)
def test_one_field_apart_keeps_two_obligations(other: NettingKey) -> None:
    # A GROSS obligation carries its trade id in the key.
    sold_at = gross_key(other, "T2") if other.netting_set is GROSS else other
    check(
        [
            trade("T1", "buy", "100", "18926.52", CCP_APPLE),
            trade("T2", "sell", "100", "18926.52", other),
        ],
        [
            Obligation(
                CCP_APPLE, ("T1",), "100", "-18926.52", "100", "18926.52", Direction.RECEIVE
            ),
            Obligation(sold_at, ("T2",), "-100", "18926.52", "100", "18926.52", Direction.DELIVER),
        ],
    )


def test_bilateral_nets_with_the_same_counterparty_only() -> None:
    alpha_next_day = replace(ALPHA_APPLE, settlement_date=NEXT_DAY)
    beta_bilateral = replace(ALPHA_APPLE, counterparty=BETA)
    check(
        [
            trade("T1", "buy", "100", "18926.52", ALPHA_APPLE),
            trade("T2", "sell", "30", "5700.00", ALPHA_APPLE),
            trade("T3", "sell", "100", "18926.52", alpha_next_day),
            trade("T4", "sell", "70", "13300.00", beta_bilateral),
            trade("T5", "buy", "70", "13300.00", beta_bilateral),
        ],
        [
            # Alpha on the 30th: qty 100 - 30 = +70; cash -18926.52 + 5700.00 = -13226.52;
            #   gross 130; 18926.52 + 5700.00 = 24626.52.
            Obligation(
                ALPHA_APPLE, ("T1", "T2"), "70", "-13226.52", "130", "24626.52", Direction.RECEIVE
            ),
            # Alpha on the 1st: its own obligation, -100 / +18926.52.
            Obligation(
                alpha_next_day, ("T3",), "-100", "18926.52", "100", "18926.52", Direction.DELIVER
            ),
            # Beta: -70 + 70 = 0; +13300.00 - 13300.00 = 0.00; gross 140, 26600.00.
            Obligation(
                beta_bilateral, ("T4", "T5"), "0", "0.00", "140", "26600.00", Direction.NONE
            ),
        ],
    )


@pytest.mark.parametrize(
    ("net_quantity", "net_amount", "expected"),
    [
        ("1", "0", Direction.RECEIVE),
        ("350", "-66132.60", Direction.RECEIVE),
        ("5", "500.00", Direction.RECEIVE),
        ("0.01", "0.00", Direction.RECEIVE),  # fractional nominal still moves securities
        ("-1", "0", Direction.DELIVER),
        ("-600", "113365.20", Direction.DELIVER),
        ("-3", "-50.00", Direction.DELIVER),
        ("0", "73.48", Direction.CASH_ONLY),
        ("0", "-0.01", Direction.CASH_ONLY),
        ("0", "0", Direction.NONE),
        ("0.00", "0.00", Direction.NONE),
        ("-0", "-0.00", Direction.NONE),  # a negative zero is still zero
    ],
)
def test_direction_of(net_quantity: str, net_amount: str, expected: Direction) -> None:
    assert direction_of(Decimal(net_quantity), Decimal(net_amount)) is expected


# Streaming: a late trade in a later chunk -------------------------------------------------------


def test_a_late_trade_in_a_second_chunk_nets_into_the_same_obligation() -> None:
    first = [
        trade("T1", "buy", "100", "18926.52", CCP_APPLE),
        trade("T2", "sell", "100", "19000.00", CCP_APPLE),
        trade("T3", "sell", "200", "36000.00", CCP_SAP_EUR),
    ]
    late = [trade("T4", "buy", "50", "9500.00", CCP_APPLE)]
    netting = Netting()

    assert netting.add(first) == {CCP_APPLE: ["T1", "T2"], CCP_SAP_EUR: ["T3"]}
    # After the first run: 0 / +73.48 (cash only), gross 200 / 37926.52.
    assert_obligation(
        netting.nets[CCP_APPLE],
        Obligation(CCP_APPLE, ("T1", "T2"), "0", "73.48", "200", "37926.52", Direction.CASH_ONLY),
    )

    # The second chunk's lineage names the late trade only, under the key it joined.
    assert netting.add(late) == {CCP_APPLE: ["T4"]}
    # qty 0 + 50 = +50; cash 73.48 - 9500.00 = -9426.52; gross 200 + 50 = 250,
    # 37926.52 + 9500.00 = 47426.52; three trades.
    assert_obligation(
        netting.nets[CCP_APPLE],
        Obligation(
            CCP_APPLE, ("T1", "T2", "T4"), "50", "-9426.52", "250", "47426.52", Direction.RECEIVE
        ),
    )
    # SAP is untouched by the late chunk: -200 / +36000.00.
    assert_obligation(
        netting.nets[CCP_SAP_EUR],
        Obligation(CCP_SAP_EUR, ("T3",), "-200", "36000.00", "200", "36000.00", Direction.DELIVER),
    )
    # Streaming gives the same obligations as netting everything at once.
    assert netting.nets == net(first + late)


def test_a_late_trade_under_a_new_key_and_an_empty_chunk() -> None:
    netting = Netting()
    netting.add([trade("T1", "buy", "100", "18926.52", CCP_APPLE)])
    late_gross = trade("T2", "buy", "100", "18926.52", BETA_APPLE)

    assert netting.add([late_gross]) == {gross_key(BETA_APPLE, "T2"): ["T2"]}
    before = {k: replace(v) for k, v in netting.nets.items()}
    assert netting.add([]) == {}
    assert netting.nets == before
    assert set(netting.nets) == {CCP_APPLE, gross_key(BETA_APPLE, "T2")}


# Efficiency -------------------------------------------------------------------------------------

EFFICIENCY_CASES: list[Any] = [
    pytest.param([], Efficiency(0, 0, Decimal(0), Decimal(0)), "0", "0", id="zero-trades"),
    pytest.param(
        [
            # Apple/CCP: -10000.00 + 6000.00 + 4000.00 = 0.00, qty 100 - 60 - 40 = 0: NONE,
            #   not an obligation; gross 20000.00.
            trade("T1", "buy", "100", "10000.00", CCP_APPLE),
            trade("T2", "sell", "60", "6000.00", CCP_APPLE),
            trade("T3", "sell", "40", "4000.00", CCP_APPLE),
            # Microsoft/CCP: qty 200 + 100 - 100 = +200; cash -20000.00 - 10000.00 + 10000.00
            #   = -20000.00; gross 40000.00.
            trade("T4", "buy", "200", "20000.00", CCP_MICROSOFT),
            trade("T5", "buy", "100", "10000.00", CCP_MICROSOFT),
            trade("T6", "sell", "100", "10000.00", CCP_MICROSOFT),
            # Apple/Alpha: qty 0; cash -19000.00 + 21000.00 = +2000.00 cash only; gross 40000.00.
            trade("T7", "buy", "100", "19000.00", ALPHA_APPLE),
            trade("T8", "sell", "100", "21000.00", ALPHA_APPLE),
        ],
        # 8 trades -> 2 obligations: 1 - 2/8 = 0.75.
        # gross 20000.00 + 40000.00 + 40000.00 = 100000.00; net |0.00| + |-20000.00| + |2000.00|
        #   = 22000.00: 1 - 22000.00/100000.00 = 1 - 0.22 = 0.78.
        Efficiency(8, 2, Decimal("100000.00"), Decimal("22000.00")),
        "0.75",
        "0.78",
        id="hand-set",
    ),
    pytest.param(
        [
            trade("T1", "buy", "100", "18926.52", CCP_APPLE),
            trade("T2", "sell", "100", "18926.52", CCP_APPLE),
        ],
        # Everything flat: 0 obligations of 2 trades -> 1 - 0/2 = 1; net 0.00 of 37853.04 -> 1.
        Efficiency(2, 0, Decimal("37853.04"), Decimal("0.00")),
        "1",
        "1",
        id="everything-flat",
    ),
    pytest.param(
        [
            trade("T1", "buy", "100", "18926.52", BETA_APPLE),
            trade("T2", "sell", "100", "18926.52", BETA_APPLE),
        ],
        # Gross settlement nets nothing: 2 obligations of 2 trades -> 0;
        # net 18926.52 + 18926.52 = 37853.04 of 37853.04 -> 0.
        Efficiency(2, 2, Decimal("37853.04"), Decimal("37853.04")),
        "0",
        "0",
        id="gross-only",
    ),
    pytest.param(
        [
            trade("T1", "buy", "300", "30000.00", CCP_APPLE),
            trade("T2", "sell", "100", "10000.00", CCP_APPLE),
            trade("T3", "buy", "100", "10000.00", BETA_APPLE),
            trade("T4", "sell", "100", "10000.00", CCP_MICROSOFT),
            trade("T5", "buy", "100", "10000.00", CCP_MICROSOFT),
        ],
        # Apple/CCP +200 / -20000.00 (gross 40000.00), Beta gross +100 / -10000.00 (10000.00),
        # Microsoft/CCP 0 / 0.00 (20000.00, not counted). 5 trades -> 2: 1 - 2/5 = 0.6.
        # gross 70000.00; net 20000.00 + 10000.00 = 30000.00: 1 - 30000/70000 = 1 - 3/7, which
        # is not a finite decimal, so this case checks the count and the totals only.
        Efficiency(5, 2, Decimal("70000.00"), Decimal("30000.00")),
        "0.6",
        None,
        id="count-with-gross-and-flat",
    ),
]


@pytest.mark.parametrize(("trades", "expected", "by_count", "by_value"), EFFICIENCY_CASES)
def test_efficiency(
    trades: list[ClearingTrade], expected: Efficiency, by_count: str, by_value: str | None
) -> None:
    actual = efficiency(net(trades).values())
    assert actual == expected
    assert actual.by_count == Decimal(by_count)
    if by_value is not None:
        assert actual.by_value == Decimal(by_value)


def test_a_sell_with_a_negative_net_amount_counts_its_absolute_value_in_gross() -> None:
    amounts = trade_amounts(
        side="sell",
        quantity=Decimal(1),
        price=Decimal("0.01"),
        currency="USD",
        commission=Decimal("1.50"),
        fees=Decimal(0),
        settlement_date=SETTLES,
        bond=None,
    )
    # 0.01 - 1.50 = -1.49: the seller pays 1.49.
    assert amounts.net_amount == Decimal("-1.49")
    nets = net(
        [
            trade("T1", "sell", "1", str(amounts.net_amount), CCP_APPLE),
            trade("T2", "buy", "1", "190.00", CCP_APPLE),
        ]
    )
    # qty -1 + 1 = 0; cash -1.49 - 190.00 = -191.49 paid, cash only; gross |-1.49| + 190.00.
    assert_obligation(
        nets[CCP_APPLE],
        Obligation(CCP_APPLE, ("T1", "T2"), "0", "-191.49", "2", "191.49", Direction.CASH_ONLY),
    )
    # All the cash moves gross or net alike: 1 - 191.49/191.49 = 0 (the module gives
    # 1 - 191.49/188.51 < 0).
    assert efficiency(nets.values()).by_value == 0


# Properties -------------------------------------------------------------------------------------

NETTING_SETS = tuple(NettingSet)
COUNTERPARTIES = (NSCC, ALPHA, BETA)
SECURITIES_ACCOUNTS = ("SAFE-1", "SAFE-2")
CASH_ACCOUNTS = ("CASH-1", "CASH-2")
ISINS = (APPLE, MICROSOFT, SAP)
CURRENCIES = ("USD", "EUR")
DATES = (SETTLES, NEXT_DAY)

quantities = st.integers(min_value=1, max_value=10**6).map(Decimal)
amounts = st.decimals(
    min_value=Decimal("0.01"),
    max_value=Decimal("100000000.00"),
    places=2,
    allow_nan=False,
    allow_infinity=False,
)


@st.composite
def trade_lists(draw: st.DrawFn) -> list[ClearingTrade]:
    fields = st.tuples(
        st.sampled_from(NETTING_SETS),
        st.sampled_from(COUNTERPARTIES),
        st.sampled_from(SECURITIES_ACCOUNTS),
        st.sampled_from(CASH_ACCOUNTS),
        st.sampled_from(ISINS),
        st.sampled_from(CURRENCIES),
        st.sampled_from(DATES),
        st.sampled_from(("buy", "sell")),
        quantities,
        amounts,
    )
    rows = draw(st.lists(fields, max_size=40))
    return [
        ClearingTrade(
            trade_id=f"T{number}",
            netting_set=netting_set,
            counterparty=counterparty,
            securities_account=securities_account,
            cash_account=cash_account,
            isin=isin,
            currency=currency,
            settlement_date=settlement_date,
            side=side,
            quantity=quantity,
            net_amount=amount,
        )
        for number, (
            netting_set,
            counterparty,
            securities_account,
            cash_account,
            isin,
            currency,
            settlement_date,
            side,
            quantity,
            amount,
        ) in enumerate(rows)
    ]


@st.composite
def chunked(draw: st.DrawFn) -> tuple[list[ClearingTrade], list[list[ClearingTrade]]]:
    """Trades, and the same trades cut into consecutive chunks (empty chunks included)."""
    trades = draw(trade_lists())
    cuts = sorted(draw(st.lists(st.integers(min_value=0, max_value=len(trades)), max_size=6)))
    bounds = [0, *cuts, len(trades)]
    return trades, [trades[start:end] for start, end in pairwise(bounds)]


def received(trade: ClearingTrade) -> Decimal:
    """Signed quantity, worked out here rather than through the module."""
    return trade.quantity if trade.side == "buy" else -trade.quantity


def cash_in(trade: ClearingTrade) -> Decimal:
    return -trade.net_amount if trade.side == "buy" else trade.net_amount


def expected_key(trade: ClearingTrade) -> NettingKey:
    return NettingKey(
        trade.netting_set,
        trade.counterparty,
        trade.securities_account,
        trade.cash_account,
        trade.isin,
        trade.currency,
        trade.settlement_date,
        trade.trade_id if trade.netting_set == NettingSet.GROSS else None,
    )


def total(values: list[Decimal]) -> Decimal:
    return sum(values, Decimal(0))


@given(chunked(), st.randoms(use_true_random=False))
def test_netting_properties(
    case: tuple[list[ClearingTrade], list[list[ClearingTrade]]], rng: random.Random
) -> None:
    trades, chunks = case
    by_id = {t.trade_id: t for t in trades}

    netting = Netting()
    lineage: dict[NettingKey, list[str]] = {}
    for chunk in chunks:
        chunk_lineage = netting.add(chunk)
        # A chunk's lineage names exactly that chunk's trades.
        assert Counter(i for ids in chunk_lineage.values() for i in ids) == Counter(
            t.trade_id for t in chunk
        )
        for k, ids in chunk_lineage.items():
            lineage.setdefault(k, []).extend(ids)
    nets = netting.nets

    # (2) Lineage covers each trade exactly once, each under its own netting key.
    assert Counter(i for ids in lineage.values() for i in ids) == Counter(
        t.trade_id for t in trades
    )
    assert len(by_id) == len(trades)
    assert set(lineage) == set(nets)
    for k, ids in lineage.items():
        for trade_id in ids:
            assert netting_key(by_id[trade_id]) == k == expected_key(by_id[trade_id])

    # (1) Per ISIN the obligations move what the trades move; per currency, the cash.
    for isin in ISINS:
        assert total([n.net_quantity for k, n in nets.items() if k.isin == isin]) == total(
            [received(t) for t in trades if t.isin == isin]
        )
    for currency in CURRENCIES:
        assert total([n.net_amount for k, n in nets.items() if k.currency == currency]) == total(
            [cash_in(t) for t in trades if t.currency == currency]
        )

    # (4) Per key: net and gross are the sums of the key's trades, signed and absolute.
    for k, n in nets.items():
        own = [by_id[i] for i in lineage[k]]
        assert n.trade_count == len(own)
        assert n.net_quantity == total([received(t) for t in own])
        assert n.net_amount == total([cash_in(t) for t in own])
        assert n.gross_quantity == total([abs(t.quantity) for t in own])
        assert n.gross_amount == total([abs(t.net_amount) for t in own])
        assert n.direction is direction_of(n.net_quantity, n.net_amount)
        if k.netting_set is NettingSet.GROSS:
            assert n.trade_count == 1

    # (3) Chunked streaming equals all at once, in any order, and merging per-chunk nets too.
    assert nets == net(trades)
    shuffled = list(trades)
    rng.shuffle(shuffled)
    assert nets == net(shuffled)
    merged: dict[NettingKey, Net] = {}
    for chunk in chunks:
        for k, n in net(chunk).items():
            merged.setdefault(k, Net()).merge(n)
    assert merged == nets

    # Efficiency of the whole: every trade counted, only obligations that move something.
    report = efficiency(nets.values())
    assert report.trades == len(trades)
    assert report.obligations == sum(
        1 for n in nets.values() if n.net_quantity != 0 or n.net_amount != 0
    )
    assert report.gross_value == total([t.net_amount for t in trades])
    assert report.net_value == total([abs(n.net_amount) for n in nets.values()])
    assert 0 <= report.by_count <= 1
    assert 0 <= report.by_value <= 1
