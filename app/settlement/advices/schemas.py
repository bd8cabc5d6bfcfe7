"""API models for status advices: the CSD's or custodian's sese.024 status (or MT548) and
sese.025 confirmation (or MT544-547) of a settlement instruction. JSON, ISO 20022 XML and SWIFT
MT text all read into ``AdviceIn``."""

import re
from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StrictBool,
    StringConstraints,
    ValidationInfo,
    field_validator,
)

from app.core.errors import FieldProblem
from app.core.identifiers import Currency, Isin
from app.core.moments import IsoDate
from app.core.money import DecimalStr
from app.core.text import Printable, printable
from app.settlement.instructions.states import InstructionStatus


class MessageType(StrEnum):
    STATUS = "sese.024"  # SecuritiesSettlementTransactionStatusAdvice (or MT548)
    CONFIRMATION = "sese.025"  # SecuritiesSettlementTransactionConfirmation (or MT544-547)


class Block(StrEnum):
    """A status block of a sese.024 (or MT548 STAT), and what else the history records."""

    PROCESSING = "processing"  # PrcgSts, :25D::IPRC//
    MATCHING = "matching"  # MtchgSts, :25D::MTCH//
    SETTLEMENT = "settlement"  # SttlmSts, :25D::SETT//
    CONFIRMATION = "confirmation"  # a sese.025 or MT544-547
    HOLD = "hold"  # held or released, by the CSD's advice or by operations


class AdvisedStatus(StrEnum):
    """What a sese.024 block says."""

    ACKNOWLEDGED = "acknowledged"  # AckdAccptd, PACK
    REJECTED = "rejected"  # Rjctd, REJT
    CANCELLED = "cancelled"  # Canc, CAND
    PENDING_PROCESSING = "pending_processing"  # PdgPrcg, PPRC
    MATCHED = "matched"  # Mtchd, MACH
    UNMATCHED = "unmatched"  # Umtchd, NMAT
    PENDING = "pending"  # Pdg, PEND
    FAILING = "failing"  # Flng, PENF


_S = AdvisedStatus
BLOCK_OF: dict[AdvisedStatus, Block] = {
    **dict.fromkeys(
        (_S.ACKNOWLEDGED, _S.REJECTED, _S.CANCELLED, _S.PENDING_PROCESSING), Block.PROCESSING
    ),
    **dict.fromkeys((_S.MATCHED, _S.UNMATCHED), Block.MATCHING),
    **dict.fromkeys((_S.PENDING, _S.FAILING), Block.SETTLEMENT),
}
# The order an advice's blocks apply in.
BLOCK_ORDER = (Block.PROCESSING, Block.MATCHING, Block.SETTLEMENT)
_GOOD_NEWS = (AdvisedStatus.ACKNOWLEDGED, AdvisedStatus.MATCHED)


class ConfirmedStatus(StrEnum):
    """What a sese.025 did to the instruction; ``exception`` when it could not be applied."""

    PARTIALLY_SETTLED = "partially_settled"
    SETTLED = "settled"


class AdviceOutcome(StrEnum):
    """Advices kept for operations instead of applied."""

    EXCEPTION = "exception"  # an unknown reference, or a confirmation beyond what is pending
    RESOLVED = "resolved"  # closed by operations with a comment


# ISO 20022 Max35Text, printable (PostgreSQL refuses NUL in text).
MessageId = Annotated[str, StringConstraints(min_length=1, max_length=35), Printable]
InstructionId = Annotated[str, StringConstraints(min_length=1, max_length=40), Printable]
# Our SEME as the advice names it (AcctOwnrTxId is Max35Text; :20C::RELA// 16x).
Reference = Annotated[str, StringConstraints(min_length=1, max_length=35), Printable]
# A BIC (AppHdr Fr, MT block 2) or, for JSON sent without one, the API key's id.
Sender = Annotated[str, StringConstraints(min_length=1, max_length=64), Printable]
ReasonText = Annotated[str, StringConstraints(max_length=250), Printable]
ISO_REASON_CODE = re.compile(r"^[A-Z]{4}$")
# A proprietary code is kept as the CSD wrote it (GenericIdentification30 Id, :24B: issuer code).
ProprietaryCode = Annotated[str, StringConstraints(min_length=1, max_length=35), Printable]
MAX_REASONS = 20

_STATUS_EXAMPLE: dict[str, Any] = {
    "message_id": "EB-20261125-000871",
    "message_type": "sese.024",
    "instruction_id": "si_01kbv1x0a2s9d8f7g6h5j4k3m2",
    "status": "unmatched",
    "reasons": [{"code": "DDEA", "text": "Counterparty instructed 78.45"}],
}
_BLOCKS_EXAMPLE: dict[str, Any] = {
    "message_id": "EB-20261126-000113",
    "message_type": "sese.024",
    "sender": "MGTCBEBEECL",
    "reference": "01KBV1X0A2S9D8F7",
    "processing": {"status": "acknowledged"},
    "matching": {"status": "matched"},
    "settlement": {
        "status": "pending",
        "reasons": [
            {"code": "CSDH", "text": "Held by the CSD"},
            {"code": "X042", "proprietary": True, "issuer": "EUCL", "text": "Account review"},
        ],
    },
}
_CONFIRMATION_EXAMPLE: dict[str, Any] = {
    "message_id": "EB-20261126-004410",
    "message_type": "sese.025",
    "reference": "01KBV1X0A2S9D8F7",
    "settled_quantity": "400000",
    "settled_amount": "316031.78",
    "currency": "EUR",
    "settlement_date": "2026-11-26",
    "partial": True,
}


class ReasonIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    # Before ``code``: its check depends on it.
    proprietary: StrictBool = Field(
        default=False,
        description="A proprietary code (Rsn/Cd/Prtry, :24B::PEND/ISSR/CODE): kept as text, "
        "never refused.",
    )
    issuer: ProprietaryCode | None = Field(
        default=None, description="Of a proprietary code: who defines it (Prtry/Issr)."
    )
    code: str = Field(
        description="An ISO 20022 reason code, four capital letters (unmatched DQUA, DDEA, "
        "DMON, DSEC, DTRD, DDAT, CMIS...; pending or failing LACK, MONY, CLAC; holds PREA, "
        "PRCY, CSDH, CVAL, CDLR; rejected SAFE, DDAT...), or a proprietary code (1 to 35 "
        "characters).",
        examples=["LACK"],
    )
    text: ReasonText | None = Field(default=None, description="AdditionalReasonInformation.")

    @field_validator("code")
    @classmethod
    def _code(cls, value: str, info: ValidationInfo) -> str:
        if info.data.get("proprietary"):
            if not 0 < len(value) <= 35:
                raise ValueError(f"a proprietary code has 1 to 35 characters, not {len(value)}")
            return printable(value)
        if not ISO_REASON_CODE.match(value):
            raise ValueError(
                "is not a four-letter ISO reason code (send a proprietary code with "
                '"proprietary": true)'
            )
        return value


class StatusBlockIn(BaseModel):
    """One status block of a sese.024: its status and the reasons given for it."""

    model_config = ConfigDict(extra="forbid")

    status: AdvisedStatus
    reasons: list[ReasonIn] = Field(default_factory=list, max_length=MAX_REASONS)


class AdviceIn(BaseModel):
    """One advice about one of our settlement instructions. `sese.024` carries status blocks
    (`processing`, `matching`, `settlement`), or for one block the shorthand `status` and
    `reasons` (with `matched`); `sese.025` carries what settled. ISO 20022 XML and SWIFT MT
    read into the same fields."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={"examples": [_STATUS_EXAMPLE, _BLOCKS_EXAMPLE, _CONFIRMATION_EXAMPLE]},
    )

    message_id: MessageId = Field(
        description="The sender's message id (AppHdr BizMsgIdr, the MT's :20C::SEME//), unique "
        "per sender. The same sender and id with the same content answers the first result; "
        "with other content it is a 409."
    )
    message_type: MessageType
    sender: Sender | None = Field(
        default=None,
        description="Who sent it: a BIC (the XML header's Fr, an MT's block 2). Absent: the "
        "API key's id.",
    )
    reference: Reference | None = Field(
        default=None,
        description="Our message reference (SEME) the advice names: AcctOwnrTxId, "
        ":20C::RELA//. Resolved through the outbound messages, else taken as an instruction id.",
    )
    instruction_id: InstructionId | None = Field(
        default=None, description="Our settlement instruction id, instead of `reference`."
    )
    csd_reference: Reference | None = Field(
        default=None,
        description="The CSD's own transaction id (AcctSvcrTxId, :20C::ASRF//): kept.",
    )
    # sese.024 ---------------------------------------------------------------------------------
    processing: StatusBlockIn | None = Field(
        default=None,
        description="sese.024 PrcgSts: `acknowledged`, `rejected`, `cancelled`, "
        "`pending_processing`.",
    )
    matching: StatusBlockIn | None = Field(
        default=None, description="sese.024 MtchgSts: `matched` or `unmatched`."
    )
    settlement: StatusBlockIn | None = Field(
        default=None, description="sese.024 SttlmSts: `pending` or `failing`."
    )
    status: AdvisedStatus | None = Field(
        default=None,
        description="sese.024 shorthand for one block: its status (`matched` ... `failing`); "
        "not with the blocks.",
    )
    matched: StrictBool = Field(
        default=False,
        description="With the shorthand `pending` or `failing` only: the advice also reports "
        "the instruction matched.",
    )
    reasons: list[ReasonIn] = Field(
        default_factory=list,
        max_length=MAX_REASONS,
        description="With the shorthand `status`: its reasons, in the order given (the first "
        "pending or failing reason becomes the instruction's `fail_reason`).",
    )
    # sese.025 ---------------------------------------------------------------------------------
    settled_quantity: DecimalStr | None = Field(
        default=None, description="sese.025 only: the quantity (or face amount) this settled."
    )
    settled_amount: DecimalStr | None = Field(
        default=None, description="sese.025 only: the cash this settled; absent if none moved."
    )
    settlement_date: IsoDate | None = Field(
        default=None,
        description="sese.025 only: the actual (effective) settlement date; not in the future.",
    )
    partial: StrictBool | None = Field(
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

    def blocks(self) -> list[tuple[Block, StatusBlockIn]]:
        """The status blocks in the order they apply: processing, matching, settlement (the
        shorthand read as its block, with ``matched`` as a matching block before it)."""
        given: dict[Block, StatusBlockIn] = {}
        if self.status is not None:
            given[BLOCK_OF[self.status]] = StatusBlockIn(status=self.status, reasons=self.reasons)
            if self.matched:
                given[Block.MATCHING] = StatusBlockIn(status=AdvisedStatus.MATCHED)
        for block in BLOCK_ORDER:
            found: StatusBlockIn | None = getattr(self, block.value)
            if found is not None:
                given[block] = found
        return [(block, given[block]) for block in BLOCK_ORDER if block in given]

    def headline(self) -> StatusBlockIn:
        """What the advice is listed as: its first block that is not good news (rejected,
        unmatched, pending...), else its last (acknowledged, matched)."""
        blocks = [given for _block, given in self.blocks()]
        return next((given for given in blocks if given.status not in _GOOD_NEWS), blocks[-1])

    def problems(self) -> list[FieldProblem]:
        """What this advice's type forbids or lacks (the fields' own checks are Pydantic's)."""
        problems = []
        if (self.reference is None) == (self.instruction_id is None):
            problems.append(FieldProblem("reference", "give reference or instruction_id (one)"))
        if self.message_type == MessageType.STATUS:
            return problems + self._status_problems()
        return problems + self._confirmation_problems()

    def _status_problems(self) -> list[FieldProblem]:
        problems = [
            FieldProblem(name, "is for sese.025 only")
            for name in ("settled_quantity", "settled_amount", "settlement_date", "partial")
            if getattr(self, name) is not None
        ]
        blocks = [b for b in BLOCK_ORDER if getattr(self, b.value) is not None]
        if self.status is not None and blocks:
            problems.append(
                FieldProblem("status", f"the shorthand goes without the {blocks[0]} block")
            )
        elif self.status is None and not blocks:
            problems.append(
                FieldProblem("status", "is required for a sese.024 advice (or a status block)")
            )
        elif self.status is None and (self.reasons or self.matched):
            problems.append(FieldProblem("reasons", "goes only with the shorthand `status`"))
        if self.matched and self.status not in (AdvisedStatus.PENDING, AdvisedStatus.FAILING):
            problems.append(FieldProblem("matched", "goes only with `pending` or `failing`"))
        for block in blocks:
            found: StatusBlockIn = getattr(self, block.value)
            if BLOCK_OF[found.status] != block:
                problems.append(
                    FieldProblem(f"{block}.status", f"'{found.status}' is not a {block} status")
                )
        for block, found in self.blocks():
            if found.status == AdvisedStatus.MATCHED and found.reasons:
                where = "reasons" if self.status is not None else f"{block}.reasons"
                problems.append(FieldProblem(where, "a matched advice has no reasons"))
        return problems

    def _confirmation_problems(self) -> list[FieldProblem]:
        problems = [
            FieldProblem(name, "is for sese.024 only")
            for name, present in (
                ("status", self.status is not None),
                ("matched", self.matched),
                ("reasons", bool(self.reasons)),
                *((block.value, getattr(self, block.value) is not None) for block in BLOCK_ORDER),
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
    proprietary: bool = Field(default=False, description="A proprietary code, kept as text.")
    issuer: str | None = Field(default=None, description="Of a proprietary code.")


class StatusBlockOut(BaseModel):
    block: Block
    status: AdvisedStatus
    reasons: list[ReasonOut]


class AdviceInstructionOut(BaseModel):
    """The instruction as the advice left it."""

    id: str
    status: InstructionStatus
    held_from: InstructionStatus | None = Field(
        description="While `on_hold`: the state the advice moved it in, restored on release."
    )
    # Defaults: advices received before holds by the CSD were kept.
    held_by: str | None = Field(
        default=None, description="While `on_hold`: `operations`, `us`, `counterparty`, `csd`."
    )
    hold_reason: str | None = Field(default=None, description="The CSD's hold reason code.")
    settled_quantity: DecimalStr
    settled_amount: DecimalStr
    fail_reason: str | None


class ResolutionOut(BaseModel):
    resolved_at: datetime
    resolved_by: str = Field(description="The API key id of who resolved it.")
    comment: str


class StatusAdviceOut(BaseModel):
    id: str
    message_id: str
    sender: str = Field(description="A BIC, or the API key id of a JSON advice sent without one.")
    message_type: MessageType
    reference: str | None = Field(description="The reference the advice named (our SEME).")
    instruction_id: str | None = Field(description="Null for an unknown reference.")
    status: str = Field(
        description="sese.024: its first block's status that is not good news (`rejected`, "
        "`unmatched`, `pending`...), else its last (`acknowledged`, `matched`); "
        "sese.025: what it did, `partially_settled` or `settled`; `exception` when kept for "
        "operations instead of applied, `resolved` once they closed it."
    )
    reasons: list[ReasonOut] = Field(description="The reasons of the block `status` is from.")
    blocks: list[StatusBlockOut] = Field(description="Every status block of a sese.024.")
    settled_quantity: DecimalStr | None
    settled_amount: DecimalStr | None
    settlement_date: date | None
    source: str = Field(
        description="`json`, the ISO 20022 message read (`sese.025.001.12`) or the MT (`MT548`)."
    )
    received_at: datetime
    exception: str | None = Field(description="Why it was kept for operations, not applied.")
    resolution: ResolutionOut | None
    instruction: AdviceInstructionOut | None = Field(
        description="The instruction as the advice left it; null for an exception."
    )


class ResolveIn(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={"examples": [{"comment": "Booked by hand, see ticket OPS-1182"}]},
    )

    comment: Annotated[str, StringConstraints(min_length=1, max_length=500), Printable] = Field(
        description="What operations did about it."
    )
