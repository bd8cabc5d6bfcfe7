"""API models of markets and their closed days."""

from datetime import date, datetime
from enum import StrEnum
from typing import Annotated, Any, Self
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    model_validator,
)

from app.core.calendars import validate_calendar_code
from app.core.identifiers import Bic, Mic
from app.reference.fields import FROM_ORM, STRICT, Cycle, Name, TermsError, field_errors


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


CalendarCode = Annotated[str, AfterValidator(validate_calendar_code)]
TimeZone = Annotated[str, AfterValidator(_timezone)]
LocalTime = Annotated[str, StringConstraints(pattern=r"^([01]\d|2[0-3]):[0-5]\d$")]
CountryCode = Annotated[str, StringConstraints(pattern=r"^[A-Z]{2}$")]


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
    internal_settlement: bool = Field(
        default=False,
        description="Bilateral instructions settle inside one system that matches them itself: "
        "they are matched on creation instead of waiting for a sese.024 status advice.",
    )
    locked_in: bool = Field(
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


def check_market_terms(values: dict[str, Any]) -> None:
    """Cross-field rules of a market, shared by create and update."""
    if values["locked_in"] and values["ccp"] is None:
        raise TermsError(
            "a locked-in market needs a ccp: the CCP confirms its trades", "locked_in", "ccp"
        )


class MarketIn(MarketFields):
    model_config = STRICT
    mic: Mic

    @model_validator(mode="after")
    def _terms(self) -> Self:
        try:
            check_market_terms(self.model_dump())
        except TermsError as error:
            raise field_errors(self, error) from None
        return self


class MarketPatch(BaseModel):
    model_config = STRICT
    name: Name | None = None
    timezone: TimeZone | None = None
    calendar: CalendarCode | None = None
    settlement_calendars: (
        Annotated[list[CalendarCode], Field(min_length=1, max_length=5)] | None
    ) = None
    settlement_cycle_days: Cycle | None = None
    ccp: Bic | None = None
    internal_settlement: bool | None = None
    locked_in: bool | None = None
    affirmation_cutoff: LocalTime | None = None
    settlement_mode: SettlementMode | None = None
    message_format: MessageFormat | None = None


class MarketOut(MarketFields):
    model_config = ConfigDict(from_attributes=True, populate_by_name=True)
    mic: str
    settlement_calendars: list[str]
    version: int
    created_at: datetime
    updated_at: datetime


class ClosedDayIn(BaseModel):
    model_config = STRICT
    day: date
    reason: Name


class ClosedDayOut(ClosedDayIn):
    model_config = FROM_ORM
    mic: str
    created_at: datetime
