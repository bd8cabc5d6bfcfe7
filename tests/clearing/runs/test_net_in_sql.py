"""The netting a clearing run writes, against the pure netting it implements: for random trades
cleared in random chunks, the run's obligations (totals, count, direction) are ``netting.net``
of all the trades, and each trade's lineage points at its netting key's obligation.

On PostgreSQL the chunk is netted in SQL (one INSERT ... ON CONFLICT over the unnested chunk);
on SQLite, which cannot sum decimals, by the pure module: the same assertions hold both.
Hypothesis cannot drive an async test directly: the examples are drawn first, then written.
"""

from datetime import date, datetime
from decimal import Decimal
from typing import Any

from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from sqlalchemy import insert, select

from app.clearing.netting import ClearingTrade, NettingSet, net, netting_key
from app.clearing.obligations.models import Obligation, ObligationTrade
from app.clearing.runs import work
from app.clearing.runs.models import ClearingRun
from app.core.auth import SYSTEM_ACTOR
from app.core.ids import new_id
from app.trades.capture.models import Trade
from app.trades.capture.post_trade import ClearableTrade
from tests.clearing.support import BNP, LVMH, MORGAN, NSCC, SAP
from tests.conftest import DEFAULT_NOW, Database

# A few seconds in `make test`; the deep profile's count under `make test-deep`.
EXAMPLES = 25 if settings().max_examples <= 100 else settings().max_examples
DAYS = (date(2026, 11, 25), date(2026, 11, 26))

# Any mix of values the demo reference data has (the obligations' foreign keys hold).
_amount = st.builds(
    lambda units, places: Decimal(units).scaleb(-places),
    st.integers(1, 10**9),
    st.integers(0, 4),
)
# Round amounts often, so that buys and sells net out to flat (in securities, cash, or both).
_round = st.sampled_from([Decimal("10"), Decimal("10.00"), Decimal("25.5")])
_quantity = st.one_of(_round, _round, _amount)
# A net amount can be negative (a sell whose costs exceed its gross): gross sums take its
# absolute value.
_signed = _round | _amount | _amount.map(lambda amount: -amount)
_trade = st.fixed_dictionaries(
    {
        "netting_set": st.sampled_from([NettingSet.CCP, NettingSet.BILATERAL, NettingSet.GROSS]),
        # Few values of each, so that chunks often add to obligations earlier chunks made.
        "counterparty": st.sampled_from([NSCC, BNP, MORGAN]),
        "securities_account": st.just("SEC-CBF"),
        "cash_account": st.sampled_from([("CASH-EUR", "EUR"), ("CASH-USD", "USD")]),
        "isin": st.sampled_from([SAP, LVMH]),
        "settlement_date": st.sampled_from(DAYS),
        "side": st.sampled_from(["buy", "sell"]),
        "quantity": _quantity,
        "net_amount": _signed,
    }
)
# The trades, and where the run's chunks end (each a cut into the list).
_example = st.tuples(st.lists(_trade, min_size=1, max_size=60), st.lists(st.integers(1, 59)))


def _drawn() -> list[tuple[list[dict[str, Any]], list[int]]]:
    drawn: list[tuple[list[dict[str, Any]], list[int]]] = []

    @settings(
        max_examples=EXAMPLES,
        deadline=None,
        database=None,
        phases=[Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    @given(_example)
    def collect(example: tuple[list[dict[str, Any]], list[int]]) -> None:
        drawn.append(example)

    collect()
    return drawn


def _trades(drawn: list[dict[str, Any]]) -> list[ClearingTrade]:
    made = []
    for values in drawn:
        cash_account, currency = values["cash_account"]
        fields = {**values, "cash_account": cash_account, "currency": currency}
        made.append(ClearingTrade(trade_id=new_id("trd"), **fields))
    return made


def _row(trade: ClearingTrade, now: datetime) -> dict[str, Any]:
    """The trade's row: only its foreign keys and id matter to the lineage."""
    return {
        "id": trade.trade_id,
        "external_id": trade.trade_id,
        "book": "EQ-FLOW",
        "counterparty_lei": trade.counterparty,
        "isin": trade.isin,
        "side": trade.side,
        "quantity": trade.quantity,
        "price": Decimal(1),
        "currency": trade.currency,
        "trade_date": trade.settlement_date,
        "trade_time": now,
        "venue": "XPAR",
        "settlement_date": trade.settlement_date,
        "commission": Decimal(0),
        "fees": Decimal(0),
        "accrued_interest": None,
        "gross_amount": trade.net_amount,
        "net_amount": trade.net_amount,
        "status": "confirmed",
        "version": 1,
        "created_at": now,
        "updated_at": now,
        "created_by": "test",
    }


def _chunks(trades: list[ClearingTrade], cuts: list[int]) -> list[list[ClearingTrade]]:
    ends = sorted({cut for cut in cuts if cut < len(trades)} | {len(trades)})
    return [trades[start:end] for start, end in zip([0, *ends], ends, strict=False)]


def _clearable(trade: ClearingTrade) -> ClearableTrade:
    return ClearableTrade(
        id=trade.trade_id,
        isin=trade.isin,
        venue="XPAR",
        counterparty_lei=trade.counterparty,
        currency=trade.currency,
        settlement_date=trade.settlement_date,
        side=trade.side,
        quantity=trade.quantity,
        net_amount=trade.net_amount,
    )


Totals = tuple[Decimal, Decimal, Decimal, Decimal, int, str]


async def _clear_in_chunks(
    db: Database, trades: list[ClearingTrade], cuts: list[int]
) -> tuple[dict[str, Totals], dict[str, str], work.Progress]:
    """Net the trades chunk by chunk into a new run (rolled back at the end): the run's
    obligations by netting key, each trade's obligation's netting key, and what the run
    carries from chunk to chunk."""
    async with db.sessionmaker() as session:
        run = ClearingRun(
            id=new_id("clr"),
            status="running",
            total=len(trades),
            processed=0,
            report={},
            created_at=DEFAULT_NOW,
            created_by="test",
            settlement_date=DAYS[0],
            obligations=0,
            instructions=0,
        )
        session.add(run)
        await session.flush()
        await session.execute(insert(Trade), [_row(trade, DEFAULT_NOW) for trade in trades])
        progress = await work.prepare(session, run)
        for part in _chunks(trades, cuts):
            chunk = work.Chunk([_clearable(trade) for trade in part], part, [])
            await work.net_chunk(session, run, chunk, progress, actor=SYSTEM_ACTOR, now=DEFAULT_NOW)
        written = (
            await session.scalars(select(Obligation).where(Obligation.run_id == run.id))
        ).all()
        obligations = {
            o.netting_key: (
                o.net_quantity,
                o.net_amount,
                o.gross_quantity,
                o.gross_amount,
                o.trade_count,
                o.direction,
            )
            for o in written
        }
        key_of = {o.id: o.netting_key for o in written}
        lineage = await session.execute(
            select(ObligationTrade.trade_id, ObligationTrade.obligation_id).where(
                ObligationTrade.obligation_id.in_(list(key_of))
            )
        )
        placed = {trade_id: key_of[obligation_id] for trade_id, obligation_id in lineage}
        await session.rollback()
    return obligations, placed, progress


async def test_a_run_nets_random_chunks_as_the_pure_netting_does(
    db: Database, reference: None
) -> None:
    for drawn, cuts in _drawn():
        trades = _trades(drawn)

        obligations, placed, progress = await _clear_in_chunks(db, trades, cuts)

        expected = net(trades)
        assert obligations == {
            work.key_text(key): (
                item.net_quantity,
                item.net_amount,
                item.gross_quantity,
                item.gross_amount,
                item.trade_count,
                item.direction.value,
            )
            for key, item in expected.items()
        }
        assert placed == {trade.trade_id: work.key_text(netting_key(trade)) for trade in trades}
        assert progress.netting.nets == expected
