"""API models of markets and their closed days."""

from datetime import datetime
from decimal import Decimal
from enum import StrEnum
from typing import Annotated, Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    StrictBool,
    StringConstraints,
    WithJsonSchema,
)

from app.core.calendars import supported_calendars, validate_calendar_code
from app.core.identifiers import Bic, Currency, Mic
from app.core.moments import IsoDate
from app.core.money import POSITIVE_DECIMAL_SCHEMA, DecimalStr
from app.reference.fields import FROM_ORM, Cycle, Name, TermsError
from app.reference.partial import PartialIndicator


def _timezone(value: str) -> str:
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError, OSError):  # "America" is a folder, not a zone
        raise ValueError(f"'{value}' is not an IANA time zone") from None
    return value


class SettlementMode(StrEnum):
    INTERNAL = "internal"
    CSD = "csd"


class MessageFormat(StrEnum):
    ISO20022 = "iso20022"
    ISO15022 = "iso15022"


CalendarCode = Annotated[
    str,
    AfterValidator(validate_calendar_code),
    WithJsonSchema({"type": "string", "enum": sorted(supported_calendars())}),
]
TimeZone = Annotated[
    str,
    AfterValidator(_timezone),
    WithJsonSchema({"type": "string", "enum": sorted(available_timezones())}),
]
LocalTime = Annotated[str, StringConstraints(pattern=r"^([01]\d|2[0-3]):[0-5]\d$")]
CountryCode = Annotated[str, StringConstraints(pattern=r"^[A-Z]{2}$")]


# Partial settlement ---------------------------------------------------------------------------


class PartialWindow(BaseModel):
    """From ``from`` (inclusive) to ``to`` (exclusive), local time; ``to`` before ``from`` runs
    over midnight; ``to`` equal to ``from`` is refused (checked once parsed: 422 on the
    window)."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    starts: LocalTime = Field(alias="from", examples=["14:00"])
    ends: LocalTime = Field(alias="to", examples=["14:15"])


def _positive_thresholds(thresholds: dict[str, Decimal]) -> dict[str, Decimal]:
    for currency, threshold in thresholds.items():
        if threshold <= 0:
            raise ValueError(f"the {currency} threshold must be positive")
    return thresholds


# Positive, as the values' pattern says; refused on the map, naming the currency.
CashThresholds = Annotated[
    dict[Currency, Annotated[DecimalStr, WithJsonSchema(POSITIVE_DECIMAL_SCHEMA)]],
    AfterValidator(_positive_thresholds),
]
PartialWindows = Annotated[list[PartialWindow], Field(max_length=48)]
_PARTIAL_SETTLEMENT = (
    "The partial indicator instructions on this market get unless their counterparty has "
    "one: `NPAR` never, `PART` allowed, `PARQ` allowed from the instrument's "
    "`partial_quantity_threshold`, `PARC` allowed from `partial_cash_thresholds`."
)
_CASH_THRESHOLDS = (
    "`PARC`: the least cash a partial settles, per currency (a currency not listed has no "
    "threshold)."
)
_WINDOWS = (
    "Local times (the market's `timezone`) in which a settlement run settles partially; "
    "outside them a shortfall fails the whole instruction. Empty: any time."
)


class MarketFields(BaseModel):
    name: Name
    country: CountryCode
    timezone: TimeZone = Field(examples=["America/New_York"])
    calendar: CalendarCode = Field(
        examples=["XNYS"], description="Trading calendar: a `holidays` financial calendar code."
    )
    settlement_calendars: (
        Annotated[list[CalendarCode], Field(min_length=1, max_length=5)] | None
    ) = Field(
        default=None,
        examples=[["XNYS", "FED"]],
        description="Calendars whose closed days close settlement (default: `calendar`).",
    )
    settlement_cycle_days: Cycle = Field(
        examples=[[{"from": "2017-09-05", "days": 2}, {"from": "2024-05-28", "days": 1}]]
    )
    ccp: Bic | None = Field(default=None, description="The CCP's BIC, or null for bilateral.")
    internal_settlement: StrictBool = Field(
        default=False,
        description="Bilateral instructions settle inside one system that matches them itself: "
        "they are matched on creation instead of waiting for a sese.024 status advice.",
    )
    locked_in: StrictBool = Field(
        default=False,
        description="Trades on this venue are locked in: the exchange hands them to its CCP, "
        "which confirms them, so a trade is `confirmed` at capture instead of waiting for the "
        "counterparty's confirmation. Needs a `ccp`.",
    )
    affirmation_cutoff: LocalTime = Field(
        examples=["21:00"], description="Local time on trade date in the market's time zone."
    )
    settlement_mode: SettlementMode = Field(
        default=SettlementMode.INTERNAL,
        description="Who decides that an instruction settled: `internal`, we are the settlement "
        "agent and the settlement run settles against our books; `csd`, the depository or "
        "custodian settles, we send it instructions and the book moves only on its "
        "confirmation, on the effective settlement date.",
    )
    message_format: MessageFormat = Field(
        default=MessageFormat.ISO20022,
        description="`csd` markets: how the depository is instructed, `iso20022` (sese.023, "
        "cancellations sese.020) or `iso15022` (MT540-543, cancellations with `:23G:CANC`).",
    )
    partial_settlement: PartialIndicator = Field(
        default=PartialIndicator.NPAR, description=_PARTIAL_SETTLEMENT
    )
    partial_cash_thresholds: CashThresholds = Field(
        default_factory=dict, examples=[{"EUR": "10000"}], description=_CASH_THRESHOLDS
    )
    partial_settlement_windows: PartialWindows = Field(
        default_factory=list,
        examples=[[{"from": "14:00", "to": "14:15"}, {"from": "15:45", "to": "16:00"}]],
        description=_WINDOWS,
    )


def check_windows(values: dict[str, Any]) -> None:
    """Each partial-settlement window is not empty (storage form, checked by the service)."""
    windows = values.get("partial_settlement_windows") or []
    empty = [
        f"partial_settlement_windows[{index}]"
        for index, window in enumerate(windows)
        if window["from"] == window["to"]
    ]
    if empty:
        raise TermsError("a window needs 'to' different from 'from'", *empty)


def check_market_terms(values: dict[str, Any]) -> None:
    """Cross-field rules of a market, shared by create and update."""
    if values["locked_in"] and values["ccp"] is None:
        raise TermsError(
            "a locked-in market needs a ccp: the CCP confirms its trades", "locked_in", "ccp"
        )


class MarketIn(MarketFields):
    """Checked once parsed (422 on the field): a locked-in market needs a `ccp`."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "mic": "XPAR",
                    "name": "Euronext Paris",
                    "country": "FR",
                    "timezone": "Europe/Paris",
                    "calendar": "XPAR",
                    "settlement_calendars": ["XECB"],
                    "settlement_cycle_days": [
                        {"from": "2014-10-06", "days": 2},
                        {"from": "2027-10-11", "days": 1},
                    ],
                    "ccp": "BACPFRPP",
                    "affirmation_cutoff": "19:00",
                    "settlement_mode": "csd",
                    "message_format": "iso20022",
                    "partial_settlement": "PART",
                    "partial_cash_thresholds": {"EUR": "10000"},
                    "partial_settlement_windows": [
                        {"from": "14:00", "to": "14:15"},
                        {"from": "15:45", "to": "16:00"},
                    ],
                }
            ]
        },
    )
    mic: Mic


class MarketPatch(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [{"affirmation_cutoff": "18:30", "partial_settlement": "PARC"}]
        },
    )
    name: Name | None = None
    timezone: TimeZone | None = None
    calendar: CalendarCode | None = None
    settlement_calendars: (
        Annotated[list[CalendarCode], Field(min_length=1, max_length=5)] | None
    ) = None
    settlement_cycle_days: Cycle | None = None
    ccp: Bic | None = None
    internal_settlement: StrictBool | None = None
    locked_in: StrictBool | None = None
    affirmation_cutoff: LocalTime | None = None
    settlement_mode: SettlementMode | None = None
    message_format: MessageFormat | None = None
    partial_settlement: PartialIndicator | None = Field(
        default=None, description=_PARTIAL_SETTLEMENT
    )
    partial_cash_thresholds: CashThresholds | None = Field(
        default=None, description=_CASH_THRESHOLDS
    )
    partial_settlement_windows: PartialWindows | None = Field(default=None, description=_WINDOWS)


class MarketOut(MarketFields):
    model_config = ConfigDict(from_attributes=True, populate_by_name=True)
    mic: str
    settlement_calendars: list[str]
    version: int
    created_at: datetime
    updated_at: datetime


class ClosedDayIn(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [{"day": "2026-12-31", "reason": "Exchange closed: New Year's Eve"}]
        },
    )
    day: IsoDate
    reason: Name


class ClosedDayOut(ClosedDayIn):
    model_config = FROM_ORM
    mic: str
    created_at: datetime
