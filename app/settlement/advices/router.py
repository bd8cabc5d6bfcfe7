"""Status advice routes: the CSD's or custodian's sese.024 / sese.025 (JSON or ISO 20022 XML)
and MT548 / MT544-547 (SWIFT text); the exceptions kept for operations."""

import json
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import ValidationError
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.auth import Actor
from app.core.bodies import inline_schema, is_json, is_xml, read_capped
from app.core.deps import Now, Paging, Uow
from app.core.errors import (
    FieldProblem,
    UnsupportedMediaType,
    ValidationFailed,
    problem_responses,
)
from app.core.idempotency import IdempotencyKey, idempotent_create
from app.core.pagination import Page
from app.settlement.advices import iso20022, swift
from app.settlement.advices import service as advices
from app.settlement.advices.auth import AdvicesRead, AdvicesWrite, ExceptionsRead, ExceptionsWrite
from app.settlement.advices.models import StatusAdvice
from app.settlement.advices.schemas import (
    AdviceIn,
    AdviceInstructionOut,
    AdviceOutcome,
    InstructionId,
    MessageId,
    MessageType,
    ReasonOut,
    ResolutionOut,
    ResolveIn,
    Sender,
    StatusAdviceOut,
    StatusBlockOut,
)

_SWIFT = ("text/plain", "application/x-swift-fin")

router = APIRouter(tags=["Status advices"])


class _Replayed(Exception):
    """The message was received before: answer its first result (200), write nothing."""

    def __init__(self, out: StatusAdviceOut) -> None:
        super().__init__(out.id)
        self.out = out


def _reasons(reasons: list[dict[str, Any]]) -> list[ReasonOut]:
    return [ReasonOut.model_validate(reason) for reason in reasons]


def _blocks(row: StatusAdvice) -> list[StatusBlockOut]:
    if row.message_type != MessageType.STATUS:
        return []
    advice = AdviceIn.model_validate(row.payload)
    return [
        StatusBlockOut(
            block=block,
            status=given.status,
            reasons=_reasons([advices.reason_json(r) for r in given.reasons]),
        )
        for block, given in advice.blocks()
    ]


def _out(row: StatusAdvice) -> StatusAdviceOut:
    resolution = None
    if row.resolved_at is not None:
        assert row.resolved_by is not None
        assert row.resolution is not None
        resolution = ResolutionOut(
            resolved_at=row.resolved_at, resolved_by=row.resolved_by, comment=row.resolution
        )
    return StatusAdviceOut(
        id=row.id,
        message_id=row.message_id,
        sender=row.sender,
        message_type=MessageType(row.message_type),
        reference=row.reference,
        instruction_id=row.instruction_id,
        status=row.status,
        reasons=_reasons(row.reasons),
        blocks=_blocks(row),
        settled_quantity=row.settled_quantity,
        settled_amount=row.settled_amount,
        settlement_date=row.settlement_date,
        source=row.source,
        received_at=row.received_at,
        exception=row.exception,
        resolution=resolution,
        instruction=AdviceInstructionOut.model_validate(row.outcome) if row.outcome else None,
    )


def _media_type(request: Request) -> str:
    return request.headers.get("content-type", "").split(";", 1)[0].strip().lower()


def _json_advice(data: bytes, message_id: str | None) -> AdviceIn:
    try:
        advice = AdviceIn.model_validate_json(data)
    except ValidationError as error:
        # The app's handler shapes these like any body error (and a JSON syntax error as 400).
        raise RequestValidationError(
            [{**e, "loc": ("body", *e["loc"])} for e in error.errors(include_url=False)]
        ) from None
    if message_id is not None and message_id != advice.message_id:
        problem = f"'{message_id}' differs from the body's '{advice.message_id}'"
        raise ValidationFailed(
            f"message_id: {problem}.", errors=[FieldProblem("message_id", problem)]
        )
    problems = advice.problems()
    if problems:
        detail = "; ".join(f"{p.field}: {p.message}" for p in problems)
        raise ValidationFailed(detail, errors=problems)
    return advice


def _read(data: bytes, media_type: str, message_id: str | None) -> iso20022.ReadAdvice:
    """The advice in the body, as JSON (``version`` "json"), ISO 20022 XML or SWIFT MT."""
    if is_json(media_type):
        return iso20022.ReadAdvice(_json_advice(data, message_id), "json")
    if is_xml(media_type):
        return iso20022.read_advice(data, message_id=message_id)
    if media_type in _SWIFT:
        return swift.read_mt(data, message_id=message_id)
    raise UnsupportedMediaType(
        "Send the advice as application/json, application/xml or text/plain (SWIFT MT), not "
        f"'{media_type}'."
    )


def _sender(read: iso20022.ReadAdvice, given: str | None, actor: Actor) -> str:
    """The message's sender (AppHdr Fr, MT block 2, JSON ``sender``), else the ``sender``
    parameter, else the API key's id; BICs as 11 characters."""
    in_message = read.advice.sender
    if given is not None and iso20022.BIC.match(given):
        given = iso20022.bic11(given)
    if in_message is not None and iso20022.BIC.match(in_message):
        in_message = iso20022.bic11(in_message)
    if in_message is not None and given is not None and in_message != given:
        where = read.locations.get("sender", "sender")
        problem = f"'{in_message}' differs from the sender parameter '{given}'"
        raise ValidationFailed(f"{where}: {problem}.", errors=[FieldProblem(where, problem)])
    return in_message or given or actor.key_id


_XML_EXAMPLE = """<?xml version="1.0" encoding="UTF-8"?>
<Envelope>
  <AppHdr xmlns="urn:iso:std:iso:20022:tech:xsd:head.001.001.02">
    <Fr><FIId><FinInstnId><BICFI>MGTCBEBEECL</BICFI></FinInstnId></FIId></Fr>
    <To><FIId><FinInstnId><BICFI>COBADEFFXXX</BICFI></FinInstnId></FIId></To>
    <BizMsgIdr>EB-20261126-000113</BizMsgIdr>
    <MsgDefIdr>sese.024.001.12</MsgDefIdr>
    <CreDt>2026-11-26T09:12:00Z</CreDt>
  </AppHdr>
  <Document xmlns="urn:iso:std:iso:20022:tech:xsd:sese.024.001.12">
    <SctiesSttlmTxStsAdvc>
      <TxId><AcctOwnrTxId>01KBV1X0A2S9D8F7</AcctOwnrTxId></TxId>
      <PrcgSts><AckdAccptd><NoSpcfdRsn><NoSpcfdRsn>NORE</NoSpcfdRsn></NoSpcfdRsn></AckdAccptd>
      </PrcgSts>
      <MtchgSts><Mtchd/></MtchgSts>
      <SttlmSts><Flng><Rsn><Cd><Cd>LACK</Cd></Cd></Rsn></Flng></SttlmSts>
    </SctiesSttlmTxStsAdvc>
  </Document>
</Envelope>"""

_MT_EXAMPLE = """{1:F01COBADEFFAXXX0000000000}{2:O5480912261126MGTCBEBEAECL00000000002611260912N}{4:
:16R:GENL
:20C::SEME//EB26112600113
:23G:INST
:16R:LINK
:20C::RELA//01KBV1X0A2S9D8F7
:16S:LINK
:16R:STAT
:25D::SETT//PEND
:16R:REAS
:24B::PEND//CSDH
:70D::REAS//Held by the CSD
:16S:REAS
:16S:STAT
:16S:GENL
-}"""

_REQUEST_BODY = {
    "requestBody": {
        "required": True,
        "content": {
            "application/json": {"schema": inline_schema(AdviceIn.model_json_schema())},
            "application/xml": {"schema": {"type": "string"}, "example": _XML_EXAMPLE},
            "text/plain": {"schema": {"type": "string"}, "example": _MT_EXAMPLE},
        },
    }
}


def _answer(response: JSONResponse) -> JSONResponse:
    """An exception is answered 202: kept, not applied (an Idempotency-Key replay too; the same
    message again answers 200, as every replay of a message does)."""
    if response.status_code in (200, 201):
        body = json.loads(bytes(response.body))
        if body.get("status") == AdviceOutcome.EXCEPTION:
            response.status_code = 202
    return response


@router.post(
    "/status-advices",
    status_code=201,
    response_model=StatusAdviceOut,
    responses={
        200: {"model": StatusAdviceOut, "description": "The same message again: its result."},
        202: {
            "model": StatusAdviceOut,
            "description": "Kept as an exception for operations (status `exception`), not "
            "applied: an unknown reference, or a confirmation beyond what is pending.",
        },
        **problem_responses(409, 413, 415),
    },
    openapi_extra=_REQUEST_BODY,
    summary="Receive a status advice or confirmation (JSON, ISO 20022 XML or SWIFT MT)",
)
async def receive_status_advice(
    request: Request,
    uow: Uow,
    actor: AdvicesWrite,
    clock: Now,
    key: IdempotencyKey = None,
    message_id: Annotated[
        MessageId | None,
        Query(description="For an XML Document sent without its application header."),
    ] = None,
    sender: Annotated[
        Sender | None,
        Query(
            description="The sender's BIC, for a message that does not name it (an XML "
            "Document without its header, an MT block 4 alone, JSON)."
        ),
    ] = None,
) -> JSONResponse:
    """`application/json`: `AdviceIn`; `application/xml`: ISO 20022 `sese.024.001.12`/`.13`,
    `sese.025.001.11`/`.12`, the `Document` alone (pass `message_id`) or in an envelope with
    its `AppHdr` (`BizMsgIdr` the message id, `Fr` the sender); `text/plain`: MT548 or
    MT544-547, blocks 1, 2 and 4 (block 2 names the sender) or block 4 alone (pass `sender`).

    The advice names our message reference (SEME); message ids are unique per sender. Every
    block applies in turn and goes to the instruction's status history: processing
    `acknowledged`/`rejected` mark our message (rejected: the instruction to `repair`),
    `cancelled` cancels it; `matched`/`unmatched`; settlement `pending`/`failing` sets the
    `fail_reason`, and a hold reason (PREA, PRCY, CSDH, CVAL, CDLR) puts it `on_hold` by
    `us`, `counterparty` or `csd` until an advice without one. A confirmation posts what
    settled on its effective settlement date. README "Inbound advices" has it all.

    Unknown reference, or a confirmation beyond what is pending: 202, kept as an `exception`.
    Malformed 422 naming the element or MT field and line; the same sender and message id
    again: 200 with the first result (409 with other content). A refused advice changes
    nothing."""
    data = await read_capped(request)  # the route's cap: SETTLEMENT_BODY_LIMITS
    read = _read(data, _media_type(request), message_id)
    advice, source, locations = read.advice, read.version, read.locations
    from_whom = _sender(read, sender, actor)

    async def work(session: AsyncSession) -> StatusAdviceOut:
        received = await advices.receive_advice(
            session,
            advice=advice,
            source=source,
            sender=from_whom,
            locations=locations,
            actor=actor,
            now=clock(),
        )
        out = _out(received.advice)
        if received.replayed:
            raise _Replayed(out)
        return out

    try:
        return _answer(
            await idempotent_create(
                request,
                uow,
                principal=actor.key_id,
                key=key,
                body=advice,
                now=clock(),
                work=work,
                location=lambda out: f"/api/v1/status-advices/{out['id']}",
            )
        )
    except _Replayed as replayed:
        return JSONResponse(
            replayed.out.model_dump(mode="json"),
            headers={"Location": f"/api/v1/status-advices/{replayed.out.id}"},
        )


@router.get(
    "/status-advices",
    response_model=Page[StatusAdviceOut],
    responses=problem_responses(),
    summary="Status advices received, oldest first",
)
async def list_status_advices(
    uow: Uow,
    _actor: AdvicesRead,
    page: Paging,
    instruction_id: Annotated[InstructionId | None, Query()] = None,
    message_type: MessageType | None = None,
) -> Page[StatusAdviceOut]:
    """Each advice with the instruction as it left it (the history block by block:
    `GET /settlement-instructions/{id}/status-history`)."""
    rows, cursor = await advices.list_advices(
        uow.session, page=page, instruction_id=instruction_id, message_type=message_type
    )
    return Page(items=[_out(row) for row in rows], next_cursor=cursor)


@router.get(
    "/status-advices/exceptions",
    response_model=Page[StatusAdviceOut],
    responses=problem_responses(),
    summary="Advices kept for operations instead of applied, oldest first",
)
async def list_exceptions(
    uow: Uow,
    _actor: ExceptionsRead,
    page: Paging,
    resolved: Annotated[
        bool, Query(description="The resolved ones instead of those still open.")
    ] = False,
) -> Page[StatusAdviceOut]:
    """An advice naming a reference no instruction has, or a confirmation beyond what is
    pending: nothing was applied; `exception` says why."""
    rows, cursor = await advices.list_exceptions(uow.session, page=page, resolved=resolved)
    return Page(items=[_out(row) for row in rows], next_cursor=cursor)


@router.post(
    "/status-advices/{advice_id}/resolve",
    response_model=StatusAdviceOut,
    responses=problem_responses(404, 409),
    summary="Close an exception with what operations did about it",
)
async def resolve_exception(
    advice_id: str, body: ResolveIn, uow: Uow, actor: ExceptionsWrite, clock: Now
) -> StatusAdviceOut:
    """`exception` becomes `resolved` with the comment (audited); the advice is still never
    applied (a replay of its message answers it again)."""
    async with uow:
        return _out(
            await advices.resolve_exception(
                uow.session, advice_id=advice_id, comment=body.comment, actor=actor, now=clock()
            )
        )


@router.get(
    "/status-advices/{advice_id}",
    response_model=StatusAdviceOut,
    responses=problem_responses(404),
    summary="One status advice",
)
async def get_status_advice(advice_id: str, uow: Uow, _actor: AdvicesRead) -> StatusAdviceOut:
    return _out(await advices.get_advice(uow.session, advice_id=advice_id))
