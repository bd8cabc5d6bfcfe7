"""Matches: stored by runs (thousands at once) or by hand (``manual``), undone, read. An item
is in at most one active match: the unique key on ``matched_items`` says so, whatever races."""

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from functools import cached_property
from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from app.audit.service import Change, audited, record_changes, row_as_of
from app.core.auth import Actor
from app.core.errors import Conflict, NotFound
from app.core.ids import new_id
from app.core.pagination import PageRequest
from app.core.snapshots import jsonable
from app.core.states import next_state
from app.core.versioning import check_version
from app.reconciliation.matches import repository
from app.reconciliation.matches.models import ReconciliationMatch
from app.reconciliation.matches.states import MATCH_TRANSITIONS, MatchEvent, MatchStatus
from app.reconciliation.matching.values import item_key

ENTITY = "reconciliation_match"
LINE, MOVEMENT = "line", "movement"


@dataclass(frozen=True)
class NewMatch:
    """Statement lines and book movements to store as one match."""

    rule: str
    line_ids: tuple[str, ...]
    movement_ids: tuple[str, ...]
    currency: str
    amount_difference: Decimal
    value_date_difference: int
    comment: str | None = None

    @cached_property
    def key(self) -> str:
        """Kept once made: a run asks each of its thousands of matches for it several times,
        and the JSON is a few per cent of the run."""
        return item_key(self.line_ids, self.movement_ids)


_COLUMNS = (
    "id",
    "account",
    "value_date",
    "rule",
    "status",
    "key",
    "statement_entry_ids",
    "movement_ids",
    "currency",
    "amount_difference",
    "value_date_difference",
    "run_id",
    "comment",
    "created_at",
    "created_by",
    "unmatched_at",
    "unmatched_by",
    "unmatch_reason",
    "version",
)


async def store(
    session: AsyncSession,
    matches: Sequence[NewMatch],
    *,
    account: str,
    value_date: date,
    run_id: str | None,
    actor: Actor,
    now: datetime,
) -> dict[str, str]:
    """Store the matches and their items, one audit record each; the id of each by its key.
    Written column by column (what the matches share is one value repeated, converted once;
    COPY on PostgreSQL for many): a run stores thousands, and a dictionary per row was a
    measurable share of it."""
    count = len(matches)
    ids = [new_id("mch") for _ in range(count)]
    lines = [sorted(m.line_ids) for m in matches]
    movements = [sorted(m.movement_ids) for m in matches]
    shared = {
        "account": account,
        "value_date": value_date,
        "status": MatchStatus.ACTIVE.value,
        "run_id": run_id,
        "created_at": now,
        "created_by": actor.key_id,
        "unmatched_at": None,
        "unmatched_by": None,
        "unmatch_reason": None,
        "version": 1,
    }
    own: dict[str, list[Any]] = {
        "id": ids,
        "rule": [m.rule for m in matches],
        "key": [m.key for m in matches],
        "statement_entry_ids": lines,
        "movement_ids": movements,
        "currency": [m.currency for m in matches],
        "amount_difference": [m.amount_difference for m in matches],
        "value_date_difference": [m.value_date_difference for m in matches],
        "comment": [m.comment for m in matches],
    }
    columns = {name: own[name] if name in own else [shared[name]] * count for name in _COLUMNS}
    items: dict[str, list[Any]] = {"item_kind": [], "item_id": [], "match_id": []}
    for match_id, line_ids, movement_ids in zip(ids, lines, movements, strict=True):
        for kind, item_ids in ((LINE, line_ids), (MOVEMENT, movement_ids)):
            items["item_kind"] += [kind] * len(item_ids)
            items["item_id"] += item_ids
            items["match_id"] += [match_id] * len(item_ids)
    try:
        await repository.add_columns(session, columns, items)
    except IntegrityError:
        raise Conflict(
            "An item was matched by someone else meanwhile: read the matches again and retry."
        ) from None
    # Each image a copy of what the matches share (in the columns' order), its own values set.
    base = {name: jsonable(shared[name]) if name in shared else None for name in _COLUMNS}
    own["amount_difference"] = [jsonable(value) for value in own["amount_difference"]]
    changes = []
    for index, match_id in enumerate(ids):
        image = base.copy()
        for name, values in own.items():
            image[name] = values[index]
        # Copies: the lists stored are not the image's.
        image["statement_entry_ids"] = list(lines[index])
        image["movement_ids"] = list(movements[index])
        changes.append(Change(ENTITY, match_id, "matched", None, image))
    await record_changes(session, changes, actor=actor, now=now)
    return dict(zip(own["key"], ids, strict=True))


async def holders(
    session: AsyncSession, *, line_ids: Iterable[str], movement_ids: Iterable[str]
) -> tuple[dict[str, str], dict[str, str]]:
    """The active match holding each of these lines, and each of these movements."""
    lines = await repository.holders(session, item_kind=LINE, item_ids=line_ids)
    movements = await repository.holders(session, item_kind=MOVEMENT, item_ids=movement_ids)
    return lines, movements


async def get_match(
    session: AsyncSession, *, match_id: str, as_of: datetime | None = None
) -> ReconciliationMatch:
    """The match now, or with ``as_of`` as it stood then."""
    if as_of is not None:
        return await row_as_of(
            session,
            ReconciliationMatch,
            entity_type=ENTITY,
            entity_id=match_id,
            as_of=as_of,
            title="match",
        )
    match = await repository.get(session, match_id)
    if match is None:
        raise NotFound(f"No match '{match_id}'.")
    return match


async def list_matches(
    session: AsyncSession,
    *,
    page: PageRequest,
    account: str | None = None,
    value_date: date | None = None,
    status: str | None = None,
) -> tuple[Sequence[ReconciliationMatch], str | None]:
    return await repository.page_of(
        session, page=page, account=account, value_date=value_date, status=status
    )


async def unmatch(
    session: AsyncSession,
    *,
    match_id: str,
    reason: str,
    version: int | None,
    actor: Actor,
    now: datetime,
) -> ReconciliationMatch:
    """Undo an active match: its items are free again (the next run matches them again or
    finds breaks). 409 when it was undone before; 412 on a stale ``version``."""
    match = await repository.get(session, match_id, lock=True)
    if match is None:
        raise NotFound(f"No match '{match_id}'.")
    if version is not None:
        check_version(current=match.version, expected=version, what=f"Match {match_id}")
    if match.status != MatchStatus.ACTIVE:
        raise Conflict(
            f"Match {match_id} was undone already ({match.unmatched_at}, {match.unmatched_by}).",
            match_status=match.status,
        )
    async with audited(
        session, match, entity_type=ENTITY, action="unmatched", actor=actor, now=now
    ):
        match.status = next_state(
            MATCH_TRANSITIONS, MatchStatus(match.status), MatchEvent.UNMATCHED
        ).value
        match.unmatched_at = now
        match.unmatched_by = actor.key_id
        match.unmatch_reason = reason
        match.version += 1
        await repository.free_items(session, match_id)
    return match
