"""Holdings as JSON, the service's own format: quantities as strings holding exact decimals
(JSON integers accepted), negative for a short position, dates ``YYYY-MM-DD``. Pure: no
database.

    {"statements": [{"account": "DEMO-DTC-0001", "statement_id": "HLD-20261124",
      "statement_date": "2026-11-24", "basis": "settled", "page": 1, "last_page": true,
      "holdings": [{"isin": "US46625H1005", "quantity": "1500", "quantity_type": "UNIT",
                    "available": "1200"}]}]}

``basis`` (settled, traded, contractual), ``page``, ``last_page``, ``quantity_type`` (UNIT, the
default, or FAMT) and ``available`` may be left out; ``holdings`` may be empty (nothing held).
"""

from datetime import date

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from app.core.identifiers import Isin
from app.core.money import DecimalStr
from app.reconciliation.holdings.parsing.model import (
    HoldingsParseError,
    ParsedHolding,
    ParsedHoldingsStatement,
    QuantityType,
    StatementBasis,
)


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class _Holding(_Strict):
    isin: Isin
    quantity: DecimalStr
    quantity_type: QuantityType = QuantityType.UNIT
    available: DecimalStr | None = None


class _Statement(_Strict):
    account: str = Field(min_length=1, max_length=40)
    statement_id: str = Field(min_length=1, max_length=35)
    statement_date: date
    basis: StatementBasis | None = None
    page: int | None = Field(default=None, ge=1)
    last_page: bool | None = None
    holdings: list[_Holding]


class _File(_Strict):
    statements: list[_Statement] = Field(min_length=1)


def parse_json(data: bytes | str) -> list[ParsedHoldingsStatement]:
    try:
        parsed = _File.model_validate_json(data)
    except ValidationError as error:
        first = error.errors()[0]
        where = ".".join(str(part) for part in first["loc"]) or "the document"
        raise HoldingsParseError(first["msg"], location=where) from None
    return [
        ParsedHoldingsStatement(
            safekeeping_account=statement.account,
            statement_id=statement.statement_id,
            statement_date=statement.statement_date,
            basis=statement.basis,
            page=statement.page,
            last_page=statement.last_page,
            holdings=tuple(
                ParsedHolding(h.isin, h.quantity, h.quantity_type, h.available)
                for h in statement.holdings
            ),
        )
        for statement in parsed.statements
    ]
