"""API models for status advices: the CSD's or custodian's sese.024 status and sese.025
confirmation of a settlement instruction. JSON and ISO 20022 XML both read into ``AdviceIn``."""

from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StringConstraints

from app.core.errors import FieldProblem
from app.core.identifiers import Currency, Isin
from app.core.money import DecimalStr
from app.core.text import printable
from app.settlement.instructions.states import InstructionStatus


class MessageType(StrEnum):
    STATUS = "sese.024"  # SecuritiesSettlementTransactionStatusAdvice
    CONFIRMATION = "sese.025"  # SecuritiesSettlementTransactionConfirmation


class AdvisedStatus(StrEnum):
    """What a sese.024 says: its matching status, or its settlement status."""

    MATCHED = "matched"
    UNMATCHED = "unmatched"
    PENDING = "pending"
    FAILING = "failing"


class ConfirmedStatus(StrEnum):
    """What a sese.025 did to the instruction."""

    PARTIALLY_SETTLED = "partially_settled"
    SETTLED = "settled"


# ISO 20022 Max35Text, printable (PostgreSQL refuses NUL in text).
MessageId = Annotated[
    str, StringConstraints(min_length=1, max_length=35), AfterValidator(printable)
]
InstructionId = Annotated[
    str, StringConstraints(min_length=1, max_length=40), AfterValidator(printable)
]
ReasonText = Annotated[str, StringConstraints(max_length=210), AfterValidator(printable)]
ReasonCode = Annotated[str, StringConstraints(pattern=r"^[A-Z]{4}$")]
MAX_REASONS = 20

_STATUS_EXAMPLE: dict[str, Any] = {
    "message_id": "EB-20261125-000871",
    "message_type": "sese.024",
    "instruction_id": "si_01kbv1x0a2s9d8f7g6h5j4k3m2",
    "status": "unmatched",
    "reasons": [{"code": "DDEA", "text": "Counterparty instructed 78.45"}],
}
_CONFIRMATION_EXAMPLE: dict[str, Any] = {
    "message_id": "EB-20261126-004410",
    "message_type": "sese.025",
    "instruction_id": "si_01kbv1x0a2s9d8f7g6h5j4k3m2",
    "settled_quantity": "400000",
    "settled_amount": "316031.78",
    "currency": "EUR",
    "settlement_date": "2026-11-26",
    "partial": True,
}


class ReasonIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    code: ReasonCode = Field(
        description="The ISO 20022 reason code, four capital letters: unmatched DQUA, DDEA, "
        "DMON, DSEC, DTRD, DDAT, CMIS...; pending or failing LACK, MONY, CLAC, PRCY...",
        examples=["LACK"],
    )
    text: ReasonText | None = Field(default=None, description="AdditionalReasonInformation.")


class AdviceIn(BaseModel):
    """One advice about one of our settlement instructions. `sese.024` carries `status` and
    `reasons`; `sese.025` carries what settled. ISO 20022 XML reads into the same fields."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={"examples": [_STATUS_EXAMPLE, _CONFIRMATION_EXAMPLE]},
    )

    message_id: MessageId = Field(
        description="The sender's unique message id (the BizMsgIdr of the XML header). The same "
        "id with the same content answers the first result; with other content it is a 409."
    )
    message_type: MessageType
    instruction_id: InstructionId = Field(
        description="Our settlement instruction id (AccountOwnerTransactionIdentification)."
    )
    # sese.024 ---------------------------------------------------------------------------------
    status: AdvisedStatus | None = Field(
        default=None,
        description="sese.024 only: `matched` or `unmatched` (matching status), `pending` or "
        "`failing` (settlement status).",
    )
    matched: bool = Field(
        default=False,
        description="sese.024 with `pending` or `failing` only: the advice also reports the "
        "instruction matched (an XML advice with both MtchgSts/Mtchd and SttlmSts).",
    )
    reasons: list[ReasonIn] = Field(
        default_factory=list,
        max_length=MAX_REASONS,
        description="sese.024 `unmatched`, `pending` or `failing`: the reasons, in the order "
        "given (the first pending or failing reason becomes the instruction's `fail_reason`).",
    )
    # sese.025 ---------------------------------------------------------------------------------
    settled_quantity: DecimalStr | None = Field(
        default=None, description="sese.025 only: the quantity (or face amount) this settled."
    )
    settled_amount: DecimalStr | None = Field(
        default=None, description="sese.025 only: the cash this settled; absent if none moved."
    )
    settlement_date: date | None = Field(
        default=None,
        description="sese.025 only: the actual (effective) settlement date; not in the future.",
    )
    partial: bool | None = Field(
        default=None,
        description="sese.025 only: `true` (PAIN) part of it remains; `false` (PARC) the last "
        "part; absent: derived from what is left to settle.",
    )
    # Either: checked against the instruction when given ----------------------------------------
    isin: Isin | None = None
    currency: Currency | None = Field(default=None, description="Of the settled amount.")
    credit_debit: Literal["CRDT", "DBIT"] | None = Field(
        default=None, description="Of the settled amount, seen from us: `CRDT` we received it."
    )
    securities_movement: Literal["RECE", "DELI"] | None = Field(
        default=None, description="`RECE` we receive the securities, `DELI` we deliver them."
    )
    payment: Literal["APMT", "FREE"] | None = Field(
        default=None, description="`APMT` against payment, `FREE` free of payment."
    )

    def problems(self) -> list[FieldProblem]:
        """What this advice's type forbids or lacks (the fields' own checks are Pydantic's)."""
        if self.message_type == MessageType.STATUS:
            return self._status_problems()
        return self._confirmation_problems()

    def _status_problems(self) -> list[FieldProblem]:
        problems = [
            FieldProblem(name, "is for sese.025 only")
            for name in ("settled_quantity", "settled_amount", "settlement_date", "partial")
            if getattr(self, name) is not None
        ]
        if self.status is None:
            problems.append(FieldProblem("status", "is required for a sese.024 advice"))
        elif self.status == AdvisedStatus.MATCHED and self.reasons:
            problems.append(FieldProblem("reasons", "a matched advice has no reasons"))
        if self.matched and self.status not in (AdvisedStatus.PENDING, AdvisedStatus.FAILING):
            problems.append(FieldProblem("matched", "goes only with `pending` or `failing`"))
        return problems

    def _confirmation_problems(self) -> list[FieldProblem]:
        problems = [
            FieldProblem(name, "is for sese.024 only")
            for name, present in (
                ("status", self.status is not None),
                ("matched", self.matched),
                ("reasons", bool(self.reasons)),
            )
            if present
        ]
        if self.settled_quantity is None:
            problems.append(FieldProblem("settled_quantity", "is required for a sese.025 advice"))
        if self.settlement_date is None:
            problems.append(FieldProblem("settlement_date", "is required for a sese.025 advice"))
        for name in ("settled_quantity", "settled_amount"):
            value: Decimal | None = getattr(self, name)
            if value is not None and value < 0:
                problems.append(FieldProblem(name, "must not be negative"))
        if self.settled_quantity == 0 and not self.settled_amount:
            problems.append(FieldProblem("settled_quantity", "nothing settled: both are zero"))
        return problems


class ReasonOut(BaseModel):
    # The OpenAPI document names models that share a name (confirmations have a ReasonOut too)
    # after their module: keep the name it has always been published under.
    __module__ = "app.settlement.advice_schemas"

    code: str
    text: str | None


class AdviceInstructionOut(BaseModel):
    """The instruction as the advice left it."""

    id: str
    status: InstructionStatus
    held_from: InstructionStatus | None = Field(
        description="While `on_hold`: the state the advice moved it in, restored on release."
    )
    settled_quantity: DecimalStr
    settled_amount: DecimalStr
    fail_reason: str | None


class StatusAdviceOut(BaseModel):
    id: str
    message_id: str
    message_type: MessageType
    instruction_id: str
    status: str = Field(
        description="sese.024: `matched`, `unmatched`, `pending`, `failing`; sese.025: what it "
        "did, `partially_settled` or `settled`."
    )
    reasons: list[ReasonOut]
    settled_quantity: DecimalStr | None
    settled_amount: DecimalStr | None
    settlement_date: date | None
    source: str = Field(description="`json`, or the ISO 20022 message read (`sese.025.001.12`).")
    received_at: datetime
    instruction: AdviceInstructionOut
