"""API models of our accounts, and the cross-field rules of their terms."""

from datetime import datetime
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from app.core.identifiers import Bic, Currency, Iban, Mic
from app.reference.fields import FROM_ORM, AccountText, Code, Name, TermsError


class AccountKind(StrEnum):
    SECURITIES = "securities"
    CASH = "cash"


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
    """Checked once parsed (422 on the field): a cash account has a `currency` and no
    `markets`, a securities account no `currency`; an `iban` or an `account_number` is given."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "code": "CASH-EUR",
                    "name": "EUR settlement cash at Commerzbank",
                    "kind": "cash",
                    "currency": "EUR",
                    "servicer_bic": "COBADEFF",
                    "iban": "DE89370400440532013000",
                    "account_number": None,
                }
            ]
        },
    )
    code: Code = Field(examples=["CASH-USD"])


class AccountPatch(BaseModel):
    model_config = ConfigDict(
        extra="forbid", json_schema_extra={"examples": [{"markets": ["XPAR", "XETR"]}]}
    )
    name: Name | None = None
    servicer_bic: Bic | None = None
    markets: list[Mic] | None = Field(default=None, max_length=50)
    iban: Iban | None = None
    account_number: AccountText | None = None


class AccountOut(AccountFields):
    model_config = FROM_ORM
    code: str
    iban: str | None = None
    version: int
    created_at: datetime
    updated_at: datetime
