"""Holdings statement routes: a custodian's statement of holdings as it was sent (semt.002,
MT535, CSV or JSON), stored per safekeeping account, and read back."""

import hashlib
import json
from datetime import date, timedelta
from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import JSONResponse
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.bodies import read_capped
from app.core.config import get_settings
from app.core.deps import Now, Paging, Uow
from app.core.errors import UnsupportedMediaType, problem_responses
from app.core.idempotency import IdempotencyKey, run_idempotent
from app.core.pagination import Page
from app.core.query_dates import ISO_QUERY_DATES
from app.reconciliation.holdings import service
from app.reconciliation.holdings.auth import HoldingsRead, HoldingsWrite
from app.reconciliation.holdings.parsing.csv_format import StatementDefaults
from app.reconciliation.holdings.parsing.detect import HoldingsFormat, detect_format
from app.reconciliation.holdings.schemas import (
    HoldingLineOut,
    HoldingsFileOut,
    HoldingsStatementDetail,
    HoldingsStatementOut,
)

router = APIRouter(
    prefix="/holdings-statements", tags=["Statements"], dependencies=[ISO_QUERY_DATES]
)


class HoldingsFormatUnknown(UnsupportedMediaType):
    title = "The body's format cannot be told"


_MT535_EXAMPLE = """{4:
:16R:GENL
:28E:1/ONLY
:20C::SEME//DTC20261124
:23G:NEWM
:98A::STAT//20261124
:22F::STBA//SETT
:97A::SAFE//DEMO-DTC-0001
:17B::ACTI//Y
:16S:GENL
:16R:SUBSAFE
:16R:FIN
:35B:ISIN US46625H1005
:93B::AGGR//UNIT/1500,
:93B::AVAI//UNIT/1200,
:16S:FIN
:16S:SUBSAFE
-}"""
_JSON_EXAMPLE = {
    "statements": [
        {
            "account": "DEMO-DTC-0001",
            "statement_id": "DTC20261124",
            "statement_date": "2026-11-24",
            "basis": "settled",
            "holdings": [{"isin": "US46625H1005", "quantity": "1500", "available": "1200"}],
        }
    ]
}
_REQUEST_BODY = {
    "requestBody": {
        "required": True,
        "content": {
            "application/xml": {"schema": {"type": "string"}},
            "text/plain": {"schema": {"type": "string"}, "example": _MT535_EXAMPLE},
            "text/csv": {
                "schema": {"type": "string"},
                "example": "isin,quantity,quantity_type,available\nUS46625H1005,1500,UNIT,1200\n",
            },
            "application/json": {"schema": {"type": "object"}, "example": _JSON_EXAMPLE},
        },
    }
}


def _fingerprint(
    request: Request, data: bytes, holdings_format: HoldingsFormat, defaults: StatementDefaults
) -> str:
    """What a repeated Idempotency-Key must match: the file and how it is to be read."""
    how = {
        "format": holdings_format.value,
        "account": defaults.account,
        "date": defaults.statement_date.isoformat() if defaults.statement_date else None,
        "statement_id": defaults.statement_id,
        "sha256": hashlib.sha256(data).hexdigest(),
    }
    canonical = json.dumps(how, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(f"POST {request.url.path}\n{canonical}".encode()).hexdigest()


@router.post(
    "",
    status_code=201,
    response_model=HoldingsFileOut,
    responses=problem_responses(409, 413, 415),
    openapi_extra=_REQUEST_BODY,
    summary="Receive a custodian's holdings statement (semt.002, MT535, CSV or JSON)",
)
async def receive_holdings_statements(
    request: Request,
    uow: Uow,
    actor: HoldingsWrite,
    clock: Now,
    key: IdempotencyKey = None,
    holdings_format: Annotated[
        HoldingsFormat | None,
        Query(alias="format", description="Else from Content-Type, else from the content."),
    ] = None,
    account: Annotated[
        str | None, Query(min_length=1, max_length=40, description="CSV without the column.")
    ] = None,
    statement_date: Annotated[
        date | None, Query(alias="date", description="CSV without the column.")
    ] = None,
    statement_id: Annotated[
        str | None, Query(min_length=1, max_length=35, description="CSV: else the date.")
    ] = None,
) -> JSONResponse:
    """The file as the custodian sent it, as the body: ISO 20022 **semt.002** (.001.03 to
    .001.12, alone or several Documents in an envelope), SWIFT **MT535** (with or without
    blocks 1-3, several messages a file), **CSV** or **JSON** (shapes in the README).
    `?format=semt002|mt535|csv|json`, else `Content-Type` (`application/xml`, `text/csv`,
    `application/json`), else the content tells.

    Each statement names its safekeeping account by our account code or account number
    (securities accounts only); each sub-account of a semt.002 or MT535 with its own account
    is a statement of its own. The file is stored whole or not at all: unreadable 422 naming
    the line or element, an account that is not ours 422 naming it, the same account,
    statement id, date and page again 409 naming the stored statement (with both content
    hashes when the content differs)."""
    data = await read_capped(request)  # the route's cap: SETTLEMENT_BODY_LIMITS
    resolved = holdings_format or detect_format(
        data, content_type=request.headers.get("content-type")
    )
    if resolved is None:
        raise HoldingsFormatUnknown(
            "Neither ?format=, the Content-Type nor the content tells the format: pass "
            "?format=semt002, mt535, csv or json."
        )
    defaults = StatementDefaults(account, statement_date, statement_id)
    statements = service.read_file(data, holdings_format=resolved, defaults=defaults)

    async def work(session: AsyncSession) -> HoldingsFileOut:
        received = await service.receive_file(
            session,
            data=data,
            holdings_format=resolved,
            statements=statements,
            actor=actor,
            now=clock(),
        )
        return HoldingsFileOut(
            file_id=received.file.id,
            format=resolved,
            sha256=received.file.sha256,
            statements=[HoldingsStatementOut.model_validate(row) for row in received.statements],
        )

    return await run_idempotent(
        uow,
        principal=actor.key_id,
        key=key,
        request_fingerprint=_fingerprint(request, data, resolved, defaults),
        now=clock(),
        retention=timedelta(hours=get_settings().idempotency_retention_hours),
        status_code=201,
        work=work,
    )


@router.get(
    "",
    response_model=Page[HoldingsStatementOut],
    responses=problem_responses(),
    summary="Holdings statements received, oldest first",
)
async def list_holdings_statements(
    uow: Uow,
    _actor: HoldingsRead,
    page: Paging,
    account: Annotated[str | None, Query(max_length=40, description="Our account code.")] = None,
    statement_date: Annotated[date | None, Query(alias="date")] = None,
) -> Page[HoldingsStatementOut]:
    rows, cursor = await service.list_statements(
        uow.session, page=page, account=account, statement_date=statement_date
    )
    return Page(
        items=[HoldingsStatementOut.model_validate(row) for row in rows], next_cursor=cursor
    )


@router.get(
    "/{holdings_statement_id}",
    response_model=HoldingsStatementDetail,
    responses=problem_responses(404),
    summary="One holdings statement with its lines",
)
async def get_holdings_statement(
    holdings_statement_id: str, uow: Uow, _actor: HoldingsRead
) -> HoldingsStatementDetail:
    row, lines = await service.get_statement(uow.session, statement_id=holdings_statement_id)
    return HoldingsStatementDetail(
        **HoldingsStatementOut.model_validate(row).model_dump(),
        lines=[HoldingLineOut.model_validate(line) for line in lines],
    )
