"""Bank statements as received: the file kept byte for byte, each statement in it with its
balances and integrity, and each statement's entries."""

from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Date,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from app.core.db import Base
from app.core.types import ExactDecimal, UTCDateTime


class StatementFile(Base):
    """A file as it came: nothing received is lost, whatever is read from it later."""

    __tablename__ = "statement_files"

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    content: Mapped[bytes] = mapped_column(LargeBinary)
    sha256: Mapped[str] = mapped_column(String(64), index=True)
    size: Mapped[int] = mapped_column(Integer)
    # camt, swift, csv or json (parsing.detect.StatementFormat).
    format: Mapped[str] = mapped_column(String(8))
    content_type: Mapped[str | None] = mapped_column(String(255))
    # CSV: the column mapping it was read with, and that mapping's version then.
    mapping: Mapped[str | None] = mapped_column(String(64))
    mapping_version: Mapped[int | None] = mapped_column(Integer)
    statements: Mapped[int] = mapped_column(Integer)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime())
    received_by: Mapped[str] = mapped_column(String(64))


class BankStatement(Base):
    """One statement (or intraday report, or notification) of one of our cash accounts.

    Unique per (account, kind, statement_id, sequence_key): ``sequence_key`` is never NULL
    (``electronic/legal/page`` with ``-`` for what is absent), so a statement without any
    sequence is a duplicate by its id alone."""

    __tablename__ = "bank_statements"

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    file_id: Mapped[str] = mapped_column(ForeignKey("statement_files.id"), index=True)
    account: Mapped[str] = mapped_column(ForeignKey("accounts.code"))
    # The IBAN or account number as the bank wrote it.
    account_identifier: Mapped[str] = mapped_column(String(140))
    # statement, report or notification (parsing.model.StatementKind).
    kind: Mapped[str] = mapped_column(String(12))
    format: Mapped[str] = mapped_column(String(8))
    statement_id: Mapped[str] = mapped_column(String(140))
    electronic_sequence: Mapped[int | None] = mapped_column(BigInteger)
    legal_sequence: Mapped[int | None] = mapped_column(BigInteger)
    page: Mapped[int | None] = mapped_column(Integer)
    # The number continuity counts (electronic, else legal): what "previous" is ordered by.
    sequence: Mapped[int | None] = mapped_column(BigInteger)
    sequence_key: Mapped[str] = mapped_column(String(70))
    currency: Mapped[str] = mapped_column(String(3))
    opening_booked_amount: Mapped[Decimal | None] = mapped_column(ExactDecimal())
    opening_booked_date: Mapped[date | None] = mapped_column(Date)
    closing_booked_amount: Mapped[Decimal | None] = mapped_column(ExactDecimal())
    closing_booked_date: Mapped[date | None] = mapped_column(Date)
    opening_available_amount: Mapped[Decimal | None] = mapped_column(ExactDecimal())
    opening_available_date: Mapped[date | None] = mapped_column(Date)
    closing_available_amount: Mapped[Decimal | None] = mapped_column(ExactDecimal())
    closing_available_date: Mapped[date | None] = mapped_column(Date)
    # The day it is about: the closing booked date, else its latest entry date, else created.
    statement_date: Mapped[date | None] = mapped_column(Date)
    # When the bank created it, as the file says.
    created_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    entry_count: Mapped[int] = mapped_column(Integer)
    # SHA-256 of identity.canonical_content: the same key with another hash is refused.
    content_hash: Mapped[str] = mapped_column(String(64))
    # "ok" or "breaks"; the breaks: [{"kind", "expected", "found", "message"}].
    integrity: Mapped[str] = mapped_column(String(6))
    integrity_breaks: Mapped[list[dict[str, Any]]] = mapped_column(JSON)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime())
    received_by: Mapped[str] = mapped_column(String(64))

    __table_args__ = (
        UniqueConstraint("account", "kind", "statement_id", "sequence_key"),
        Index(None, "account", "kind", "sequence"),
        Index(None, "account", "kind", "statement_date"),
    )


class StatementEntry(Base):
    """One entry of a statement. ``account`` and ``entry_date`` (the value date, else the
    booking date) are copied from the statement and the entry so that a reconciliation of an
    account and a day reads one index range."""

    __tablename__ = "statement_entries"

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    bank_statement_id: Mapped[str] = mapped_column(ForeignKey("bank_statements.id"))
    line: Mapped[int] = mapped_column(Integer)
    account: Mapped[str] = mapped_column(String(40))
    entry_date: Mapped[date | None] = mapped_column(Date)
    amount: Mapped[Decimal] = mapped_column(ExactDecimal())  # signed, credit positive
    credit_debit: Mapped[str] = mapped_column(String(4))
    booking_date: Mapped[date | None] = mapped_column(Date)
    value_date: Mapped[date | None] = mapped_column(Date)
    # booked, pending or information (parsing.model.EntryStatus).
    status: Mapped[str] = mapped_column(String(12))
    bank_transaction_code: Mapped[str | None] = mapped_column(Text)
    end_to_end_id: Mapped[str | None] = mapped_column(Text)
    account_servicer_reference: Mapped[str | None] = mapped_column(Text)
    instruction_id: Mapped[str | None] = mapped_column(Text)
    uetr: Mapped[str | None] = mapped_column(Text)
    # Every reference the bank gave (the four above included), by name.
    references: Mapped[dict[str, str]] = mapped_column(JSON)
    remittance_information: Mapped[str | None] = mapped_column(Text)
    counterparty_name: Mapped[str | None] = mapped_column(Text)
    counterparty_account: Mapped[str | None] = mapped_column(Text)
    reversal: Mapped[bool] = mapped_column(Boolean)

    __table_args__ = (
        UniqueConstraint("bank_statement_id", "line"),
        Index(None, "account", "entry_date"),
    )
