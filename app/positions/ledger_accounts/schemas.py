"""API models of the chart of accounts."""

from datetime import datetime

from pydantic import BaseModel

from app.positions.ledger_accounts.codes import LedgerKind


class LedgerAccountOut(BaseModel):
    code: str
    kind: LedgerKind
    name: str
    reference: str | None
    created_at: datetime
