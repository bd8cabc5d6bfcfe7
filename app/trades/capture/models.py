"""The trades table: one row per booked trade, its derived amounts and its lifecycle."""

from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import Date, ForeignKey, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from app.core.db import Base
from app.core.types import ExactDecimal, UTCDateTime


class Trade(Base):
    __tablename__ = "trades"

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    external_id: Mapped[str] = mapped_column(String(64))
    book: Mapped[str] = mapped_column(ForeignKey("books.code"))
    counterparty_lei: Mapped[str] = mapped_column(ForeignKey("counterparties.lei"))
    isin: Mapped[str] = mapped_column(ForeignKey("instruments.isin"), index=True)
    side: Mapped[str] = mapped_column(String(4))
    quantity: Mapped[Decimal] = mapped_column(ExactDecimal())
    price: Mapped[Decimal] = mapped_column(ExactDecimal())
    currency: Mapped[str] = mapped_column(String(3))
    trade_date: Mapped[date] = mapped_column(Date, index=True)
    trade_time: Mapped[datetime] = mapped_column(UTCDateTime())
    venue: Mapped[str] = mapped_column(ForeignKey("markets.mic"))
    settlement_date: Mapped[date] = mapped_column(Date, index=True)
    commission: Mapped[Decimal] = mapped_column(ExactDecimal())
    fees: Mapped[Decimal] = mapped_column(ExactDecimal())
    accrued_interest: Mapped[Decimal | None] = mapped_column(ExactDecimal())
    gross_amount: Mapped[Decimal] = mapped_column(ExactDecimal())
    net_amount: Mapped[Decimal] = mapped_column(ExactDecimal())
    status: Mapped[str] = mapped_column(String(20))
    version: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())
    created_by: Mapped[str] = mapped_column(String(64))
    cancel_reason: Mapped[str | None] = mapped_column(String(500), default=None)
    # Set once, when the market's affirmation cutoff passes with the trade still unconfirmed.
    affirmation_overdue_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=None)
    # Set by clearing: the CCP after novation (the trade's counterparty is kept), and the
    # obligation the trade settles in.
    counterparty_of_record: Mapped[str | None] = mapped_column(String(20), default=None)
    obligation_id: Mapped[str | None] = mapped_column(String(40), default=None, index=True)

    __table_args__ = (
        UniqueConstraint("book", "external_id"),
        Index(None, "status", "settlement_date"),
        # Confirmations without a reference find their trade by economics.
        Index(None, "counterparty_lei", "isin", "trade_date"),
    )
