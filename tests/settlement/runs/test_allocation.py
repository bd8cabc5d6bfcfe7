"""The allocation of a settlement run, with hand-computed expectations and properties."""

from decimal import Decimal

from hypothesis import given
from hypothesis import strategies as st

from app.settlement.runs.allocation import Allocation, Candidate, FailReason, allocate

JPM = "US46625H1005"
BUND = "DE0001102614"
SEC = "SEC-DTC"
CASH = "CASH-USD"
LACK, MONY = FailReason.LACK, FailReason.MONY


def candidate(
    instruction_id: str,
    quantity: str,
    amount: str,
    *,
    partial: bool = False,
    unit: str = "1",
    isin: str = JPM,
    currency: str = "USD",
) -> Candidate:
    return Candidate(
        instruction_id=instruction_id,
        securities_account=SEC,
        cash_account=CASH,
        isin=isin,
        currency=currency,
        quantity=Decimal(quantity),
        amount=Decimal(amount),
        partial_allowed=partial,
        settlement_unit=Decimal(unit),
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


def test_a_receipt_short_of_cash_settles_the_units_the_cash_pays_for() -> None:
    # Receive 3 against 100.00; 66.67 pays for 2 (66.666... -> 66.67), 66.66 only for 1.
    enough_for_two, left = allocate(
        [candidate("A", "3", "-100.00", partial=True)], holdings(cash="66.67")
    )
    enough_for_one, _ = allocate(
        [candidate("A", "3", "-100.00", partial=True)], holdings(cash="66.66")
    )

    assert enough_for_two == [settled("A", "2", "-66.67", MONY)]
    assert left == holdings(securities="2", cash="0.00")
    assert enough_for_one == [settled("A", "1", "-33.33", MONY)]


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
        partial_allowed=draw(st.booleans()),
        settlement_unit=unit,
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
        if not full and (a.quantity or a.amount):
            # A partial: same direction, fewer whole units, cash pro rata to the cent.
            assert c.partial_allowed
            assert abs(a.quantity) < abs(c.quantity)
            assert a.quantity * c.quantity > 0
            assert a.quantity % c.settlement_unit == 0
            exact = c.amount * a.quantity / c.quantity
            assert abs(a.amount - exact) <= Decimal("0.005")
