"""The post-trade moves of a clearing run, set-based: the trades are claimed and moved with Core
statements over the whole chunk (one ``UPDATE`` per chunk on PostgreSQL), never loaded as ORM
objects, and audited one record per trade in one batch. Each transition is checked against the
trade's transition table once per chunk, and every row moved is in the status the table moves
from."""

from collections.abc import Mapping, Sequence
from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    ColumnElement,
    bindparam,
    select,
    text,
    update,
)
from sqlalchemy.ext.asyncio import AsyncSession

from app.audit.service import Change, record_changes
from app.core.any_of import any_of
from app.core.auth import Actor
from app.core.db import table_of
from app.core.snapshots import jsonable
from app.core.states import next_state
from app.core.types import UTCDateTime
from app.trades.capture import repository
from app.trades.capture.images import TRADE_IMAGES as _IMAGES
from app.trades.capture.images import image
from app.trades.capture.lifecycle import ENTITY
from app.trades.capture.models import Trade
from app.trades.capture.post_trade import ClearableTrade, NettedOutSettled
from app.trades.capture.states import TRANSITIONS, TradeEvent, TradeStatus

_TRADES = table_of(Trade)
# Ids per IN (...) list: well under the drivers' parameter limits.
_IN_CHUNK = 500
# Trades moved per statement where the caller gives no limit.
_MOVE_CHUNK = 5000


_CLEARABLE = [
    _TRADES.c[name]
    for name in (
        "id",
        "isin",
        "venue",
        "counterparty_lei",
        "currency",
        "settlement_date",
        "side",
        "quantity",
        "net_amount",
    )
]


async def claim_clearable(
    session: AsyncSession, *, settlement_date: date, after_id: str | None, limit: int, lock: bool
) -> list[ClearableTrade]:
    """Confirmed trades due on the date in id order after ``after_id``, read without ORM
    objects; with ``lock``, locked, skipping rows another transaction holds (two runs never
    take the same trade)."""
    statement = (
        select(*_CLEARABLE)
        .where(
            _TRADES.c.status == TradeStatus.CONFIRMED.value,
            _TRADES.c.settlement_date == settlement_date,
        )
        .order_by(_TRADES.c.id)
        .limit(limit)
    )
    if after_id is not None:
        statement = statement.where(_TRADES.c.id > after_id)
    if lock:
        statement = statement.with_for_update(skip_locked=True)
    return [ClearableTrade(*row) for row in await session.execute(statement)]


def _ids_in(session: AsyncSession, ids: Sequence[str]) -> list[ColumnElement[bool]]:
    """``id IN ids`` in as few statements as the database needs: one on PostgreSQL, else one
    per ``_IN_CHUNK`` ids."""
    if session.get_bind().dialect.name == "postgresql":
        return [any_of(_TRADES.c.id, ids)]
    return [
        _TRADES.c.id.in_(list(ids[start : start + _IN_CHUNK]))
        for start in range(0, len(ids), _IN_CHUNK)
    ]


async def _images(
    session: AsyncSession, trade_ids: Sequence[str], status: TradeStatus
) -> list[dict[str, Any]]:
    """Those of the trades in ``status``, locked, as audit images, in id order."""
    plan = _IMAGES.plan(session)
    images: list[dict[str, Any]] = []
    for ids_in in _ids_in(session, sorted(trade_ids)):
        statement = (
            select(*plan.columns)
            .where(ids_in, _TRADES.c.status == status.value)
            .order_by(_TRADES.c.id)
            .with_for_update()
        )
        images += [image(row, plan) for row in await session.execute(statement)]
    return images


async def _audit(
    session: AsyncSession,
    images: Sequence[dict[str, Any]],
    *,
    event: TradeEvent,
    changes: Mapping[str, Mapping[str, Any]],
    actor: Actor,
    now: datetime,
) -> None:
    status = next_state(TRANSITIONS, TradeStatus(images[0]["status"]), event).value
    moved = {"status": status, "updated_at": jsonable(now)}
    records = []
    for before in images:
        after = {**before, **moved, "version": before["version"] + 1}
        after.update(changes.get(before["id"], {}))
        records.append(Change(ENTITY, before["id"], event.value, before, after))
    await record_changes(session, records, actor=actor, now=now)


_CLEAR_POSTGRESQL = text(
    """UPDATE trades SET status = :status, version = trades.version + 1, updated_at = :now,
    obligation_id = moved.obligation_id, counterparty_of_record = moved.ccp
    FROM unnest(CAST(:ids AS text[]), CAST(:obligations AS text[]), CAST(:ccps AS text[]))
    AS moved(id, obligation_id, ccp)
    WHERE trades.id = moved.id AND trades.status = :was"""
).bindparams(bindparam("now", type_=UTCDateTime()))


async def clear(
    session: AsyncSession,
    *,
    cleared: Mapping[str, tuple[str, str | None]],
    actor: Actor,
    now: datetime,
) -> None:
    """``confirmed`` -> ``cleared``, ``cleared`` mapping each trade id to its obligation and the
    CCP it was novated to (None when it was not)."""
    images = await _images(session, list(cleared), TradeStatus.CONFIRMED)
    if len(images) != len(cleared):
        # The caller claimed them confirmed in this transaction: nothing else can move them.
        raise RuntimeError(f"{len(cleared) - len(images)} trades to clear are no longer confirmed")
    if not images:
        return
    status = next_state(TRANSITIONS, TradeStatus.CONFIRMED, TradeEvent.CLEARED).value
    ids = [image["id"] for image in images]
    if session.get_bind().dialect.name == "postgresql":
        await session.execute(
            _CLEAR_POSTGRESQL,
            {
                "status": status,
                "was": TradeStatus.CONFIRMED.value,
                "now": now,
                "ids": ids,
                "obligations": [cleared[trade_id][0] for trade_id in ids],
                "ccps": [cleared[trade_id][1] for trade_id in ids],
            },
        )
    else:
        await session.execute(
            update(_TRADES)
            .where(_TRADES.c.id == bindparam("t_id"))
            .values(
                status=status,
                version=_TRADES.c.version + 1,
                updated_at=now,
                obligation_id=bindparam("t_obligation"),
                counterparty_of_record=bindparam("t_ccp"),
            ),
            [
                {
                    "t_id": trade_id,
                    "t_obligation": cleared[trade_id][0],
                    "t_ccp": cleared[trade_id][1],
                }
                for trade_id in ids
            ],
        )
    changes = {
        trade_id: {"obligation_id": obligation_id, "counterparty_of_record": ccp}
        for trade_id, (obligation_id, ccp) in cleared.items()
    }
    await _audit(session, images, event=TradeEvent.CLEARED, changes=changes, actor=actor, now=now)


async def _move_in_order(
    session: AsyncSession,
    *,
    obligation_ids: Sequence[str],
    event: TradeEvent,
    was: TradeStatus,
    after_id: str | None,
    limit: int,
    actor: Actor,
    now: datetime,
) -> list[str]:
    """``was`` -> by ``event`` for up to ``limit`` trades of the obligations, in id order after
    ``after_id``: locked and read as audit images, moved with one ``UPDATE`` (per 500 trades
    on SQLite), audited one record each. Returns the ids moved."""
    plan = _IMAGES.plan(session)
    statement = (
        select(*plan.columns)
        .where(_TRADES.c.status == was.value, any_of(_TRADES.c.obligation_id, obligation_ids))
        .order_by(_TRADES.c.id)
        .limit(limit)
        .with_for_update()
    )
    if after_id is not None:
        statement = statement.where(_TRADES.c.id > after_id)
    images = [image(row, plan) for row in await session.execute(statement)]
    if not images:
        return []
    status = next_state(TRANSITIONS, was, event).value
    ids = [image["id"] for image in images]
    for ids_in in _ids_in(session, ids):
        await session.execute(
            update(_TRADES)
            .where(ids_in)
            .values(status=status, version=_TRADES.c.version + 1, updated_at=now)
        )
    await _audit(session, images, event=event, changes={}, actor=actor, now=now)
    return ids


async def instruct_cleared(
    session: AsyncSession,
    *,
    obligation_ids: Sequence[str],
    after_id: str | None,
    limit: int,
    actor: Actor,
    now: datetime,
) -> str | None:
    """``cleared`` -> ``instructed`` for up to ``limit`` trades of the obligations, in id order
    after ``after_id``, with one ``UPDATE`` (per 500 trades on SQLite). Returns the last trade
    id to go on from, None when that was the last."""
    ids = await _move_in_order(
        session,
        obligation_ids=obligation_ids,
        event=TradeEvent.INSTRUCTED,
        was=TradeStatus.CLEARED,
        after_id=after_id,
        limit=limit,
        actor=actor,
        now=now,
    )
    return ids[-1] if len(ids) == limit else None


async def mark_instructed(
    session: AsyncSession, *, obligation_ids: Sequence[str], actor: Actor, now: datetime
) -> int:
    """``cleared`` -> ``instructed`` for all the trades of obligations now instructed."""
    await session.flush()  # ORM changes the session holds go first: the move is on top of them
    count, after_id = 0, None
    while True:
        ids = await _move_in_order(
            session,
            obligation_ids=obligation_ids,
            event=TradeEvent.INSTRUCTED,
            was=TradeStatus.CLEARED,
            after_id=after_id,
            limit=_MOVE_CHUNK,
            actor=actor,
            now=now,
        )
        count += len(ids)
        if len(ids) < _MOVE_CHUNK:
            return count
        after_id = ids[-1]


async def settle_netted_out(
    session: AsyncSession,
    *,
    obligation_ids: Sequence[str],
    limit: int,
    actor: Actor,
    now: datetime,
) -> NettedOutSettled:
    """``instructed`` -> ``settled`` for up to ``limit`` trades of obligations (at most 500)
    that netted out to nothing: nothing moves, the netting itself settles them on their date.
    Says which obligations still have trades left, instructed or not yet handed over."""
    await session.flush()  # ORM changes the session holds go first: the move is on top of them
    settled = await _move_in_order(
        session,
        obligation_ids=obligation_ids,
        event=TradeEvent.SETTLED,
        was=TradeStatus.INSTRUCTED,
        after_id=None,
        limit=limit,
        actor=actor,
        now=now,
    )
    unsettled = await repository.obligations_with(
        session, obligation_ids, status=TradeStatus.INSTRUCTED
    )
    waiting = await repository.obligations_with(session, obligation_ids, status=TradeStatus.CLEARED)
    return NettedOutSettled(len(settled), unsettled, waiting)
