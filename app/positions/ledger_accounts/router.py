"""The chart of accounts over HTTP."""

from fastapi import APIRouter

from app.core.deps import Paging, Uow
from app.core.errors import problem_responses
from app.core.pagination import Page
from app.positions.ledger_accounts import service
from app.positions.ledger_accounts.auth import LedgerAccountsRead
from app.positions.ledger_accounts.codes import LedgerKind
from app.positions.ledger_accounts.models import LedgerAccount
from app.positions.ledger_accounts.schemas import LedgerAccountOut

router = APIRouter(tags=["Journal"])


def _account_out(account: LedgerAccount) -> LedgerAccountOut:
    return LedgerAccountOut(
        code=account.code,
        kind=LedgerKind(account.kind),
        name=account.name,
        reference=account.reference,
        created_at=account.created_at,
    )


@router.get(
    "/ledger-accounts",
    response_model=Page[LedgerAccountOut],
    responses=problem_responses(),
    summary="The chart of accounts",
)
async def list_ledger_accounts(
    uow: Uow, _actor: LedgerAccountsRead, page: Paging, kind: LedgerKind | None = None
) -> Page[LedgerAccountOut]:
    rows, cursor = await service.ledger_accounts(uow.session, page=page, kind=kind)
    return Page(items=[_account_out(row) for row in rows], next_cursor=cursor)
