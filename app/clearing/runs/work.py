"""A clearing run's work, a chunk per transaction: clear the confirmed trades due on the date
(novate, net into obligations), then instruct the obligations once, then hand their trades to
settlement."""

from collections import defaultdict
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from app.audit.service import Change, record_changes
from app.clearing.netting import (
    ZERO,
    ClearingTrade,
    Net,
    Netting,
    NettingKey,
    NettingSet,
    netting_key,
)
from app.clearing.obligations import repository as obligations
from app.clearing.obligations.models import Obligation
from app.clearing.obligations.service import ENTITY as OBLIGATION
from app.clearing.runs.models import ClearingRun
from app.clearing.runs.report import LeftOut, build_report
from app.clearing.runs.resolve import Resolver
from app.core.auth import Actor
from app.core.ids import new_id
from app.core.snapshots import jsonable, row_snapshot
from app.positions.bookings import service as positions
from app.positions.bookings.service import Novation
from app.reference.instruments.service import instruments_by_isin
from app.reference.service import parties_and_accounts
from app.settlement.instructions import service as settlement
from app.settlement.instructions.service import ObligationToInstruct
from app.trades.capture import set_based as trades
from app.trades.capture.post_trade import ClearableTrade

CHUNK = 5000


@dataclass
class Chunk:
    trades: list[ClearableTrade]
    resolved: list[ClearingTrade]
    left_out: list[LeftOut]

    @property
    def last_id(self) -> str:
        return max([t.id for t in self.trades] + [lo.trade_id for lo in self.left_out])


async def _next_chunk(
    session: AsyncSession,
    resolver: Resolver,
    *,
    settlement_date: date,
    after_id: str | None,
    lock: bool,
) -> Chunk | None:
    chunk = list(
        await trades.claim_clearable(
            session, settlement_date=settlement_date, after_id=after_id, limit=CHUNK, lock=lock
        )
    )
    if not chunk:
        return None
    await resolver.load(session, chunk)
    resolved, left_out, taken = [], [], []
    for trade in chunk:
        try:
            resolved.append(resolver.resolve(trade))
            taken.append(trade)
        except LookupError as missing:
            left_out.append(LeftOut(trade.id, str(missing)))
    return Chunk(taken, resolved, left_out)


async def dry_run(session: AsyncSession, *, settlement_date: date) -> dict[str, Any]:
    """The report a run would give now, writing nothing."""
    resolver = Resolver(await parties_and_accounts(session))
    netting, left_out = Netting(), []
    after: str | None = None
    while (
        chunk := await _next_chunk(
            session, resolver, settlement_date=settlement_date, after_id=after, lock=False
        )
    ) is not None:
        netting.add(chunk.resolved)
        left_out += chunk.left_out
        after = chunk.last_id
    return build_report(netting.nets, left_out)


# What a run carries from chunk to chunk --------------------------------------------------------


@dataclass
class Progress:
    """The run's netting so far (rebuilt from its obligations on resume), where it stands in
    the trades, and which obligations' trades are still to hand to settlement."""

    resolver: Resolver
    netting: Netting = field(default_factory=Netting)
    obligation_ids: dict[NettingKey, str] = field(default_factory=dict)
    # Each obligation's row as last written: the before image of its next audit record. Only
    # for those later trades can net into: a gross obligation nets its one trade, and keeping
    # its image would hold one per trade of a date of gross trades.
    images: dict[str, dict[str, Any]] = field(default_factory=dict)
    left_out: list[LeftOut] = field(default_factory=list)
    after: str | None = None
    # Once instructions exist the obligations are final: a resumed run clears no more.
    instructed: bool = False
    batches: Iterator[list[str]] | None = None
    batch: list[str] | None = None
    batch_after: str | None = None


def _key_of(obligation: Obligation) -> NettingKey:
    return NettingKey(
        netting_set=NettingSet(obligation.netting_set),
        counterparty=obligation.counterparty_lei,
        securities_account=obligation.securities_account,
        cash_account=obligation.cash_account,
        isin=obligation.isin,
        currency=obligation.currency,
        settlement_date=obligation.settlement_date,
        trade_id=obligation.netting_key.rsplit("|", 1)[1] or None,
    )


def key_text(key: NettingKey) -> str:
    """The obligation's ``netting_key`` column: one string per key."""
    return "|".join(
        [
            key.netting_set.value,
            key.counterparty,
            key.securities_account,
            key.cash_account,
            key.isin,
            key.currency,
            key.settlement_date.isoformat(),
            key.trade_id or "",
        ]
    )


async def prepare(session: AsyncSession, run: ClearingRun) -> Progress:
    """What earlier chunks of the run wrote: its obligations and their totals."""
    progress = Progress(Resolver(await parties_and_accounts(session)))
    progress.instructed = run.instructions > 0
    for obligation in await obligations.of_run(session, run.id):
        key = _key_of(obligation)
        progress.obligation_ids[key] = obligation.id
        if key.trade_id is None:
            progress.images[obligation.id] = row_snapshot(obligation)
        progress.netting.nets[key] = Net(
            obligation.net_quantity,
            obligation.net_amount,
            obligation.gross_quantity,
            obligation.gross_amount,
            obligation.trade_count,
        )
    return progress


# Clearing a chunk ------------------------------------------------------------------------------


def _totals(net: Net) -> dict[str, Any]:
    return {
        "net_quantity": net.net_quantity,
        "net_amount": net.net_amount,
        "gross_quantity": net.gross_quantity,
        "gross_amount": net.gross_amount,
        "trade_count": net.trade_count,
        "direction": net.direction.value,
    }


async def _net_in_python(
    session: AsyncSession,
    run: ClearingRun,
    chunk: Chunk,
    progress: Progress,
    new: set[NettingKey],
    *,
    now: datetime,
) -> dict[str, dict[str, Any]]:
    """The pure netting, written row by row: where SQL cannot sum decimals (SQLite). Returns
    the images of the obligations it touched."""
    lineage = progress.netting.add(chunk.resolved)
    new_rows, changed, images = [], [], {}
    for key in lineage:
        obligation_id = progress.obligation_ids[key]
        totals = _totals(progress.netting.nets[key])
        if key not in new:
            changed.append({"o_id": obligation_id, **totals})
            images[obligation_id] = {**progress.images[obligation_id], **jsonable(totals)}
            continue
        row = {
            "id": obligation_id,
            "run_id": run.id,
            "netting_key": key_text(key),
            "netting_set": key.netting_set.value,
            "counterparty_lei": key.counterparty,
            "securities_account": key.securities_account,
            "cash_account": key.cash_account,
            "isin": key.isin,
            "currency": key.currency,
            "settlement_date": key.settlement_date,
            "created_at": now,
            **totals,
        }
        new_rows.append(row)
        images[obligation_id] = jsonable(row)
    await obligations.insert_many(session, new_rows)
    await obligations.update_totals(session, changed)
    return images


async def _net_in_sql(
    session: AsyncSession,
    run: ClearingRun,
    chunk: Chunk,
    progress: Progress,
    keys: dict[str, NettingKey],
    *,
    now: datetime,
) -> dict[str, dict[str, Any]]:
    """The chunk netted by the database in one statement (``obligations.net_in_sql``), the
    run's running totals taken from what it answers. Returns the obligations' images."""
    ids = progress.obligation_ids
    trades = chunk.resolved
    texts = {key: key_text(key) for key in set(keys.values())}
    staged: dict[str, list[Any]] = {
        "obligation_id": [ids[keys[t.trade_id]] for t in trades],
        "netting_key": [texts[keys[t.trade_id]] for t in trades],
        "netting_set": [t.netting_set.value for t in trades],
        "counterparty_lei": [t.counterparty for t in trades],
        "securities_account": [t.securities_account for t in trades],
        "cash_account": [t.cash_account for t in trades],
        "isin": [t.isin for t in trades],
        "currency": [t.currency for t in trades],
        "settlement_date": [t.settlement_date for t in trades],
        "side": [t.side for t in trades],
        "quantity": [t.quantity for t in trades],
        "net_amount": [t.net_amount for t in trades],
    }
    key_of = {progress.obligation_ids[key]: key for key in keys.values()}
    images = {}
    for row in await obligations.net_in_sql(session, run_id=run.id, trades=staged, now=now):
        progress.netting.nets[key_of[row.id]] = Net(
            row.net_quantity, row.net_amount, row.gross_quantity, row.gross_amount, row.trade_count
        )
        images[row.id] = obligations.obligation_image(row)
    return images


async def net_chunk(
    session: AsyncSession,
    run: ClearingRun,
    chunk: Chunk,
    progress: Progress,
    *,
    actor: Actor,
    now: datetime,
) -> dict[str, str]:
    """Net the chunk into the run's obligations: new ones for new netting keys, new totals for
    the others, each audited (one batch of records for the chunk); then each trade's lineage.
    Returns each trade's obligation id. In SQL on PostgreSQL, by ``netting`` elsewhere: the
    property tests hold the two to the same obligations and lineage."""
    keys = {trade.trade_id: netting_key(trade) for trade in chunk.resolved}
    # Ids (time-ordered) in the order the chunk's trades first name each key, as the pure
    # netting meets them: instructions, made in obligation order, follow the trades' order.
    new = dict.fromkeys(key for key in keys.values() if key not in progress.obligation_ids)
    for key in new:
        progress.obligation_ids[key] = new_id("obl")
    if obligations.sums_in_sql(session):
        images = await _net_in_sql(session, run, chunk, progress, keys, now=now)
    else:
        images = await _net_in_python(session, run, chunk, progress, set(new), now=now)
    gross = {progress.obligation_ids[key] for key in new if key.trade_id is not None}
    changes = []
    for obligation_id, after in images.items():
        before = progress.images.get(obligation_id)
        action = "created" if before is None else "netted"
        changes.append(Change(OBLIGATION, obligation_id, action, before, after))
        if obligation_id not in gross:
            progress.images[obligation_id] = after
    await record_changes(session, changes, actor=actor, now=now)
    placed = {trade_id: progress.obligation_ids[key] for trade_id, key in keys.items()}
    novated = {t.trade_id for t in chunk.resolved if t.netting_set == NettingSet.CCP}
    await obligations.insert_lineage(
        session,
        [
            {
                "trade_id": trade.id,
                "obligation_id": placed[trade.id],
                "original_counterparty_lei": trade.counterparty_lei,
                "novated": trade.id in novated,
            }
            for trade in chunk.trades
        ],
    )
    return placed


def _novations(chunk: Chunk) -> list[Novation]:
    """What the chunk's CCP trades leave unsettled moves from each original counterparty to
    the CCP: the securities per ISIN, the cash per currency (not once per ISIN as well)."""
    originals = {t.id: t.counterparty_lei for t in chunk.trades}
    securities: dict[tuple[str, str, str, str], Decimal] = defaultdict(Decimal)
    cash: dict[tuple[str, str, str], tuple[str, Decimal]] = {}
    for trade in chunk.resolved:
        if trade.netting_set != NettingSet.CCP:
            continue
        origin = originals[trade.trade_id]
        securities[origin, trade.counterparty, trade.isin, trade.currency] += trade.signed_quantity
        isin, amount = cash.get((origin, trade.counterparty, trade.currency), (trade.isin, ZERO))
        cash[origin, trade.counterparty, trade.currency] = (isin, amount + trade.signed_amount)
    return [
        Novation(origin, ccp, isin, quantity, currency, ZERO)
        for (origin, ccp, isin, currency), quantity in securities.items()
    ] + [
        # A cash-only move: its securities lines are zero and left out.
        Novation(origin, ccp, isin, ZERO, currency, amount)
        for (origin, ccp, currency), (isin, amount) in cash.items()
    ]


async def _clear(
    session: AsyncSession,
    run: ClearingRun,
    chunk: Chunk,
    progress: Progress,
    *,
    actor: Actor,
    now: datetime,
) -> None:
    """Net the chunk's trades into the run's obligations, record the lineage, move the trades
    to ``cleared`` and novate what goes to a CCP."""
    placed = await net_chunk(session, run, chunk, progress, actor=actor, now=now)
    progress.left_out += chunk.left_out
    run.processed += len(chunk.trades) + len(chunk.left_out)
    # Trades confirmed while the run goes are cleared too: the total grows to count them.
    run.total = max(run.total, run.processed)
    run.obligations = len(progress.obligation_ids)
    if not chunk.trades:  # every trade of the chunk waits for its reference data
        return
    ccp = {t.trade_id: t.counterparty for t in chunk.resolved if t.netting_set == NettingSet.CCP}
    await trades.clear(
        session,
        cleared={trade_id: (placed[trade_id], ccp.get(trade_id)) for trade_id in placed},
        actor=actor,
        now=now,
    )
    await positions.novate(
        session,
        novations=_novations(chunk),
        reference=run.id,
        value_date=run.settlement_date,
        actor=actor,
        now=now,
    )


# Instructing and handing over ------------------------------------------------------------------


async def _instruct(
    session: AsyncSession, progress: Progress, *, actor: Actor, now: datetime
) -> int:
    """One instruction per obligation that moves something (``repair`` where no single SSI
    fits). Returns how many the run has."""
    keys = progress.obligation_ids
    instruments = await instruments_by_isin(session, isins={key.isin for key in keys})
    return await settlement.create_instructions(
        session,
        obligations=[
            ObligationToInstruct(
                obligation_id=obligation_id,
                counterparty_lei=key.counterparty,
                ccp=key.netting_set == NettingSet.CCP,
                isin=key.isin,
                mic=instruments[key.isin].mic,
                currency=key.currency,
                securities_account=key.securities_account,
                cash_account=key.cash_account,
                net_quantity=progress.netting.nets[key].net_quantity,
                net_amount=progress.netting.nets[key].net_amount,
                settlement_date=key.settlement_date,
            )
            for key, obligation_id in keys.items()
        ],
        actor=actor,
        now=now,
    )


def batches(obligations: Sequence[tuple[str, int]], trades_per_batch: int) -> Iterator[list[str]]:
    """Obligation ids in batches of about ``trades_per_batch`` trades (an obligation with more
    is a batch of its own: ``instruct_cleared`` goes through it a chunk at a time)."""
    batch: list[str] = []
    in_batch = 0
    for obligation_id, trade_count in obligations:
        if batch and in_batch + trade_count > trades_per_batch:
            yield batch
            batch, in_batch = [], 0
        batch.append(obligation_id)
        in_batch += trade_count
    if batch:
        yield batch


async def _handed_over(session: AsyncSession, run_id: str) -> Iterator[list[str]]:
    """The run's obligations whose trades go to settlement (``instructed``), in batches: all
    but those whose instruction waits in repair. Those that net out to nothing have no
    instruction and settle on their date without one."""
    counted = await obligations.trade_counts(session, run_id)
    in_repair = await settlement.obligations_in_repair(
        session, obligation_ids=[obligation_id for obligation_id, _ in counted]
    )
    return batches([row for row in counted if row[0] not in in_repair], CHUNK)


async def _hand_over(
    session: AsyncSession, run: ClearingRun, progress: Progress, *, actor: Actor, now: datetime
) -> bool:
    """The next chunk of the run's trades to ``instructed``; False when none is left."""
    if progress.batches is None:
        progress.batches = await _handed_over(session, run.id)
    if progress.batch is None:
        progress.batch = next(progress.batches, None)
        if progress.batch is None:
            return False
    progress.batch_after = await trades.instruct_cleared(
        session,
        obligation_ids=progress.batch,
        after_id=progress.batch_after,
        limit=CHUNK,
        actor=actor,
        now=now,
    )
    if progress.batch_after is None:
        progress.batch = None
    return True


async def clear_chunk(
    session: AsyncSession, run: ClearingRun, progress: Progress, *, actor: Actor, now: datetime
) -> bool:
    """The run's next step in ``session``: a chunk of trades cleared; or, once none is left,
    the obligations instructed and the report written; then a chunk of trades handed over."""
    if not progress.instructed:
        chunk = await _next_chunk(
            session,
            progress.resolver,
            settlement_date=run.settlement_date,
            after_id=progress.after,
            lock=True,
        )
        if chunk is not None:
            await _clear(session, run, chunk, progress, actor=actor, now=now)
            progress.after = chunk.last_id
            return True
        run.instructions = await _instruct(session, progress, actor=actor, now=now)
        run.report = build_report(progress.netting.nets, progress.left_out)
        progress.instructed = True
        return True
    return await _hand_over(session, run, progress, actor=actor, now=now)
