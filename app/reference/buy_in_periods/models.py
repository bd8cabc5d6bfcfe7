"""Effective-dated CSDR buy-in extension periods."""

from datetime import date, datetime

from sqlalchemy import Date, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from app.core.db import Base
from app.core.types import UTCDateTime


class BuyInExtensionPeriod(Base):
    """The business days after the intended settlement date before a failing instruction of a
    CSDR instrument class becomes a buy-in candidate; ``default`` for every class without one."""

    __tablename__ = "buy_in_extension_periods"

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    csdr_class: Mapped[str] = mapped_column(String(20))
    business_days: Mapped[int] = mapped_column(Integer)
    effective_from: Mapped[date] = mapped_column(Date)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())

    __table_args__ = (UniqueConstraint("csdr_class", "effective_from"),)
