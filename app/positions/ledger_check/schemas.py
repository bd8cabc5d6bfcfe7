"""API models of the ledger check."""

from pydantic import BaseModel, Field


class LedgerProblemOut(BaseModel):
    kind: str
    detail: str
    entry_id: str | None
    ledger_account: str | None
    asset: str | None


class LedgerCheckOut(BaseModel):
    ok: bool
    entries_checked: int
    postings_checked: int
    balances_checked: int
    first_bad_entry_id: str | None = Field(description="The earliest entry found at fault.")
    problems: list[LedgerProblemOut] = Field(description="The first problems found (at most 50).")
