"""API models for trades: capture, amendment, cancellation, batch and history."""

import re
from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum
from typing import Annotated, Any

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    WithJsonSchema,
)

from app.core.identifiers import Currency, Isin, Lei, Mic
from app.core.moments import IsoDate, UtcDateTime
from app.core.money import DecimalStr, format_decimal
from app.core.text import PrintableStr
from app.trades.capture.states import TradeStatus


class Side(StrEnum):
    BUY = "buy"
    SELL = "sell"


ExternalId = Annotated[
    str, StringConstraints(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9][A-Za-z0-9_.:/\-]*$")
]
# The reference data's book code shape. Text of another shape cannot name a book; refusing it
# before any query also keeps NUL away from PostgreSQL, which refuses it in text (a 500).
BOOK_CODE_PATTERN = r"^[A-Z0-9][A-Z0-9_.\-]{0,39}$"
_BOOK_CODE = re.compile(BOOK_CODE_PATTERN)


def _book_code(value: str) -> str:
    if not _BOOK_CODE.fullmatch(value):
        raise ValueError("is not a book code (1 to 40 of A-Z, 0-9, '_', '.', '-')")
    return value


BookCode = Annotated[
    str,
    AfterValidator(_book_code),
    WithJsonSchema({"type": "string", "pattern": BOOK_CODE_PATTERN, "examples": ["EQ-FLOW"]}),
]


_EXAMPLE: dict[str, Any] = {
    "external_id": "FO-20261124-000123",
    "book": "EQ-FLOW",
    "counterparty_lei": "FOR8UP27PHTHYVLBNG30",
    "isin": "US46625H1005",
    "side": "buy",
    "quantity": "100",
    "price": "189.25",
    "currency": "USD",
    "trade_date": "2026-11-24",
    "trade_time": "2026-11-24T14:31:05Z",
    "venue": "XNYS",
    "settlement_date": None,
    "commission": "1.50",
    "fees": "0.02",
    "accrued_interest": None,
}


class TradeIn(BaseModel):
    """An executed trade as the front office books it."""

    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [_EXAMPLE]})

    external_id: ExternalId = Field(description="The front office's id; unique per book.")
    book: BookCode
    counterparty_lei: Lei
    isin: Isin
    side: Side
    quantity: DecimalStr = Field(description="Shares, or nominal for bonds.")
    price: DecimalStr = Field(
        description="Per share, or percent of nominal for bonds. The gross amount it gives "
        "must be at least one minor unit of the currency once rounded (else 422)."
    )
    currency: Currency
    trade_date: IsoDate
    trade_time: UtcDateTime
    venue: Mic
    settlement_date: IsoDate | None = Field(
        default=None, description="Computed from the market's cycle and calendar when absent."
    )
    commission: DecimalStr = Field(default=Decimal(0))
    fees: DecimalStr = Field(default=Decimal(0))
    accrued_interest: DecimalStr | None = Field(
        default=None, description="Bonds only; computed from the coupon schedule when absent."
    )


class TradePatch(BaseModel):
    """Fields an amendment may change. Send `If-Match` with the version you read."""

    model_config = ConfigDict(
        extra="forbid", json_schema_extra={"examples": [{"quantity": "150", "price": "189.20"}]}
    )

    counterparty_lei: Lei | None = None
    side: Side | None = None
    quantity: DecimalStr | None = None
    price: DecimalStr | None = None
    trade_date: IsoDate | None = None
    trade_time: UtcDateTime | None = None
    venue: Mic | None = None
    settlement_date: IsoDate | None = None
    commission: DecimalStr | None = None
    fees: DecimalStr | None = None
    accrued_interest: DecimalStr | None = None


class TradeOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    external_id: str
    book: str
    counterparty_lei: str
    isin: str
    side: Side
    quantity: DecimalStr
    price: DecimalStr
    currency: str
    trade_date: date
    trade_time: datetime
    venue: str
    settlement_date: date
    commission: DecimalStr
    fees: DecimalStr
    accrued_interest: DecimalStr | None
    gross_amount: DecimalStr
    net_amount: DecimalStr
    status: TradeStatus
    cancel_reason: str | None = None
    counterparty_of_record: str | None = Field(
        default=None, description="After clearing: the CCP the trade was novated to."
    )
    obligation_id: str | None = Field(
        default=None, description="After clearing: the obligation the trade settles in."
    )
    version: int
    created_at: datetime
    updated_at: datetime


def _json_moment(value: datetime) -> str:
    text = value.isoformat()
    return text[:-6] + "Z" if text.endswith("+00:00") else text


# A StrEnum member hashes and compares as its text: either finds the text.
_SIDES = {side.value: side.value for side in Side}
_STATUSES = {status.value: status.value for status in TradeStatus}


def trade_answer(row: dict[str, Any]) -> dict[str, Any]:
    """``TradeOut.model_validate(row).model_dump(mode="json", by_alias=True)`` of a row as
    capture makes it (exact decimals, UTC times), written out: a single capture answers with
    it, and pydantic's validation of what capture itself made, then its dump, cost about three
    times as much CPU. Decimals as ``DecimalStr`` writes them (its validator's quantizing of
    exponents such as 1E+2 changes no digit of that text). ``test_trade_answer`` holds it to
    pydantic's, key by key and in order, on generated rows."""
    accrued = row["accrued_interest"]
    return {
        "id": row["id"],
        "external_id": row["external_id"],
        "book": row["book"],
        "counterparty_lei": row["counterparty_lei"],
        "isin": row["isin"],
        "side": _SIDES[row["side"]],
        "quantity": format_decimal(row["quantity"]),
        "price": format_decimal(row["price"]),
        "currency": row["currency"],
        "trade_date": row["trade_date"].isoformat(),
        "trade_time": _json_moment(row["trade_time"]),
        "venue": row["venue"],
        "settlement_date": row["settlement_date"].isoformat(),
        "commission": format_decimal(row["commission"]),
        "fees": format_decimal(row["fees"]),
        "accrued_interest": None if accrued is None else format_decimal(accrued),
        "gross_amount": format_decimal(row["gross_amount"]),
        "net_amount": format_decimal(row["net_amount"]),
        "status": _STATUSES[row["status"]],
        "cancel_reason": row["cancel_reason"],
        "counterparty_of_record": row["counterparty_of_record"],
        "obligation_id": row["obligation_id"],
        "version": row["version"],
        "created_at": _json_moment(row["created_at"]),
        "updated_at": _json_moment(row["updated_at"]),
    }


class CancelIn(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [{"reason": "Booked in error: duplicate of FO-20261124-000122"}]
        },
    )
    reason: PrintableStr = Field(min_length=1, max_length=500, examples=["Booked in error"])


_BATCH_ITEMS_SCHEMA = WithJsonSchema(
    {
        "type": "array",
        "items": {"$ref": "#/components/schemas/TradeIn"},
        "minItems": 1,
        "maxItems": 10000,
    }
)


class TradeBatchIn(BaseModel):
    """Items are validated one by one, so one bad item does not reject the others."""

    model_config = ConfigDict(
        extra="forbid", json_schema_extra={"examples": [{"items": [_EXAMPLE]}]}
    )

    items: Annotated[list[Any], Field(min_length=1, max_length=10_000), _BATCH_ITEMS_SCHEMA]


class BatchOutcome(StrEnum):
    CREATED = "created"
    DUPLICATE = "duplicate"
    REJECTED = "rejected"


class BatchItemResult(BaseModel):
    index: int
    outcome: BatchOutcome
    id: str | None = Field(
        description="The booked trade (created) or the existing one (duplicate)."
    )
    problem: dict[str, Any] | None = Field(description="problem+json for a rejected item.")


class TradeBatchOut(BaseModel):
    created: int
    duplicates: int
    rejected: int
    results: list[BatchItemResult]

    @classmethod
    def of(cls, results: list[BatchItemResult]) -> "TradeBatchOut":
        """The batch's answer: its results in order, counted by outcome."""
        counts = dict.fromkeys(BatchOutcome, 0)
        for result in results:
            counts[result.outcome] += 1
        return cls(
            created=counts[BatchOutcome.CREATED],
            duplicates=counts[BatchOutcome.DUPLICATE],
            rejected=counts[BatchOutcome.REJECTED],
            results=results,
        )


class TradeHistoryEntry(BaseModel):
    seq: int | None = Field(
        description="Place in the audit chain; null for a change made moments ago, until the "
        "sealer chains it (well under a second). Entries are in the order the changes were made."
    )
    occurred_at: datetime
    action: str
    actor_key_id: str
    actor_role: str
    request_id: str | None
    before: dict[str, Any] | None
    after: dict[str, Any] | None
