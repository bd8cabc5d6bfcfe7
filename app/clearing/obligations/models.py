"""The obligations clearing nets trades into, and each trade's place in one."""

from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import Boolean, Date, ForeignKey, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from app.core.db import Base
from app.core.types import ExactDecimal, UTCDateTime


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
