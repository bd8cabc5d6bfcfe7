"""Penalty report routes: the depository's daily penalty list (semt.044 or JSON) reconciled
against our penalties, kept with every difference; the reports received."""

from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import JSONResponse

from app.core.bodies import inline_schema, is_json, is_xml, read_capped
from app.core.deps import Now, Paging, Uow
from app.core.errors import FieldProblem, UnsupportedMediaType, ValidationFailed, problem_responses
from app.core.pagination import Page
from app.penalties.reports import service
from app.penalties.reports.auth import PenaltyReportsRead, PenaltyReportsWrite
from app.penalties.reports.model import PenaltyReport, PenaltyReportError
from app.penalties.reports.models import PenaltyReportRow
from app.penalties.reports.schemas import EXAMPLE, PenaltyReportIn, PenaltyReportOut, parse_json
from app.penalties.reports.semt044 import VERSIONS, parse_semt044

router = APIRouter(tags=["Penalties"])


_XML_EXAMPLE = """<?xml version="1.0" encoding="UTF-8"?>
<BizMsg>
  <AppHdr xmlns="urn:iso:std:iso:20022:tech:xsd:head.001.001.02">
    <Fr><FIId><FinInstnId><BICFI>CSDXDEFFXXX</BICFI></FinInstnId></FIId></Fr>
    <To><FIId><FinInstnId><BICFI>DEMOFRPPXXX</BICFI></FinInstnId></FIId></To>
    <BizMsgIdr>PNL20261125000001</BizMsgIdr>
    <MsgDefIdr>semt.044.001.01</MsgDefIdr>
    <CreDt>2026-11-25T06:12:00Z</CreDt>
  </AppHdr>
  <Document xmlns="urn:iso:std:iso:20022:tech:xsd:semt.044.001.01">
    <SctiesTxPnltiesRpt>
      <RptGnlDtls>
        <RptId>DPL-20261124-0042</RptId>
        <RptDt><Dt>2026-11-25</Dt></RptDt>
        <PnltyListTp><Cd>FWIS</Cd></PnltyListTp>
      </RptGnlDtls>
      <Pnlty>
        <Ccy>EUR</Ccy>
        <Dt><Dt>2026-11-24</Dt></Dt>
        <PtyId><Id><Id><AnyBIC>DEMOFRPPXXX</AnyBIC></Id></Id></PtyId>
        <PnltyPerCtrPty>
          <PtyId><Id><Id><AnyBIC>DEUTDEFFXXX</AnyBIC></Id></Id></PtyId>
          <PnltyDtls>
            <Id><MktInfrstrctrId>PEN-EUR-0001</MktInfrstrctrId></Id>
            <Tp>SEFP</Tp>
            <Sts><Sts><Cd>ACTV</Cd></Sts></Sts>
            <CmptdAmt><Amt Ccy="EUR">12.34</Amt><CdtDbt>DBIT</CdtDbt></CmptdAmt>
            <ClctnData><Dt>2026-11-24</Dt></ClctnData>
            <RltdTx><Ref><AcctOwnrTxId>SEME-0001</AcctOwnrTxId></Ref></RltdTx>
          </PnltyDtls>
        </PnltyPerCtrPty>
      </Pnlty>
    </SctiesTxPnltiesRpt>
  </Document>
</BizMsg>"""


_REQUEST_BODY = {
    "requestBody": {
        "required": True,
        "content": {
            "application/json": {
                "schema": inline_schema(PenaltyReportIn.model_json_schema()),
                "example": EXAMPLE,
            },
            "application/xml": {"schema": {"type": "string"}, "example": _XML_EXAMPLE},
        },
    }
}


def _read(data: bytes, media_type: str, message_id: str | None) -> tuple[PenaltyReport, str]:
    """The report in the body and what it was read from (``json`` or the semt.044 version)."""
    try:
        if is_json(media_type):
            return parse_json(data), "json"
        if is_xml(media_type):
            return parse_semt044(data, message_id=message_id), VERSIONS[0]
    except PenaltyReportError as error:
        raise ValidationFailed(
            f"{error.location}: {error.message}.",
            errors=[FieldProblem(error.location, error.message)],
        ) from None
    raise UnsupportedMediaType(
        f"Send the report as application/xml (semt.044) or application/json, not '{media_type}'."
    )


def _out(row: PenaltyReportRow) -> PenaltyReportOut:
    return PenaltyReportOut.model_validate(
        {
            "id": row.id,
            "sender": row.sender,
            "message_id": row.message_id,
            "report_id": row.report_id,
            "report_date": row.report_date,
            "source": row.source,
            "sha256": row.sha256,
            "days": row.days,
            "lines": row.lines,
            "matched": row.matched,
            "differing": row.differing,
            "differences": row.differences,
            "received_at": row.received_at,
            "received_by": row.received_by,
        }
    )


@router.post(
    "/penalty-reports",
    status_code=201,
    response_model=PenaltyReportOut,
    responses={
        200: {"model": PenaltyReportOut, "description": "The same message again: its answer."},
        **problem_responses(409, 413, 415),
    },
    openapi_extra=_REQUEST_BODY,
    summary="Reconcile the depository's daily penalty report (semt.044 or JSON) against ours",
)
async def receive_penalty_report(
    request: Request,
    uow: Uow,
    actor: PenaltyReportsWrite,
    clock: Now,
    message_id: Annotated[
        str | None,
        Query(
            min_length=1,
            max_length=35,
            description="For a semt.044 Document sent without its application header.",
        ),
    ] = None,
) -> JSONResponse:
    """`application/xml`: ISO 20022 `semt.044.001.01`, the `Document` alone or in an envelope
    with its `AppHdr` (`BizMsgIdr` the message id, `Fr` the sender); `application/json`:
    `PenaltyReportIn`, the same report (its message id is its `report_id`).

    Each line names our instruction's reference (`AcctOwnrTxId`: the SEME we sent). Our active
    penalties of every day the lines name are compared with them by reference, day and kind
    (a late-matching fail: all its days as one): the answer counts the penalties that agree
    and lists every difference, `missing_at_depository`, `missing_in_ours`,
    `amount_differs` (with theirs minus ours), `payer_differs`, `currency_differs`,
    `days_differ` or `removed`. The report is kept with its answer (audited).

    The same sender and message id again: 200 with the first answer (409 with other content).
    Unreadable: 422 naming the element or field."""
    data = await read_capped(request)  # the route's cap: SETTLEMENT_BODY_LIMITS
    media_type = request.headers.get("content-type", "").split(";", 1)[0].strip().lower()
    report, source = _read(data, media_type, message_id)

    async with uow:
        received = await service.receive_report(
            uow.session,
            report=report,
            content=data,
            source=source,
            sender=report.sender or actor.key_id,
            actor=actor,
            now=clock(),
        )
        out = _out(received.report)
    return JSONResponse(
        out.model_dump(mode="json"),
        status_code=200 if received.replayed else 201,
        headers={"Location": f"/api/v1/penalty-reports/{out.id}"},
    )


@router.get(
    "/penalty-reports",
    response_model=Page[PenaltyReportOut],
    responses=problem_responses(),
    summary="The depository's penalty reports received, with their differences, oldest first",
)
async def list_penalty_reports(
    uow: Uow, _actor: PenaltyReportsRead, page: Paging
) -> Page[PenaltyReportOut]:
    rows, cursor = await service.list_reports(uow.session, page=page)
    return Page(items=[_out(row) for row in rows], next_cursor=cursor)


@router.get(
    "/penalty-reports/{report_id}",
    response_model=PenaltyReportOut,
    responses=problem_responses(404),
    summary="One penalty report received, with every difference from ours",
)
async def get_penalty_report(
    report_id: str, uow: Uow, _actor: PenaltyReportsRead
) -> PenaltyReportOut:
    return _out(await service.get_report(uow.session, report_id=report_id))
