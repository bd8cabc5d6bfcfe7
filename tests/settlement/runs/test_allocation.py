"""The allocation of a settlement run, with hand-computed expectations and properties."""

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from app.reference.partial import PartialIndicator
from app.settlement.runs.allocation import Allocation, Candidate, FailReason, allocate

JPM = "US46625H1005"
BUND = "DE0001102614"
SEC = "SEC-DTC"
CASH = "CASH-USD"
LACK, MONY = FailReason.LACK, FailReason.MONY
NPAR, PART, PARQ, PARC = PartialIndicator


def candidate(
    instruction_id: str,
    quantity: str,
    amount: str,
    *,
    partial: bool | PartialIndicator = False,
    unit: str = "1",
    isin: str = JPM,
    currency: str = "USD",
    least_quantity: str | None = None,
    least_cash: str | None = None,
    in_window: bool = True,
) -> Candidate:
    """``partial``: True is PART, False NPAR."""
    indicator = partial if isinstance(partial, PartialIndicator) else PART if partial else NPAR
    return Candidate(
        instruction_id=instruction_id,
        securities_account=SEC,
        cash_account=CASH,
        isin=isin,
        currency=currency,
        quantity=Decimal(quantity),
        amount=Decimal(amount),
        settlement_unit=Decimal(unit),
        partial=indicator,
        partial_quantity_threshold=None if least_quantity is None else Decimal(least_quantity),
        partial_cash_threshold=None if least_cash is None else Decimal(least_cash),
        in_partial_window=in_window,
    )


def holdings(
    securities: str = "0", cash: str = "0", isin: str = JPM
) -> dict[tuple[str, str], Decimal]:
    return {(SEC, isin): Decimal(securities), (CASH, "USD"): Decimal(cash)}


def settled(
    instruction_id: str, quantity: str, amount: str, reason: FailReason | None = None
) -> Allocation:
    return Allocation(instruction_id, Decimal(quantity), Decimal(amount), reason)


# --- All or nothing -----------------------------------------------------------------------------


def test_a_delivery_and_a_receipt_that_are_covered_settle_in_full() -> None:
    allocations, left = allocate(
        [candidate("A", "-100", "19050.00"), candidate("B", "40", "-7640.00")],
        holdings(securities="100", cash="7640.00"),
    )

    assert allocations == [settled("A", "-100", "19050.00"), settled("B", "40", "-7640.00")]
    # 100 - 100 + 40 = 40 JPM; 7640.00 + 19050.00 - 7640.00 = 19050.00 USD.
    assert left == holdings(securities="40", cash="19050.00")


def test_b_settles_only_because_a_delivered_to_us_first() -> None:
    # We hold nothing. A receives 100 JPM against 19000.00 (we have the cash); B delivers those
    # 100 on to someone else against 19100.00.
    a = candidate("A", "100", "-19000.00")
    b = candidate("B", "-100", "19100.00")

    in_order, left = allocate([a, b], holdings(cash="19000.00"))
    reversed_order, _ = allocate([b, a], holdings(cash="19000.00"))

    assert in_order == [settled("A", "100", "-19000.00"), settled("B", "-100", "19100.00")]
    assert left == holdings(securities="0", cash="19100.00")
    assert reversed_order == [settled("B", "0", "0", LACK), settled("A", "100", "-19000.00")]


def test_a_short_delivery_without_partial_fails_lack_and_moves_nothing() -> None:
    allocations, left = allocate([candidate("A", "-100", "19050.00")], holdings(securities="99"))

    assert allocations == [settled("A", "0", "0", LACK)]
    assert left == holdings(securities="99")


def test_a_payment_we_cannot_make_fails_mony() -> None:
    allocations, left = allocate([candidate("A", "100", "-19000.00")], holdings(cash="18999.99"))

    assert allocations == [settled("A", "0", "0", MONY)]
    assert left == holdings(cash="18999.99")


def test_short_of_both_securities_and_cash_is_lack() -> None:
    # A cash-only payment and a free delivery cannot be short of both; a delivery against a
    # payment (a repo-like negative consideration) can.
    allocations, _ = allocate([candidate("A", "-10", "-5.00")], holdings())

    assert allocations == [settled("A", "0", "0", LACK)]


def test_free_of_payment_and_cash_only_instructions_need_only_their_own_side() -> None:
    allocations, left = allocate(
        [
            candidate("DFP", "-10", "0"),
            candidate("RFP", "5", "0"),
            candidate("PFOD-in", "0", "100.00"),
            candidate("PFOD-out", "0", "-150.00"),
        ],
        holdings(securities="10", cash="50.00"),
    )

    assert allocations == [
        settled("DFP", "-10", "0"),
        settled("RFP", "5", "0"),
        settled("PFOD-in", "0", "100.00"),
        # 50.00 + 100.00 = 150.00: exactly enough.
        settled("PFOD-out", "0", "-150.00"),
    ]
    assert left == holdings(securities="5", cash="0.00")


def test_an_unknown_holding_counts_as_empty() -> None:
    allocations, left = allocate([candidate("A", "-1", "10.00", isin=BUND)], {})

    assert allocations == [settled("A", "0", "0", LACK)]
    assert left == {(SEC, BUND): Decimal(0), (CASH, "USD"): Decimal(0)}


# --- Partial settlement -------------------------------------------------------------------------


def test_a_short_delivery_settles_the_whole_units_available_with_cash_pro_rata() -> None:
    # Deliver 1000 in units of 100; 950 there: 900 go, against 19050.00 x 900/1000 = 17145.00.
    allocations, left = allocate(
        [candidate("A", "-1000", "19050.00", partial=True, unit="100")],
        holdings(securities="950"),
    )

    assert allocations == [settled("A", "-900", "17145.00", LACK)]
    assert left == holdings(securities="50", cash="17145.00")


def test_exactly_one_unit_short_of_the_next_unit() -> None:
    # 999 of 1000 in units of 100 -> 900; 1000 -> everything, no partial needed.
    short, _ = allocate(
        [candidate("A", "-1000", "1000.00", partial=True, unit="100")], holdings(securities="999")
    )
    enough, _ = allocate(
        [candidate("A", "-1000", "1000.00", partial=True, unit="100")], holdings(securities="1000")
    )

    assert short == [settled("A", "-900", "900.00", LACK)]
    assert enough == [settled("A", "-1000", "1000.00")]


def test_less_than_one_unit_available_settles_nothing() -> None:
    allocations, left = allocate(
        [candidate("A", "-1000", "1000.00", partial=True, unit="100")], holdings(securities="99")
    )

    assert allocations == [settled("A", "0", "0", LACK)]
    assert left == holdings(securities="99")


def test_pro_rata_cash_is_rounded_half_even_to_minor_units() -> None:
    # 1 of 3 against 100.00: 33.333... -> 33.33. 1 of 8 against 0.20: 0.025 -> 0.02 (half even).
    thirds, _ = allocate([candidate("A", "-3", "100.00", partial=True)], holdings(securities="1"))
    eighths, _ = allocate([candidate("B", "-8", "0.20", partial=True)], holdings(securities="1"))
    yen, _ = allocate(
        [candidate("C", "-3", "1000", partial=True, currency="JPY")],
        {(SEC, JPM): Decimal(2), (CASH, "JPY"): Decimal(0)},
    )

    assert thirds == [settled("A", "-1", "33.33", LACK)]
    assert eighths == [settled("B", "-1", "0.02", LACK)]
    # 2/3 of JPY 1000 = 666.67 -> 667 (no minor units).
    assert yen == [settled("C", "-2", "667", LACK)]


def test_a_receipt_short_of_cash_fails_whole_even_where_partial_is_allowed() -> None:
    # T2S: partial settlement for lack of securities only. 66.67 would pay for 2 of 3.
    for indicator in (PART, PARQ, PARC):
        allocations, left = allocate(
            [candidate("A", "3", "-100.00", partial=indicator)], holdings(cash="66.67")
        )

        assert allocations == [settled("A", "0", "0", MONY)], indicator
        assert left == holdings(cash="66.67")


def test_short_of_both_is_lack_and_the_cash_there_still_caps_the_partial() -> None:
    # Deliver 10 and pay 100.00 (a negative consideration): 6 there would go, but 30.00 pays
    # for 3 (100.00 x 3/10 = 30.00).
    allocations, left = allocate(
        [candidate("A", "-10", "-100.00", partial=True)], holdings(securities="6", cash="30.00")
    )

    assert allocations == [settled("A", "-3", "-30.00", LACK)]
    assert left == holdings(securities="3", cash="0.00")


def test_the_last_part_settles_what_is_left_to_the_cent() -> None:
    # After 1 of 3 settled against 33.33 the remainder is 2 against 66.67, not 2 x 33.33.
    allocations, _ = allocate(
        [candidate("A", "-2", "66.67", partial=True)], holdings(securities="2")
    )

    assert allocations == [settled("A", "-2", "66.67")]


def test_a_cash_only_instruction_is_never_split() -> None:
    allocations, _ = allocate([candidate("A", "0", "-100.00", partial=True)], holdings(cash="60"))

    assert allocations == [settled("A", "0", "0", MONY)]


def test_a_partial_leaves_the_rest_for_the_next_in_line_to_fail() -> None:
    allocations, left = allocate(
        [
            candidate("A", "-60", "600.00", partial=True, unit="10"),
            candidate("B", "-20", "200.00"),
        ],
        holdings(securities="75"),
    )

    assert allocations == [settled("A", "-60", "600.00"), settled("B", "0", "0", LACK)]
    assert left == holdings(securities="15", cash="600.00")


# --- T2S partial indicators, thresholds and windows -------------------------------------------

# Deliver 1000 JPM in units of 100 against 19050.00 (19.05 each); what is there decides.
INDICATOR_TABLE = [
    # indicator, least quantity, least cash, securities there, settled quantity, amount
    pytest.param(NPAR, None, None, "950", "0", "0", id="NPAR-never"),
    pytest.param(PART, "10000", "1000000", "950", "-900", "17145.00", id="PART-no-threshold"),
    pytest.param(PARQ, None, None, "150", "-100", "1905.00", id="PARQ-no-threshold-one-unit"),
    pytest.param(PARQ, "500", None, "650", "-600", "11430.00", id="PARQ-above"),
    pytest.param(PARQ, "500", None, "500", "-500", "9525.00", id="PARQ-at-the-threshold"),
    pytest.param(PARQ, "500", None, "499", "0", "0", id="PARQ-below-after-whole-units"),
    pytest.param(PARQ, "500", "1000000", "650", "-600", "11430.00", id="PARQ-ignores-cash"),
    pytest.param(PARC, None, None, "150", "-100", "1905.00", id="PARC-no-threshold-for-USD"),
    pytest.param(PARC, None, "10000.00", "650", "-600", "11430.00", id="PARC-above"),
    pytest.param(PARC, None, "9525.00", "500", "-500", "9525.00", id="PARC-at-the-threshold"),
    pytest.param(PARC, None, "9525.01", "599", "0", "0", id="PARC-below"),
    pytest.param(PARC, "10000", "100.00", "150", "-100", "1905.00", id="PARC-ignores-quantity"),
]


@pytest.mark.parametrize(
    ("indicator", "least_quantity", "least_cash", "there", "quantity", "amount"), INDICATOR_TABLE
)
def test_each_indicator_settles_in_part_only_as_far_as_its_threshold_allows(
    indicator: PartialIndicator,
    least_quantity: str | None,
    least_cash: str | None,
    there: str,
    quantity: str,
    amount: str,
) -> None:
    delivery = candidate(
        "A",
        "-1000",
        "19050.00",
        partial=indicator,
        unit="100",
        least_quantity=least_quantity,
        least_cash=least_cash,
    )

    allocations, _ = allocate([delivery], holdings(securities=there))

    assert allocations == [settled("A", quantity, amount, LACK)]


def test_outside_a_partial_settlement_window_a_shortfall_fails_whole() -> None:
    inside, _ = allocate(
        [candidate("A", "-1000", "19050.00", partial=True, unit="100")], holdings(securities="950")
    )
    outside, left = allocate(
        [candidate("A", "-1000", "19050.00", partial=True, unit="100", in_window=False)],
        holdings(securities="950"),
    )

    assert inside == [settled("A", "-900", "17145.00", LACK)]
    assert outside == [settled("A", "0", "0", LACK)]
    assert left == holdings(securities="950")


def test_a_free_delivery_under_a_cash_threshold_settles_nothing_in_part() -> None:
    # Free of payment the partial's cash is 0.00: below any threshold, and with none it goes.
    with_threshold, _ = allocate(
        [candidate("A", "-10", "0", partial=PARC, least_cash="0.01")], holdings(securities="6")
    )
    without, _ = allocate([candidate("A", "-10", "0", partial=PARC)], holdings(securities="6"))

    assert with_threshold == [settled("A", "0", "0", LACK)]
    assert without == [settled("A", "-6", "0", LACK)]


def test_a_partial_held_back_by_its_threshold_leaves_the_securities_to_the_next() -> None:
    allocations, left = allocate(
        [
            candidate("A", "-100", "1000.00", partial=PARQ, least_quantity="80"),
            candidate("B", "-50", "500.00"),
        ],
        holdings(securities="60"),
    )

    assert allocations == [settled("A", "0", "0", LACK), settled("B", "-50", "500.00")]
    assert left == holdings(securities="10", cash="500.00")


# --- Properties ---------------------------------------------------------------------------------

ACCOUNTS = ("SEC-1", "SEC-2")
ISINS = ("ISIN-A", "ISIN-B")
units = st.sampled_from([Decimal(1), Decimal(10), Decimal(100)])


@st.composite
def candidates(draw: st.DrawFn, number: int) -> Candidate:
    unit = draw(units)
    quantity = draw(st.integers(min_value=-50, max_value=50)) * unit
    amount = Decimal(draw(st.integers(min_value=-(10**6), max_value=10**6))).scaleb(-2)
    return Candidate(
        instruction_id=f"I{number}",
        securities_account=draw(st.sampled_from(ACCOUNTS)),
        cash_account="CASH",
        isin=draw(st.sampled_from(ISINS)),
        currency="EUR",
        quantity=quantity,
        amount=amount,
        settlement_unit=unit,
        partial=draw(st.sampled_from(PartialIndicator)),
        partial_quantity_threshold=draw(st.none() | st.integers(1, 3000).map(Decimal)),
        partial_cash_threshold=draw(st.none() | st.decimals("0.01", "5000.00", places=2)),
        in_partial_window=draw(st.booleans()),
    )


@st.composite
def runs(draw: st.DrawFn) -> tuple[list[Candidate], dict[tuple[str, str], Decimal]]:
    count = draw(st.integers(min_value=0, max_value=12))
    listed = [draw(candidates(number)) for number in range(count)]
    available = {
        (account, isin): Decimal(draw(st.integers(min_value=0, max_value=3000)))
        for account in ACCOUNTS
        for isin in ISINS
    }
    available["CASH", "EUR"] = Decimal(draw(st.integers(min_value=0, max_value=10**7))).scaleb(-2)
    return listed, available


@given(runs())
def test_allocation_properties(run: tuple[list[Candidate], dict[tuple[str, str], Decimal]]) -> None:
    listed, available = run

    allocations, left = allocate(listed, available)

    assert [a.instruction_id for a in allocations] == [c.instruction_id for c in listed]
    for holding, start in available.items():
        moved = sum(
            (
                a.quantity if holding == c.securities else a.amount if holding == c.cash else 0
                for c, a in zip(listed, allocations, strict=True)
            ),
            Decimal(0),
        )
        # What is left is what was there plus what moved, and never below zero.
        assert left[holding] == start + moved
        assert left[holding] >= 0
    for c, a in zip(listed, allocations, strict=True):
        full = (a.quantity, a.amount) == (c.quantity, c.amount)
        assert full == (a.fail_reason is None)
        if a.fail_reason is FailReason.MONY:
            # Never partial for lack of cash alone.
            assert a.quantity == 0
            assert a.amount == 0
        if not full and (a.quantity or a.amount):
            # A partial: for lack of securities, allowed by its indicator, in a window; same
            # direction, fewer whole units, cash pro rata to the cent; thresholds respected.
            assert a.fail_reason is FailReason.LACK
            assert c.partial is not PartialIndicator.NPAR
            assert c.in_partial_window
            assert abs(a.quantity) < abs(c.quantity)
            assert a.quantity * c.quantity > 0
            assert a.quantity % c.settlement_unit == 0
            exact = c.amount * a.quantity / c.quantity
            assert abs(a.amount - exact) <= Decimal("0.005")
            least_quantity, least_cash = c.partial_quantity_threshold, c.partial_cash_threshold
            if c.partial is PartialIndicator.PARQ and least_quantity is not None:
                assert abs(a.quantity) >= least_quantity
            if c.partial is PartialIndicator.PARC and least_cash is not None:
                assert abs(a.amount) >= least_cash
