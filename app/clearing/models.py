"""Clearing runs, the obligations they net trades into, and each trade's place in one."""

from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import JSON, Boolean, Date, ForeignKey, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from app.core.db import Base
from app.core.types import ExactDecimal, UTCDateTime


class ClearingRun(Base):
    __tablename__ = "clearing_runs"

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    settlement_date: Mapped[date] = mapped_column(Date, index=True)
    status: Mapped[str] = mapped_column(String(12))
    total: Mapped[int] = mapped_column(Integer)
    processed: Mapped[int] = mapped_column(Integer)
    obligations: Mapped[int] = mapped_column(Integer)
    instructions: Mapped[int] = mapped_column(Integer)
    # Per counterparty of record and currency: trades and gross value in, obligations and net
    # value out, efficiency; and the trades left out, each with its reason.
    report: Mapped[dict[str, Any]] = mapped_column(JSON)
    error: Mapped[str | None] = mapped_column(String(500), default=None)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    created_by: Mapped[str] = mapped_column(String(64))
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=None)


class Obligation(Base):
    """A net (or gross) settlement obligation: what one instruction will settle."""

    __tablename__ = "obligations"

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    run_id: Mapped[str] = mapped_column(ForeignKey("clearing_runs.id"), index=True)
    # One string per netting key, so that a run finds or creates each obligation exactly once.
    netting_key: Mapped[str] = mapped_column(String(300))
    netting_set: Mapped[str] = mapped_column(String(10))
    counterparty_lei: Mapped[str] = mapped_column(ForeignKey("counterparties.lei"))
    securities_account: Mapped[str] = mapped_column(ForeignKey("accounts.code"))
    cash_account: Mapped[str] = mapped_column(ForeignKey("accounts.code"))
    isin: Mapped[str] = mapped_column(ForeignKey("instruments.isin"))
    currency: Mapped[str] = mapped_column(String(3))
    settlement_date: Mapped[date] = mapped_column(Date)
    net_quantity: Mapped[Decimal] = mapped_column(ExactDecimal())
    net_amount: Mapped[Decimal] = mapped_column(ExactDecimal())
    gross_quantity: Mapped[Decimal] = mapped_column(ExactDecimal())
    gross_amount: Mapped[Decimal] = mapped_column(ExactDecimal())
    trade_count: Mapped[int] = mapped_column(Integer)
    direction: Mapped[str] = mapped_column(String(10))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())

    __table_args__ = (
        UniqueConstraint("run_id", "netting_key"),
        Index(None, "settlement_date", "counterparty_lei"),
    )


class ObligationTrade(Base):
    """The lineage: the primary key on the trade is what keeps a trade from clearing twice."""

    __tablename__ = "obligation_trades"

    trade_id: Mapped[str] = mapped_column(ForeignKey("trades.id"), primary_key=True)
    obligation_id: Mapped[str] = mapped_column(ForeignKey("obligations.id"), index=True)
    # The counterparty the trade was done with, kept after novation to the CCP.
    original_counterparty_lei: Mapped[str] = mapped_column(String(20))
    novated: Mapped[bool] = mapped_column(Boolean)
