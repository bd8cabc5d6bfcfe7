"""Trades settle with their obligation's instruction, set-based: each moves by the transition
table, a version on, and is audited once with the images ``row_snapshot`` gives."""

from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession

from app.audit.service import entity_history
from app.core.auth import SYSTEM_ACTOR
from app.core.snapshots import jsonable, row_snapshot
from app.trades.capture.models import Trade
from app.trades.capture.post_trade import mark_settled_many
from tests.conftest import DEFAULT_NOW, Database
from tests.trades.conftest import BookTrade


async def test_trades_settle_in_full_or_in_part_audited_with_their_rows(
    db: Database, book_trade: BookTrade
) -> None:
    ids = [(await book_trade(external_id=f"FO-{n}"))["id"] for n in range(3)]
    moved = {ids[0]: ("OBL-1", "instructed"), ids[1]: ("OBL-2", "partially_settled")}
    moved[ids[2]] = ("OBL-2", "instructed")
    async with db.sessionmaker() as session, session.begin():
        for trade_id, (obligation_id, status) in moved.items():
            await session.execute(
                update(Trade)
                .where(Trade.id == trade_id)
                .values(obligation_id=obligation_id, status=status)
            )
    async with db.sessionmaker() as session, session.begin():
        held = await session.get(Trade, ids[1])  # an ORM object the session already holds
        assert held is not None
        befores = {trade_id: row_snapshot(await _get(session, trade_id)) for trade_id in ids}

        await mark_settled_many(
            session, in_full={"OBL-1": True, "OBL-2": False}, actor=SYSTEM_ACTOR, now=DEFAULT_NOW
        )

        assert (held.status, held.version, held.updated_at) == (
            "partially_settled",
            befores[ids[1]]["version"] + 1,
            DEFAULT_NOW,
        )
        histories = [
            await entity_history(session, entity_type="trade", entity_id=trade_id)
            for trade_id in ids
        ]
    statuses = ["settled", "partially_settled", "partially_settled"]
    for trade_id, history, status in zip(ids, histories, statuses, strict=True):
        record, before = history[-1], befores[trade_id]
        assert record.action == status  # the event: settled, or partially settled
        assert record.before == before
        assert record.after == before | {
            "status": status,
            "version": before["version"] + 1,
            "updated_at": jsonable(DEFAULT_NOW),
        }


async def _get(session: AsyncSession, trade_id: str) -> Trade:
    trade = await session.get(Trade, trade_id)
    assert trade is not None
    return trade
