"""The depository's penalty report as JSON (``POST /penalty-reports`` with
``application/json``): the same report as a semt.044, read into the same ``PenaltyReport``.
Amounts are strings holding exact decimals, never negative: ``payer`` says who pays (``us``: the
depository debits us, ``counterparty``: it credits us)."""

from datetime import date, datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from app.core.identifiers import Bic, Currency, Isin, Lei
from app.core.moments import IsoDate
from app.core.money import DecimalStr
from app.penalties.calculation import Party, PenaltyKind
from app.penalties.reports.model import (
    PenaltyReport,
    PenaltyReportError,
    PenaltyUpdate,
    ReportedPenalty,
)
from app.penalties.reports.semt044 import bic11

EXAMPLE: dict[str, Any] = {
    "report_id": "DPL-20261124-0042",
    "report_date": "2026-11-25",
    "sender": "CSDXDEFFXXX",
    "list_type": "FWIS",
    "lines": [
        {
            "penalty_id": "PEN-EUR-0001",
            "kind": "settlement_fail",
            "our_reference": "SEME-0001",
            "their_reference": "T2S-7700001",
            "isin": "DE0005557508",
            "days": ["2026-11-24"],
            "amount": "12.34",
            "currency": "EUR",
            "payer": "us",
            "status": "ACTV",
            "counterparty_bic": "DEUTDEFFXXX",
        },
        {
            "penalty_id": "PEN-EUR-0002",
            "kind": "late_matching_fail",
            "our_reference": "SEME-0002",
            "days": ["2026-11-20", "2026-11-23"],
            "amount": "7.50",
            "currency": "EUR",
            "payer": "counterparty",
        },
    ],
}


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ReportedPenaltyIn(_Strict):
    penalty_id: str = Field(min_length=1, max_length=35)
    kind: PenaltyKind
    our_reference: str = Field(min_length=1, max_length=35, description="our SEME")
    their_reference: str | None = Field(default=None, min_length=1, max_length=35)
    isin: Isin | None = None
    days: list[date] = Field(min_length=1, description="the business days penalised")
    amount: DecimalStr = Field(ge=0)
    currency: Currency
    payer: Party
    update: PenaltyUpdate = PenaltyUpdate.NEW
    status: str | None = Field(default=None, min_length=1, max_length=4)
    computed_on: IsoDate | None = None
    intended_settlement_date: IsoDate | None = None
    counterparty_bic: Bic | None = None
    counterparty_lei: Lei | None = None

    @model_validator(mode="after")
    def _days(self) -> "ReportedPenaltyIn":
        if len(set(self.days)) != len(self.days):
            raise ValueError("days names a day twice")
        if self.kind == PenaltyKind.SETTLEMENT_FAIL and len(self.days) > 1:
            raise ValueError("a settlement fail penalty is for one business day")
        return self


class PenaltyReportIn(_Strict):
    model_config = ConfigDict(json_schema_extra={"examples": [EXAMPLE]})

    report_id: str = Field(min_length=1, max_length=35)
    report_date: IsoDate | None = None
    sender: Bic | None = None
    list_type: str | None = Field(default=None, pattern="^(FWIS|FWAM|CURR)$")
    account_owner: Bic | None = None
    safekeeping_account: str | None = Field(default=None, min_length=1, max_length=35)
    lines: list[ReportedPenaltyIn]

    def to_report(self) -> PenaltyReport:
        return PenaltyReport(
            report_id=self.report_id,
            report_date=self.report_date,
            sender=None if self.sender is None else bic11(self.sender),
            list_type=self.list_type,
            account_owner=None if self.account_owner is None else bic11(self.account_owner),
            safekeeping_account=self.safekeeping_account,
            lines=tuple(_line(line, index) for index, line in enumerate(self.lines)),
        )


def _line(line: ReportedPenaltyIn, index: int) -> ReportedPenalty:
    return ReportedPenalty(
        penalty_id=line.penalty_id,
        kind=line.kind,
        our_reference=line.our_reference,
        their_reference=line.their_reference,
        isin=line.isin,
        days=tuple(sorted(line.days)),
        amount=line.amount,
        currency=line.currency,
        payer=line.payer,
        update=line.update,
        status=line.status,
        computed_on=line.computed_on,
        intended_settlement_date=line.intended_settlement_date,
        counterparty_bic=None if line.counterparty_bic is None else bic11(line.counterparty_bic),
        counterparty_lei=line.counterparty_lei,
        location=f"lines.{index}",
    )


def parse_json(data: bytes | str) -> PenaltyReport:
    """A JSON report read into ``PenaltyReport``; the first problem refused naming the field."""
    try:
        parsed = PenaltyReportIn.model_validate_json(data)
    except ValidationError as error:
        first = error.errors()[0]
        where = ".".join(str(part) for part in first["loc"]) or "the document"
        raise PenaltyReportError(first["msg"], location=where) from None
    return parsed.to_report()


# Answers ---------------------------------------------------------------------------------------


class SideOut(BaseModel):
    """What one side says is due under a key: the net of its lines still due."""

    amount: DecimalStr = Field(description="Never negative: `payer` says who pays.")
    currency: str
    payer: Party | None = Field(description="`us` or `counterparty`; null: the lines net to 0.")
    days: list[date] = Field(description="The business days penalised.")
    penalty_ids: list[str] = Field(description="Ours: our penalty ids; theirs: the depository's.")


class DifferenceOut(BaseModel):
    kind: str = Field(
        description="`missing_at_depository`, `missing_in_ours`, `amount_differs`, "
        "`payer_differs`, `currency_differs`, `days_differ` (a late-matching fail's days), or "
        "`removed` (due on one side, removed on the other)."
    )
    reference: str = Field(description="Our instruction's reference (SEME) the lines name.")
    instruction_id: str | None = Field(description="Null: no instruction of ours has it.")
    day: date = Field(description="The day failed, or the first day of a late match.")
    penalty_kind: PenaltyKind
    ours: SideOut | None = Field(description="Null: nothing due on our side.")
    theirs: SideOut | None = Field(description="Null: nothing due at the depository.")
    difference: DecimalStr | None = Field(
        description="`amount_differs`: theirs minus ours (same currency); else null."
    )


class PenaltyReportOut(BaseModel):
    id: str
    sender: str = Field(
        description="The sender's BIC (AppHdr, AcctSvcr or `sender`), else the "
        "API key id of who posted it."
    )
    message_id: str = Field(description="The AppHdr's BizMsgIdr, else the report's id.")
    report_id: str
    report_date: date | None
    source: str = Field(description="`semt.044.001.01` or `json`.")
    sha256: str = Field(description="Of the body as received.")
    days: list[date] = Field(description="The business days compared: every day the lines name.")
    lines: int = Field(description="The depository's lines read.")
    matched: int = Field(description="Penalties (reference, day, kind) on which both agree.")
    differing: int = Field(description="Penalties on which they differ.")
    differences: list[DifferenceOut] = Field(
        description="Every difference, by reference, day and penalty kind (one penalty may "
        "differ in several ways: one entry each)."
    )
    received_at: datetime
    received_by: str
