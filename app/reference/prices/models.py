"""Closing prices, one per ISIN and date."""

from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import Date, ForeignKey
from sqlalchemy.orm import Mapped, mapped_column

from app.core.db import Base
from app.core.types import ExactDecimal, UTCDateTime


class Price(Base):
    __tablename__ = "prices"

    isin: Mapped[str] = mapped_column(ForeignKey("instruments.isin"), primary_key=True)
    date: Mapped[date] = mapped_column(Date, primary_key=True)
    price: Mapped[Decimal] = mapped_column(ExactDecimal())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
