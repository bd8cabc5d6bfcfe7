"""Reconciliation rules: one row per matching rule, taken in priority order by the runs."""

from datetime import datetime
from decimal import Decimal

from sqlalchemy import JSON, Boolean, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from app.core.db import Base
from app.core.types import ExactDecimal, UTCDateTime


class ReconciliationRule(Base):
    """A matching rule (see ``app.reconciliation.matching.values.Rule``), amended in place under
    optimistic concurrency."""

    __tablename__ = "reconciliation_rules"

    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    description: Mapped[str] = mapped_column(String(500))
    priority: Mapped[int] = mapped_column(Integer)
    kind: Mapped[str] = mapped_column(String(32))
    enabled: Mapped[bool] = mapped_column(Boolean)
    # {"EUR": "0.01", ...}: per currency, exact decimals kept as strings
    amount_tolerance: Mapped[dict[str, str]] = mapped_column(JSON)
    default_amount_tolerance: Mapped[Decimal] = mapped_column(ExactDecimal())
    value_date_days: Mapped[int] = mapped_column(Integer)
    counterparty_must_agree: Mapped[bool] = mapped_column(Boolean)
    max_group_size: Mapped[int] = mapped_column(Integer)
    max_candidates: Mapped[int] = mapped_column(Integer)
    search_budget: Mapped[int] = mapped_column(Integer)
    version: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())
