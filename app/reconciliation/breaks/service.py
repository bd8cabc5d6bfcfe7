"""The breaks workflow: read breaks with their age, assign, comment, resolve as explained or by
a write-off adjustment under four-eyes, and follow the adjustment's decision.

What a break's adjustment decided is taken in by ``refresh_write_offs``: every action on a
break first refreshes the breaks of its account, and the reconciliation run refreshes those of
the account it reconciles. Reads never write, so a read shows the adjustment's status as it is
(``adjustment_status``) next to the break's."""

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from app.audit.service import audited, row_as_of, transition
from app.core.auth import Actor
from app.core.errors import Conflict, FieldProblem, ValidationFailed
from app.core.ids import new_id
from app.core.pagination import PageRequest
from app.core.states import next_state
from app.core.versioning import check_version
from app.positions.adjustments import service as adjustments
from app.positions.adjustments.schemas import AdjustmentIn, AdjustmentKind, AdjustmentLineIn
from app.reconciliation.breaks import detection, repository
from app.reconciliation.breaks.buckets import since_range
from app.reconciliation.breaks.calendars import IsBusinessDay, all_open, payment_calendar
from app.reconciliation.breaks.kinds import NOT_WRITABLE_OFF, BreakKind, write_off_lines
from app.reconciliation.breaks.models import BreakComment, ReconciliationBreak
from app.reconciliation.breaks.repository import BreakFilter
from app.reconciliation.breaks.schemas import BreakOut, CommentOut
from app.reconciliation.breaks.states import (
    ASSIGNABLE,
    BREAK_TRANSITIONS,
    BreakEvent,
    BreakStatus,
)
from app.reconciliation.matching.ageing import AgeingBucket, ageing
from app.reference.accounts.service import accounts_by_code
from app.reference.calendars.service import market_calendar

ENTITY = detection.ENTITY
COMMENT_ENTITY = "break_comment"
SYSTEM_AUTHOR = "system"
APPROVED = "approved"
REJECTED = "rejected"


@dataclass(frozen=True, slots=True)
class BreakView:
    """A break as answered: its row, its age today and what goes with it."""

    row: ReconciliationBreak
    age_days: int
    ageing_bucket: AgeingBucket
    comments: list[BreakComment]
    adjustment_status: str | None


async def business_days_of(
    session: AsyncSession, accounts: Iterable[str]
) -> dict[str, IsBusinessDay]:
    """The calendar each account's breaks age by (``calendars`` says which)."""
    refs = await accounts_by_code(session, codes=accounts)
    found: dict[str, IsBusinessDay] = {}
    for code in set(accounts):
        account = refs.get(code)
        if account is not None and account.kind == "securities":
            calendars = [
                await market_calendar(session, mic=mic, kind="settlement")
                for mic in account.markets
            ]
            found[code] = all_open(calendars)
        else:
            found[code] = payment_calendar(account.currency if account else None)
    return found


async def _views(
    session: AsyncSession, rows: Sequence[ReconciliationBreak], today: date
) -> list[BreakView]:
    calendars = await business_days_of(session, {row.account for row in rows})
    comments = await repository.comments_of(session, [row.id for row in rows])
    written_off = await adjustments.get_many(
        session, adjustment_ids=[row.adjustment_id for row in rows if row.adjustment_id]
    )
    views = []
    for row in rows:
        age, bucket = ageing(row.since, today, calendars[row.account])
        adjustment = written_off.get(row.adjustment_id) if row.adjustment_id else None
        status = adjustment.status if adjustment is not None else None
        views.append(BreakView(row, age, bucket, comments[row.id], status))
    return views


async def list_breaks(
    session: AsyncSession,
    *,
    page: PageRequest,
    where: BreakFilter,
    ageing_bucket: AgeingBucket | None,
    today: date,
) -> tuple[list[BreakView], str | None]:
    """Breaks by id. A bucket becomes, per account, the range of days its breaks may count
    from, so the page is filtered in the query and the cursor stays exact."""
    if ageing_bucket is not None:
        accounts = (
            [where.account]
            if where.account is not None
            else await repository.accounts_with_breaks(session)
        )
        calendars = await business_days_of(session, accounts)
        ranges = {code: since_range(ageing_bucket, today, calendars[code]) for code in accounts}
        where = replace(where, since=ranges)
    rows, cursor = await repository.page_of_breaks(session, page=page, where=where)
    return await _views(session, rows, today), cursor


async def open_breaks(session: AsyncSession, *, today: date) -> list[BreakOut]:
    """Every open break as ``GET /breaks`` answers it, aged to ``today``, oldest first."""
    return [
        break_out(view)
        for view in await _views(session, await repository.every_open(session), today)
    ]


def break_out(view: BreakView) -> BreakOut:
    """A break as the API answers it."""
    row = view.row
    return BreakOut(
        id=row.id,
        kind=BreakKind(row.kind),
        status=BreakStatus(row.status),
        account=row.account,
        currency=row.currency,
        isin=row.isin,
        amount=row.amount,
        since=row.since,
        value_date=row.value_date,
        age_days=view.age_days,
        ageing_bucket=view.ageing_bucket,
        owner=row.owner,
        detail=row.detail,
        statement_id=row.statement_id,
        statement_entry_ids=list(row.statement_entry_ids),
        movement_ids=list(row.movement_ids),
        found_by_run=row.found_by_run,
        resolution=row.resolution,
        resolution_note=row.resolution_note,
        closed_by=row.closed_by,
        adjustment_id=row.adjustment_id,
        adjustment_status=view.adjustment_status,
        comments=[CommentOut.model_validate(comment) for comment in view.comments],
        created_at=row.created_at,
        updated_at=row.updated_at,
        resolved_at=row.resolved_at,
        resolved_by=row.resolved_by,
        version=row.version,
    )


async def get_break(
    session: AsyncSession, *, break_id: str, today: date, as_of: datetime | None = None
) -> BreakView:
    """The break now, or with ``as_of`` as it stood then."""
    if as_of is not None:
        return await _view_as_of(session, break_id=break_id, as_of=as_of)
    [view] = await _views(session, [await repository.get(session, break_id)], today)
    return view


async def _view_as_of(session: AsyncSession, *, break_id: str, as_of: datetime) -> BreakView:
    """The break at ``as_of`` from its audit records: its age that day, the comments made by
    then (never changed once made), and its write-off adjustment's status then."""
    row = await row_as_of(
        session,
        ReconciliationBreak,
        entity_type=ENTITY,
        entity_id=break_id,
        as_of=as_of,
        title="break",
    )
    calendars = await business_days_of(session, [row.account])
    age, bucket = ageing(row.since, as_of.date(), calendars[row.account])
    comments = (await repository.comments_of(session, [row.id]))[row.id]
    status = None
    if row.adjustment_id is not None:
        adjustment = await adjustments.get(session, adjustment_id=row.adjustment_id, as_of=as_of)
        status = adjustment.status
    made = [comment for comment in comments if comment.created_at <= as_of]
    return BreakView(row, age, bucket, made, status)


async def _locked(
    session: AsyncSession, *, break_id: str, version: int | None, actor: Actor, now: datetime
) -> ReconciliationBreak:
    """The break, locked, after its account's write-offs are brought up to date; a stale
    ``version`` (If-Match) is a 412."""
    account = (await repository.get(session, break_id)).account
    await refresh_write_offs(session, account=account, actor=actor, now=now)
    row = await repository.get_for_update(session, break_id)
    if version is not None:
        check_version(current=row.version, expected=version, what=f"Break {break_id}")
    return row


async def assign(
    session: AsyncSession,
    *,
    break_id: str,
    owner: str,
    version: int | None,
    actor: Actor,
    now: datetime,
) -> BreakView:
    row = await _locked(session, break_id=break_id, version=version, actor=actor, now=now)
    if BreakStatus(row.status) not in ASSIGNABLE:
        raise _finished(row, "assigned")
    async with audited(session, row, entity_type=ENTITY, action="assigned", actor=actor, now=now):
        row.owner = owner
        row.updated_at = now
        row.version += 1
    return await get_break(session, break_id=break_id, today=now.date())


def _finished(row: ReconciliationBreak, what: str) -> Conflict:
    return Conflict(f"Break {row.id} is {row.status}: it can no longer be {what}.")


async def _add_comment(
    session: AsyncSession,
    row: ReconciliationBreak,
    *,
    text: str,
    author: str,
    actor: Actor,
    now: datetime,
) -> BreakComment:
    comment = BreakComment(
        id=new_id("bcm"), break_id=row.id, text=text, created_at=now, created_by=author
    )
    async with audited(
        session,
        comment,
        entity_type=COMMENT_ENTITY,
        action="created",
        actor=actor,
        now=now,
        created=True,
    ):
        repository.add_comment(session, comment)
    async with audited(session, row, entity_type=ENTITY, action="commented", actor=actor, now=now):
        row.updated_at = now
        row.version += 1
    return comment


async def comment(
    session: AsyncSession,
    *,
    break_id: str,
    text: str,
    version: int | None,
    actor: Actor,
    now: datetime,
) -> BreakComment:
    row = await _locked(session, break_id=break_id, version=version, actor=actor, now=now)
    return await _add_comment(session, row, text=text, author=actor.key_id, actor=actor, now=now)


def _write_off_of(row: ReconciliationBreak, note: str) -> AdjustmentIn:
    """The adjustment that writes the break off, or a 422 saying why it cannot be."""
    kind = BreakKind(row.kind)
    why = NOT_WRITABLE_OFF.get(kind)
    asset = row.isin if kind is BreakKind.HOLDINGS else row.currency
    if why is None and asset is None:
        why = "it names no " + ("ISIN" if kind is BreakKind.HOLDINGS else "currency")
    if why is None and row.amount == 0:
        why = "its amount is zero"
    if why is not None or asset is None:
        raise ValidationFailed(
            f"A {kind} break cannot be written off: {why}.",
            errors=[FieldProblem("resolution", f"a {kind} break cannot be written off: {why}")],
        )
    lines = write_off_lines(kind, account=row.account, asset=asset, amount=row.amount)
    return AdjustmentIn(
        kind=AdjustmentKind.WRITE_OFF,
        reason=f"Write-off of break {row.id} ({kind}): {note}",
        value_date=row.value_date,
        lines=[AdjustmentLineIn(account=x.account, asset=x.asset, amount=x.amount) for x in lines],
    )


async def resolve(
    session: AsyncSession,
    *,
    break_id: str,
    resolution: str,
    note: str,
    version: int | None,
    actor: Actor,
    now: datetime,
) -> BreakView:
    """``explained`` ends the break; ``write_off`` proposes its adjustment (four-eyes)."""
    row = await _locked(session, break_id=break_id, version=version, actor=actor, now=now)
    common: dict[str, Any] = {
        "updated_at": now,
        "version": row.version + 1,
        "resolution_note": note,
    }
    if resolution == "explained":
        await transition(
            session,
            row,
            transitions=BREAK_TRANSITIONS,
            event=BreakEvent.EXPLAINED,
            entity_type=ENTITY,
            actor=actor,
            now=now,
            resolution="explained",
            resolved_at=now,
            resolved_by=actor.key_id,
            **common,
        )
    else:
        # Refused as a move first (409), then as a write-off (422), before anything is posted.
        next_state(BREAK_TRANSITIONS, BreakStatus(row.status), BreakEvent.WRITE_OFF_PROPOSED)
        data = _write_off_of(row, note)
        proposed = await adjustments.propose(session, data=data, actor=actor, now=now)
        await transition(
            session,
            row,
            transitions=BREAK_TRANSITIONS,
            event=BreakEvent.WRITE_OFF_PROPOSED,
            entity_type=ENTITY,
            actor=actor,
            now=now,
            adjustment_id=proposed.id,
            **common,
        )
    return await get_break(session, break_id=break_id, today=now.date())


async def refresh_write_offs(
    session: AsyncSession, *, account: str | None = None, actor: Actor, now: datetime
) -> int:
    """Breaks whose write-off was decided since: approved ones become ``written_off`` (closed
    by the journal entry it posted, resolved by the approver when it was approved), rejected
    ones ``open`` again with a comment saying who rejected it and why. How many moved."""
    moved = 0
    rows = await repository.proposed_write_offs_for_update(
        session, status=BreakStatus.WRITE_OFF_PROPOSED.value, account=account
    )
    decided = await adjustments.get_many(
        session, adjustment_ids=[row.adjustment_id for row in rows if row.adjustment_id]
    )
    for row in rows:
        adjustment = decided[row.adjustment_id or ""]
        common: dict[str, Any] = {"updated_at": now, "version": row.version + 1}
        if adjustment.status == APPROVED:
            await transition(
                session,
                row,
                transitions=BREAK_TRANSITIONS,
                event=BreakEvent.WRITE_OFF_APPROVED,
                entity_type=ENTITY,
                actor=actor,
                now=now,
                resolution="write_off",
                closed_by=adjustment.entry_id,
                resolved_at=adjustment.decided_at,
                resolved_by=adjustment.decided_by,
                **common,
            )
        elif adjustment.status == REJECTED:
            await transition(
                session,
                row,
                transitions=BREAK_TRANSITIONS,
                event=BreakEvent.WRITE_OFF_REJECTED,
                entity_type=ENTITY,
                actor=actor,
                now=now,
                adjustment_id=None,
                resolution_note=None,
                **common,
            )
            text = (
                f"Write-off adjustment {adjustment.id} was rejected by {adjustment.decided_by}: "
                f"{adjustment.rejection_reason}. The break is open again."
            )
            await _add_comment(session, row, text=text, author=SYSTEM_AUTHOR, actor=actor, now=now)
        else:
            continue
        moved += 1
    return moved
