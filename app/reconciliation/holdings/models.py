"""Custodian holdings statements as received: the file, each statement in it, its lines."""

from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import (
    Boolean,
    Date,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from app.core.db import Base
from app.core.types import ExactDecimal, UTCDateTime


class HoldingsFile(Base):
    """A file as it arrived, byte for byte; kept only when every statement in it is stored."""

    __tablename__ = "holdings_files"

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    # semt002, mt535, csv or json: the format it was read in.
    format: Mapped[str] = mapped_column(String(10))
    sha256: Mapped[str] = mapped_column(String(64), index=True)
    content: Mapped[bytes] = mapped_column(LargeBinary)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime())
    received_by: Mapped[str] = mapped_column(String(64))


class HoldingsStatement(Base):
    """One statement (or one page of one): what the custodian says an account held on a day.
    The same account, statement id, date and page is received once."""

    __tablename__ = "holdings_statements"

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    file_id: Mapped[str] = mapped_column(ForeignKey("holdings_files.id"))
    # Our securities account; the custodian's name for it (its code or account number) beside.
    account: Mapped[str] = mapped_column(ForeignKey("accounts.code"))
    safekeeping_account: Mapped[str] = mapped_column(String(40))
    statement_id: Mapped[str] = mapped_column(String(35))
    statement_date: Mapped[date] = mapped_column(Date)
    # settled, traded, contractual; null when the file does not say.
    basis: Mapped[str | None] = mapped_column(String(12))
    # Page 1 of 1 when the format has no pages.
    page: Mapped[int] = mapped_column(Integer)
    last_page: Mapped[bool] = mapped_column(Boolean)
    line_count: Mapped[int] = mapped_column(Integer)
    # SHA-256 of the statement as read (decimals normalised): what a repeat must match.
    content_hash: Mapped[str] = mapped_column(String(64))
    received_at: Mapped[datetime] = mapped_column(UTCDateTime())
    received_by: Mapped[str] = mapped_column(String(64))

    __table_args__ = (
        UniqueConstraint("account", "statement_id", "statement_date", "page"),
        Index(None, "account", "statement_date", "id"),
        Index(None, "statement_date", "id"),
    )


class HoldingsLine(Base):
    """One ISIN of a statement, in the order the custodian listed them."""

    __tablename__ = "holdings_lines"

    holdings_statement_id: Mapped[str] = mapped_column(
        ForeignKey("holdings_statements.id"), primary_key=True
    )
    line_number: Mapped[int] = mapped_column(Integer, primary_key=True)
    isin: Mapped[str] = mapped_column(String(12))
    quantity: Mapped[Decimal] = mapped_column(ExactDecimal())
    # UNIT or FAMT
    quantity_type: Mapped[str] = mapped_column(String(4))
    available: Mapped[Decimal | None] = mapped_column(ExactDecimal(), default=None)
