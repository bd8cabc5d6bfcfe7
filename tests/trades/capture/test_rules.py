"""Booking rules (app.trades.capture.rules.evaluate), pure: reference rows built by hand, no
database.

Calendars used below (the ``holidays`` package's financial calendars):
- XNYS trading, XNYS + FED settlement: Thanksgiving Thu 2026-11-26 (both closed), Veterans Day
  Wed 2026-11-11 (NYSE trades, the Fed and so DTC are closed).
- XPAR trading, XECB (TARGET) settlement: no holiday in the weeks used here.
"""

from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest

from app.core.errors import FieldProblem
from app.reference import demo_data
from app.reference.values import InstrumentRef, MarketRef, ReferenceSet
from app.trades.capture.rules import CLOCK_SKEW, Booking, TradeTerms, evaluate
from tests.factories import BUND, DEUTSCHE, GOLDMAN, JPM, TOTAL

NOW = datetime(2026, 11, 25, 15, 0, tzinfo=UTC)  # Wednesday 10:00 in New York


def _market(mic: str) -> MarketRef:
    row = {
        "internal_settlement": False,
        "locked_in": False,
        # The columns' defaults, for the demo markets that leave them out.
        "settlement_mode": "internal",
        "message_format": "iso20022",
        **next(m for m in demo_data.MARKETS if m["mic"] == mic),
    }
    for name in ("settlement_calendars", "settlement_cycle_days"):
        row[name] = tuple(row[name])
    return MarketRef(**row)


def _instrument(isin: str, **overrides: Any) -> InstrumentRef:
    row = {
        "settlement_cycle_days": None,
        **next(i for i in demo_data.INSTRUMENTS if i["isin"] == isin),
        **overrides,
    }
    for name in ("settlement_unit", "coupon_rate"):
        if isinstance(row[name], str):
            row[name] = Decimal(row[name])
    for name in ("issue_date", "maturity_date"):
        if isinstance(row[name], str):
            row[name] = date.fromisoformat(row[name])
    if row["settlement_cycle_days"] is not None:
        row["settlement_cycle_days"] = tuple(row["settlement_cycle_days"])
    return InstrumentRef(**row)


def reference(
    *instruments: InstrumentRef, closed_days: dict[str, list[date]] | None = None
) -> ReferenceSet:
    """The demo markets, books and counterparties; JPM, TotalEnergies and the Bund by default."""
    chosen = instruments or (_instrument(JPM), _instrument(TOTAL), _instrument(BUND))
    return ReferenceSet(
        instruments={i.isin: i for i in chosen},
        markets={m["mic"]: _market(m["mic"]) for m in demo_data.MARKETS},
        books={b["code"] for b in demo_data.BOOKS},
        counterparties={c["lei"] for c in demo_data.COUNTERPARTIES},
        closed_days=closed_days or {},
    )


def jpm_terms(**overrides: Any) -> TradeTerms:
    """Buy 100 JPM @ 189.25 on XNYS, traded Tuesday 2026-11-24."""
    terms = TradeTerms(
        book="EQ-FLOW",
        counterparty_lei=GOLDMAN,
        isin=JPM,
        side="buy",
        quantity=Decimal("100"),
        price=Decimal("189.25"),
        currency="USD",
        trade_date=date(2026, 11, 24),
        trade_time=datetime(2026, 11, 24, 14, 31, 5, tzinfo=UTC),
        venue="XNYS",
        settlement_date=None,
        commission=Decimal("1.50"),
        fees=Decimal("0.02"),
        accrued_interest=None,
    )
    return replace(terms, **overrides)


def total_terms(**overrides: Any) -> TradeTerms:
    """Sell 200 TotalEnergies @ 61.40 on XPAR."""
    return jpm_terms(
        **{
            "counterparty_lei": DEUTSCHE,
            "isin": TOTAL,
            "side": "sell",
            "quantity": Decimal("200"),
            "price": Decimal("61.40"),
            "currency": "EUR",
            "venue": "XPAR",
            **overrides,
        }
    )


def bund_terms(**overrides: Any) -> TradeTerms:
    """Buy EUR 1,000,000 nominal of the 1.80 % Bund 2053 @ 78.50, off-venue (XOFF)."""
    return jpm_terms(
        **{
            "book": "FI-RATES",
            "counterparty_lei": DEUTSCHE,
            "isin": BUND,
            "quantity": Decimal("1000000"),
            "price": Decimal("78.50"),
            "currency": "EUR",
            "venue": "XOFF",
            "trade_time": datetime(2026, 11, 24, 10, 0, tzinfo=UTC),
            "commission": Decimal("0"),
            "fees": Decimal("0"),
            **overrides,
        }
    )


def booked(terms: TradeTerms, ref: ReferenceSet | None = None, *, now: datetime = NOW) -> Booking:
    outcome = evaluate(terms, ref or reference(), now=now)
    assert isinstance(outcome, Booking), outcome
    return outcome


def refused(
    terms: TradeTerms, ref: ReferenceSet | None = None, *, now: datetime = NOW
) -> list[FieldProblem]:
    outcome = evaluate(terms, ref or reference(), now=now)
    assert isinstance(outcome, list), outcome
    return outcome


def only_problem(problems: list[FieldProblem], field: str) -> str:
    """The one problem's message, after checking it names ``field``."""
    assert [p.field for p in problems] == [field], problems
    return problems[0].message


# Settlement dates ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("trade_date", "expected"),
    [
        # Tue -> Wed: T+1.
        (date(2026, 11, 24), date(2026, 11, 25)),
        # Wed -> Thu 26 is Thanksgiving (NYSE and Fed closed) -> Fri 27.
        (date(2026, 11, 25), date(2026, 11, 27)),
        # Fri -> Sat, Sun are not business days -> Mon 9.
        (date(2026, 11, 6), date(2026, 11, 9)),
        # Tue -> Wed 11 is Veterans Day: NYSE trades but the Fed (DTC) is closed -> Thu 12.
        (date(2026, 11, 10), date(2026, 11, 12)),
        # Veterans Day itself is a trading day at NYSE, settling the next Fed business day.
        (date(2026, 11, 11), date(2026, 11, 12)),
    ],
)
def test_xnys_settles_t_plus_1_on_the_nyse_and_fed_calendars(
    trade_date: date, expected: date
) -> None:
    trade_time = datetime.combine(trade_date, datetime.min.time(), UTC) + timedelta(hours=15)
    booking = booked(jpm_terms(trade_date=trade_date, trade_time=trade_time))
    assert booking.settlement_date == expected


# EU markets are T+2 (data step from 2014-10-06) until the T+1 step on 2027-10-11.
_AFTER_SWITCH = datetime(2027, 10, 12, 12, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("trade_date", "expected"),
    [
        # Fri 2027-10-08, still T+2: Mon 11, Tue 12.
        (date(2027, 10, 8), date(2027, 10, 12)),
        # Mon 2027-10-11, the first T+1 trade date: Tue 12.
        (date(2027, 10, 11), date(2027, 10, 12)),
        # Wed 2026-11-25, T+2: Thu 26 (TARGET is open on US Thanksgiving), Fri 27.
        (date(2026, 11, 25), date(2026, 11, 27)),
    ],
)
def test_xpar_cycle_switches_from_t_plus_2_to_t_plus_1_on_2027_10_11(
    trade_date: date, expected: date
) -> None:
    trade_time = datetime.combine(trade_date, datetime.min.time(), UTC) + timedelta(hours=9)
    booking = booked(total_terms(trade_date=trade_date, trade_time=trade_time), now=_AFTER_SWITCH)
    assert booking.settlement_date == expected


def test_instrument_cycle_overrides_the_market_cycle() -> None:
    slow_jpm = _instrument(JPM, settlement_cycle_days=[{"from": "2000-01-01", "days": 3}])
    # T+3 from Tue 2026-11-24: Wed 25 (1), Thu 26 Thanksgiving skipped, Fri 27 (2), Mon 30 (3).
    booking = booked(jpm_terms(), reference(slow_jpm))
    assert booking.settlement_date == date(2026, 11, 30)


def test_instrument_cycle_with_no_step_in_force_refuses_the_trade_date() -> None:
    late_jpm = _instrument(JPM, settlement_cycle_days=[{"from": "2027-01-01", "days": 1}])
    message = only_problem(refused(jpm_terms(), reference(late_jpm)), "trade_date")
    assert message == "no settlement cycle is in force at XNYS on that date"


def test_closed_day_added_as_data_is_skipped_for_settlement() -> None:
    closed = reference(closed_days={"XNYS": [date(2026, 11, 25)]})
    # Tue 24 -> Wed 25 closed (data) -> Thu 26 Thanksgiving -> Fri 27.
    assert booked(jpm_terms(), closed).settlement_date == date(2026, 11, 27)


def test_closed_day_added_as_data_refuses_trading_that_day() -> None:
    closed = reference(closed_days={"XNYS": [date(2026, 11, 24)]})
    message = only_problem(refused(jpm_terms(), closed), "trade_date")
    assert message == "2026-11-24 is not a trading day at XNYS (closed (added as data))"


def test_closed_day_of_another_market_does_not_matter() -> None:
    closed = reference(closed_days={"XPAR": [date(2026, 11, 25)]})
    assert booked(jpm_terms(), closed).settlement_date == date(2026, 11, 25)


def test_client_settlement_date_on_a_business_day_is_kept() -> None:
    booking = booked(jpm_terms(settlement_date=date(2026, 11, 30)))
    assert booking.settlement_date == date(2026, 11, 30)


def test_client_settlement_date_on_the_trade_date_is_accepted() -> None:
    booking = booked(jpm_terms(settlement_date=date(2026, 11, 24)))
    assert booking.settlement_date == date(2026, 11, 24)


# Refusals, each naming its field --------------------------------------------------------------


def test_unknown_book_is_refused() -> None:
    message = only_problem(refused(jpm_terms(book="NO-SUCH-BOOK")), "book")
    assert message == "book 'NO-SUCH-BOOK' is not known"


def test_unknown_counterparty_is_refused() -> None:
    # A well-formed LEI (Société Générale's) that is not in this reference set.
    lei = "O2RNE8IBXP4R0TD8PU41"
    ref = reference()
    ref.counterparties.discard(lei)
    message = only_problem(refused(jpm_terms(counterparty_lei=lei), ref), "counterparty_lei")
    assert message == f"counterparty '{lei}' is not known"


def test_unknown_isin_is_refused() -> None:
    apple = "US0378331005"  # a valid ISIN that is not reference data here
    message = only_problem(refused(jpm_terms(isin=apple)), "isin")
    assert message == f"instrument '{apple}' is not known"


def test_unknown_venue_is_refused() -> None:
    message = only_problem(refused(jpm_terms(venue="XLON")), "venue")
    assert message == "market 'XLON' is not known"


def test_currency_other_than_the_instruments_is_refused() -> None:
    message = only_problem(refused(jpm_terms(currency="EUR")), "currency")
    assert message == f"{JPM} trades in USD, not EUR"


@pytest.mark.parametrize("quantity", ["0", "-100", "-0.01"])
def test_quantity_not_positive_is_refused(quantity: str) -> None:
    message = only_problem(refused(jpm_terms(quantity=Decimal(quantity))), "quantity")
    assert message == "must be positive"


def test_equity_quantity_not_a_multiple_of_one_share_is_refused() -> None:
    message = only_problem(refused(jpm_terms(quantity=Decimal("100.5"))), "quantity")
    assert message == "must be a multiple of the settlement unit 1"


def test_bond_nominal_below_its_settlement_unit_is_refused() -> None:
    # The Bund's unit is EUR 0.01: 1000.005 is half a unit over 1000.00.
    message = only_problem(refused(bund_terms(quantity=Decimal("1000.005"))), "quantity")
    assert message == "must be a multiple of the settlement unit 0.01"


def test_bond_nominal_on_its_settlement_unit_is_accepted() -> None:
    booked(bund_terms(quantity=Decimal("1000.01")))


@pytest.mark.parametrize("price", ["0", "-1"])
def test_price_not_positive_is_refused(price: str) -> None:
    message = only_problem(refused(jpm_terms(price=Decimal(price))), "price")
    assert message == "must be positive"


def test_price_with_9_decimals_is_refused_and_8_accepted() -> None:
    message = only_problem(refused(jpm_terms(price=Decimal("189.123456789"))), "price")
    assert message == "has more than 8 decimal places"
    # 100 x 189.12345678 = 18912.345678 -> 18912.35 (half-even to cents).
    booking = booked(jpm_terms(price=Decimal("189.12345678")))
    assert booking.amounts.gross_amount == Decimal("18912.35")


def test_commission_with_3_decimals_in_usd_is_refused() -> None:
    message = only_problem(refused(jpm_terms(commission=Decimal("1.505"))), "commission")
    assert message == "has more decimals than USD allows (2)"


def test_fees_with_3_decimals_in_usd_are_refused() -> None:
    message = only_problem(refused(jpm_terms(fees=Decimal("0.025"))), "fees")
    assert message == "has more decimals than USD allows (2)"


def test_negative_fees_are_refused() -> None:
    message = only_problem(refused(jpm_terms(fees=Decimal("-0.02"))), "fees")
    assert message == "must not be negative"


def test_negative_commission_is_refused() -> None:
    message = only_problem(refused(jpm_terms(commission=Decimal("-1.50"))), "commission")
    assert message == "must not be negative"


def test_trade_date_after_today_in_the_venues_time_zone_is_refused() -> None:
    # 03:00 UTC on 25 Nov is 22:00 on 24 Nov in New York: a 25 Nov trade at XNYS is future.
    early = datetime(2026, 11, 25, 3, 0, tzinfo=UTC)
    terms = jpm_terms(
        trade_date=date(2026, 11, 25), trade_time=datetime(2026, 11, 25, 2, 59, tzinfo=UTC)
    )
    message = only_problem(refused(terms, now=early), "trade_date")
    assert message == "is in the future (today is 2026-11-24 at XNYS)"


def test_same_instant_is_already_the_next_day_in_paris() -> None:
    # 03:00 UTC on 25 Nov is 04:00 on 25 Nov in Paris: a 25 Nov trade at XPAR is today.
    early = datetime(2026, 11, 25, 3, 0, tzinfo=UTC)
    terms = total_terms(
        trade_date=date(2026, 11, 25), trade_time=datetime(2026, 11, 25, 2, 59, tzinfo=UTC)
    )
    # T+2 on TARGET: Thu 26, Fri 27.
    assert booked(terms, now=early).settlement_date == date(2026, 11, 27)


def test_trade_date_on_a_holiday_is_refused_naming_the_holiday() -> None:
    later = datetime(2026, 11, 27, 15, 0, tzinfo=UTC)
    terms = jpm_terms(
        trade_date=date(2026, 11, 26), trade_time=datetime(2026, 11, 26, 15, 0, tzinfo=UTC)
    )
    message = only_problem(refused(terms, now=later), "trade_date")
    assert message == "2026-11-26 is not a trading day at XNYS (Thanksgiving Day)"


def test_trade_date_on_a_weekend_is_refused() -> None:
    terms = jpm_terms(
        trade_date=date(2026, 11, 21), trade_time=datetime(2026, 11, 21, 15, 0, tzinfo=UTC)
    )
    message = only_problem(refused(terms), "trade_date")
    assert message == "2026-11-21 is not a trading day at XNYS (a weekend)"


def test_settlement_date_before_trade_date_is_refused() -> None:
    terms = jpm_terms(settlement_date=date(2026, 11, 23))
    message = only_problem(refused(terms), "settlement_date")
    assert message == "is before the trade date"


@pytest.mark.parametrize(
    "settlement_date",
    [
        date(2026, 11, 11),  # Veterans Day: the Fed is closed although NYSE trades
        date(2026, 11, 26),  # Thanksgiving
        date(2026, 11, 28),  # Saturday
    ],
)
def test_settlement_date_on_a_non_settlement_day_is_refused(settlement_date: date) -> None:
    terms = jpm_terms(
        trade_date=date(2026, 11, 10),
        trade_time=datetime(2026, 11, 10, 15, 0, tzinfo=UTC),
        settlement_date=settlement_date,
    )
    message = only_problem(refused(terms), "settlement_date")
    assert message == f"{settlement_date} is not a settlement day at XNYS"


def test_trade_time_up_to_5_minutes_ahead_is_clock_skew() -> None:
    assert timedelta(minutes=5) == CLOCK_SKEW
    booked(jpm_terms(trade_date=date(2026, 11, 25), trade_time=NOW + timedelta(minutes=5)))


def test_trade_time_beyond_5_minutes_ahead_is_refused() -> None:
    terms = jpm_terms(
        trade_date=date(2026, 11, 25), trade_time=NOW + timedelta(minutes=5, seconds=1)
    )
    message = only_problem(refused(terms), "trade_time")
    assert message == "is in the future"


def test_accrued_interest_on_an_equity_is_refused() -> None:
    message = only_problem(refused(jpm_terms(accrued_interest=Decimal("1.00"))), "accrued_interest")
    assert message == "only bonds accrue interest"


@pytest.mark.parametrize("accrued", ["-0.01", "5079.455"])
def test_bond_accrued_interest_given_must_be_a_non_negative_eur_amount(accrued: str) -> None:
    terms = bund_terms(accrued_interest=Decimal(accrued))
    message = only_problem(refused(terms), "accrued_interest")
    assert message == "must be a non-negative EUR amount"


def test_bond_settling_after_maturity_is_refused() -> None:
    # A bond maturing Wed 2026-11-25; traded Tue 24, T+2 on TARGET settles Thu 26: after it.
    short = _instrument(BUND, issue_date=date(2025, 11, 25), maturity_date=date(2026, 11, 25))
    message = only_problem(refused(bund_terms(), reference(short)), "settlement_date")
    assert message == "must fall between the bond's issue and maturity dates"


def test_bond_settling_on_its_maturity_date_is_refused() -> None:
    # Settlement on maturity day: the bond redeems that day, nothing is left to deliver.
    short = _instrument(BUND, issue_date=date(2025, 11, 26), maturity_date=date(2026, 11, 26))
    message = only_problem(refused(bund_terms(), reference(short)), "settlement_date")
    assert message == "must fall between the bond's issue and maturity dates"


def test_bond_settling_before_its_issue_date_is_refused() -> None:
    fresh = _instrument(BUND, issue_date=date(2026, 12, 1), maturity_date=date(2036, 12, 1))
    message = only_problem(refused(bund_terms(), reference(fresh)), "settlement_date")
    assert message == "must fall between the bond's issue and maturity dates"


def test_several_problems_are_all_reported() -> None:
    terms = jpm_terms(
        book="NO-SUCH-BOOK",
        currency="EUR",
        quantity=Decimal("0"),
        price=Decimal("0"),
        fees=Decimal("-0.02"),
        settlement_date=date(2026, 11, 23),
        accrued_interest=Decimal("1.00"),
    )
    problems = refused(terms)
    assert sorted(p.field for p in problems) == [
        "accrued_interest",
        "book",
        "currency",
        "fees",
        "price",
        "quantity",
        "settlement_date",
    ]


def test_unknown_instrument_and_venue_are_reported_together() -> None:
    problems = refused(jpm_terms(isin="US0378331005", venue="XLON"))
    assert [p.field for p in problems] == ["isin", "venue"]


def test_a_valid_equity_trade_is_booked_with_its_amounts() -> None:
    booking = booked(jpm_terms())
    # 100 x 189.25 = 18925.00; buy: + 1.50 + 0.02 = 18926.52.
    assert booking.settlement_date == date(2026, 11, 25)
    assert booking.amounts.gross_amount == Decimal("18925.00")
    assert booking.amounts.accrued_interest is None
    assert booking.amounts.net_amount == Decimal("18926.52")


def test_a_valid_bond_trade_accrues_interest_to_settlement() -> None:
    booking = booked(bund_terms())
    # Tue 2026-11-24 T+2 on TARGET -> Thu 2026-11-26.
    assert booking.settlement_date == date(2026, 11, 26)
    # 1,000,000 x 78.50 / 100 = 785,000.00.
    assert booking.amounts.gross_amount == Decimal("785000.00")
    # Coupon period 2026-08-15 .. 2027-08-15 (365 days); 2026-08-15 -> 2026-11-26 is
    # 16 + 30 + 31 + 26 = 103 days: 1,000,000 x 0.018 x 103 / 365 = 1,854,000 / 365
    # = 5079.452054... -> 5079.45.
    assert booking.amounts.accrued_interest == Decimal("5079.45")
    assert booking.amounts.net_amount == Decimal("790079.45")
