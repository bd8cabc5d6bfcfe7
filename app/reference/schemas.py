"""API models for reference data."""

import re
from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum
from typing import Annotated, Any, Self
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    ValidationError,
    field_validator,
    model_validator,
)
from pydantic_core import InitErrorDetails, PydanticCustomError

from app.core.calendars import validate_calendar_code
from app.core.identifiers import Bic, Currency, Iban, Isin, Lei, Mic, validate_currency
from app.core.money import DecimalStr
from app.core.text import printable


class InstrumentType(StrEnum):
    EQUITY = "equity"
    BOND = "bond"
    FUND = "fund"
    ETF = "etf"


class CsdrClass(StrEnum):
    LIQUID_SHARE = "liquid_share"
    ILLIQUID_SHARE = "illiquid_share"
    SME_SHARE = "sme_share"
    SOVEREIGN_DEBT = "sovereign_debt"
    OTHER_DEBT = "other_debt"
    SME_DEBT = "sme_debt"
    OTHER = "other"


class PriceBasis(StrEnum):
    UNIT = "unit"
    PERCENT = "percent"


class DayCountName(StrEnum):
    THIRTY_360 = "30/360"
    ACT_360 = "ACT/360"
    ACT_365F = "ACT/365F"
    ACT_ACT_ICMA = "ACT/ACT-ICMA"


class Netting(StrEnum):
    NONE = "none"
    BILATERAL = "bilateral"


class AccountKind(StrEnum):
    SECURITIES = "securities"
    CASH = "cash"


def _timezone(value: str) -> str:
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError, OSError):  # "America" is a folder, not a zone
        raise ValueError(f"'{value}' is not an IANA time zone") from None
    return value


Code = Annotated[str, StringConstraints(pattern=r"^[A-Z0-9][A-Z0-9_.\-]{0,39}$")]
Name = Annotated[
    str,
    StringConstraints(min_length=1, max_length=200, strip_whitespace=True),
    AfterValidator(printable),
]
CalendarCode = Annotated[str, AfterValidator(validate_calendar_code)]
TimeZone = Annotated[str, AfterValidator(_timezone)]
LocalTime = Annotated[str, StringConstraints(pattern=r"^([01]\d|2[0-3]):[0-5]\d$")]
CountryCode = Annotated[str, StringConstraints(pattern=r"^[A-Z]{2}$")]
AccountText = Annotated[
    str,
    StringConstraints(min_length=1, max_length=40, strip_whitespace=True),
    AfterValidator(printable),
]

_STRICT = ConfigDict(extra="forbid")
_FROM_ORM = ConfigDict(from_attributes=True)


class TermsError(ValueError):
    """A cross-field rule broken; ``fields`` are the ones to name in the problem's ``errors``."""

    def __init__(self, message: str, *fields: str) -> None:
        super().__init__(message)
        self.message = message
        self.fields = fields


def _field_errors(model: BaseModel, error: TermsError) -> ValidationError:
    """A ValidationError located at the offending fields, not at the whole body."""
    return ValidationError.from_exception_data(
        type(model).__name__,
        [
            InitErrorDetails(
                type=PydanticCustomError("value_error", "{reason}", {"reason": error.message}),
                loc=(name,),
                input=getattr(model, name, None),
            )
            for name in error.fields
        ],
    )


class CycleStep(BaseModel):
    """From ``from`` on (by trade date), settle ``days`` business days after the trade."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    valid_from: date = Field(alias="from", examples=["2024-05-28"])
    days: int = Field(ge=0, le=10, examples=[1])


def _check_cycle(steps: list[CycleStep] | None) -> list[CycleStep] | None:
    if steps is None:
        return None
    if not steps:
        raise ValueError("needs at least one step")
    starts = [step.valid_from for step in steps]
    if starts != sorted(set(starts)):
        raise ValueError("steps must be in ascending 'from' order, each date once")
    return steps


Cycle = Annotated[list[CycleStep], AfterValidator(_check_cycle)]


# Markets ----------------------------------------------------------------------------------


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
    affirmation_cutoff: LocalTime = Field(
        examples=["21:00"], description="Local time on trade date in the market's time zone."
    )


class MarketIn(MarketFields):
    model_config = _STRICT
    mic: Mic


class MarketPatch(BaseModel):
    model_config = _STRICT
    name: Name | None = None
    timezone: TimeZone | None = None
    calendar: CalendarCode | None = None
    settlement_calendars: (
        Annotated[list[CalendarCode], Field(min_length=1, max_length=5)] | None
    ) = None
    settlement_cycle_days: Cycle | None = None
    ccp: Bic | None = None
    internal_settlement: bool | None = None
    affirmation_cutoff: LocalTime | None = None


class MarketOut(MarketFields):
    model_config = ConfigDict(from_attributes=True, populate_by_name=True)
    mic: str
    settlement_calendars: list[str]
    version: int
    created_at: datetime
    updated_at: datetime


class ClosedDayIn(BaseModel):
    model_config = _STRICT
    day: date
    reason: Name


class ClosedDayOut(ClosedDayIn):
    model_config = _FROM_ORM
    mic: str
    created_at: datetime


class BusinessDaysOut(BaseModel):
    mic: str
    calendars: list[str]
    business_days: list[date]


# Instruments ------------------------------------------------------------------------------

_BOND_FIELDS = ("coupon_rate", "coupon_frequency", "day_count", "issue_date", "maturity_date")


class InstrumentFields(BaseModel):
    name: Name
    type: InstrumentType
    currency: Currency
    mic: Mic = Field(description="The market whose rules (cycle, calendar) apply by default.")
    csdr_class: CsdrClass
    settlement_unit: DecimalStr = Field(
        description="Minimum deliverable quantity; traded quantities are multiples of it."
    )
    settlement_cycle_days: Cycle | None = Field(
        default=None, description="Overrides the market's cycle for this instrument."
    )
    price_basis: PriceBasis = PriceBasis.UNIT
    coupon_rate: DecimalStr | None = Field(default=None, examples=["0.026"])
    coupon_frequency: int | None = Field(default=None, examples=[1])
    day_count: DayCountName | None = None
    issue_date: date | None = None
    maturity_date: date | None = None


def check_instrument_terms(values: dict[str, Any]) -> None:
    """Cross-field rules of an instrument, shared by create and update."""
    if values["settlement_unit"] <= 0:
        raise TermsError("settlement_unit must be positive", "settlement_unit")
    is_bond = values["type"] == InstrumentType.BOND
    given = [name for name in _BOND_FIELDS if values.get(name) is not None]
    if is_bond:
        missing = [name for name in _BOND_FIELDS if values.get(name) is None]
        if missing:
            raise TermsError(f"a bond needs {', '.join(missing)}", *missing)
        if values["price_basis"] != PriceBasis.PERCENT:
            raise TermsError(
                "bonds are priced in percent of nominal: price_basis 'percent'", "price_basis"
            )
        if not Decimal(0) <= values["coupon_rate"] < Decimal(1):
            raise TermsError(
                "coupon_rate is an annual fraction between 0 and 1 (0.026 = 2.6 %)", "coupon_rate"
            )
        if values["coupon_frequency"] not in (1, 2, 4, 12):
            raise TermsError("coupon_frequency is 1, 2, 4 or 12 coupons a year", "coupon_frequency")
        if values["issue_date"] >= values["maturity_date"]:
            raise TermsError(
                "issue_date must be before maturity_date", "issue_date", "maturity_date"
            )
    elif given:
        raise TermsError(f"only bonds have {', '.join(given)}", *given)


class InstrumentIn(InstrumentFields):
    model_config = _STRICT
    isin: Isin

    @model_validator(mode="after")
    def _terms(self) -> Self:
        try:
            check_instrument_terms(self.model_dump())
        except TermsError as error:
            raise _field_errors(self, error) from None
        return self


class InstrumentPatch(BaseModel):
    model_config = _STRICT
    name: Name | None = None
    csdr_class: CsdrClass | None = None
    settlement_unit: DecimalStr | None = None
    settlement_cycle_days: Cycle | None = None
    coupon_rate: DecimalStr | None = None
    coupon_frequency: int | None = None
    day_count: DayCountName | None = None
    issue_date: date | None = None
    maturity_date: date | None = None


class InstrumentOut(InstrumentFields):
    model_config = ConfigDict(from_attributes=True, populate_by_name=True)
    isin: str
    version: int
    created_at: datetime
    updated_at: datetime


# Counterparties, books, accounts ------------------------------------------------------------


class CounterpartyFields(BaseModel):
    name: Name
    bic: Bic | None = None
    netting: Netting = Netting.NONE


class CounterpartyIn(CounterpartyFields):
    model_config = _STRICT
    lei: Lei


class CounterpartyPatch(BaseModel):
    model_config = _STRICT
    name: Name | None = None
    bic: Bic | None = None
    netting: Netting | None = None


class CounterpartyOut(CounterpartyFields):
    model_config = _FROM_ORM
    lei: str
    version: int
    created_at: datetime
    updated_at: datetime


class BookIn(BaseModel):
    model_config = _STRICT
    code: Code = Field(examples=["EQ-FLOW"])
    name: Name


class BookPatch(BaseModel):
    model_config = _STRICT
    name: Name | None = None


class BookOut(BaseModel):
    model_config = _FROM_ORM
    code: str
    name: str
    version: int
    created_at: datetime
    updated_at: datetime


class AccountFields(BaseModel):
    name: Name
    kind: AccountKind
    currency: Currency | None = Field(default=None, description="Cash accounts only.")
    servicer_bic: Bic
    iban: Iban | None = None
    account_number: AccountText | None = None
    markets: list[Mic] = Field(
        default_factory=list,
        max_length=50,
        description="Securities accounts: the markets (MICs) whose instruments settle into "
        "this account. Clearing takes our account for a trade from here.",
    )


def check_account_terms(values: dict[str, Any]) -> None:
    if values["kind"] == AccountKind.CASH and values.get("currency") is None:
        raise TermsError("a cash account needs a currency", "currency")
    if values["kind"] == AccountKind.SECURITIES and values.get("currency") is not None:
        raise TermsError("a securities account has no currency", "currency")
    if values.get("iban") is None and values.get("account_number") is None:
        raise TermsError("give an iban or an account_number", "iban", "account_number")
    if values["kind"] == AccountKind.CASH and values.get("markets"):
        raise TermsError("a cash account is found by its currency, not by markets", "markets")


class AccountIn(AccountFields):
    model_config = _STRICT
    code: Code = Field(examples=["CASH-USD"])

    @model_validator(mode="after")
    def _terms(self) -> Self:
        try:
            check_account_terms(self.model_dump())
        except TermsError as error:
            raise _field_errors(self, error) from None
        return self


class AccountPatch(BaseModel):
    model_config = _STRICT
    name: Name | None = None
    servicer_bic: Bic | None = None
    markets: list[Mic] | None = Field(default=None, max_length=50)
    iban: Iban | None = None
    account_number: AccountText | None = None


class AccountOut(AccountFields):
    model_config = _FROM_ORM
    code: str
    iban: str | None = None
    version: int
    created_at: datetime
    updated_at: datetime


# Standing settlement instructions ----------------------------------------------------------


class SsiFields(BaseModel):
    counterparty_lei: Lei
    mic: Mic | None = Field(
        default=None,
        examples=["XNYS"],
        description="The market the SSI is for; with `currency`, that market in that currency "
        "only. At least one of `mic` and `currency` is given.",
    )
    currency: Currency | None = Field(
        default=None,
        examples=["USD"],
        description="The currency the SSI is for; with `mic`, only on that market.",
    )
    place_of_settlement: Bic = Field(description="The CSD's BIC.")
    agent_bic: Bic
    account: AccountText


class SsiIn(SsiFields):
    """Enrichment takes the most specific SSI: market and currency, else market, else currency."""

    model_config = _STRICT

    @model_validator(mode="after")
    def _scope(self) -> Self:
        if self.mic is None and self.currency is None:
            error = TermsError(
                "give mic, currency or both: an SSI is for a market, a currency, "
                "or a market in one currency",
                "mic",
                "currency",
            )
            raise _field_errors(self, error)
        return self


class SsiPatch(BaseModel):
    model_config = _STRICT
    place_of_settlement: Bic | None = None
    agent_bic: Bic | None = None
    account: AccountText | None = None


class SsiOut(SsiFields):
    model_config = _FROM_ORM
    id: str
    counterparty_lei: str
    version: int
    created_at: datetime
    updated_at: datetime


# Prices and penalty rates ------------------------------------------------------------------


class PriceIn(BaseModel):
    model_config = _STRICT
    isin: Isin
    date: date
    price: DecimalStr

    @field_validator("price")
    @classmethod
    def _positive(cls, value: Decimal) -> Decimal:
        if value <= 0:
            raise ValueError("must be positive")
        return value


class PriceOut(BaseModel):
    model_config = _FROM_ORM
    isin: str
    date: date
    price: DecimalStr
    created_at: datetime


_CASH_RATE = re.compile(r"^cash:([A-Z]{3})$")


def _penalty_key(value: str) -> str:
    match = _CASH_RATE.match(value)
    if match:
        validate_currency(match.group(1))
        return value
    if value not in {member.value for member in CsdrClass}:
        classes = ", ".join(member.value for member in CsdrClass)
        raise ValueError(f"is one of {classes}, or cash:<currency>")
    return value


class PenaltyRateIn(BaseModel):
    model_config = _STRICT
    csdr_class: Annotated[str, AfterValidator(_penalty_key)] = Field(
        examples=["liquid_share", "cash:EUR"],
        description="An instrument class, or `cash:<currency>` for the lack-of-cash rate.",
    )
    rate: DecimalStr = Field(
        examples=["0.0001"],
        description="Per business day of fail: a fraction (1 bp = 0.0001); cash: annual rate.",
    )
    effective_from: date

    @field_validator("rate")
    @classmethod
    def _not_negative(cls, value: Decimal) -> Decimal:
        if value < 0:
            raise ValueError("must not be negative")
        return value


class PenaltyRateOut(PenaltyRateIn):
    model_config = _FROM_ORM
    id: str
    csdr_class: str
    created_at: datetime


# Matching tolerances ------------------------------------------------------------------------


def _not_negative(value: Decimal | None) -> Decimal | None:
    if value is not None and value < 0:
        raise ValueError("must not be negative")
    return value


Allowance = Annotated[DecimalStr, AfterValidator(_not_negative)]


class MatchingToleranceFields(BaseModel):
    price_abs: Allowance = Field(
        default=Decimal(0), examples=["0.01"], description="Deal-price difference allowed."
    )
    net_amount_abs: Allowance | None = Field(
        default=None, examples=["25.00"], description="Settlement-amount difference allowed."
    )
    net_amount_bps: Allowance | None = Field(
        default=None,
        examples=["1"],
        description="Settlement-amount difference allowed, in basis points of our amount. "
        "With both amount allowances, a difference within either matches.",
    )


class MatchingToleranceIn(MatchingToleranceFields):
    model_config = _STRICT
    currency: Currency


class MatchingTolerancePatch(BaseModel):
    model_config = _STRICT
    price_abs: Allowance | None = None
    net_amount_abs: Allowance | None = None
    net_amount_bps: Allowance | None = None


class MatchingToleranceOut(MatchingToleranceFields):
    model_config = _FROM_ORM
    currency: str
    version: int
    created_at: datetime
    updated_at: datetime
