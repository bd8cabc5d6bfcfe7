"""Booking rules (pure): validate a trade against reference data and derive what we compute.

Given a trade's terms and the reference facts it names, either the derived settlement date and
amounts, or every problem found, each naming its field. No database access here: the rules
read reference data through the protocols below, which the reference rows satisfy.
"""

from collections.abc import Container, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any, Protocol, cast
from zoneinfo import ZoneInfo

from app.core.calendars import BusinessCalendar
from app.core.errors import FieldProblem
from app.core.identifiers import currency_minor_units
from app.core.money import decimal_places, is_multiple_of, round_money
from app.core.values import quick_init
from app.reference.cycles import cycle_days_on
from app.trades.capture.daycount import DayCount
from app.trades.capture.pricing import Amounts, BondTerms, gross_amount, trade_amounts

# A trade stamped a little ahead of our clock is clock skew, not a trade from the future.
CLOCK_SKEW = timedelta(minutes=5)
MAX_PRICE_PLACES = 8


class InstrumentFacts(Protocol):
    """What booking reads of an instrument."""

    @property
    def isin(self) -> str: ...
    @property
    def type(self) -> str: ...
    @property
    def currency(self) -> str: ...
    @property
    def settlement_unit(self) -> Decimal: ...
    @property
    def settlement_cycle_days(self) -> Sequence[dict[str, Any]] | None: ...
    @property
    def coupon_rate(self) -> Decimal | None: ...
    @property
    def coupon_frequency(self) -> int | None: ...
    @property
    def day_count(self) -> str | None: ...
    @property
    def issue_date(self) -> date | None: ...
    @property
    def maturity_date(self) -> date | None: ...


class MarketFacts(Protocol):
    """What booking reads of a market."""

    @property
    def mic(self) -> str: ...
    @property
    def timezone(self) -> str: ...
    @property
    def settlement_cycle_days(self) -> Sequence[dict[str, Any]]: ...


class ReferenceFacts(Protocol):
    """The reference data a set of trades names: known books and counterparties, instruments
    by ISIN, markets by MIC and their calendars."""

    @property
    def books(self) -> Container[str]: ...
    @property
    def counterparties(self) -> Container[str]: ...
    @property
    def instruments(self) -> Mapping[str, InstrumentFacts]: ...
    @property
    def markets(self) -> Mapping[str, MarketFacts]: ...
    def trading_calendar(self, mic: str) -> BusinessCalendar: ...
    def settlement_calendar(self, mic: str) -> BusinessCalendar: ...
    @property
    def derived(self) -> dict[tuple[Any, ...], Any]:
        """A memo of what these rules derive from the reference rows alone."""
        ...


@quick_init
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


@quick_init
@dataclass(frozen=True)
class Booking:
    settlement_date: date
    amounts: Amounts


def bond_terms(instrument: InstrumentFacts) -> BondTerms | None:
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
    terms: TradeTerms, ref: ReferenceFacts, *, now: datetime
) -> Booking | list[FieldProblem]:
    """The booking of ``terms``, or every problem found (in the order of the checks)."""
    instrument = ref.instruments.get(terms.isin)
    market = ref.markets.get(terms.venue)
    problems = _unknown_names(terms, ref)
    problems += _bad_terms(terms, instrument, now=now)
    problems += _no_consideration(terms, instrument)
    settlement_date = terms.settlement_date
    if market is not None:
        settlement_date, dated = _dates(terms, ref, market, instrument, now=now)
        problems += dated
    bond = bond_terms(instrument) if instrument is not None else None
    problems += _bond_problems(terms, bond, settlement_date)
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


def _unknown_names(terms: TradeTerms, ref: ReferenceFacts) -> list[FieldProblem]:
    """The book, counterparty, instrument and venue the trade names that we do not know."""
    problems: list[FieldProblem] = []
    if terms.book not in ref.books:
        problems.append(FieldProblem("book", f"book '{terms.book}' is not known"))
    if terms.counterparty_lei not in ref.counterparties:
        message = f"counterparty '{terms.counterparty_lei}' is not known"
        problems.append(FieldProblem("counterparty_lei", message))
    if ref.instruments.get(terms.isin) is None:
        problems.append(FieldProblem("isin", f"instrument '{terms.isin}' is not known"))
    if ref.markets.get(terms.venue) is None:
        problems.append(FieldProblem("venue", f"market '{terms.venue}' is not known"))
    return problems


def _bad_terms(
    terms: TradeTerms, instrument: InstrumentFacts | None, *, now: datetime
) -> list[FieldProblem]:
    """Quantity, price, currency, commission, fees and trade time, each on its own."""
    problems: list[FieldProblem] = []

    def problem(field: str, message: str) -> None:
        problems.append(FieldProblem(field, message))

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
    return problems


def _no_consideration(terms: TradeTerms, instrument: InstrumentFacts | None) -> list[FieldProblem]:
    """A trade whose gross amount rounds to zero in its currency's minor units pays nothing
    for the securities: no cash could be instructed against them, and the journal would hold
    a position without its principal. It is refused; free-of-payment moves are not trades."""
    if instrument is None or terms.quantity <= 0 or terms.price <= 0:
        return []  # refused above, or its pricing (percent of nominal or not) is unknown
    gross = gross_amount(
        quantity=terms.quantity, price=terms.price, percent_of_nominal=instrument.type == "bond"
    )
    if round_money(gross, terms.currency) != 0:
        return []
    unit = Decimal(1).scaleb(-currency_minor_units(terms.currency))
    message = (
        f"gives a gross amount of {gross.normalize():f} {terms.currency}, which rounds to zero: "
        f"a trade must amount to at least {unit:f} {terms.currency}"
    )
    return [FieldProblem("price", message)]


def _dates(
    terms: TradeTerms,
    ref: ReferenceFacts,
    market: MarketFacts,
    instrument: InstrumentFacts | None,
    *,
    now: datetime,
) -> tuple[date | None, list[FieldProblem]]:
    """The trade date checked against the venue's trading calendar, and the settlement date:
    derived from the settlement cycle when absent, else checked against the settlement
    calendar."""
    problems: list[FieldProblem] = []

    def problem(field: str, message: str) -> None:
        problems.append(FieldProblem(field, message))

    settlement_date = terms.settlement_date
    today_at_venue = _today_at(ref, market, now)
    trading = ref.trading_calendar(market.mic)
    trade_date_in_future = terms.trade_date > today_at_venue
    if trade_date_in_future:
        problem("trade_date", f"is in the future (today is {today_at_venue} at {market.mic})")
    elif not trading.is_business_day(terms.trade_date):
        reason = trading.holiday_name(terms.trade_date) or "a weekend"
        problem("trade_date", f"{terms.trade_date} is not a trading day at {market.mic} ({reason})")
    if settlement_date is None:
        days = _cycle_days(ref, market, instrument, terms.trade_date)
        if days is None:
            problem("trade_date", f"no settlement cycle is in force at {market.mic} on that date")
        elif not trade_date_in_future:
            # A future trade date is refused above; counting business days on from one
            # such as 9999-12-31 would overflow the date range.
            settlement_date = _settles_on(ref, market.mic, terms.trade_date, days)
    elif settlement_date < terms.trade_date:
        problem("settlement_date", "is before the trade date")
    elif not ref.settlement_calendar(market.mic).is_business_day(settlement_date):
        problem("settlement_date", f"{settlement_date} is not a settlement day at {market.mic}")
    return settlement_date, problems


def _today_at(ref: ReferenceFacts, market: MarketFacts, now: datetime) -> date:
    key = ("today", market.timezone, now)
    today = ref.derived.get(key)
    if today is None:
        today = ref.derived[key] = now.astimezone(ZoneInfo(market.timezone)).date()
    return cast(date, today)


def _cycle_days(
    ref: ReferenceFacts, market: MarketFacts, instrument: InstrumentFacts | None, trade_date: date
) -> int | None:
    """The settlement cycle in force on ``trade_date``: the instrument's, else the venue's."""
    key = ("cycle", market.mic, instrument.isin if instrument is not None else None, trade_date)
    if key not in ref.derived:
        steps = (instrument.settlement_cycle_days if instrument is not None else None) or (
            market.settlement_cycle_days
        )
        ref.derived[key] = cycle_days_on(steps, trade_date)
    return cast(int | None, ref.derived[key])


def _settles_on(ref: ReferenceFacts, mic: str, trade_date: date, days: int) -> date:
    key = ("settles", mic, trade_date, days)
    settles = ref.derived.get(key)
    if settles is None:
        settles = ref.settlement_calendar(mic).add_business_days(trade_date, days)
        ref.derived[key] = settles
    return cast(date, settles)


def _bond_problems(
    terms: TradeTerms, bond: BondTerms | None, settlement_date: date | None
) -> list[FieldProblem]:
    """A bond settles between issue and maturity; only bonds accrue interest."""
    problems: list[FieldProblem] = []
    if bond is not None:
        if settlement_date is not None and not (
            bond.issue_date <= settlement_date < bond.maturity_date
        ):
            message = "must fall between the bond's issue and maturity dates"
            problems.append(FieldProblem("settlement_date", message))
        minor_units = currency_minor_units(terms.currency)
        if terms.accrued_interest is not None and (
            terms.accrued_interest < 0 or decimal_places(terms.accrued_interest) > minor_units
        ):
            message = f"must be a non-negative {terms.currency} amount"
            problems.append(FieldProblem("accrued_interest", message))
    elif terms.accrued_interest is not None:
        problems.append(FieldProblem("accrued_interest", "only bonds accrue interest"))
    return problems
