"""Every query of obligations and their lineage."""

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Row, bindparam, insert, select, text, update
from sqlalchemy.ext.asyncio import AsyncSession

from app.clearing.obligations.models import Obligation, ObligationTrade
from app.core.db import table_of
from app.core.errors import NotFound
from app.core.pagination import PageRequest, fetch_page
from app.core.snapshots import row_imager
from app.core.types import UTCDateTime

_OBLIGATIONS = table_of(Obligation)
TOTALS = ("net_quantity", "net_amount", "gross_quantity", "gross_amount", "trade_count")


async def get(session: AsyncSession, obligation_id: str) -> Obligation:
    obligation = await session.get(Obligation, obligation_id)
    if obligation is None:
        raise NotFound(f"No obligation '{obligation_id}'.")
    return obligation


async def page(
    session: AsyncSession, *, page: PageRequest, **filters: Any
) -> tuple[Sequence[Obligation], str | None]:
    statement = select(Obligation)
    for name, value in filters.items():
        if value is not None:
            statement = statement.where(getattr(Obligation, name) == value)
    return await fetch_page(session, statement, Obligation.id, page)


async def of_run(session: AsyncSession, run_id: str) -> Sequence[Obligation]:
    return (await session.scalars(select(Obligation).where(Obligation.run_id == run_id))).all()


async def trade_counts(session: AsyncSession, run_id: str) -> list[tuple[str, int]]:
    """The run's obligations in id order, each with how many trades it nets."""
    statement = (
        select(Obligation.id, Obligation.trade_count)
        .where(Obligation.run_id == run_id)
        .order_by(Obligation.id)
    )
    return [(obligation_id, count) for obligation_id, count in await session.execute(statement)]


async def insert_many(session: AsyncSession, rows: Sequence[dict[str, Any]]) -> None:
    if rows:
        await session.execute(insert(Obligation), rows)


async def update_totals(session: AsyncSession, rows: Sequence[dict[str, Any]]) -> None:
    """Each row: the obligation's id as ``o_id`` and its new totals and direction."""
    if rows:
        await session.execute(
            update(_OBLIGATIONS)
            .where(_OBLIGATIONS.c.id == bindparam("o_id"))
            .values({name: bindparam(name) for name in (*TOTALS, "direction")}),
            rows,
        )


async def insert_lineage(session: AsyncSession, rows: Sequence[dict[str, Any]]) -> None:
    """Each trade's place in an obligation: one statement over the chunk (PostgreSQL: arrays
    unnested, one round trip whatever the count)."""
    if not rows:
        return
    if not sums_in_sql(session):
        await session.execute(insert(ObligationTrade), rows)
        return
    await session.execute(
        _LINEAGE_POSTGRESQL,
        {name: [row[name] for row in rows] for name in _LINEAGE_COLUMNS},
    )


_LINEAGE_COLUMNS = ("trade_id", "obligation_id", "original_counterparty_lei", "novated")
_LINEAGE_POSTGRESQL = text(
    """INSERT INTO obligation_trades (trade_id, obligation_id, original_counterparty_lei, novated)
    SELECT * FROM unnest(CAST(:trade_id AS text[]), CAST(:obligation_id AS text[]),
        CAST(:original_counterparty_lei AS text[]), CAST(:novated AS boolean[]))"""
)


def sums_in_sql(session: AsyncSession) -> bool:
    """Whether the database can net in SQL: PostgreSQL's numeric sums exactly; SQLite keeps
    decimals as text (``app.core.types``), which its SUM would turn into floats."""
    return session.get_bind().dialect.name == "postgresql"


# The netting of ``app.clearing.netting`` (its tests say they agree): per netting key, the
# signed sums from our side, the gross sums, the count, and the direction ``direction_of``
# gives; a key the run already has adds the chunk's totals to its own.
_NET_POSTGRESQL = (
    text(
        """WITH chunk AS (
        SELECT * FROM unnest(
            CAST(:obligation_id AS text[]), CAST(:netting_key AS text[]),
            CAST(:netting_set AS text[]), CAST(:counterparty_lei AS text[]),
            CAST(:securities_account AS text[]), CAST(:cash_account AS text[]),
            CAST(:isin AS text[]), CAST(:currency AS text[]), CAST(:settlement_date AS date[]),
            CAST(:side AS text[]), CAST(:quantity AS numeric[]), CAST(:net_amount AS numeric[]))
        AS t(obligation_id, netting_key, netting_set, counterparty_lei, securities_account,
             cash_account, isin, currency, settlement_date, side, quantity, net_amount)
    ), netted AS (
        SELECT obligation_id, netting_key, netting_set, counterparty_lei, securities_account,
            cash_account, isin, currency, settlement_date,
            sum(CASE WHEN side = 'buy' THEN quantity ELSE -quantity END) AS net_quantity,
            sum(CASE WHEN side = 'buy' THEN -net_amount ELSE net_amount END) AS net_amount,
            sum(quantity) AS gross_quantity, sum(abs(net_amount)) AS gross_amount,
            count(*) AS trade_count
        FROM chunk
        GROUP BY obligation_id, netting_key, netting_set, counterparty_lei, securities_account,
            cash_account, isin, currency, settlement_date
    )
    INSERT INTO obligations (id, run_id, netting_key, netting_set, counterparty_lei,
        securities_account, cash_account, isin, currency, settlement_date, net_quantity,
        net_amount, gross_quantity, gross_amount, trade_count, direction, created_at)
    SELECT obligation_id, :run_id, netting_key, netting_set, counterparty_lei,
        securities_account, cash_account, isin, currency, settlement_date, net_quantity,
        net_amount, gross_quantity, gross_amount, trade_count,
        CASE WHEN net_quantity > 0 THEN 'receive' WHEN net_quantity < 0 THEN 'deliver'
            WHEN net_amount <> 0 THEN 'cash_only' ELSE 'none' END, :now
    FROM netted
    ON CONFLICT (run_id, netting_key) DO UPDATE SET
        net_quantity = obligations.net_quantity + excluded.net_quantity,
        net_amount = obligations.net_amount + excluded.net_amount,
        gross_quantity = obligations.gross_quantity + excluded.gross_quantity,
        gross_amount = obligations.gross_amount + excluded.gross_amount,
        trade_count = obligations.trade_count + excluded.trade_count,
        direction = CASE
            WHEN obligations.net_quantity + excluded.net_quantity > 0 THEN 'receive'
            WHEN obligations.net_quantity + excluded.net_quantity < 0 THEN 'deliver'
            WHEN obligations.net_amount + excluded.net_amount <> 0 THEN 'cash_only'
            ELSE 'none' END
    RETURNING obligations.*"""
    )
    .bindparams(bindparam("now", type_=UTCDateTime()))
    .columns(*_OBLIGATIONS.columns)
)
NETTED_COLUMNS = (
    "obligation_id",
    "netting_key",
    "netting_set",
    "counterparty_lei",
    "securities_account",
    "cash_account",
    "isin",
    "currency",
    "settlement_date",
    "side",
    "quantity",
    "net_amount",
)


async def net_in_sql(
    session: AsyncSession, *, run_id: str, trades: Mapping[str, Sequence[Any]], now: datetime
) -> Sequence[Row[Any]]:
    """Net a chunk of trades into the run's obligations in one statement (PostgreSQL only,
    see ``sums_in_sql``): each trade (a value in each of ``NETTED_COLUMNS``, column by column)
    brings its netting key and the id its obligation takes when the key is new; keys the run
    has already add the chunk's totals. Returns every obligation the chunk touched, as it now
    stands (``Obligation`` columns, in the table's order: ``obligation_image`` reads them)."""
    if not trades["obligation_id"]:
        return []
    arrays = {name: trades[name] for name in NETTED_COLUMNS}
    result = await session.execute(_NET_POSTGRESQL, {"run_id": run_id, "now": now, **arrays})
    return result.all()


# ``row_snapshot`` of an obligation read as a Core row of every column.
obligation_image = row_imager(_OBLIGATIONS.columns)


async def trade_ids_of(
    session: AsyncSession, obligation_ids: Sequence[str]
) -> dict[str, list[str]]:
    lineage: dict[str, list[str]] = {obligation_id: [] for obligation_id in obligation_ids}
    if obligation_ids:
        rows = await session.execute(
            select(ObligationTrade.obligation_id, ObligationTrade.trade_id)
            .where(ObligationTrade.obligation_id.in_(list(obligation_ids)))
            .order_by(ObligationTrade.trade_id)
        )
        for obligation_id, trade_id in rows.all():
            lineage[obligation_id].append(trade_id)
    return lineage
