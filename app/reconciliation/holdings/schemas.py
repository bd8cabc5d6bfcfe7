"""API models for custodians' holdings statements."""

from datetime import date, datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from app.core.money import DecimalStr
from app.reconciliation.holdings.parsing.detect import HoldingsFormat
from app.reconciliation.holdings.parsing.model import QuantityType, StatementBasis

_STATEMENT_EXAMPLE: dict[str, Any] = {
    "id": "hst_01kbx3m4q5r6s7t8v9w0x1y2z3",
    "file_id": "hfl_01kbx3m4q5r6s7t8v9w0x1y2z2",
    "account": "SEC-DTC",
    "safekeeping_account": "DEMO-DTC-0001",
    "statement_id": "DTC20261124",
    "statement_date": "2026-11-24",
    "basis": "settled",
    "page": 1,
    "last_page": True,
    "line_count": 2,
    "content_hash": "9f2c...",
    "received_at": "2026-11-25T06:00:00Z",
    "received_by": "key_01kbx...",
}


class HoldingsStatementOut(BaseModel):
    """One statement (or page of one) as stored."""

    model_config = ConfigDict(
        from_attributes=True, json_schema_extra={"examples": [_STATEMENT_EXAMPLE]}
    )

    id: str
    file_id: str
    account: str = Field(description="Our securities account.")
    safekeeping_account: str = Field(description="The account as the custodian named it.")
    statement_id: str
    statement_date: date
    basis: StatementBasis | None = Field(description="Null when the file does not say.")
    page: int = Field(description="1 of 1 when the format has no pages.")
    last_page: bool
    line_count: int
    content_hash: str = Field(description="SHA-256 of the statement as read.")
    received_at: datetime
    received_by: str


class HoldingLineOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    isin: str
    quantity: DecimalStr = Field(description="Negative for a short position.")
    quantity_type: QuantityType
    available: DecimalStr | None


class HoldingsStatementDetail(HoldingsStatementOut):
    lines: list[HoldingLineOut]


class HoldingsFileOut(BaseModel):
    """A file received: every statement stored from it."""

    file_id: str
    format: HoldingsFormat
    sha256: str
    statements: list[HoldingsStatementOut]
