"""API models of standing settlement instructions."""

from datetime import datetime
from typing import Self

from pydantic import BaseModel, ConfigDict, Field, model_validator

from app.core.identifiers import Bic, Currency, Lei, Mic
from app.reference.fields import FROM_ORM, AccountText, TermsError, field_errors


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

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "counterparty_lei": "O2RNE8IBXP4R0TD8PU41",
                    "mic": "XPAR",
                    "currency": None,
                    "place_of_settlement": "SICVFRPP",
                    "agent_bic": "SOGEFRPP",
                    "account": "DEMO-SG-EOCF-01",
                }
            ]
        },
    )

    @model_validator(mode="after")
    def _scope(self) -> Self:
        if self.mic is None and self.currency is None:
            error = TermsError(
                "give mic, currency or both: an SSI is for a market, a currency, "
                "or a market in one currency",
                "mic",
                "currency",
            )
            raise field_errors(self, error)
        return self


class SsiPatch(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={"examples": [{"agent_bic": "BNPAFRPP", "account": "DEMO-SG-EOCF-02"}]},
    )
    place_of_settlement: Bic | None = None
    agent_bic: Bic | None = None
    account: AccountText | None = None


class SsiOut(SsiFields):
    model_config = FROM_ORM
    id: str
    counterparty_lei: str
    version: int
    created_at: datetime
    updated_at: datetime
