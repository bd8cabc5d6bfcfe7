"""API models for confirmations, exceptions and the affirmation deadline."""

from datetime import date, datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from app.core.identifiers import Currency, Isin, Lei
from app.core.moments import IsoDate
from app.core.money import DecimalStr, PositiveDecimalStr
from app.core.text import PrintableStr
from app.trades.capture.schemas import ExternalId, Side
from app.trades.capture.states import TradeStatus
from app.trades.confirmations.states import ConfirmationStatus

_EXAMPLE: dict[str, Any] = {
    "confirmation_id": "CP-77812",
    "counterparty_lei": "FOR8UP27PHTHYVLBNG30",
    "trade_reference": "FO-20261124-000123",
    "isin": "US46625H1005",
    "side": "sell",
    "quantity": "100",
    "price": "189.25",
    "currency": "USD",
    "trade_date": "2026-11-24",
    "settlement_date": "2026-11-25",
    "net_amount": "18926.52",
}


class ConfirmationIn(BaseModel):
    """The counterparty's view of a trade; `side` is the counterparty's own side.

    Sending the same `confirmation_id` again from the same counterparty is a correction: it
    replaces the previous terms and matches again."""

    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [_EXAMPLE]})

    confirmation_id: ExternalId
    counterparty_lei: Lei
    trade_reference: ExternalId | None = Field(
        default=None, description="Our `external_id`; without it the trade is found by economics."
    )
    isin: Isin
    side: Side
    quantity: PositiveDecimalStr
    price: PositiveDecimalStr
    currency: Currency
    trade_date: IsoDate
    settlement_date: IsoDate
    net_amount: PositiveDecimalStr
    accrued_interest: DecimalStr | None = Field(
        default=None,
        description="Bonds: the accrued interest in the settlement amount. When given and our "
        "trade has accrued interest, a difference beyond the currency's settlement-amount "
        "tolerance is reported as `ACRU`; when absent, it is not compared.",
    )


REASON_CODES = (
    "sese.024 unmatched-reason codes: `DSEC` security, `DELN` direction (both sides bought or "
    "both sold), `DQUA` quantity, `DDEA` deal price, `NCRR` settlement currency, `DTRD` trade "
    "date, `DDAT` settlement date, `ACRU` accrued interest, `DMON` settlement amount. A "
    "currency difference is `NCRR` alone: amounts in different currencies are not compared, "
    "so no `DMON` or `ACRU` repeats it. `MULT` is proprietary (ISO has no code for it): "
    "several of our trades fit the confirmation and none is chosen (see `candidates`). "
    "`CMIS` (no matching trade at all) is not given here: such a confirmation is `alleged`."
)


class ReasonOut(BaseModel):
    # Settlement advices have a ReasonOut too, so the OpenAPI document names this one by its
    # module: keep the name it was published under when the module moved.
    __module__ = "app.trades.confirmation_schemas"

    code: str = Field(examples=["DQUA"], description=REASON_CODES)
    field: str = Field(examples=["quantity"])
    ours: str = Field(examples=["100"])
    theirs: str = Field(examples=["90"])


class ForceMatchOut(BaseModel):
    proposed_by: str
    trade_id: str = Field(description="The trade the proposal matches the confirmation to.")
    reason: str
    proposed_at: datetime
    approved_by: str | None


class ConfirmationOut(BaseModel):
    id: str
    confirmation_id: str
    counterparty_lei: str
    trade_reference: str | None
    isin: str
    side: Side
    quantity: PositiveDecimalStr
    price: PositiveDecimalStr
    currency: str
    trade_date: date
    settlement_date: date
    net_amount: PositiveDecimalStr
    accrued_interest: DecimalStr | None
    status: ConfirmationStatus
    trade_id: str | None
    reasons: list[ReasonOut]
    candidates: list[str] = Field(
        description="Our trades that fit the economics equally well (the confirmation is not "
        "matched to any of them: operations decide)."
    )
    force_match: ForceMatchOut | None
    version: int
    received_at: datetime
    updated_at: datetime


class ConfirmationExceptionOut(ConfirmationOut):
    age_seconds: int = Field(description="Time since the confirmation was first received.")


class ForceMatchIn(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {"reason": "Price difference agreed with the broker by phone, see ticket OPS-2291"}
            ]
        },
    )
    reason: PrintableStr = Field(min_length=1, max_length=500, examples=["Price agreed by phone"])


class UnaffirmedTradeOut(BaseModel):
    trade_id: str
    external_id: str
    book: str
    counterparty_lei: str
    venue: str
    trade_date: date
    status: TradeStatus
    cutoff: datetime
    overdue: bool
    time_left_seconds: int
    overdue_by_seconds: int
