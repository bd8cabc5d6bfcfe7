"""API models for obligations."""

from datetime import date, datetime

from pydantic import BaseModel, Field

from app.clearing.netting import Direction, NettingSet
from app.clearing.obligations.service import WithTrades
from app.core.money import DecimalStr


class ObligationOut(BaseModel):
    id: str
    run_id: str
    netting_set: NettingSet
    counterparty_lei: str
    securities_account: str
    cash_account: str
    isin: str
    currency: str
    settlement_date: date
    net_quantity: DecimalStr = Field(description="Positive: we receive the securities.")
    net_amount: DecimalStr = Field(description="Positive: we receive the cash.")
    gross_quantity: DecimalStr
    gross_amount: DecimalStr
    trade_count: int
    direction: Direction
    trade_ids: list[str]
    created_at: datetime

    @classmethod
    def of(cls, found: WithTrades) -> "ObligationOut":
        row = found.obligation
        return cls(
            id=row.id,
            run_id=row.run_id,
            netting_set=NettingSet(row.netting_set),
            counterparty_lei=row.counterparty_lei,
            securities_account=row.securities_account,
            cash_account=row.cash_account,
            isin=row.isin,
            currency=row.currency,
            settlement_date=row.settlement_date,
            net_quantity=row.net_quantity,
            net_amount=row.net_amount,
            gross_quantity=row.gross_quantity,
            gross_amount=row.gross_amount,
            trade_count=row.trade_count,
            direction=Direction(row.direction),
            trade_ids=found.trade_ids,
            created_at=row.created_at,
        )
