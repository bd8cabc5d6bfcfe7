"""One penalty per instruction, business day and kind; corrected by reversal, never edited."""

from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import Date, ForeignKey, Index, Integer, String, text
from sqlalchemy.orm import Mapped, mapped_column

from app.core.db import Base
from app.core.types import ExactDecimal, UTCDateTime

_ACTIVE = text("status = 'active'")


class Penalty(Base):
    __tablename__ = "penalties"

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    instruction_id: Mapped[str] = mapped_column(ForeignKey("settlement_instructions.id"))
    day: Mapped[date] = mapped_column(Date)
    # settlement_fail | late_matching_fail (app.penalties.calculation.PenaltyKind)
    kind: Mapped[str] = mapped_column(String(20))
    # us | counterparty: who fails, so who pays.
    payer: Mapped[str] = mapped_column(String(12))
    counterparty_lei: Mapped[str] = mapped_column(ForeignKey("counterparties.lei"))
    isin: Mapped[str] = mapped_column(String(12))
    # lack_of_securities | lack_of_cash: which rate applies.
    reason: Mapped[str] = mapped_column(String(20))
    fail_reason: Mapped[str | None] = mapped_column(String(35))
    quantity: Mapped[Decimal] = mapped_column(ExactDecimal())
    reference_price: Mapped[Decimal | None] = mapped_column(ExactDecimal())
    basis: Mapped[Decimal] = mapped_column(ExactDecimal())
    rate: Mapped[Decimal] = mapped_column(ExactDecimal())
    rate_divisor: Mapped[int] = mapped_column(Integer)
    amount: Mapped[Decimal] = mapped_column(ExactDecimal())
    currency: Mapped[str] = mapped_column(String(3))
    # active | reversed (states.PenaltyStatus)
    status: Mapped[str] = mapped_column(String(10))
    run_id: Mapped[str | None] = mapped_column(ForeignKey("penalty_runs.id"))
    journal_entry_id: Mapped[str] = mapped_column(String(40))
    reversal_entry_id: Mapped[str | None] = mapped_column(String(40), default=None)
    reversal_reason: Mapped[str | None] = mapped_column(String(200), default=None)
    reversed_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=None)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    version: Mapped[int] = mapped_column(Integer)

    __table_args__ = (
        # A run is idempotent per date: one active penalty per instruction, day and kind.
        Index(
            "uq_penalties_active",
            "instruction_id",
            "day",
            "kind",
            unique=True,
            postgresql_where=_ACTIVE,
            sqlite_where=_ACTIVE,
        ),
        Index(None, "day", "id"),
        Index(None, "counterparty_lei", "day"),
    )
