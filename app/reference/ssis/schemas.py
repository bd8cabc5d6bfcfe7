"""API models of standing settlement instructions."""

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from app.core.identifiers import Bic, Currency, Lei, Mic
from app.reference.fields import FROM_ORM, AccountText, TermsError


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


def check_ssi_scope(values: dict[str, Any]) -> None:
    """An SSI is for a market, a currency or both (checked by the service)."""
    if values.get("mic") is None and values.get("currency") is None:
        raise TermsError(
            "give mic, currency or both: an SSI is for a market, a currency, "
            "or a market in one currency",
            "mic",
            "currency",
        )


class SsiIn(SsiFields):
    """Enrichment takes the most specific SSI: market and currency, else market, else currency.
    Checked once parsed (422 on `mic` and `currency`): at least one of them is given."""

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
