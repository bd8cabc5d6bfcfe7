"""Status advice routes: the CSD's or custodian's sese.024 / sese.025, as JSON or ISO 20022 XML."""

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import ValidationError
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.bodies import read_capped
from app.core.deps import Now, Paging, Uow
from app.core.errors import (
    FieldProblem,
    UnsupportedMediaType,
    ValidationFailed,
    problem_responses,
)
from app.core.idempotency import IdempotencyKey, idempotent_create
from app.core.pagination import Page
from app.settlement.advices import iso20022
from app.settlement.advices import service as advices
from app.settlement.advices.auth import AdvicesRead, AdvicesWrite
from app.settlement.advices.models import StatusAdvice
from app.settlement.advices.schemas import (
    AdviceIn,
    AdviceInstructionOut,
    InstructionId,
    MessageId,
    MessageType,
    ReasonOut,
    StatusAdviceOut,
)

MAX_BODY_BYTES = 1 << 20
_JSON = ("application/json",)
_XML = ("application/xml", "text/xml")

router = APIRouter(tags=["Settlement"])


class _Replayed(Exception):
    """The message was received before: answer its first result (200), write nothing."""

    def __init__(self, out: StatusAdviceOut) -> None:
        super().__init__(out.id)
        self.out = out


def _out(row: StatusAdvice) -> StatusAdviceOut:
    return StatusAdviceOut(
        id=row.id,
        message_id=row.message_id,
        message_type=MessageType(row.message_type),
        instruction_id=row.instruction_id,
        status=row.status,
        reasons=[ReasonOut(code=r["code"], text=r.get("text")) for r in row.reasons],
        settled_quantity=row.settled_quantity,
        settled_amount=row.settled_amount,
        settlement_date=row.settlement_date,
        source=row.source,
        received_at=row.received_at,
        instruction=AdviceInstructionOut.model_validate(row.outcome),
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
    """The advice in the body, as JSON (``version`` "json") or as ISO 20022 XML."""
    if media_type in _JSON or media_type.endswith("+json"):
        return iso20022.ReadAdvice(_json_advice(data, message_id), "json")
    if media_type in _XML or media_type.endswith("+xml"):
        return iso20022.read_advice(data, message_id=message_id)
    raise UnsupportedMediaType(
        f"Send the advice as application/json or application/xml, not '{media_type}'."
    )


def _schema_inline(schema: dict[str, Any]) -> dict[str, Any]:
    """A model's JSON schema with its ``$defs`` inlined (for a hand-written request body)."""
    definitions = schema.pop("$defs", {})

    def resolve(node: Any) -> Any:
        if isinstance(node, dict):
            reference = node.get("$ref")
            if isinstance(reference, str) and reference.startswith("#/$defs/"):
                return resolve(definitions[reference.removeprefix("#/$defs/")])
            return {key: resolve(value) for key, value in node.items()}
        if isinstance(node, list):
            return [resolve(item) for item in node]
        return node

    resolved: dict[str, Any] = resolve(schema)
    return resolved


_XML_EXAMPLE = """<?xml version="1.0" encoding="UTF-8"?>
<Document xmlns="urn:iso:std:iso:20022:tech:xsd:sese.024.001.13">
  <SctiesSttlmTxStsAdvc>
    <TxId><AcctOwnrTxId>si_01kbv1x0a2s9d8f7g6h5j4k3m2</AcctOwnrTxId></TxId>
    <MtchgSts><Mtchd/></MtchgSts>
    <SttlmSts><Flng><Rsn><Cd><Cd>LACK</Cd></Cd></Rsn></Flng></SttlmSts>
  </SctiesSttlmTxStsAdvc>
</Document>"""

_REQUEST_BODY = {
    "requestBody": {
        "required": True,
        "content": {
            "application/json": {"schema": _schema_inline(AdviceIn.model_json_schema())},
            "application/xml": {
                "schema": {"type": "string"},
                "example": _XML_EXAMPLE,
            },
        },
    }
}


@router.post(
    "/status-advices",
    status_code=201,
    response_model=StatusAdviceOut,
    responses={
        200: {"model": StatusAdviceOut, "description": "The same message again: its result."},
        **problem_responses(404, 409, 413, 415),
    },
    openapi_extra=_REQUEST_BODY,
    summary="Receive a sese.024 status advice or sese.025 confirmation (JSON or ISO 20022 XML)",
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
) -> JSONResponse:
    """`Content-Type: application/json` takes `AdviceIn`; `application/xml` the ISO 20022
    `Document` of `sese.024.001.12`/`.13` or `sese.025.001.11`/`.12`, alone (pass
    `message_id`) or in an envelope with its `AppHdr` (head.001; `BizMsgIdr` is the message id).
    DTDs and entities are refused.

    - sese.024 `matched`: a pending instruction becomes `matched`; `unmatched`: back to
      `pending`, `fail_reason` CMIS, the reasons kept on the advice; `pending`/`failing`: the
      first reason code becomes the `fail_reason`, the state stays.
    - sese.025: what settled is posted to the journal and added to the settled totals (partial
      confirmations accumulate): `partially_settled`, then `settled` once nothing is left; more
      than is left is a 422. The trades follow.
    - A held instruction stays on hold: the advice moves the state it returns to on release
      (a confirmation in full settles it and ends the hold).

    Unknown instruction 404; malformed or inconsistent message 422 naming the field or element;
    the same `message_id` again answers the first result with 200, with other content 409. A
    refused advice changes nothing."""
    data = await read_capped(request, MAX_BODY_BYTES)
    read = _read(data, _media_type(request), message_id)
    advice, source, locations = read.advice, read.version, read.locations

    async def work(session: AsyncSession) -> StatusAdviceOut:
        received = await advices.receive_advice(
            session, advice=advice, source=source, locations=locations, actor=actor, now=clock()
        )
        out = _out(received.advice)
        if received.replayed:
            raise _Replayed(out)
        return out

    try:
        return await idempotent_create(
            request,
            uow,
            principal=actor.key_id,
            key=key,
            body=advice,
            now=clock(),
            work=work,
            location=lambda out: f"/api/v1/status-advices/{out['id']}",
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
    """Each advice with the instruction as it left it; `instruction_id` gives an
    instruction's history at the CSD (the unmatched reasons are kept here)."""
    rows, cursor = await advices.list_advices(
        uow.session, page=page, instruction_id=instruction_id, message_type=message_type
    )
    return Page(items=[_out(row) for row in rows], next_cursor=cursor)


@router.get(
    "/status-advices/{advice_id}",
    response_model=StatusAdviceOut,
    responses=problem_responses(404),
    summary="One status advice",
)
async def get_status_advice(advice_id: str, uow: Uow, _actor: AdvicesRead) -> StatusAdviceOut:
    return _out(await advices.get_advice(uow.session, advice_id=advice_id))
