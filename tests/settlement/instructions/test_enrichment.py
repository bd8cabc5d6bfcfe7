"""Choosing the counterparty's SSI and the delivery type: pure, no database.

The instrument below trades on XOFF in EUR (as the demo Bunds do); SSIs are named by their scope:
``ssi_mc`` market and currency, ``ssi_m`` market only, ``ssi_c`` currency only.
"""

from decimal import Decimal
from itertools import permutations

import pytest

from app.settlement.instructions.enrichment import (
    SSI_AMBIGUOUS,
    SSI_MISSING,
    RepairReason,
    SsiFacts,
    choose_ssi,
)
from app.settlement.instructions.service import delivery_type
from app.settlement.instructions.states import DeliveryType

LEI = "FOR8UP27PHTHYVLBNG30"  # Goldman Sachs & Co. LLC
MIC, CURRENCY = "XOFF", "EUR"


def ssi(id_: str, *, mic: str | None = None, currency: str | None = None) -> SsiFacts:
    return SsiFacts(
        id=id_,
        mic=mic,
        currency=currency,
        place_of_settlement="MGTCBEBEECL",
        agent_bic="GOLDUS33",
        account=f"DEMO-{id_}",
    )


def choose(*ssis: SsiFacts) -> SsiFacts | RepairReason:
    return choose_ssi(list(ssis), counterparty=LEI, mic=MIC, currency=CURRENCY)


MARKET_AND_CURRENCY = ssi("ssi_mc", mic=MIC, currency=CURRENCY)
MARKET = ssi("ssi_m", mic=MIC)
CURRENCY_ONLY = ssi("ssi_c", currency=CURRENCY)
MISSING = RepairReason(SSI_MISSING, f"{LEI} has no SSI for market XOFF or currency EUR: add one.")


# The most specific SSI wins ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("ssis", "chosen"),
    [
        pytest.param(
            [MARKET_AND_CURRENCY, MARKET, CURRENCY_ONLY], MARKET_AND_CURRENCY, id="mc>m,c"
        ),
        pytest.param([MARKET_AND_CURRENCY, MARKET], MARKET_AND_CURRENCY, id="mc>m"),
        pytest.param([MARKET_AND_CURRENCY, CURRENCY_ONLY], MARKET_AND_CURRENCY, id="mc>c"),
        pytest.param([MARKET, CURRENCY_ONLY], MARKET, id="m>c"),
        pytest.param([CURRENCY_ONLY], CURRENCY_ONLY, id="c alone"),
    ],
)
def test_the_most_specific_ssi_wins_in_any_order(ssis: list[SsiFacts], chosen: SsiFacts) -> None:
    for order in permutations(ssis):
        assert choose(*order) is chosen


def test_a_currency_ssi_is_used_when_the_counterparty_has_none_for_the_market() -> None:
    # SSIs for other markets (even in the right currency) do not apply to XOFF.
    elsewhere = [ssi("ssi_xpar", mic="XPAR"), ssi("ssi_xetr_eur", mic="XETR", currency="EUR")]

    assert choose(*elsewhere, CURRENCY_ONLY) is CURRENCY_ONLY


def test_a_unique_specific_ssi_wins_over_ambiguous_less_specific_ones() -> None:
    ssis = [
        ssi("ssi_m2", mic=MIC),
        ssi("ssi_m1", mic=MIC),
        ssi("ssi_c1", currency=CURRENCY),
        ssi("ssi_c2", currency=CURRENCY),
    ]

    assert choose(MARKET_AND_CURRENCY, *ssis) is MARKET_AND_CURRENCY
    assert choose(MARKET, ssis[2], ssis[3]) is MARKET


def test_the_chosen_ssi_as_an_instruction_carries_it() -> None:
    assert MARKET.as_instructed() == {
        "id": "ssi_m",
        "place_of_settlement": "MGTCBEBEECL",
        "agent_bic": "GOLDUS33",
        "account": "DEMO-ssi_m",
    }


# Ambiguous -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("mic", "currency", "level"),
    [
        pytest.param(MIC, CURRENCY, "market XOFF in EUR", id="market and currency"),
        pytest.param(MIC, None, "market XOFF", id="market"),
        pytest.param(None, CURRENCY, "currency EUR", id="currency"),
    ],
)
def test_two_equally_specific_ssis_are_ambiguous_at_each_level(
    mic: str | None, currency: str | None, level: str
) -> None:
    # Given in reverse: the detail names them sorted.
    twins = [ssi("ssi_b", mic=mic, currency=currency), ssi("ssi_a", mic=mic, currency=currency)]

    assert choose(*twins) == RepairReason(
        SSI_AMBIGUOUS, f"{LEI} has 2 SSIs for {level} (ssi_a, ssi_b): keep one."
    )


def test_ambiguity_at_a_specific_level_is_not_resolved_by_a_less_specific_ssi() -> None:
    twins = [ssi("ssi_m2", mic=MIC), ssi("ssi_m1", mic=MIC)]

    assert choose(*twins, CURRENCY_ONLY) == RepairReason(
        SSI_AMBIGUOUS, f"{LEI} has 2 SSIs for market XOFF (ssi_m1, ssi_m2): keep one."
    )


def test_three_ssis_for_one_market_and_currency_are_counted_and_named() -> None:
    triplets = [ssi(f"ssi_{n}", mic=MIC, currency=CURRENCY) for n in (3, 1, 2)]

    assert choose(*triplets, MARKET) == RepairReason(
        SSI_AMBIGUOUS,
        f"{LEI} has 3 SSIs for market XOFF in EUR (ssi_1, ssi_2, ssi_3): keep one.",
    )


# Missing ---------------------------------------------------------------------------------------


def test_no_ssi_at_all_is_missing() -> None:
    assert choose() == MISSING


def test_ssis_for_another_market_or_currency_are_missing_ones() -> None:
    # XOFF in USD is not XOFF in EUR, and does not count as a market-only SSI either.
    others = [
        ssi("ssi_xnys", mic="XNYS"),
        ssi("ssi_usd", currency="USD"),
        ssi("ssi_xoff_usd", mic=MIC, currency="USD"),
    ]

    assert choose(*others) == MISSING


# Delivery type -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("net_quantity", "net_amount", "expected"),
    [
        # We receive securities: against payment (either way the cash goes) or free.
        ("1000000", "-790079.45", DeliveryType.RVP),
        ("100", "12.50", DeliveryType.RVP),
        ("100", "0", DeliveryType.RFP),
        ("100", "0.00", DeliveryType.RFP),
        # We deliver securities.
        ("-250000", "242311.64", DeliveryType.DVP),
        ("-250000", "-3.00", DeliveryType.DVP),
        ("-250000", "0", DeliveryType.DFP),
        # Flat in securities, a cash residue: payment free of delivery.
        ("0", "1000.00", DeliveryType.PFOD),
        ("0", "-0.01", DeliveryType.PFOD),
        # Nothing moves: no instruction.
        ("0", "0", None),
        ("0.00", "0.00", None),
        ("-0", "-0.00", None),
    ],
)
def test_delivery_type_from_our_side(
    net_quantity: str, net_amount: str, expected: DeliveryType | None
) -> None:
    assert delivery_type(Decimal(net_quantity), Decimal(net_amount)) is expected
