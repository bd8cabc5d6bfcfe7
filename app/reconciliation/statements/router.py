"""Bank statement routes: a file received (camt, MT940/MT950/MT942, CSV, JSON), the statements
listed, one statement with its entries."""

from datetime import date
from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import JSONResponse
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.bodies import read_capped
from app.core.deps import Now, Paging, Uow
from app.core.errors import problem_responses
from app.core.idempotency import IdempotencyKey, idempotent_create
from app.core.pagination import Page
from app.core.query_dates import ISO_QUERY_DATES
from app.reconciliation.auth import ReconciliationRead, StatementsWrite
from app.reconciliation.mappings.schemas import MappingName
from app.reconciliation.statements import service
from app.reconciliation.statements.openapi import REQUEST_BODY
from app.reconciliation.statements.parsing.model import StatementKind
from app.reconciliation.statements.schemas import (
    FormatParam,
    Integrity,
    StatementOut,
    StatementsReceived,
    StatementSummary,
)

router = APIRouter(prefix="/statements", tags=["Statements"], dependencies=[ISO_QUERY_DATES])


@router.post(
    "",
    status_code=201,
    response_model=StatementsReceived,
    responses=problem_responses(409, 413),
    openapi_extra=REQUEST_BODY,
    summary="Receive a bank statement file (camt.05x, MT940/MT950/MT942, CSV or JSON)",
)
async def receive_statements(
    request: Request,
    uow: Uow,
    actor: StatementsWrite,
    clock: Now,
    key: IdempotencyKey = None,
    given_format: Annotated[
        FormatParam | None,
        Query(
            alias="format",
            description="The file's format; else the Content-Type says, else its content.",
        ),
    ] = None,
    mapping: Annotated[
        MappingName | None,
        Query(description="CSV only: the `/statement-mappings` name to read it with."),
    ] = None,
) -> JSONResponse:
    """The body is the file as the bank sent it. Every statement in it is stored, each with our
    cash account (matched by IBAN or account number), its balances, entries and integrity:
    `"ok"`, or the breaks found (does not add up; opening not the previous closing; a gap or
    repeat in the sequence; another currency), stored all the same. The file is kept as
    received.

    Refused whole, nothing stored: an unreadable file (422 naming the line or element), a CSV
    without a known `mapping` (422), a statement of an account that is not one of our cash
    accounts (422 naming it), a statement received before (409: the same content names the
    stored statement's `id`; other content gives `stored_content_hash` and
    `received_content_hash`)."""
    data = await read_capped(request)  # the route's cap: SETTLEMENT_BODY_LIMITS
    content_type = request.headers.get("content-type")

    async def work(session: AsyncSession) -> StatementsReceived:
        rows = await service.receive_file(
            session,
            data=data,
            given_format=given_format.statement_format if given_format else None,
            content_type=content_type,
            mapping_name=mapping,
            actor=actor,
            now=clock(),
        )
        return StatementsReceived(items=[StatementSummary.of(row) for row in rows])

    return await idempotent_create(
        request, uow, principal=actor.key_id, key=key, body=data, now=clock(), work=work
    )


@router.get(
    "",
    response_model=Page[StatementSummary],
    responses=problem_responses(),
    summary="Statements received, oldest first",
)
async def list_statements(
    uow: Uow,
    _actor: ReconciliationRead,
    page: Paging,
    account: Annotated[str | None, Query(max_length=40, description="Our account code.")] = None,
    kind: StatementKind | None = None,
    from_date: Annotated[
        date | None, Query(description="Statements about this day or later.")
    ] = None,
    to_date: Annotated[
        date | None, Query(description="Statements about this day or earlier.")
    ] = None,
    integrity: Annotated[
        Integrity | None, Query(description="`breaks`: only those with integrity breaks.")
    ] = None,
) -> Page[StatementSummary]:
    """The day a statement is about is its closing balance's date (else its latest entry's)."""
    rows, cursor = await service.list_statements(
        uow.session,
        page=page,
        account=account,
        kind=kind.value if kind is not None else None,
        from_date=from_date,
        to_date=to_date,
        integrity=integrity.value if integrity is not None else None,
    )
    return Page(items=[StatementSummary.of(row) for row in rows], next_cursor=cursor)


@router.get(
    "/{statement_id}",
    response_model=StatementOut,
    responses=problem_responses(404),
    summary="One statement with its entries",
)
async def get_statement(statement_id: str, uow: Uow, _actor: ReconciliationRead) -> StatementOut:
    row, entries = await service.get_statement(uow.session, statement_id=statement_id)
    return StatementOut.of(row, entries)
