from datetime import datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from app.core.db import Base
from app.core.types import ROW_ID, UTCDateTime

GENESIS_HASH = "0" * 64


class AuditRecord(Base):
    """One change of one entity, appended by the writer in its own transaction.

    Writers share no lock: ``id`` comes from a sequence and says nothing about commit order.
    A record with an ``event_type`` is also an event of the feed (the transactional outbox is
    the trail itself, so a change is encoded once). Never updated or deleted.
    """

    __tablename__ = "audit_records"

    id: Mapped[int] = mapped_column(ROW_ID, primary_key=True, autoincrement=True)
    occurred_at: Mapped[datetime] = mapped_column(UTCDateTime())
    actor_key_id: Mapped[str] = mapped_column(String(64))
    actor_role: Mapped[str] = mapped_column(String(20))
    actor_name: Mapped[str] = mapped_column(String(200))
    request_id: Mapped[str | None] = mapped_column(String(128))
    entity_type: Mapped[str] = mapped_column(String(40))
    entity_id: Mapped[str] = mapped_column(String(64))
    action: Mapped[str] = mapped_column(String(60))
    before: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    after: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    event_type: Mapped[str | None] = mapped_column(String(80))

    __table_args__ = (
        Index(None, "entity_type", "entity_id", "id"),
        Index(None, "occurred_at"),
        Index(None, "actor_key_id"),
        # "What did this request change?" is a needle: without it, a walk of the whole trail.
        Index(None, "request_id"),
    )


class AuditSeal(Base):
    """A record's place in the chain, written once by the sealer: gap-free ``seq`` in the order
    the sealer saw the records committed, and SHA-256 over the record and ``prev_hash``."""

    __tablename__ = "audit_seals"

    seq: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    record_id: Mapped[int] = mapped_column(ROW_ID, ForeignKey("audit_records.id"), unique=True)
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64))
    sealed_at: Mapped[datetime] = mapped_column(UTCDateTime())

    # Verify and export take windows of seal time: one sealer seals in seq order, so a
    # window's first seal is this index's first row from its start.
    __table_args__ = (Index(None, "sealed_at", "seq"),)


class UnsealedRecord(Base):
    """The sealer's queue: one row per committed record it has not sealed yet.

    A record's id cannot tell the sealer what is left (a lower id may commit after a higher
    one), and scanning the trail for records without a seal grows with the trail; this queue
    stays as short as the backlog, which ``/readyz`` and ``/metrics`` report.
    """

    __tablename__ = "audit_unsealed"

    # A record of the trail: not a foreign key (a check and a row lock per record) but one
    # check per statement in the database (migration 0034b), as strict.
    record_id: Mapped[int] = mapped_column(ROW_ID, primary_key=True, autoincrement=False)
    # Wall-clock time just before the writer's commit (not the request's business clock): the
    # sealer's lag is measured from here.
    queued_at: Mapped[datetime] = mapped_column(UTCDateTime())
