"""Position-keeping routes: positions, cash balances, the journal, adjustments, the check."""

from datetime import date
from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import JSONResponse
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.deps import Now, Paging, Uow
from app.core.errors import FieldProblem, ValidationFailed, problem_responses
from app.core.idempotency import IdempotencyKey, idempotent_create
from app.core.identifiers import Currency, Isin
from app.core.pagination import Page
from app.positions import adjustments, service
from app.positions.accounts import LedgerKind
from app.positions.auth import AdjustmentsWrite, LedgerCheckRead, PositionsRead
from app.positions.check import check_ledger
from app.positions.entries import EntryKind
from app.positions.models import Adjustment, LedgerAccount
from app.positions.schemas import (
    AdjustmentIn,
    AdjustmentKind,
    AdjustmentLineOut,
    AdjustmentOut,
    Basis,
    CashBalanceOut,
    JournalEntryOut,
    LedgerAccountOut,
    LedgerCheckOut,
    LedgerProblemOut,
    PositionOut,
    PostingOut,
    RejectIn,
)
from app.positions.states import AdjustmentStatus

AsOf = Annotated[
    date | None,
    Query(
        description="End of this accounting day (default: today). Later activity never "
        "changes an answer for a day that has passed."
    ),
]
Code = Annotated[str | None, Query(min_length=1, max_length=64)]

router = APIRouter(tags=["Positions and cash"])


@router.get(
    "/positions",
    response_model=Page[PositionOut],
    responses=problem_responses(),
    summary="Positions as of any day, on the trade-date or the settlement-date basis",
)
async def list_positions(
    uow: Uow,
    _actor: PositionsRead,
    page: Paging,
    clock: Now,
    basis: Basis = Basis.TRADE_DATE,
    as_of: AsOf = None,
    book: Code = None,
    account: Code = None,
    isin: Annotated[Isin | None, Query()] = None,
) -> Page[PositionOut]:
    """Trade-date basis: per book and ISIN, with weighted average cost and realised P&L (in the
    instrument's currency; commission, fees and accrued interest are booked apart). Settlement-
    date basis: per safekeeping account and ISIN, what has settled."""
    if basis is Basis.TRADE_DATE and account is not None:
        raise ValidationFailed(
            "Filter the trade-date basis by book.",
            errors=[FieldProblem("account", "applies to the settlement-date basis")],
        )
    if basis is Basis.SETTLEMENT_DATE and book is not None:
        raise ValidationFailed(
            "Filter the settlement-date basis by account.",
            errors=[FieldProblem("book", "applies to the trade-date basis")],
        )
    views, cursor = await service.positions(
        uow.session,
        basis=basis.value,
        as_of=as_of or clock().date(),
        page=page,
        book=book,
        account=account,
        isin=isin,
    )
    return Page(
        items=[PositionOut.model_validate(view, from_attributes=True) for view in views],
        next_cursor=cursor,
    )


@router.get(
    "/cash-balances",
    response_model=Page[CashBalanceOut],
    responses=problem_responses(),
    summary="Settled and projected cash per account and currency, as of any day",
)
async def list_cash_balances(
    uow: Uow,
    _actor: PositionsRead,
    page: Paging,
    clock: Now,
    as_of: AsOf = None,
    account: Code = None,
    currency: Annotated[Currency | None, Query()] = None,
) -> Page[CashBalanceOut]:
    views, cursor = await service.cash_balances(
        uow.session, as_of=as_of or clock().date(), page=page, account=account, currency=currency
    )
    return Page(
        items=[CashBalanceOut.model_validate(view, from_attributes=True) for view in views],
        next_cursor=cursor,
    )


async def _entries_out(
    session: AsyncSession, views: list[service.EntryView]
) -> list[JournalEntryOut]:
    reversals = await service.reversed_by(session, [view.entry.id for view in views])
    return [
        JournalEntryOut(
            id=view.entry.id,
            kind=EntryKind(view.entry.kind),
            accounting_date=view.entry.accounting_date,
            value_date=view.entry.value_date,
            description=view.entry.description,
            source_type=view.entry.source_type,
            source_id=view.entry.source_id,
            reverses_id=view.entry.reverses_id,
            reversed_by=reversals.get(view.entry.id),
            pending_id=view.entry.pending_id,
            created_at=view.entry.created_at,
            created_by=view.entry.created_by,
            postings=[
                PostingOut.model_validate(posting, from_attributes=True)
                for posting in view.postings
            ],
        )
        for view in views
    ]


@router.get(
    "/journal-entries",
    response_model=Page[JournalEntryOut],
    responses=problem_responses(),
    summary="Journal entries with their postings",
)
async def list_journal_entries(
    uow: Uow,
    _actor: PositionsRead,
    page: Paging,
    ledger_account: Code = None,
    asset: Annotated[str | None, Query(min_length=3, max_length=12)] = None,
    kind: EntryKind | None = None,
    source_id: Annotated[str | None, Query(min_length=1, max_length=40)] = None,
    from_date: Annotated[date | None, Query(alias="from", description="Accounting date.")] = None,
    to_date: Annotated[date | None, Query(alias="to", description="Accounting date.")] = None,
) -> Page[JournalEntryOut]:
    """Entries touching a ledger account or an asset, of a kind, from a source (a trade id, an
    instruction, an adjustment), between accounting dates."""
    views, cursor = await service.journal_entries(
        uow.session,
        page=page,
        ledger_account=ledger_account,
        asset=asset,
        kind=kind,
        source_id=source_id,
        from_date=from_date,
        to_date=to_date,
    )
    return Page(items=await _entries_out(uow.session, views), next_cursor=cursor)


@router.get(
    "/journal-entries/{entry_id}",
    response_model=JournalEntryOut,
    responses=problem_responses(404),
    summary="One journal entry",
)
async def get_journal_entry(entry_id: str, uow: Uow, _actor: PositionsRead) -> JournalEntryOut:
    view = await service.journal_entry(uow.session, entry_id=entry_id)
    [out] = await _entries_out(uow.session, [view])
    return out


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
    uow: Uow, _actor: PositionsRead, page: Paging, kind: LedgerKind | None = None
) -> Page[LedgerAccountOut]:
    rows, cursor = await service.ledger_accounts(uow.session, page=page, kind=kind)
    return Page(items=[_account_out(row) for row in rows], next_cursor=cursor)


def _adjustment_out(adjustment: Adjustment) -> AdjustmentOut:
    return AdjustmentOut(
        id=adjustment.id,
        kind=AdjustmentKind(adjustment.kind),
        status=AdjustmentStatus(adjustment.status),
        reason=adjustment.reason,
        value_date=adjustment.value_date,
        lines=[AdjustmentLineOut(**line) for line in adjustment.lines],
        postings=[PostingOut(**posting) for posting in adjustment.postings],
        proposed_by=adjustment.proposed_by,
        proposed_at=adjustment.proposed_at,
        decided_by=adjustment.decided_by,
        decided_at=adjustment.decided_at,
        rejection_reason=adjustment.rejection_reason,
        entry_id=adjustment.entry_id,
        version=adjustment.version,
    )


@router.post(
    "/adjustments",
    status_code=201,
    response_model=AdjustmentOut,
    responses=problem_responses(),
    summary="Propose an adjustment (four-eyes: another operations key approves)",
)
async def propose_adjustment(
    body: AdjustmentIn,
    request: Request,
    uow: Uow,
    actor: AdjustmentsWrite,
    clock: Now,
    key: IdempotencyKey = None,
) -> JSONResponse:
    """Nothing is posted yet: the answer shows the postings approval will make, the offsets
    of an `opening` adjustment against `opening-equity` included."""

    async def work(session: AsyncSession) -> AdjustmentOut:
        return _adjustment_out(
            await adjustments.propose(session, data=body, actor=actor, now=clock())
        )

    return await idempotent_create(
        request,
        uow,
        principal=actor.key_id,
        key=key,
        body=body,
        now=clock(),
        work=work,
        location=lambda out: f"/api/v1/adjustments/{out['id']}",
    )


@router.get(
    "/adjustments",
    response_model=Page[AdjustmentOut],
    responses=problem_responses(),
    summary="Adjustments, newest last",
)
async def list_adjustments(
    uow: Uow, _actor: PositionsRead, page: Paging, status: AdjustmentStatus | None = None
) -> Page[AdjustmentOut]:
    rows, cursor = await adjustments.list_adjustments(uow.session, page=page, status=status)
    return Page(items=[_adjustment_out(row) for row in rows], next_cursor=cursor)


@router.get(
    "/adjustments/{adjustment_id}",
    response_model=AdjustmentOut,
    responses=problem_responses(404),
    summary="One adjustment",
)
async def get_adjustment(adjustment_id: str, uow: Uow, _actor: PositionsRead) -> AdjustmentOut:
    return _adjustment_out(await adjustments.get(uow.session, adjustment_id=adjustment_id))


@router.post(
    "/adjustments/{adjustment_id}/approve",
    response_model=AdjustmentOut,
    responses=problem_responses(403, 404, 409),
    summary="Approve and post an adjustment (not by its proposer)",
)
async def approve_adjustment(
    adjustment_id: str, uow: Uow, actor: AdjustmentsWrite, clock: Now
) -> AdjustmentOut:
    async with uow:
        adjustment = await adjustments.approve(
            uow.session, adjustment_id=adjustment_id, actor=actor, now=clock()
        )
        return _adjustment_out(adjustment)


@router.post(
    "/adjustments/{adjustment_id}/reject",
    response_model=AdjustmentOut,
    responses=problem_responses(403, 404, 409),
    summary="Reject an adjustment (not by its proposer)",
)
async def reject_adjustment(
    adjustment_id: str, body: RejectIn, uow: Uow, actor: AdjustmentsWrite, clock: Now
) -> AdjustmentOut:
    async with uow:
        adjustment = await adjustments.reject(
            uow.session, adjustment_id=adjustment_id, reason=body.reason, actor=actor, now=clock()
        )
        return _adjustment_out(adjustment)


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
