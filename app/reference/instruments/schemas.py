"""API models of instruments, and the cross-field rules of their terms."""

from datetime import datetime
from decimal import Decimal
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from app.core.identifiers import Currency, Isin, Mic
from app.core.json_types import JsonInt
from app.core.moments import IsoDate
from app.core.money import DecimalStr, PositiveDecimalStr
from app.reference.fields import Cycle, Name, TermsError


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


_BOND_FIELDS = ("coupon_rate", "coupon_frequency", "day_count", "issue_date", "maturity_date")


class InstrumentFields(BaseModel):
    name: Name
    type: InstrumentType
    currency: Currency
    mic: Mic = Field(description="The market whose rules (cycle, calendar) apply by default.")
    csdr_class: CsdrClass
    settlement_unit: PositiveDecimalStr = Field(
        description="Minimum deliverable quantity; traded quantities are multiples of it."
    )
    settlement_cycle_days: Cycle | None = Field(
        default=None, description="Overrides the market's cycle for this instrument."
    )
    price_basis: PriceBasis = PriceBasis.UNIT
    coupon_rate: DecimalStr | None = Field(default=None, examples=["0.026"])
    coupon_frequency: JsonInt | None = Field(default=None, examples=[1])
    day_count: DayCountName | None = None
    issue_date: IsoDate | None = None
    maturity_date: IsoDate | None = None
    partial_quantity_threshold: PositiveDecimalStr | None = Field(
        default=None,
        examples=["100000"],
        description="`PARQ`: the least quantity a partial settlement settles; null: one "
        "settlement unit.",
    )


def check_instrument_terms(values: dict[str, Any]) -> None:
    """Cross-field rules of an instrument, shared by create and update (checked by the service:
    the OpenAPI document states them in the operation's description)."""
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
    """Checked once parsed (422 on the field): a bond has `coupon_rate` (0 to 1),
    `coupon_frequency` (1, 2, 4 or 12), `day_count`, `issue_date` before `maturity_date` and
    `price_basis` `percent`; other instruments have none of these."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "isin": "DE0001102614",
                    "name": "Bundesrepublik Deutschland 1.80% Bund 15/08/2053",
                    "type": "bond",
                    "currency": "EUR",
                    "mic": "XOFF",
                    "csdr_class": "sovereign_debt",
                    "settlement_unit": "0.01",
                    "price_basis": "percent",
                    "coupon_rate": "0.018",
                    "coupon_frequency": 1,
                    "day_count": "ACT/ACT-ICMA",
                    "issue_date": "2022-08-15",
                    "maturity_date": "2053-08-15",
                    "partial_quantity_threshold": "100000",
                }
            ]
        },
    )
    isin: Isin


class InstrumentPatch(BaseModel):
    model_config = ConfigDict(
        extra="forbid", json_schema_extra={"examples": [{"csdr_class": "illiquid_share"}]}
    )
    name: Name | None = None
    csdr_class: CsdrClass | None = None
    settlement_unit: PositiveDecimalStr | None = None
    settlement_cycle_days: Cycle | None = None
    coupon_rate: DecimalStr | None = None
    coupon_frequency: JsonInt | None = None
    day_count: DayCountName | None = None
    issue_date: IsoDate | None = None
    maturity_date: IsoDate | None = None
    partial_quantity_threshold: PositiveDecimalStr | None = None


class InstrumentOut(InstrumentFields):
    model_config = ConfigDict(from_attributes=True, populate_by_name=True)
    isin: str
    version: int
    created_at: datetime
    updated_at: datetime
