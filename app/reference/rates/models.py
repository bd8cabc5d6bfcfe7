"""Effective-dated CSDR penalty rates."""

from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import Date, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from app.core.db import Base
from app.core.types import ExactDecimal, UTCDateTime


class PenaltyRate(Base):
    """An effective-dated CSDR penalty rate for an instrument class, or cash rate per currency."""

    __tablename__ = "penalty_rates"

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    csdr_class: Mapped[str] = mapped_column(String(20))
    rate: Mapped[Decimal] = mapped_column(ExactDecimal())
    effective_from: Mapped[date] = mapped_column(Date)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())

    __table_args__ = (UniqueConstraint("csdr_class", "effective_from"),)
