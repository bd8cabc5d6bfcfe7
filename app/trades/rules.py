"""Booking rules (pure): validate a trade against reference data and derive what we compute.

Given a trade's terms and the reference rows it names, either the derived settlement date and
amounts, or every problem found, each naming its field. No database access here.
"""

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from app.core.errors import FieldProblem
from app.core.identifiers import currency_minor_units
from app.core.money import decimal_places, is_multiple_of
from app.reference.cycles import cycle_days_on
from app.reference.values import InstrumentRef, ReferenceSet
from app.trades.daycount import DayCount
from app.trades.pricing import Amounts, BondTerms, trade_amounts

# A trade stamped a little ahead of our clock is clock skew, not a trade from the future.
CLOCK_SKEW = timedelta(minutes=5)
MAX_PRICE_PLACES = 8


@dataclass(frozen=True)
class TradeTerms:
    book: str
    counterparty_lei: str
    isin: str
    side: str
    quantity: Decimal
    price: Decimal
    currency: str
    trade_date: date
    trade_time: datetime
    venue: str
    settlement_date: date | None
    commission: Decimal
    fees: Decimal
    accrued_interest: Decimal | None


@dataclass(frozen=True)
class Booking:
    settlement_date: date
    amounts: Amounts


def bond_terms(instrument: InstrumentRef) -> BondTerms | None:
    """The coupon terms of a bond (the instrument schema guarantees a bond has them all)."""
    if instrument.type != "bond":
        return None
    if (
        instrument.coupon_rate is None
        or instrument.coupon_frequency is None
        or instrument.day_count is None
        or instrument.issue_date is None
        or instrument.maturity_date is None
    ):
        raise ValueError(f"bond {instrument.isin} lacks coupon terms")
    return BondTerms(
        coupon_rate=instrument.coupon_rate,
        frequency=instrument.coupon_frequency,
        day_count=DayCount(instrument.day_count),
        issue_date=instrument.issue_date,
        maturity_date=instrument.maturity_date,
    )


def evaluate(
    terms: TradeTerms, ref: ReferenceSet, *, now: datetime
) -> Booking | list[FieldProblem]:
    problems: list[FieldProblem] = []

    def problem(field: str, message: str) -> None:
        problems.append(FieldProblem(field, message))

    if terms.book not in ref.books:
        problem("book", f"book '{terms.book}' is not known")
    if terms.counterparty_lei not in ref.counterparties:
        problem("counterparty_lei", f"counterparty '{terms.counterparty_lei}' is not known")
    instrument = ref.instruments.get(terms.isin)
    if instrument is None:
        problem("isin", f"instrument '{terms.isin}' is not known")
    market = ref.markets.get(terms.venue)
    if market is None:
        problem("venue", f"market '{terms.venue}' is not known")

    if terms.quantity <= 0:
        problem("quantity", "must be positive")
    elif instrument is not None and not is_multiple_of(terms.quantity, instrument.settlement_unit):
        problem(
            "quantity", f"must be a multiple of the settlement unit {instrument.settlement_unit}"
        )
    if terms.price <= 0:
        problem("price", "must be positive")
    elif decimal_places(terms.price) > MAX_PRICE_PLACES:
        problem("price", f"has more than {MAX_PRICE_PLACES} decimal places")
    if instrument is not None and terms.currency != instrument.currency:
        problem("currency", f"{terms.isin} trades in {instrument.currency}, not {terms.currency}")
    minor_units = currency_minor_units(terms.currency)
    for name, value in (("commission", terms.commission), ("fees", terms.fees)):
        if value < 0:
            problem(name, "must not be negative")
        elif decimal_places(value) > minor_units:
            problem(name, f"has more decimals than {terms.currency} allows ({minor_units})")
    if terms.trade_time > now + CLOCK_SKEW:
        problem("trade_time", "is in the future")

    settlement_date = terms.settlement_date
    if market is not None:
        today_at_venue = now.astimezone(ZoneInfo(market.timezone)).date()
        trading = ref.trading_calendar(market.mic)
        trade_date_in_future = terms.trade_date > today_at_venue
        if trade_date_in_future:
            problem("trade_date", f"is in the future (today is {today_at_venue} at {market.mic})")
        elif not trading.is_business_day(terms.trade_date):
            reason = trading.holiday_name(terms.trade_date) or "a weekend"
            problem(
                "trade_date", f"{terms.trade_date} is not a trading day at {market.mic} ({reason})"
            )
        settlement = ref.settlement_calendar(market.mic)
        if settlement_date is None:
            steps = (instrument.settlement_cycle_days if instrument is not None else None) or (
                market.settlement_cycle_days
            )
            days = cycle_days_on(steps, terms.trade_date)
            if days is None:
                problem(
                    "trade_date", f"no settlement cycle is in force at {market.mic} on that date"
                )
            elif not trade_date_in_future:
                # A future trade date is refused above; counting business days on from one
                # such as 9999-12-31 would overflow the date range.
                settlement_date = settlement.add_business_days(terms.trade_date, days)
        elif settlement_date < terms.trade_date:
            problem("settlement_date", "is before the trade date")
        elif not settlement.is_business_day(settlement_date):
            problem("settlement_date", f"{settlement_date} is not a settlement day at {market.mic}")

    bond: BondTerms | None = None
    bond = bond_terms(instrument) if instrument is not None else None
    if bond is not None:
        if settlement_date is not None and not (
            bond.issue_date <= settlement_date < bond.maturity_date
        ):
            problem("settlement_date", "must fall between the bond's issue and maturity dates")
        if terms.accrued_interest is not None and (
            terms.accrued_interest < 0 or decimal_places(terms.accrued_interest) > minor_units
        ):
            problem("accrued_interest", f"must be a non-negative {terms.currency} amount")
    elif terms.accrued_interest is not None:
        problem("accrued_interest", "only bonds accrue interest")

    if problems:
        return problems
    assert settlement_date is not None
    amounts = trade_amounts(
        side=terms.side,
        quantity=terms.quantity,
        price=terms.price,
        currency=terms.currency,
        commission=terms.commission,
        fees=terms.fees,
        settlement_date=settlement_date,
        bond=bond,
        accrued_given=terms.accrued_interest,
    )
    return Booking(settlement_date=settlement_date, amounts=amounts)
