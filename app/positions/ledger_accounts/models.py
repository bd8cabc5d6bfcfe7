"""The chart of accounts: one row per ledger account."""

from datetime import datetime

from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column

from app.core.db import Base
from app.core.types import UTCDateTime


class LedgerAccount(Base):
    """Where an asset sits or is owed: a book, a safekeeping or cash account, a counterparty,
    or one of the fixed accounts (commission, fees, penalties, write-offs, suspense, equity)."""

    __tablename__ = "ledger_accounts"

    code: Mapped[str] = mapped_column(String(64), primary_key=True)
    kind: Mapped[str] = mapped_column(String(20), index=True)
    name: Mapped[str] = mapped_column(String(200))
    # The book, account or counterparty the ledger account stands for, if any.
    reference: Mapped[str | None] = mapped_column(String(40))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
