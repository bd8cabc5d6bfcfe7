"""API models for settlement instructions and the fails report."""

from datetime import date, datetime
from typing import Any, Self

from pydantic import BaseModel, ConfigDict, Field, StrictBool, model_validator

from app.core.json_types import JsonInt
from app.core.money import DecimalStr
from app.reference.fields import TermsError, field_errors
from app.reference.partial import PartialIndicator
from app.settlement.instructions.states import DeliveryType, HeldBy, InstructionStatus


class CounterpartySsiOut(BaseModel):
    id: str
    place_of_settlement: str = Field(description="The CSD's BIC.")
    agent_bic: str
    account: str


class RepairReasonOut(BaseModel):
    code: str = Field(
        description="`SSI_MISSING` or `SSI_AMBIGUOUS`, or the CSD's reason for rejecting the "
        "instruction (`REJT` when it gave none)."
    )
    detail: str


_PARTIAL_INDICATOR = (
    "T2S partial indicator: `NPAR` settles all or nothing; `PART` may settle in part for lack "
    "of securities; `PARQ` only from the instrument's `partial_quantity_threshold`; `PARC` only "
    "from the market's `partial_cash_thresholds`. New instructions take the counterparty's "
    "`partial_settlement`, else the market's."
)


class InstructionOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    @model_validator(mode="before")
    @classmethod
    def _indicator_of_old_snapshots(cls, data: Any) -> Any:
        """An ``as_of`` answer from an audit snapshot older than the indicator: it had only
        the flag, which meant ``PART`` or ``NPAR``."""
        if isinstance(data, dict) and "partial_indicator" not in data:
            indicator = (
                PartialIndicator.PART if data.get("partial_allowed") else PartialIndicator.NPAR
            )
            return {**data, "partial_indicator": indicator}
        return data

    id: str
    obligation_id: str
    delivery_type: DeliveryType
    isin: str
    quantity: DecimalStr
    amount: DecimalStr
    credit_debit: str | None = Field(description="`CRDT` we receive the cash, `DBIT` we pay.")
    currency: str
    securities_account: str
    cash_account: str
    counterparty_lei: str
    counterparty_ssi: CounterpartySsiOut | None
    intended_settlement_date: date
    priority: int
    partial_allowed: bool = Field(
        description="Whether it may settle in part: `partial_indicator` is not `NPAR`."
    )
    partial_indicator: PartialIndicator = Field(description=_PARTIAL_INDICATOR)
    status: InstructionStatus
    repair_reasons: list[RepairReasonOut]
    settled_quantity: DecimalStr
    settled_amount: DecimalStr
    # Defaults: an ``as_of`` answer rebuilt from an audit snapshot older than these columns.
    settled_on: date | None = Field(
        default=None, description="The day it last settled, in full or in part."
    )
    fail_reason: str | None = Field(
        description="Why it has not settled: `LACK` (securities), `MONY` (cash), or the CSD's "
        "first pending or failing reason from a status advice (`CLAC`, `PRCY`, ..., or a "
        "proprietary code as text)."
    )
    days_failing: int = Field(
        default=0,
        description="Business days of its market since its intended settlement date, while "
        "unsettled; 0 when not failing.",
    )
    held_from: InstructionStatus | None = Field(
        default=None, description="On hold: the status a release returns it to."
    )
    held_by: HeldBy | None = Field(
        default=None,
        description="On hold: `operations` (by hand; only a release by hand ends it), or as the "
        "CSD reports it: `us` (PREA), `counterparty` (PRCY), `csd` (CSDH, CVAL, CDLR).",
    )
    hold_reason: str | None = Field(default=None, description="The CSD's hold reason code.")
    version: int
    created_at: datetime
    updated_at: datetime


class StatusReasonOut(BaseModel):
    code: str
    text: str | None
    proprietary: bool = Field(default=False, description="A proprietary code, kept as text.")
    issuer: str | None = None


class StatusEventOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    advice_id: str | None = Field(description="The advice it came from; null for operations.")
    block: str = Field(
        description="`processing`, `matching`, `settlement` (a sese.024 / MT548 block), "
        "`confirmation` (sese.025 / MT544-547) or `hold`."
    )
    status: str = Field(
        description="The block's status (`acknowledged`, `rejected`, `cancelled`, "
        "`pending_processing`, `matched`, `unmatched`, `pending`, `failing`), a confirmation's "
        "`partially_settled`, `settled` or `exception`, a hold's `held_by_operations`, "
        "`held_by_us`, `held_by_counterparty`, `held_by_csd` or `released`."
    )
    reasons: list[StatusReasonOut]
    sender: str = Field(description="The advice's sender, or the API key id of operations.")
    received_at: datetime


_AMENDABLE = ("priority", "partial_allowed", "partial_indicator")


def _patch_schema(schema: dict[str, Any]) -> None:
    """What `_check_patch` enforces, stated in the schema: at least one field, none null, and
    `partial_indicator` agreeing with `partial_allowed` (`NPAR` exactly when it is false)."""
    schema["examples"] = [
        {"priority": 10},
        {"partial_allowed": True},
        {"partial_indicator": "PARQ"},
    ]
    schema["minProperties"] = 1
    for name in _AMENDABLE:
        field = schema["properties"][name]
        field["anyOf"] = [branch for branch in field["anyOf"] if branch.get("type") != "null"]
        field.pop("default", None)
    npar = {"properties": {"partial_indicator": {"const": PartialIndicator.NPAR.value}}}
    both = list(_AMENDABLE[1:])
    schema["allOf"] = [
        {
            "if": {"properties": {"partial_allowed": {"const": allowed}}, "required": both},
            "then": {"not": npar} if allowed else npar,
        }
        for allowed in (False, True)
    ]


class InstructionPatch(BaseModel):
    """What operations may change of an instruction: at least one field."""

    model_config = ConfigDict(extra="forbid", json_schema_extra=_patch_schema)

    priority: JsonInt | None = Field(
        default=None, ge=1, le=99, description="Runs take lower numbers first, then age."
    )
    partial_allowed: StrictBool | None = Field(
        default=None,
        description="`false` sets `NPAR`; `true` keeps an indicator that already allows "
        "partial settlement, else sets the counterparty's or market's if that is not `NPAR`, "
        "else `PART`.",
    )
    partial_indicator: PartialIndicator | None = Field(default=None, description=_PARTIAL_INDICATOR)

    @model_validator(mode="after")
    def _one_consistent_change(self) -> Self:
        try:
            _check_patch(self)
        except TermsError as error:
            raise field_errors(self, error) from None
        return self


def _check_patch(patch: InstructionPatch) -> None:
    sent = patch.model_fields_set & set(_AMENDABLE)
    nulls = sorted(name for name in sent if getattr(patch, name) is None)
    if nulls:
        raise TermsError("may not be null", *nulls)
    if not sent:
        raise TermsError(
            "send at least one of priority, partial_allowed, partial_indicator", *_AMENDABLE
        )
    allowed, indicator = patch.partial_allowed, patch.partial_indicator
    if (
        allowed is not None
        and indicator is not None
        and allowed != (indicator != PartialIndicator.NPAR)
    ):
        raise TermsError(
            f"partial_indicator {indicator.value} contradicts partial_allowed "
            f"{str(allowed).lower()}",
            "partial_indicator",
        )


class ValueOut(BaseModel):
    currency: str
    amount: DecimalStr


class FailsGroupOut(BaseModel):
    instructions: int
    unsettled: list[ValueOut] = Field(description="Cash left unsettled, per currency.")


class FailsByAgeOut(FailsGroupOut):
    bucket: str = Field(description="Business days failing: `1`, `2-3`, `4-7`, `8-15`, `16+`.")


class FailsByReasonOut(FailsGroupOut):
    fail_reason: str = Field(description="`NONE` while no reason is known.")


class FailsByCounterpartyOut(FailsGroupOut):
    counterparty_lei: str


class FailsReportOut(FailsGroupOut):
    as_of: date
    by_age: list[FailsByAgeOut]
    by_reason: list[FailsByReasonOut]
    by_counterparty: list[FailsByCounterpartyOut]


class BuyInCandidateOut(BaseModel):
    instruction_id: str
    obligation_id: str
    trade_ids: list[str] = Field(description="The trades the obligation settles.")
    isin: str
    csdr_class: str
    counterparty_lei: str
    direction: str = Field(description="`we_deliver` or `we_receive` the securities.")
    quantity_due: DecimalStr = Field(description="Quantity less what has settled.")
    currency: str
    amount_due: DecimalStr = Field(description="Cash amount less what has settled.")
    intended_settlement_date: date
    days_failing: int = Field(description="Business days of its settlement calendar.")
    extension_days: int = Field(
        description="The class's extension period in force at its intended settlement date."
    )
    days_past_extension: int
    fail_reason: str | None = Field(description="Who fails, as far as known (LACK, MONY...).")


class BuyInCandidatesOut(BaseModel):
    as_of: date
    items: list[BuyInCandidateOut]
