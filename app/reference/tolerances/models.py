"""Matching tolerances: how far a confirmation may differ from our trade, per currency."""

from decimal import Decimal

from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column

from app.core.types import ExactDecimal
from app.reference.versioned import Versioned


class MatchingTolerance(Versioned):
    """How far a counterparty's confirmation may differ from our trade, per currency."""

    __tablename__ = "matching_tolerances"

    currency: Mapped[str] = mapped_column(String(3), primary_key=True)
    price_abs: Mapped[Decimal] = mapped_column(ExactDecimal())
    net_amount_abs: Mapped[Decimal | None] = mapped_column(ExactDecimal())
    net_amount_bps: Mapped[Decimal | None] = mapped_column(ExactDecimal())
