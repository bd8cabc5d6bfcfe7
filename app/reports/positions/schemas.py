"""The positions report over HTTP: the positions and cash balances models of GET /positions."""

from datetime import date

from pydantic import BaseModel

from app.positions.balances.schemas import Basis, CashBalanceOut, PositionOut

CSV_COLUMNS = (
    "kind",
    "basis",
    "ledger_account",
    "book",
    "account",
    "isin",
    "currency",
    "quantity",
    "pending",
    "average_cost",
    "cost",
    "realized_pnl",
    "settled",
    "projected",
)


class PositionsReportOut(BaseModel):
    as_of: date
    basis: Basis
    positions: list[PositionOut]
    cash: list[CashBalanceOut]
