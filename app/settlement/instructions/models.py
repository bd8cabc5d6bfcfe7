"""The settlement instruction table: one per obligation that moves something, with the sese.023
fields; and the obligations that move nothing, settled on their date without one."""

from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import JSON, Boolean, Date, ForeignKey, Index, Integer, String, text
from sqlalchemy.orm import Mapped, mapped_column

from app.core.db import Base
from app.core.types import ExactDecimal, UTCDateTime
from app.settlement.instructions.states import SETTLEABLE

_SETTLEABLE = text(
    "status IN (" + ", ".join(f"'{state.value}'" for state in sorted(SETTLEABLE)) + ")"
)


class SettlementInstruction(Base):
    __tablename__ = "settlement_instructions"

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    obligation_id: Mapped[str] = mapped_column(ForeignKey("obligations.id"), unique=True)
    delivery_type: Mapped[str] = mapped_column(String(4))
    isin: Mapped[str] = mapped_column(ForeignKey("instruments.isin"))
    quantity: Mapped[Decimal] = mapped_column(ExactDecimal())
    amount: Mapped[Decimal] = mapped_column(ExactDecimal())
    # sese.023 CreditDebitIndicator of the cash: CRDT we receive it, DBIT we pay; null if free.
    credit_debit: Mapped[str | None] = mapped_column(String(4))
    currency: Mapped[str] = mapped_column(String(3))
    securities_account: Mapped[str] = mapped_column(ForeignKey("accounts.code"))
    cash_account: Mapped[str] = mapped_column(ForeignKey("accounts.code"))
    counterparty_lei: Mapped[str] = mapped_column(ForeignKey("counterparties.lei"))
    # Obligations with a CCP are pre-matched at the CSD.
    ccp: Mapped[bool] = mapped_column(Boolean)
    # The SSI used: {"id", "place_of_settlement", "agent_bic", "account"}; null while in repair.
    counterparty_ssi: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    intended_settlement_date: Mapped[date] = mapped_column(Date)
    priority: Mapped[int] = mapped_column(Integer)
    # T2S partial indicator: NPAR, PART, PARQ or PARC (app.reference.partial).
    partial_indicator: Mapped[str] = mapped_column(String(4))
    # Kept equal to partial_indicator != NPAR, for readers of the flag.
    partial_allowed: Mapped[bool] = mapped_column(Boolean)
    status: Mapped[str] = mapped_column(String(20))
    # What repair needs: [{"code": "NSSI", "detail": "..."}]
    repair_reasons: Mapped[list[dict[str, Any]]] = mapped_column(JSON)
    settled_quantity: Mapped[Decimal] = mapped_column(ExactDecimal())
    settled_amount: Mapped[Decimal] = mapped_column(ExactDecimal())
    # The first pending or failing reason: an ISO code, or a CSD's proprietary code as text.
    fail_reason: Mapped[str | None] = mapped_column(String(35), default=None)
    # The state a hold parked it in, restored on release.
    held_from: Mapped[str | None] = mapped_column(String(20), default=None)
    # Who holds it (states.HeldBy): operations by hand, or the CSD's advice of a hold by us,
    # the counterparty or the CSD; and the CSD's hold reason code.
    held_by: Mapped[str | None] = mapped_column(String(12), default=None)
    hold_reason: Mapped[str | None] = mapped_column(String(35), default=None)
    # The last settlement run that tried it: a resumed run tries nothing twice.
    last_run_id: Mapped[str | None] = mapped_column(String(40), default=None)
    # The day it last settled, in full or in part.
    settled_on: Mapped[date | None] = mapped_column(Date, default=None)
    # The journal's pending entry for what is left to settle (projected balances count it).
    pending_id: Mapped[str | None] = mapped_column(String(40), default=None)
    version: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())

    __table_args__ = (
        Index(None, "status", "intended_settlement_date"),
        Index(None, "status", "priority", "created_at", "id"),
        Index(None, "counterparty_lei", "status"),
        # What settlement runs walk, in their order: only what is still to settle, so the rows
        # settled already (most of them, by the end of a run) are never read again.
        Index(
            "ix_settlement_instructions_settleable",
            "priority",
            "created_at",
            "id",
            postgresql_where=_SETTLEABLE,
            sqlite_where=_SETTLEABLE,
        ),
    )


class NettedOutObligation(Base):
    """An obligation that nets out to nothing: no instruction, nothing moves; the settlement
    run for its date settles its trades."""

    __tablename__ = "netted_out_obligations"

    obligation_id: Mapped[str] = mapped_column(ForeignKey("obligations.id"), primary_key=True)
    settlement_date: Mapped[date] = mapped_column(Date)
    # The last settlement run that tried it: a run tries each once.
    last_run_id: Mapped[str | None] = mapped_column(String(40), default=None)
    settled_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=None)

    __table_args__ = (Index(None, "settled_at", "settlement_date"),)


class InstructionStatusEvent(Base):
    """The instruction's status history: every status block of every advice with all its
    reasons, each confirmation, each hold and release. Append-only."""

    __tablename__ = "instruction_status_events"

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    instruction_id: Mapped[str] = mapped_column(ForeignKey("settlement_instructions.id"))
    # The advice it came from; null for a hold or release by operations.
    advice_id: Mapped[str | None] = mapped_column(ForeignKey("status_advices.id"), default=None)
    # processing, matching, settlement, confirmation, hold.
    block: Mapped[str] = mapped_column(String(12))
    status: Mapped[str] = mapped_column(String(24))
    # [{"code", "text", "proprietary", "issuer"}]
    reasons: Mapped[list[dict[str, Any]]] = mapped_column(JSON)
    # The advice's sender, or the API key id of who held or released it.
    sender: Mapped[str] = mapped_column(String(64))
    received_at: Mapped[datetime] = mapped_column(UTCDateTime())

    __table_args__ = (Index(None, "instruction_id", "id"),)
