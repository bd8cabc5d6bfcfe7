"""Reference data: markets, instruments, counterparties, books, accounts, SSIs, prices, rates."""

from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import JSON, Boolean, Date, ForeignKey, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from app.core.db import Base
from app.core.types import ExactDecimal, UTCDateTime


class Versioned(Base):
    """Reference rows that are amended in place, under optimistic concurrency."""

    __abstract__ = True

    version: Mapped[int] = mapped_column(Integer, default=1)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())


class Market(Versioned):
    __tablename__ = "markets"

    mic: Mapped[str] = mapped_column(String(4), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    country: Mapped[str] = mapped_column(String(2))
    timezone: Mapped[str] = mapped_column(String(64))
    calendar: Mapped[str] = mapped_column(String(16))
    settlement_calendars: Mapped[list[str]] = mapped_column(JSON)
    # [{"from": "2024-05-28", "days": 1}, ...] ascending by "from"
    settlement_cycle_days: Mapped[list[dict[str, Any]]] = mapped_column(JSON)
    ccp: Mapped[str | None] = mapped_column(String(11))
    # Settled inside one settlement system that matches bilateral instructions itself: they
    # are matched on creation instead of waiting for a status advice.
    internal_settlement: Mapped[bool] = mapped_column(Boolean, default=False)
    affirmation_cutoff: Mapped[str] = mapped_column(String(5))


class MarketClosedDay(Base):
    """A day a market is closed beyond its holidays calendar (a day of mourning, an outage)."""

    __tablename__ = "market_closed_days"

    mic: Mapped[str] = mapped_column(ForeignKey("markets.mic"), primary_key=True)
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    reason: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


class Instrument(Versioned):
    __tablename__ = "instruments"

    isin: Mapped[str] = mapped_column(String(12), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    type: Mapped[str] = mapped_column(String(10))
    currency: Mapped[str] = mapped_column(String(3))
    mic: Mapped[str] = mapped_column(ForeignKey("markets.mic"), index=True)
    csdr_class: Mapped[str] = mapped_column(String(20))
    settlement_unit: Mapped[Decimal] = mapped_column(ExactDecimal())
    settlement_cycle_days: Mapped[list[dict[str, Any]] | None] = mapped_column(JSON)
    price_basis: Mapped[str] = mapped_column(String(10))
    coupon_rate: Mapped[Decimal | None] = mapped_column(ExactDecimal())
    coupon_frequency: Mapped[int | None] = mapped_column(Integer)
    day_count: Mapped[str | None] = mapped_column(String(16))
    issue_date: Mapped[date | None] = mapped_column(Date)
    maturity_date: Mapped[date | None] = mapped_column(Date)


class Counterparty(Versioned):
    __tablename__ = "counterparties"

    lei: Mapped[str] = mapped_column(String(20), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    bic: Mapped[str | None] = mapped_column(String(11))
    netting: Mapped[str] = mapped_column(String(10))


class Book(Versioned):
    __tablename__ = "books"

    code: Mapped[str] = mapped_column(String(40), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))


class Account(Versioned):
    __tablename__ = "accounts"

    code: Mapped[str] = mapped_column(String(40), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(12))
    currency: Mapped[str | None] = mapped_column(String(3))
    servicer_bic: Mapped[str] = mapped_column(String(11))
    iban: Mapped[str | None] = mapped_column(String(34))
    account_number: Mapped[str | None] = mapped_column(String(40))
    # Securities accounts: the MICs whose instruments settle here.
    markets: Mapped[list[str]] = mapped_column(JSON, default=list)


class Ssi(Versioned):
    """A counterparty's standing settlement instruction for a market or a currency."""

    __tablename__ = "ssis"

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    counterparty_lei: Mapped[str] = mapped_column(ForeignKey("counterparties.lei"))
    mic: Mapped[str | None] = mapped_column(ForeignKey("markets.mic"))
    currency: Mapped[str | None] = mapped_column(String(3))
    place_of_settlement: Mapped[str] = mapped_column(String(11))
    agent_bic: Mapped[str] = mapped_column(String(11))
    account: Mapped[str] = mapped_column(String(40))

    # Not unique: two SSIs for one market are allowed to exist, and enrichment reports them as
    # ambiguous instead of guessing.
    __table_args__ = (Index(None, "counterparty_lei"),)


class Price(Base):
    __tablename__ = "prices"

    isin: Mapped[str] = mapped_column(ForeignKey("instruments.isin"), primary_key=True)
    date: Mapped[date] = mapped_column(Date, primary_key=True)
    price: Mapped[Decimal] = mapped_column(ExactDecimal())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


class PenaltyRate(Base):
    """An effective-dated CSDR penalty rate for an instrument class, or cash rate per currency."""

    __tablename__ = "penalty_rates"

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    csdr_class: Mapped[str] = mapped_column(String(20))
    rate: Mapped[Decimal] = mapped_column(ExactDecimal())
    effective_from: Mapped[date] = mapped_column(Date)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())

    __table_args__ = (UniqueConstraint("csdr_class", "effective_from"),)


class MatchingTolerance(Versioned):
    """How far a counterparty's confirmation may differ from our trade, per currency."""

    __tablename__ = "matching_tolerances"

    currency: Mapped[str] = mapped_column(String(3), primary_key=True)
    price_abs: Mapped[Decimal] = mapped_column(ExactDecimal())
    net_amount_abs: Mapped[Decimal | None] = mapped_column(ExactDecimal())
    net_amount_bps: Mapped[Decimal | None] = mapped_column(ExactDecimal())
