"""The running balances and their daily rows."""

from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import Date, ForeignKey, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from app.core.db import Base
from app.core.types import ExactDecimal, UTCDateTime


class LedgerBalance(Base):
    """The running totals of one stripe of a (ledger account, asset): the balance is the sum of
    its stripes, and the stripes' totals are the sum of the postings (``/ledger/check`` proves
    it).

    Stripe 0 always exists; writers that must see the whole balance (a settlement spending our
    securities and cash, a trade costed against its book's position) lock it, and those
    balances never have other stripes. The balances every trade moves (counterparties,
    commission, fees, a book's cash) take, on PostgreSQL, any other stripe no transaction holds
    and open a new one when all are held: no writer waits for another on them."""

    __tablename__ = "ledger_balances"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    ledger_account: Mapped[str] = mapped_column(ForeignKey("ledger_accounts.code"))
    asset: Mapped[str] = mapped_column(String(12))
    stripe: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
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

    __table_args__ = (UniqueConstraint("ledger_account", "asset", "stripe"), Index(None, "asset"))


class LedgerBalanceDay(Base):
    """The totals of one stripe at the end of each effective date on which they changed,
    whenever the change was booked: an as-of answer reads one row per stripe instead of summing
    history."""

    __tablename__ = "ledger_balance_days"

    balance_id: Mapped[int] = mapped_column(ForeignKey("ledger_balances.id"), primary_key=True)
    as_of_date: Mapped[date] = mapped_column(Date, primary_key=True)
    posted: Mapped[Decimal] = mapped_column(ExactDecimal())
    pending: Mapped[Decimal] = mapped_column(ExactDecimal())
    cost: Mapped[Decimal] = mapped_column(ExactDecimal())
    realized_pnl: Mapped[Decimal] = mapped_column(ExactDecimal())
