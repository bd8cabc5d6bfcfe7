"""Instruments: the securities we trade, with their bond terms."""

from datetime import date
from decimal import Decimal
from typing import Any

from sqlalchemy import JSON, Date, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from app.core.types import ExactDecimal
from app.reference.versioned import Versioned


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
    # PARQ: the least quantity a partial settles; null: one settlement unit.
    partial_quantity_threshold: Mapped[Decimal | None] = mapped_column(ExactDecimal())
