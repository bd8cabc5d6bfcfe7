"""Reference data as other domains receive it: frozen values, never ORM rows, and the set of
them a batch of trades names, with its calendars. Pure: no SQLAlchemy, no models."""

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any

from app.core.calendars import BusinessCalendar


@dataclass(frozen=True, slots=True, kw_only=True)
class MarketRef:
    mic: str
    name: str
    country: str
    timezone: str
    calendar: str
    settlement_calendars: tuple[str, ...]
    # ({"from": "2024-05-28", "days": 1}, ...) ascending by "from"
    settlement_cycle_days: tuple[dict[str, Any], ...]
    ccp: str | None
    internal_settlement: bool
    locked_in: bool
    affirmation_cutoff: str
    settlement_mode: str
    message_format: str
    # Partial settlement (app.reference.partial): the default indicator, the cash threshold
    # per currency for PARC, and the local windows in which partials settle (none: any time).
    partial_settlement: str = "NPAR"
    partial_cash_thresholds: Mapping[str, Decimal] = field(default_factory=dict)
    partial_settlement_windows: tuple[dict[str, str], ...] = ()

    def trading_calendar(self, closed_days: Iterable[date] = ()) -> BusinessCalendar:
        return BusinessCalendar([self.calendar], closed_days)

    def settlement_calendar(self, closed_days: Iterable[date] = ()) -> BusinessCalendar:
        return BusinessCalendar(self.settlement_calendars, closed_days)


@dataclass(frozen=True, slots=True, kw_only=True)
class InstrumentRef:
    isin: str
    name: str
    type: str
    currency: str
    mic: str
    csdr_class: str
    settlement_unit: Decimal
    settlement_cycle_days: tuple[dict[str, Any], ...] | None
    price_basis: str
    coupon_rate: Decimal | None
    coupon_frequency: int | None
    day_count: str | None
    issue_date: date | None
    maturity_date: date | None
    # PARQ: the least quantity a partial settles; None: one settlement unit.
    partial_quantity_threshold: Decimal | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class CounterpartyRef:
    lei: str
    name: str
    bic: str | None
    netting: str
    # The partial indicator its instructions get; None: their market's.
    partial_settlement: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class AccountRef:
    code: str
    name: str
    kind: str
    currency: str | None
    servicer_bic: str
    iban: str | None
    account_number: str | None
    # Securities accounts: the MICs whose instruments settle here.
    markets: tuple[str, ...]


@dataclass(frozen=True, slots=True, kw_only=True)
class SsiRef:
    id: str
    counterparty_lei: str
    mic: str | None
    currency: str | None
    place_of_settlement: str
    agent_bic: str
    account: str


@dataclass(frozen=True, slots=True, kw_only=True)
class MatchingToleranceRef:
    currency: str
    price_abs: Decimal
    net_amount_abs: Decimal | None
    net_amount_bps: Decimal | None


@dataclass
class ReferenceSet:
    """The reference rows a set of trades names, loaded in a handful of queries."""

    instruments: dict[str, InstrumentRef] = field(default_factory=dict)
    markets: dict[str, MarketRef] = field(default_factory=dict)
    books: set[str] = field(default_factory=set)
    counterparties: set[str] = field(default_factory=set)
    closed_days: dict[str, list[date]] = field(default_factory=dict)
    _calendars: dict[tuple[str, str], BusinessCalendar] = field(default_factory=dict)
    # What the booking rules derive from these rows alone (a settlement date per venue,
    # instrument and trade date), kept for the next trade of the set that asks the same.
    derived: dict[tuple[Any, ...], Any] = field(default_factory=dict)

    def trading_calendar(self, mic: str) -> BusinessCalendar:
        return self._calendar(mic, "trading", MarketRef.trading_calendar)

    def settlement_calendar(self, mic: str) -> BusinessCalendar:
        return self._calendar(mic, "settlement", MarketRef.settlement_calendar)

    def _calendar(
        self, mic: str, kind: str, build: Callable[[MarketRef, Iterable[date]], BusinessCalendar]
    ) -> BusinessCalendar:
        if (mic, kind) not in self._calendars:
            self._calendars[(mic, kind)] = build(self.markets[mic], self.closed_days.get(mic, []))
        return self._calendars[(mic, kind)]


@dataclass(frozen=True, slots=True)
class Parties:
    """Counterparties by LEI and by BIC (a market names its CCP by BIC), and our accounts."""

    counterparties: dict[str, CounterpartyRef]
    by_bic: dict[str, CounterpartyRef]
    accounts: dict[str, AccountRef]
