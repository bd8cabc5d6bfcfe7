"""The audit trail over HTTP, for compliance: records by filter, one entity's whole history,
the chain and the rows verified, the trail exported for an auditor."""

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Path, Query, Request
from fastapi.responses import StreamingResponse

from app.audit import export, service, verification
from app.audit.auth import AuditRead
from app.audit.drift import Drift
from app.audit.export import ExportFormat
from app.audit.repository import AuditFilter, SealedRecord
from app.audit.schemas import AuditActorOut, AuditEventOut, DriftOut, VerifyOut
from app.core.auth import Role
from app.core.db import read_snapshot
from app.core.deps import Now, Paging, Uow
from app.core.errors import FieldProblem, ValidationFailed, problem_responses
from app.core.moments import UtcDateTime
from app.core.pagination import Page
from app.core.query_dates import ISO_QUERY_DATES

router = APIRouter(prefix="/audit", tags=["Audit"], dependencies=[ISO_QUERY_DATES])

ENTITY_TYPES = """Entity types recorded: `trade`, `confirmation`, `obligation`,
`settlement_instruction`, `status_advice`, `outbound_message`, `adjustment`, `penalty`,
`penalty_report`, `api_key`; runs `clearing_run`, `settlement_run`, `affirmation_deadline_run`,
`reconciliation_run`, `penalty_run`, `eod_run`; reference data `market`,
`market_closed_day`, `instrument`, `counterparty`, `book`, `account`, `ssi`, `price`,
`penalty_rate`, `buy_in_extension_period`, `matching_tolerance`; reconciliation
`statement_file`, `bank_statement`, `holdings_statement`, `statement_mapping`,
`reconciliation_rule`, `reconciliation_match`, `reconciliation_break`, `break_comment`; events
`webhook_subscription`."""

DRIFT_SCOPE = """Drift covers every entity type above but obligations (not registered yet),
and leaves out what the records leave out or what changes without a record: `statement_file`'s
raw bytes and `penalty_report`'s body (their `sha256` is compared), `api_key`'s key hash, a
webhook subscription's secret and failure count, a settlement instruction's `last_run_id`
(which run last tried it), a run's counters and report while its last record says `running`,
and a column added to a table after the entity's last record (a record cannot vouch for a
column it predates)."""

EntityType = Annotated[str, Path(min_length=1, max_length=40)]
EntityId = Annotated[str, Path(min_length=1, max_length=64)]


def _event_out(sealed: SealedRecord) -> AuditEventOut:
    record, seal = sealed.record, sealed.seal
    return AuditEventOut(
        seq=seal.seq,
        occurred_at=record.occurred_at,
        entity_type=record.entity_type,
        entity_id=record.entity_id,
        action=record.action,
        actor=AuditActorOut(
            key_id=record.actor_key_id, role=Role(record.actor_role), name=record.actor_name
        ),
        request_id=record.request_id,
        before=record.before,
        after=record.after,
        event_type=record.event_type,
        hash=seal.hash,
        prev_hash=seal.prev_hash,
        sealed_at=seal.sealed_at,
    )


@router.get(
    "/events",
    response_model=Page[AuditEventOut],
    responses=problem_responses(),
    summary="Audit records by entity, actor, role, action, request or time, in chain order",
    description=(
        "Every filter is optional and they combine (all must match). `from` is inclusive and "
        "`to` exclusive, both timestamps with an offset (a naive one is a 422). Items come in "
        "`seq` order; walk `next_cursor` for the next page. Only sealed records are listed: "
        "a change appears here well under a second after its commit, in its final place, so "
        "a cursor never skips a record that committed late.\n\n" + ENTITY_TYPES
    ),
)
async def list_audit_events(
    uow: Uow,
    _actor: AuditRead,
    page: Paging,
    entity_type: Annotated[str | None, Query(min_length=1, max_length=40)] = None,
    entity_id: Annotated[str | None, Query(min_length=1, max_length=64)] = None,
    actor: Annotated[
        str | None, Query(min_length=1, max_length=64, description="The actor's API key id.")
    ] = None,
    role: Annotated[Role | None, Query(description="The actor's role.")] = None,
    action: Annotated[str | None, Query(min_length=1, max_length=60)] = None,
    request_id: Annotated[str | None, Query(min_length=1, max_length=128)] = None,
    occurred_from: Annotated[
        UtcDateTime | None, Query(alias="from", description="Occurred at or after (inclusive).")
    ] = None,
    occurred_to: Annotated[
        UtcDateTime | None, Query(alias="to", description="Occurred before (exclusive).")
    ] = None,
) -> Page[AuditEventOut]:
    wanted = AuditFilter(
        entity_type=entity_type,
        entity_id=entity_id,
        actor_key_id=actor,
        actor_role=None if role is None else role.value,
        action=action,
        request_id=request_id,
        occurred_from=occurred_from,
        occurred_to=occurred_to,
    )
    records, cursor = await service.list_records(uow.session, wanted=wanted, page=page)
    return Page(items=[_event_out(record) for record in records], next_cursor=cursor)


@router.get(
    "/entities/{entity_type}/{entity_id}",
    response_model=Page[AuditEventOut],
    responses=problem_responses(404),
    summary="The whole history of one entity, in chain order",
    description=(
        "Every sealed audit record of the entity, oldest first, paged like `/audit/events`. "
        "404 when the entity has no record at all (an unknown type included).\n\n" + ENTITY_TYPES
    ),
)
async def entity_audit_history(
    entity_type: EntityType, entity_id: EntityId, uow: Uow, _actor: AuditRead, page: Paging
) -> Page[AuditEventOut]:
    records, cursor = await service.entity_records(
        uow.session, entity_type=entity_type, entity_id=entity_id, page=page
    )
    return Page(items=[_event_out(record) for record in records], next_cursor=cursor)


SealedFrom = Annotated[
    UtcDateTime | None,
    Query(alias="from", description="Records sealed at or after this moment (inclusive)."),
]
SealedTo = Annotated[
    UtcDateTime | None, Query(alias="to", description="Records sealed before this moment.")
]

WINDOW = """`from` and `to` bound the time records were **sealed** (`sealed_at`, inclusive and
exclusive, timestamps with an offset): one sealer seals in `seq` order, so the window is one
contiguous stretch of the chain. Without them, the whole chain."""


def _window(sealed_from: datetime | None, sealed_to: datetime | None) -> None:
    if sealed_from is not None and sealed_to is not None and sealed_from >= sealed_to:
        raise ValidationFailed(
            "`from` must come before `to`.", errors=[FieldProblem("from", "is not before `to`")]
        )


def _drift_out(drift: Drift) -> DriftOut:
    return DriftOut(
        entity_type=drift.entity_type,
        entity_id=drift.entity_id,
        kind=drift.kind,
        fields=list(drift.fields),
        audited=drift.audited,
        current=drift.current,
    )


def _verify_out(check: verification.TrailCheck) -> VerifyOut:
    stretch = check.stretch
    return VerifyOut(
        ok=check.ok,
        checked=check.chain.checked,
        first_bad_seq=check.chain.first_bad_seq,
        unsealed=check.unsealed,
        drift=[] if check.drift is None else [_drift_out(d) for d in check.drift.items],
        drift_count=0 if check.drift is None else check.drift.count,
        from_seq=None if stretch.empty else stretch.first_seq,
        to_seq=None if stretch.empty else stretch.last_seq,
        head_seq=check.head_seq,
        head_hash=check.head_hash,
    )


@router.get(
    "/verify",
    response_model=VerifyOut,
    responses=problem_responses(),
    summary="Recompute the hash chain and compare every audited row with its last record",
    description=(
        "Recomputes each sealed record's SHA-256 over the stretch and its link to the one "
        "before, naming the first record that does not match (`first_bad_seq`). Then, unless "
        "`drift=false`, compares every audited entity's current row with the after-image of "
        "its last record (sealed or not: a change committed a moment ago is legitimate), naming "
        "rows changed, deleted or inserted behind the service's back. `ok` is false if the "
        "chain is broken or any drift is found. Everything is read from one snapshot of the "
        "database.\n\n" + WINDOW + "\n\n" + DRIFT_SCOPE
    ),
)
async def verify_audit_trail(
    request: Request,
    uow: Uow,
    _actor: AuditRead,
    clock: Now,
    sealed_from: SealedFrom = None,
    sealed_to: SealedTo = None,
    drift: Annotated[
        bool, Query(description="Compare the rows too (a walk of every audited table).")
    ] = True,
) -> VerifyOut:
    _window(sealed_from, sealed_to)
    tables = request.app.state.audited_tables if drift else None
    async with uow:
        await read_snapshot(uow.session)
        check = await verification.verify_trail(
            uow.session,
            sealed_from=sealed_from,
            sealed_to=sealed_to,
            tables=tables,
            now=clock(),
        )
    return _verify_out(check)


@router.get(
    "/export",
    response_class=StreamingResponse,
    responses={
        200: {
            "description": "The records in chain order, then the chain head.",
            "content": {media_type: {} for media_type in export.MEDIA_TYPES.values()},
        },
        **problem_responses(),
    },
    summary="Export the trail (JSON Lines or CSV), ending with the chain head it was checked "
    "against",
    description=(
        "Streams every sealed record of the stretch in `seq` order, with its seal (`seq`, "
        "`prev_hash`, `hash`, `sealed_at`) and every field its hash covers (`occurred_at` as "
        "hashed, the actor, `request_id`, the entity, `action`, `before` and `after` as JSON), "
        "and `event_type`. The hashes are recomputed as the file is written; the last line "
        "states the chain head the export was checked against: the last seal when the export "
        "started, or the last one before `to`. JSON Lines: "
        '`{"chain_head": {"seq": n, "hash": "..."}, "verified": true, "records": n, '
        '"first_bad_seq": null}`. CSV: a first column `row_type`, `record` for each record '
        "and `chain_head` for the last row, which fills `seq`, `hash`, `verified`, `records` "
        "and `first_bad_seq`; `before`/`after` are JSON text and an empty `request_id` is "
        "null. An auditor checks the file offline with `scripts/verify_audit_export.py` (only "
        "Python's standard library).\n\n" + WINDOW
    ),
)
async def export_audit_trail(
    request: Request,
    uow: Uow,
    _actor: AuditRead,
    export_format: Annotated[
        ExportFormat, Query(alias="format", description="`jsonl` or `csv`.")
    ] = ExportFormat.JSONL,
    sealed_from: SealedFrom = None,
    sealed_to: SealedTo = None,
) -> StreamingResponse:
    _window(sealed_from, sealed_to)
    async with uow:
        stretch = await verification.stretch_of(
            uow.session, sealed_from=sealed_from, sealed_to=sealed_to
        )
    name = export.filename(stretch, export_format)
    return StreamingResponse(
        export.export_lines(request.app.state.sessionmaker, stretch, export_format),
        media_type=export.MEDIA_TYPES[export_format],
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )
