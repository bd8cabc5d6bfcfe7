"""The ledger check over HTTP."""

from fastapi import APIRouter

from app.core.deps import Uow
from app.core.errors import problem_responses
from app.positions.ledger_check.auth import LedgerCheckRead
from app.positions.ledger_check.schemas import LedgerCheckOut, LedgerProblemOut
from app.positions.ledger_check.service import check_ledger

router = APIRouter(tags=["Journal"])


@router.get(
    "/ledger/check",
    response_model=LedgerCheckOut,
    responses=problem_responses(),
    summary="Prove the ledger: zero-sum entries, balances equal to their postings",
)
async def ledger_check(uow: Uow, _actor: LedgerCheckRead) -> LedgerCheckOut:
    """Reads the whole journal in chunks: every entry sums to zero per asset, and every running
    balance and daily balance equals the sum of its postings. Names the earliest entry at fault."""
    report = await check_ledger(uow.session)
    return LedgerCheckOut(
        ok=report.ok,
        entries_checked=report.entries_checked,
        postings_checked=report.postings_checked,
        balances_checked=report.balances_checked,
        first_bad_entry_id=report.first_bad_entry_id,
        problems=[
            LedgerProblemOut(
                kind=p.kind,
                detail=p.detail,
                entry_id=p.entry_id,
                ledger_account=p.ledger_account,
                asset=p.asset,
            )
            for p in report.problems
        ],
    )
