"""The confirmations table: a counterparty's view of a trade and how it compared with ours."""

from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import JSON, Date, ForeignKey, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from app.core.db import Base
from app.core.types import ExactDecimal, UTCDateTime


class Confirmation(Base):
    """A counterparty's view of a trade, and how it compared with ours."""

    __tablename__ = "confirmations"

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    confirmation_id: Mapped[str] = mapped_column(String(64))
    counterparty_lei: Mapped[str] = mapped_column(ForeignKey("counterparties.lei"))
    trade_reference: Mapped[str | None] = mapped_column(String(64))
    isin: Mapped[str] = mapped_column(String(12))
    side: Mapped[str] = mapped_column(String(4))
    quantity: Mapped[Decimal] = mapped_column(ExactDecimal())
    price: Mapped[Decimal] = mapped_column(ExactDecimal())
    currency: Mapped[str] = mapped_column(String(3))
    trade_date: Mapped[date] = mapped_column(Date)
    settlement_date: Mapped[date] = mapped_column(Date)
    net_amount: Mapped[Decimal] = mapped_column(ExactDecimal())
    # Null when the counterparty did not state it: then it is not compared.
    accrued_interest: Mapped[Decimal | None] = mapped_column(ExactDecimal())
    status: Mapped[str] = mapped_column(String(12))
    trade_id: Mapped[str | None] = mapped_column(ForeignKey("trades.id"), index=True)
    # [{"code": "DQUA", "field": "quantity", "ours": "100", "theirs": "90"}, ...]
    reasons: Mapped[list[dict[str, Any]]] = mapped_column(JSON)
    # Trade ids when the economics fit several of our trades (never guessed between).
    candidates: Mapped[list[str]] = mapped_column(JSON)
    version: Mapped[int] = mapped_column(Integer)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())
    received_by: Mapped[str] = mapped_column(String(64))
    force_match_proposed_by: Mapped[str | None] = mapped_column(String(64), default=None)
    force_match_reason: Mapped[str | None] = mapped_column(String(500), default=None)
    force_match_proposed_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=None)
    force_match_trade_id: Mapped[str | None] = mapped_column(String(40), default=None)
    force_match_approved_by: Mapped[str | None] = mapped_column(String(64), default=None)

    __table_args__ = (
        UniqueConstraint("counterparty_lei", "confirmation_id"),
        Index(None, "status", "received_at"),
        Index(None, "counterparty_lei", "status"),
    )
