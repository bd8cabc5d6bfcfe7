"""Average cost and realised P&L (app.positions.costing) and the lines of an entry
(app.positions.journal.entries, app.positions.bookings.lines), pure: every expected value is
hand arithmetic, written next to it.

Values are compared as strings where the scale matters (a released cost rounded to the cent is
"50.02", an average cost is quantized to 8 places), so a lost or extra digit fails too.
"""

from dataclasses import replace
from datetime import UTC, date, datetime
from decimal import Decimal

import pytest

from app.positions.bookings.lines import (
    Direction,
    SettlementMovement,
    TradeEconomics,
    settlement_lines,
    trade_lines,
)
from app.positions.bookings.service import _costed, draft_trades
from app.positions.costing import Holding, average_cost, trade_effect
from app.positions.journal.entries import Line, accounting_date, imbalances
from tests.factories import BUND, DEUTSCHE, GOLDMAN, JPM

ONE = Decimal(1)
PERCENT = Decimal("0.01")


def exact(holding: Holding) -> tuple[str, str, str]:
    return (str(holding.quantity), str(holding.cost), str(holding.realized_pnl))


def trade(
    holding: Holding, quantity: str, principal: str, currency: str = "USD"
) -> tuple[Holding, Holding]:
    """The trade's effect, and the holding after it."""
    effect = trade_effect(
        holding, quantity=Decimal(quantity), principal=Decimal(principal), currency=currency
    )
    return effect, holding + effect


def holding(quantity: str, cost: str, realized_pnl: str = "0") -> Holding:
    return Holding(Decimal(quantity), Decimal(cost), Decimal(realized_pnl))


# Weighted average cost ---------------------------------------------------------------------------


def test_buys_at_different_prices_average_their_cost() -> None:
    # Buy 100 @ 10.00 = 1000.00 from flat: the position opens at that cost, nothing realised.
    effect, after = trade(Holding(), "100", "1000.00")
    assert exact(effect) == ("100", "1000.00", "0")
    # Buy 50 @ 13.00 = 650.00 on the same side: cost 1000.00 + 650.00 = 1650.00.
    effect, after = trade(after, "50", "650.00")
    assert exact(effect) == ("50", "650.00", "0")
    assert exact(after) == ("150", "1650.00", "0")
    # Average 1650.00 / 150 = 11, quantized to 8 places.
    assert str(average_cost(after, price_factor=ONE)) == "11.00000000"


def test_an_average_that_does_not_terminate_is_quantized_to_eight_places() -> None:
    # 100.00 / 3 = 33.333333333... -> 33.33333333 (8 places).
    assert str(average_cost(holding("3", "100.00"), price_factor=ONE)) == "33.33333333"


def test_a_partial_sell_releases_its_share_of_the_cost_rounded_to_the_cent() -> None:
    # Long 3 at a cost of 100.00. Sell 1 for 40.00:
    # released = 100.00 x 1 / 3 = 33.333... -> 33.33; realised = 40.00 - 33.33 = 6.67.
    effect, after = trade(holding("3", "100.00"), "-1", "40.00")
    assert exact(effect) == ("-1", "-33.33", "6.67")
    # Left: 2 at 100.00 - 33.33 = 66.67, average 66.67 / 2 = 33.335.
    assert exact(after) == ("2", "66.67", "6.67")
    assert str(average_cost(after, price_factor=ONE)) == "33.33500000"


@pytest.mark.parametrize(
    ("cost", "released", "realized", "left"),
    [
        # 100.05 / 2 = 50.025: half-even keeps the even cent 50.02 (half-up would give 50.03);
        # realised 51.00 - 50.02 = 0.98; left 100.05 - 50.02 = 50.03.
        ("100.05", "-50.02", "0.98", "50.03"),
        # 100.07 / 2 = 50.035: half-even goes up to the even cent 50.04 (half-down: 50.03);
        # realised 51.00 - 50.04 = 0.96; left 100.07 - 50.04 = 50.03.
        ("100.07", "-50.04", "0.96", "50.03"),
    ],
)
def test_a_released_cost_exactly_half_a_cent_rounds_half_even(
    cost: str, released: str, realized: str, left: str
) -> None:
    # Long 2, sell 1 for 51.00.
    effect, after = trade(holding("2", cost), "-1", "51.00")
    assert exact(effect) == ("-1", released, realized)
    assert exact(after) == ("1", left, realized)


def test_a_sell_to_flat_releases_the_whole_cost_and_leaves_no_average() -> None:
    # Long 2 at 100.05; sell 1 for 51.00: released 50.02 (half-even), realised 0.98.
    _, after = trade(holding("2", "100.05"), "-1", "51.00")
    # Sell the last 1 for 49.00: the whole remaining cost 50.03 is released, not a rounded share;
    # realised 49.00 - 50.03 = -1.03, total 0.98 - 1.03 = -0.05 = (51.00 + 49.00) - 100.05.
    effect, after = trade(after, "-1", "49.00")
    assert exact(effect) == ("-1", "-50.03", "-1.03")
    assert exact(after) == ("0", "0.00", "-0.05")
    assert average_cost(after, price_factor=ONE) is None


def test_a_short_from_flat_then_bought_back_in_part_and_in_full_realises_its_pnl() -> None:
    # Sell 10 @ 50.00 = 500.00 from flat: short 10, cost basis -500.00 (received), average 50.
    effect, after = trade(Holding(), "-10", "500.00")
    assert exact(effect) == ("-10", "-500.00", "0")
    assert str(average_cost(after, price_factor=ONE)) == "50.00000000"
    # Buy back 4 @ 45.00 = 180.00: released -500.00 x 4 / 10 = -200.00;
    # realised = 200.00 received - 180.00 paid = 20.00; cost delta +200.00.
    effect, after = trade(after, "4", "180.00")
    assert exact(effect) == ("4", "200.00", "20.00")
    assert exact(after) == ("-6", "-300.00", "20.00")
    assert str(average_cost(after, price_factor=ONE)) == "50.00000000"
    # Buy back the last 6 @ 55.00 = 330.00: the whole -300.00 is released;
    # realised = 300.00 - 330.00 = -30.00; in all 500.00 - (180.00 + 330.00) = -10.00.
    effect, after = trade(after, "6", "330.00")
    assert exact(effect) == ("6", "300.00", "-30.00")
    assert exact(after) == ("0", "0.00", "-10.00")
    assert average_cost(after, price_factor=ONE) is None


def test_a_trade_through_zero_closes_the_long_and_opens_a_short_at_the_trade_price() -> None:
    # Long 10 @ 100.00 (cost 1000.00). Sell 15 @ 120.00 = 1800.00:
    # closing part 1800.00 x 10 / 15 = 1200.00 realises 1200.00 - 1000.00 = 200.00;
    # opening part 1800.00 - 1200.00 = 600.00 is the short's cost basis (-600.00);
    # cost delta = -600.00 - 1000.00 = -1600.00.
    effect, after = trade(holding("10", "1000.00"), "-15", "1800.00")
    assert exact(effect) == ("-15", "-1600.00", "200.00")
    assert exact(after) == ("-5", "-600.00", "200.00")
    # Short 5 at -600.00 / -5 = 120.
    assert str(average_cost(after, price_factor=ONE)) == "120.00000000"


def test_a_buy_through_zero_closes_the_short_and_opens_a_long() -> None:
    # Short 4 received 200.00 (cost -200.00). Buy 6 for 330.00 (55.00 each):
    # closing part 330.00 x 4 / 6 = 220.00 realises 200.00 - 220.00 = -20.00;
    # opening part 330.00 - 220.00 = 110.00; cost delta 110.00 + 200.00 = 310.00.
    effect, after = trade(holding("-4", "-200.00"), "6", "330.00")
    assert exact(effect) == ("6", "310.00", "-20.00")
    assert exact(after) == ("2", "110.00", "-20.00")
    assert str(average_cost(after, price_factor=ONE)) == "55.00000000"


def test_a_bond_priced_in_percent_averages_in_percent_of_nominal() -> None:
    # Nominal 1,000,000 at 98.50 % = 1,000,000 x 98.50 / 100 = 985000.00 EUR.
    effect, after = trade(Holding(), "1000000", "985000.00", "EUR")
    assert exact(after) == ("1000000", "985000.00", "0")
    # Average 985000.00 / (1,000,000 x 0.01) = 98.5, quantized to 8 places.
    assert str(average_cost(after, price_factor=PERCENT)) == "98.50000000"
    # Sell 400,000 at 99.00 % = 396000.00: released 985000.00 x 0.4 = 394000.00,
    # realised 396000.00 - 394000.00 = 2000.00; the rest still averages 98.50.
    effect, after = trade(after, "-400000", "396000.00", "EUR")
    assert exact(effect) == ("-400000", "-394000.00", "2000.00")
    assert exact(after) == ("600000", "591000.00", "2000.00")
    assert str(average_cost(after, price_factor=PERCENT)) == "98.50000000"


def test_yen_amounts_round_to_whole_yen() -> None:
    # JPY has no minor units. Long 3 at 1000; sell 1 for 400:
    # released 1000 / 3 = 333.33... -> 333; realised 400 - 333 = 67; left 667.
    effect, after = trade(holding("3", "1000"), "-1", "400", "JPY")
    assert exact(effect) == ("-1", "-333", "67")
    assert exact(after) == ("2", "667", "67")


@pytest.mark.parametrize(
    ("cost", "released"),
    [
        ("1001", "-500"),  # 1001 / 2 = 500.5 -> 500 (even)
        ("1003", "-502"),  # 1003 / 2 = 501.5 -> 502 (even)
    ],
)
def test_yen_halves_round_to_the_even_yen(cost: str, released: str) -> None:
    effect, _ = trade(holding("2", cost), "-1", "600", "JPY")
    assert exact(effect)[1] == released


def test_yen_through_zero_splits_the_principal_in_whole_yen() -> None:
    # Long 2 at 1000; sell 3 for 1000: closing part 1000 x 2 / 3 = 666.67 -> 667 realises
    # 667 - 1000 = -333; opening part 1000 - 667 = 333 (cost -333); cost delta -333 - 1000.
    effect, after = trade(holding("2", "1000"), "-3", "1000", "JPY")
    assert exact(effect) == ("-3", "-1333", "-333")
    assert exact(after) == ("-1", "-333", "-333")


def test_a_zero_quantity_is_refused() -> None:
    with pytest.raises(ValueError, match="a trade moves a non-zero quantity"):
        trade_effect(
            holding("10", "1000.00"), quantity=Decimal(0), principal=Decimal("0.00"), currency="USD"
        )


# Trade lines -------------------------------------------------------------------------------------


def jpm_trade(side: str, *, net: str) -> TradeEconomics:
    # 100 JPM @ 189.25 = 18925.00 gross, commission 1.50, fees 0.02.
    return TradeEconomics(
        trade_id="trd_1",
        book="EQ-FLOW",
        counterparty_lei=GOLDMAN,
        isin=JPM,
        side=side,
        quantity=Decimal("100"),
        currency="USD",
        trade_date=date(2026, 11, 24),
        trade_time=datetime(2026, 11, 24, 15, 30, tzinfo=UTC),
        gross_amount=Decimal("18925.00"),
        commission=Decimal("1.50"),
        fees=Decimal("0.02"),
        accrued_interest=None,
        net_amount=Decimal(net),
    )


def bund_trade(side: str) -> TradeEconomics:
    # Nominal 1,000,000 @ 98.50 % = 985000.00 gross, accrued interest 4931.51, no charges:
    # net = 985000.00 + 4931.51 = 989931.51 both ways (a seller is paid the accrued interest).
    return TradeEconomics(
        trade_id="trd_2",
        book="FI-RATES",
        counterparty_lei=DEUTSCHE,
        isin=BUND,
        side=side,
        quantity=Decimal("1000000"),
        currency="EUR",
        trade_date=date(2026, 11, 24),
        trade_time=datetime(2026, 11, 24, 15, 30, tzinfo=UTC),
        gross_amount=Decimal("985000.00"),
        commission=Decimal("0"),
        fees=Decimal("0"),
        accrued_interest=Decimal("4931.51"),
        net_amount=Decimal("989931.51"),
    )


def sums(lines: tuple[Line, ...]) -> dict[str, Decimal]:
    totals: dict[str, Decimal] = {}
    for line in lines:
        totals[line.asset] = totals.get(line.asset, Decimal(0)) + line.amount
    return totals


def test_an_equity_buy_posts_position_cash_commission_and_fees_summing_to_zero() -> None:
    # Net = 18925.00 + 1.50 + 0.02 = 18926.52.
    lines = trade_lines(jpm_trade("buy", net="18926.52"))
    assert lines == (
        Line("book:EQ-FLOW", JPM, Decimal("-100")),
        Line(f"counterparty:{GOLDMAN}", JPM, Decimal("100")),
        Line(f"counterparty:{GOLDMAN}", "USD", Decimal("-18926.52")),
        Line("book:EQ-FLOW", "USD", Decimal("18925.00")),
        Line("commission", "USD", Decimal("1.50")),
        Line("fees", "USD", Decimal("0.02")),
    )
    # JPM: -100 + 100 = 0; USD: -18926.52 + 18925.00 + 1.50 + 0.02 = 0.
    assert sums(lines) == {JPM: Decimal(0), "USD": Decimal(0)}
    assert imbalances(lines) == {}


def test_an_equity_sell_flips_all_but_commission_and_fees() -> None:
    # Net = 18925.00 - 1.50 - 0.02 = 18923.48.
    lines = trade_lines(jpm_trade("sell", net="18923.48"))
    assert lines == (
        Line("book:EQ-FLOW", JPM, Decimal("100")),
        Line(f"counterparty:{GOLDMAN}", JPM, Decimal("-100")),
        Line(f"counterparty:{GOLDMAN}", "USD", Decimal("18923.48")),
        Line("book:EQ-FLOW", "USD", Decimal("-18925.00")),
        Line("commission", "USD", Decimal("1.50")),
        Line("fees", "USD", Decimal("0.02")),
    )
    # USD: 18923.48 - 18925.00 + 1.50 + 0.02 = 0.
    assert sums(lines) == {JPM: Decimal(0), "USD": Decimal(0)}
    assert imbalances(lines) == {}


def test_a_bond_buy_posts_accrued_interest_and_drops_zero_charges() -> None:
    lines = trade_lines(bund_trade("buy"))
    assert lines == (
        Line("book:FI-RATES", BUND, Decimal("-1000000")),
        Line(f"counterparty:{DEUTSCHE}", BUND, Decimal("1000000")),
        Line(f"counterparty:{DEUTSCHE}", "EUR", Decimal("-989931.51")),
        Line("book:FI-RATES", "EUR", Decimal("985000.00")),
        Line("accrued-interest", "EUR", Decimal("4931.51")),
    )
    # EUR: -989931.51 + 985000.00 + 4931.51 = 0.
    assert sums(lines) == {BUND: Decimal(0), "EUR": Decimal(0)}


def test_a_bond_sell_receives_the_accrued_interest() -> None:
    lines = trade_lines(bund_trade("sell"))
    assert lines == (
        Line("book:FI-RATES", BUND, Decimal("1000000")),
        Line(f"counterparty:{DEUTSCHE}", BUND, Decimal("-1000000")),
        Line(f"counterparty:{DEUTSCHE}", "EUR", Decimal("989931.51")),
        Line("book:FI-RATES", "EUR", Decimal("-985000.00")),
        Line("accrued-interest", "EUR", Decimal("-4931.51")),
    )
    # EUR: 989931.51 - 985000.00 - 4931.51 = 0.
    assert sums(lines) == {BUND: Decimal(0), "EUR": Decimal(0)}


def test_a_net_amount_that_does_not_add_up_shows_as_an_imbalance() -> None:
    # A net of 18926.50 instead of 18926.52: USD -18926.50 + 18925.00 + 1.52 = +0.02.
    lines = trade_lines(jpm_trade("buy", net="18926.50"))
    assert imbalances(lines) == {"USD": Decimal("0.02")}


def test_imbalances_name_every_asset_off_and_only_those() -> None:
    lines = [
        Line("cash:CASH-USD", "USD", Decimal("100.00")),
        Line("opening-equity", "USD", Decimal("-100.00")),
        Line("cash:CASH-EUR", "EUR", Decimal("50.00")),
        Line("opening-equity", "EUR", Decimal("-49.99")),
        Line("securities:SEC-DTC", JPM, Decimal("-10")),
    ]
    # USD: 100.00 - 100.00 = 0 (left out); EUR: 50.00 - 49.99 = 0.01; JPM: -10.
    assert imbalances(lines) == {"EUR": Decimal("0.01"), JPM: Decimal("-10")}
    assert imbalances([]) == {}


# Settlement lines --------------------------------------------------------------------------------


def movement(direction: Direction, *, quantity: str = "100") -> SettlementMovement:
    return SettlementMovement(
        reference="ins_1",
        counterparty=GOLDMAN,
        direction=direction,
        isin=JPM,
        quantity=Decimal(quantity),
        currency="USD",
        amount=Decimal("18926.52"),
        securities_account="SEC-DTC",
        cash_account="CASH-USD",
        settlement_date=date(2026, 11, 25),
    )


def test_a_receipt_moves_securities_in_and_cash_out_of_our_accounts() -> None:
    assert settlement_lines(movement(Direction.RECEIVE)) == (
        Line("securities:SEC-DTC", JPM, Decimal("100")),
        Line(f"counterparty:{GOLDMAN}", JPM, Decimal("-100")),
        Line("cash:CASH-USD", "USD", Decimal("-18926.52")),
        Line(f"counterparty:{GOLDMAN}", "USD", Decimal("18926.52")),
    )


def test_a_delivery_moves_securities_out_and_cash_in() -> None:
    assert settlement_lines(movement(Direction.DELIVER)) == (
        Line("securities:SEC-DTC", JPM, Decimal("-100")),
        Line(f"counterparty:{GOLDMAN}", JPM, Decimal("100")),
        Line("cash:CASH-USD", "USD", Decimal("18926.52")),
        Line(f"counterparty:{GOLDMAN}", "USD", Decimal("-18926.52")),
    )


def test_a_cash_only_settlement_posts_no_securities_lines() -> None:
    assert settlement_lines(movement(Direction.RECEIVE, quantity="0")) == (
        Line("cash:CASH-USD", "USD", Decimal("-18926.52")),
        Line(f"counterparty:{GOLDMAN}", "USD", Decimal("18926.52")),
    )


# Accounting date ---------------------------------------------------------------------------------

NOW = datetime(2026, 11, 25, 15, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("value_date", "now", "not_before", "expected"),
    [
        # A value date today counts today.
        (date(2026, 11, 25), NOW, None, date(2026, 11, 25)),
        # A late booking (yesterday's value date) counts today: yesterday's answer never moves.
        (date(2026, 11, 24), NOW, None, date(2026, 11, 25)),
        # A value date ahead of today (a venue whose day has begun) counts on that day.
        (date(2026, 11, 26), NOW, None, date(2026, 11, 26)),
        # Today is the UTC date of now: at 23:30 UTC it is still the 25th.
        (date(2026, 11, 24), datetime(2026, 11, 25, 23, 30, tzinfo=UTC), None, date(2026, 11, 25)),
        # A reversal never counts before the day of the entry it reverses.
        (date(2026, 11, 24), NOW, date(2026, 11, 26), date(2026, 11, 26)),
        # ... but not_before earlier than both changes nothing.
        (date(2026, 11, 24), NOW, date(2026, 11, 20), date(2026, 11, 25)),
    ],
)
def test_the_accounting_date_is_the_latest_of_value_date_today_and_not_before(
    value_date: date, now: datetime, not_before: date | None, expected: date
) -> None:
    assert accounting_date(value_date, now, not_before) == expected


@pytest.mark.parametrize(
    ("side", "net", "quantity", "cost", "realized_pnl"),
    [
        ("buy", "18926.52", "100", "18925.00", "0"),  # opens a position: cost, nothing realised
        ("sell", "18923.48", "100", "-9000.00", "9925.00"),  # closes one at a gain
        ("sell", "18923.48", "100", "0", "0"),  # costed at zero: the line carries the zeros
        ("buy", "1.52", "0", "0", "0"),  # no quantity, nothing costed: no securities line
        ("buy", "1.52", "0", "0", "-3.10"),  # no quantity, a P&L: the securities line is kept
    ],
)
def test_a_drafted_trade_costed_under_the_lock_has_the_lines_trade_lines_gives(
    side: str, net: str, quantity: str, cost: str, realized_pnl: str
) -> None:
    economics = replace(jpm_trade(side, net=net), quantity=Decimal(quantity))
    if quantity == "0":
        economics = replace(economics, gross_amount=Decimal(0))
    (drafted,) = draft_trades([economics])
    expected = trade_lines(economics, cost=Decimal(cost), realized_pnl=Decimal(realized_pnl))
    costed = _costed(drafted, cost=Decimal(cost), realized_pnl=Decimal(realized_pnl))
    assert costed == expected
    # The securities line is there unless it would move and carry nothing.
    assert (costed[0].asset == JPM) is (quantity != "0" or realized_pnl != "0")
