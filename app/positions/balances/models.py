"""The running balances and their daily rows."""

from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import Date, ForeignKey, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from app.core.db import Base
from app.core.types import ExactDecimal, UTCDateTime


class LedgerBalance(Base):
    """The running totals of one (ledger account, asset): every posting so far.

    Writers lock this row before they change it or its daily rows, so the totals are always the
    sum of the postings (``/ledger/check`` proves it)."""

    __tablename__ = "ledger_balances"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    ledger_account: Mapped[str] = mapped_column(ForeignKey("ledger_accounts.code"))
    asset: Mapped[str] = mapped_column(String(12))
    posted: Mapped[Decimal] = mapped_column(ExactDecimal())
    pending: Mapped[Decimal] = mapped_column(ExactDecimal())
    cost: Mapped[Decimal] = mapped_column(ExactDecimal())
    realized_pnl: Mapped[Decimal] = mapped_column(ExactDecimal())
    # The latest effective date with a daily row.
    last_date: Mapped[date | None] = mapped_column(Date)
    # On a book's position: the latest execution time of a trade posted to it. A trade executed
    # earlier is late, and the trades after it are restated.
    last_trade_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=None)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())

    __table_args__ = (UniqueConstraint("ledger_account", "asset"), Index(None, "asset"))


class LedgerBalanceDay(Base):
    """The totals at the end of each effective date on which they changed, whenever the change
    was booked: an as-of answer reads one row per balance instead of summing history."""

    __tablename__ = "ledger_balance_days"

    balance_id: Mapped[int] = mapped_column(ForeignKey("ledger_balances.id"), primary_key=True)
    as_of_date: Mapped[date] = mapped_column(Date, primary_key=True)
    posted: Mapped[Decimal] = mapped_column(ExactDecimal())
    pending: Mapped[Decimal] = mapped_column(ExactDecimal())
    cost: Mapped[Decimal] = mapped_column(ExactDecimal())
    realized_pnl: Mapped[Decimal] = mapped_column(ExactDecimal())
