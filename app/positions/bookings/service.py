"""Position keeping as the other stages use it: trade-date bookings, novations, settlements and
pending movements, and the balances a settlement run spends. Values in, values out: no ORM
object of positions leaves this module."""

from collections import defaultdict
from collections.abc import AsyncIterator, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal

from sqlalchemy.ext.asyncio import AsyncSession

from app.core.auth import Actor
from app.core.errors import Conflict, ValidationFailed
from app.core.pagination import PageRequest, decode_cursor
from app.positions.balances import service as balances
from app.positions.balances.totals import Totals, book_holding
from app.positions.bookings import costing_history
from app.positions.bookings.lines import (
    Direction,
    Novation,
    SettlementMovement,
    TradeEconomics,
    novation_lines,
    settlement_lines,
    trade_lines,
)
from app.positions.costing import ZERO, Holding, trade_effect
from app.positions.journal import service as journal
from app.positions.journal.entries import EntryKind, Line, NewEntry
from app.positions.journal.models import JournalEntry
from app.positions.journal.states import PendingEvent
from app.positions.ledger_accounts import codes as accounts

__all__ = [
    "PENALTY_SOURCE",
    "SETTLEMENT_SOURCE",
    "TRADE_SOURCE",
    "CashMovement",
    "Direction",
    "DraftedTrade",
    "Novation",
    "PenaltyBooking",
    "SettlementLeg",
    "SettlementMovement",
    "SettlementPosted",
    "Settling",
    "TradeEconomics",
    "book_drafted",
    "book_trades",
    "cash_movements",
    "draft_trades",
    "expect_many",
    "expect_movements",
    "expect_settlement",
    "holdings",
    "lock_for_settlement",
    "lock_positions",
    "novate",
    "post_penalties",
    "post_settlement",
    "post_settlements",
    "rebook_trade",
    "restate_positions",
    "reverse_penalty",
    "securities_settled_after",
    "settled_cash",
    "settled_securities",
    "unbook_trade",
    "void_pending",
]

TRADE_SOURCE = "trade"
SETTLEMENT_SOURCE = "settlement"


# Trade-date booking ----------------------------------------------------------------------------


def _position_key(trade: TradeEconomics) -> tuple[str, str]:
    return accounts.book(trade.book), trade.isin


def _trade_entry(trade: TradeEconomics, lines: tuple[Line, ...]) -> NewEntry:
    verb = "Bought" if trade.side == "buy" else "Sold"
    return NewEntry(
        kind=EntryKind.TRADE,
        value_date=trade.trade_date,
        description=f"{verb} {trade.quantity} {trade.isin} in {trade.book}",
        lines=lines,
        source_type=TRADE_SOURCE,
        source_id=trade.trade_id,
        effective_at=trade.trade_time,
    )


async def _holding_before(session: AsyncSession, key: tuple[str, str], moment: datetime) -> Holding:
    """The position as its live trades and adjustments executed before ``moment`` make it: what
    a late trade is costed against."""
    holding = Holding()
    for effect in await costing_history.replayed(session, key):
        if effect.order >= (moment,):
            break
        holding = holding + effect.holding
    return holding


@dataclass(frozen=True, slots=True)
class DraftedTrade:
    """A trade's booking as far as it goes before its position is locked: its lines, the
    book's securities line not costed yet (``trade_lines`` without cost)."""

    trade: TradeEconomics
    lines: tuple[Line, ...]


def draft_trades(trades: Iterable[TradeEconomics]) -> list[DraftedTrade]:
    """The trades' lines, in the trades' order: made before the lock, they do not lengthen it."""
    return [DraftedTrade(trade, trade_lines(trade)) for trade in trades]


def _costed(drafted: DraftedTrade, *, cost: Decimal, realized_pnl: Decimal) -> tuple[Line, ...]:
    """``trade_lines(trade, cost=..., realized_pnl=...)`` from the drafted lines: the book's
    securities line, first where there is one, carries the cost and realised P&L."""
    trade, lines = drafted.trade, drafted.lines
    quantity = trade.signed_quantity
    if not (quantity or cost or realized_pnl):
        return lines
    position = Line(accounts.book(trade.book), trade.isin, -quantity, cost, realized_pnl)
    return (position, *(lines[1:] if quantity else lines))


def _drafted_order(drafted: DraftedTrade) -> datetime:
    return drafted.trade.trade_time


@dataclass
class _Costing:
    """What costing trades in execution order needs, their positions locked: each position's
    balance row and holding (which costing moves on), and the positions where a trade
    executed before one already booked (whose followers must be restated)."""

    heads: dict[tuple[str, str], balances.Head]
    holdings: dict[tuple[str, str], Holding]
    late: set[tuple[str, str]]

    def entry(self, drafted: DraftedTrade) -> NewEntry:
        """The trade's entry, with its position's cost and realised P&L, the trades before it
        in execution order costed already."""
        return _trade_entry(drafted.trade, self.lines(drafted))

    def lines(self, drafted: DraftedTrade) -> tuple[Line, ...]:
        """``entry``'s lines."""
        trade = drafted.trade
        key = _position_key(trade)
        head = self.heads[key]
        if head.last_trade_at is not None and trade.trade_time < head.last_trade_at:
            self.late.add(key)
        else:
            head.last_trade_at = trade.trade_time
        effect = trade_effect(
            self.holdings[key],
            quantity=trade.signed_quantity,
            principal=trade.gross_amount,
            currency=trade.currency,
        )
        self.holdings[key] = self.holdings[key] + effect
        return _costed(drafted, cost=effect.cost, realized_pnl=effect.realized_pnl)


async def _costing(
    session: AsyncSession,
    drafts: Sequence[DraftedTrade],
    reversals: Sequence[NewEntry],
    *,
    now: datetime,
) -> _Costing:
    """Lock the trades' positions and read what they hold, after the reversals that go before
    the trades. A position whose first trade here executed before the latest one booked (an
    as-of trade) is costed from what it held at that trade's execution (unless reversals come
    first: they restate it)."""
    # Only the positions: the other balances a trade moves (its counterparty's, commission,
    # fees, the book's cash) are written without waiting on other trades (balances.apply).
    keys = {_position_key(drafted.trade) for drafted in drafts} | {
        (line.ledger_account, line.asset)
        for reversal in reversals
        for line in reversal.lines
        if line.cost is not None or line.realized_pnl is not None
    }
    # The trades' other balances claimed with the lock (``apply`` changes them on stripes).
    spread = {
        (line.ledger_account, line.asset) for drafted in drafts for line in drafted.lines
    } - keys
    heads = await balances.lock(session, keys, now=now, spread=spread)
    holdings = {key: book_holding(head.totals) for key, head in heads.items()}
    for reversal in reversals:
        for line in reversal.lines:
            if line.cost is not None or line.realized_pnl is not None:
                key = (line.ledger_account, line.asset)
                holdings[key] = holdings[key] + Holding(
                    -line.amount, line.cost or ZERO, line.realized_pnl or ZERO
                )
    if not reversals:
        # A position's trades are costed in execution order: its first one here is the first
        # executed before the latest booked, if any is.
        first: dict[tuple[str, str], datetime] = {}
        for drafted in drafts:
            key, moment = _position_key(drafted.trade), drafted.trade.trade_time
            if key not in first or moment < first[key]:
                first[key] = moment
        for key, moment in sorted(first.items()):
            latest = heads[key].last_trade_at
            if latest is not None and moment < latest:
                holdings[key] = await _holding_before(session, key, moment)
    return _Costing(heads, holdings, set())


async def _priced(
    session: AsyncSession,
    drafts: Sequence[DraftedTrade],
    reversals: Sequence[NewEntry],
    *,
    now: datetime,
) -> tuple[list[NewEntry], set[tuple[str, str]]]:
    """Trade entries with each position's cost and realised P&L, computed under the position's
    lock in execution order, after the reversals that go before them; and the positions where a
    trade executed before one already booked (whose followers must be restated)."""
    costing = await _costing(session, drafts, reversals, now=now)
    # Posted in execution order: within one booking time, that is the order a replay keeps.
    entries = [costing.entry(drafted) for drafted in sorted(drafts, key=_drafted_order)]
    return entries, costing.late


# Trades costed and posted a part at a time (``book_drafted`` of a batch): the database takes
# in a part's postings while the next part is costed.
_COSTED_PART = 100


async def book_trades(
    session: AsyncSession, trades: Sequence[TradeEconomics], *, actor: Actor, now: datetime
) -> None:
    """Post new trades on their trade date: the book's position against the counterparty. A
    trade executed before the latest one booked on its position (an as-of trade) is costed at
    its execution time, and the trades after it are restated."""
    await book_drafted(session, draft_trades(trades), actor=actor, now=now)


async def book_drafted(
    session: AsyncSession, drafts: Sequence[DraftedTrade], *, actor: Actor, now: datetime
) -> None:
    """``book_trades`` of trades drafted already (``draft_trades``): a caller drafts them while
    the database is busy with its earlier writes."""
    if not drafts:
        return
    if journal.streams(session, sum(len(drafted.lines) for drafted in drafts)):
        costing = await _costing(session, drafts, [], now=now)
        ordered = sorted(drafts, key=_drafted_order)

        # Their entries written first (all but the cost, which the lines carry), then each
        # part's lines sent while the next part is costed.
        entries = [_trade_entry(drafted.trade, drafted.lines) for drafted in ordered]

        async def costed() -> AsyncIterator[list[tuple[Line, ...]]]:
            for start in range(0, len(ordered), _COSTED_PART):
                yield [costing.lines(drafted) for drafted in ordered[start : start + _COSTED_PART]]

        await journal.post_lines_later(session, entries, costed(), actor=actor, now=now)
        late = costing.late
    else:
        entries, late = await _priced(session, drafts, [], now=now)
        await journal.post(session, entries, actor=actor, now=now)
    if late:
        for trade in (drafted.trade for drafted in drafts):
            key = _position_key(trade)
            if key in late:  # restated once, after the first late trade of the position
                late.discard(key)
                source = (TRADE_SOURCE, trade.trade_id)
                await restate_positions(session, {key}, source=source, actor=actor, now=now)


async def lock_positions(
    session: AsyncSession, trades: Sequence[TradeEconomics], *, now: datetime
) -> None:
    """Lock the positions of trades that several ``book_trades`` calls of one transaction will
    book (one call per actor), all at once in key order: each call locks its own in order, but
    two calls one after the other would not, and could wait in a circle with another writer."""
    await balances.lock(session, {_position_key(trade) for trade in trades}, now=now)


def _economics(lines: Sequence[Line]) -> list[tuple[str, str, Decimal]]:
    return sorted((line.ledger_account, line.asset, line.amount) for line in lines)


async def _live_trade_entry(session: AsyncSession, trade_id: str) -> JournalEntry | None:
    return await journal.live_entry(
        session, source_type=TRADE_SOURCE, source_id=trade_id, kind=EntryKind.TRADE
    )


async def rebook_trade(
    session: AsyncSession, trade: TradeEconomics, *, actor: Actor, now: datetime
) -> None:
    """After an amendment: reverse the trade's entry and post the amended one, unless the
    amendment changed nothing the journal shows; then restate the trades after it."""
    live = await _live_trade_entry(session, trade.trade_id)
    reversals: list[NewEntry] = []
    if live is not None:
        posted = await journal.entry_lines(session, live.id)
        if (
            live.value_date == trade.trade_date
            and live.effective_at == trade.trade_time
            and _economics(posted) == _economics(trade_lines(trade))
        ):
            return
        reversals.append(
            await journal.reversal_of(
                session, live, description=f"Amendment of trade {trade.trade_id}"
            )
        )
    entries, _ = await _priced(session, draft_trades([trade]), reversals, now=now)
    await journal.post(session, [*reversals, *entries], actor=actor, now=now)
    keys = {_position_key(trade)} | {
        (line.ledger_account, line.asset)
        for reversal in reversals
        for line in reversal.lines
        if line.cost is not None
    }
    await restate_positions(
        session, keys, source=(TRADE_SOURCE, trade.trade_id), actor=actor, now=now
    )


async def unbook_trade(
    session: AsyncSession, *, trade_id: str, reason: str, actor: Actor, now: datetime
) -> None:
    """After a cancellation: reverse the trade's entry, and restate the trades after it."""
    live = await _live_trade_entry(session, trade_id)
    if live is not None:
        reversal = await journal.reversal_of(
            session, live, description=f"Cancellation of trade {trade_id}: {reason}"
        )
        await journal.post(session, [reversal], actor=actor, now=now)
        keys = {
            (line.ledger_account, line.asset) for line in reversal.lines if line.cost is not None
        }
        await restate_positions(
            session, keys, source=(TRADE_SOURCE, trade_id), actor=actor, now=now
        )


async def restate_positions(
    session: AsyncSession,
    keys: Iterable[tuple[str, str]],
    *,
    source: tuple[str, str],
    actor: Actor,
    now: datetime,
) -> None:
    """After a trade landed before others, an earlier trade changed or an adjustment was dated
    before trades already booked, later trades were costed against the wrong position: post,
    on each trade date, the difference between the cost and P&L the live trades make in
    execution order and what the journal holds for that date. As-of answers for every date
    become exact; nothing posted is edited."""
    positions = sorted(set(keys))
    heads = await balances.lock(session, positions, now=now)
    by_day: dict[date, list[Line]] = defaultdict(list)
    for key in positions:
        effects = await costing_history.replayed(session, key)
        quantity = sum((effect.holding.quantity for effect in effects), ZERO)
        if quantity != book_holding(heads[key].totals).quantity:
            raise RuntimeError(f"{key}: the journal and its balance disagree on the quantity")
        differences = await costing_history.restatements(session, key, effects)
        for day, (cost, pnl) in differences.items():
            by_day[day].append(Line(key[0], key[1], ZERO, cost, pnl))
    entries = [
        NewEntry(
            kind=EntryKind.RESTATEMENT,
            value_date=day,
            description=f"Cost and realised P&L restated after {source[0]} {source[1]}",
            lines=tuple(lines),
            source_type=source[0],
            source_id=source[1],
        )
        for day, lines in sorted(by_day.items())
    ]
    if entries:
        await journal.post(session, entries, actor=actor, now=now)


# Novation --------------------------------------------------------------------------------------


async def novate(
    session: AsyncSession,
    *,
    novations: Sequence[Novation],
    reference: str,
    value_date: date,
    actor: Actor,
    now: datetime,
) -> str | None:
    """Move what trades leave unsettled from their counterparties to the CCP (one entry)."""
    lines = novation_lines(novations)
    if not lines:
        return None
    entry = NewEntry(
        kind=EntryKind.NOVATION,
        value_date=value_date,
        description=f"Novation to the CCP ({reference})",
        lines=lines,
        source_type="clearing",
        source_id=reference,
    )
    [entry_id] = await journal.post(session, [entry], actor=actor, now=now)
    return entry_id


# What a settlement run spends ------------------------------------------------------------------


@dataclass(frozen=True)
class SettlementLeg:
    """Where one instruction settles: our safekeeping and cash accounts, and its assets."""

    securities_account: str
    cash_account: str
    isin: str
    currency: str


async def lock_for_settlement(
    session: AsyncSession, *, legs: Sequence[SettlementLeg], now: datetime
) -> dict[tuple[str, str], Decimal]:
    """Lock, in key order and until the transaction ends, our safekeeping and cash balances the
    legs' settlements spend, so no other writer spends the same securities or cash meanwhile;
    answers what they hold, per (account code, asset). (The counterparties' balances they also
    move are written without waiting on other writers: ``balances.apply``.)"""
    ours: dict[tuple[str, str], tuple[str, str]] = {}
    for leg in legs:
        ours[accounts.securities(leg.securities_account), leg.isin] = (
            leg.securities_account,
            leg.isin,
        )
        ours[accounts.cash(leg.cash_account), leg.currency] = (leg.cash_account, leg.currency)
    heads = await balances.lock(session, sorted(ours), now=now)
    return {holding: heads[key].totals.posted for key, holding in ours.items()}


async def holdings(
    session: AsyncSession,
    *,
    securities: Iterable[tuple[str, str]],
    cash: Iterable[tuple[str, str]],
) -> dict[tuple[str, str], Decimal]:
    """What our safekeeping accounts hold of ISINs and our cash accounts of currencies now, per
    (account code, asset), without locking: for answers that change nothing."""
    ours = {(accounts.securities(code), isin): (code, isin) for code, isin in securities}
    ours |= {(accounts.cash(code), currency): (code, currency) for code, currency in cash}
    posted = await balances.posted(session, list(ours))
    return {holding: posted[key] for key, holding in ours.items()}


# Settlement ------------------------------------------------------------------------------------


def _check_movement(movement: SettlementMovement, now: datetime | None) -> None:
    """Refuse a movement that moves nothing or backwards, or (given ``now``) one not due yet."""
    problems = []
    if movement.quantity < 0 or movement.amount < 0:
        problems.append("quantity and amount are never negative; the direction gives the sign")
    if movement.quantity == 0 and movement.amount == 0:
        problems.append("nothing moves: quantity and amount are both zero")
    if now is not None and movement.settlement_date > now.astimezone(UTC).date():
        problems.append(f"settlement date {movement.settlement_date} has not come yet")
    if problems:
        raise ValidationFailed(f"Settlement of {movement.reference}: {'; '.join(problems)}.")


async def expect_settlement(
    session: AsyncSession, *, movement: SettlementMovement, actor: Actor, now: datetime
) -> str:
    """Open a pending entry for a settlement that is due: projected balances count it until it
    is posted (``post_settlement``) or voided (``void_pending``). Returns its id."""
    return await expect_movements(session, movements=[movement], actor=actor, now=now)


async def expect_movements(
    session: AsyncSession,
    *,
    movements: Sequence[SettlementMovement],
    actor: Actor,
    now: datetime,
) -> str:
    """``expect_settlement`` for the movements of one instruction, as one pending entry: each
    settlement posted against it leaves the rest pending."""
    [pending_id] = await expect_many(session, expected=[movements], actor=actor, now=now)
    return pending_id


async def expect_many(
    session: AsyncSession,
    *,
    expected: Sequence[Sequence[SettlementMovement]],
    actor: Actor,
    now: datetime,
) -> list[str]:
    """A pending entry for each group of movements (one instruction's), opened together."""
    items = []
    for movements in expected:
        for movement in movements:
            _check_movement(movement, None)
        first = movements[0]
        items.append(
            journal.Expected(
                kind=EntryKind.SETTLEMENT,
                expected_date=first.settlement_date,
                description=f"Settlement of {first.reference} due {first.settlement_date}",
                lines=[line for movement in movements for line in settlement_lines(movement)],
                source_type=SETTLEMENT_SOURCE,
                source_id=first.reference,
            )
        )
    return await journal.open_pendings(session, items, actor=actor, now=now)


@dataclass(frozen=True)
class SettlementPosted:
    entry_id: str
    # What is still expected after a partial settlement of a pending entry.
    remainder_pending_id: str | None


def _remainder(expected: Sequence[Line], posted: Sequence[Line], reference: str) -> list[Line]:
    left: dict[tuple[str, str], Decimal] = defaultdict(Decimal)
    for line in expected:
        left[(line.ledger_account, line.asset)] += line.amount
    for line in posted:
        key = (line.ledger_account, line.asset)
        due = left.get(key)
        if due is None or (due > 0) != (line.amount > 0) or abs(line.amount) > abs(due):
            raise Conflict(
                f"Settlement of {reference} does not fit what was expected: "
                f"{line.amount} {line.asset} on {line.ledger_account}."
            )
        left[key] = due - line.amount
    return [Line(account, asset, amount) for (account, asset), amount in left.items() if amount]


@dataclass(frozen=True)
class Settling:
    """One settlement to post: the movements of one instruction on one day (posted as one
    entry), against the pending entry that showed them as due, if there is one."""

    movements: Sequence[SettlementMovement]
    pending_id: str | None = None

    @property
    def reference(self) -> str:
        return self.movements[0].reference


def _check_settling(settling: Settling, now: datetime) -> None:
    if not settling.movements:
        raise ValueError("A settlement posts at least one movement")
    first = settling.movements[0]
    for movement in settling.movements:
        _check_movement(movement, now)
        if (movement.reference, movement.settlement_date) != (
            first.reference,
            first.settlement_date,
        ):
            raise ValueError("One settlement's movements share their reference and date")


async def _expect_rests(
    session: AsyncSession,
    settlements: Sequence[Settling],
    lines: Sequence[tuple[Line, ...]],
    *,
    actor: Actor,
    now: datetime,
    into: journal.Deltas,
) -> dict[int, str]:
    """Post the pending entries the settlements name (each once) and open one for what each
    partial settlement leaves. Answers, per settlement index, the remainder's pending id."""
    named = [s.pending_id for s in settlements if s.pending_id is not None]
    if len(named) != len(set(named)):
        raise Conflict("A pending entry can be posted only once.")
    pendings = await journal.lock_pendings(session, named)
    settled_on = {s.pending_id: s.movements[0].settlement_date for s in settlements if s.pending_id}
    expected = await journal.resolve_pendings(
        session,
        list(pendings.values()),
        event=PendingEvent.POSTED,
        actor=actor,
        now=now,
        effective_on=settled_on,
        into=into,
    )
    rests: list[tuple[int, journal.Expected]] = []
    for index, settling in enumerate(settlements):
        if settling.pending_id is None:
            continue
        pending = pendings[settling.pending_id]
        rest = _remainder(expected[pending.id], lines[index], settling.reference)
        if rest:
            rests.append(
                (
                    index,
                    journal.Expected(
                        kind=EntryKind.SETTLEMENT,
                        expected_date=pending.expected_date,
                        description=f"Rest of the settlement of {settling.reference}",
                        lines=rest,
                        source_type=pending.source_type,
                        source_id=pending.source_id,
                        opened_on=max(settling.movements[0].settlement_date, pending.opened_on),
                    ),
                )
            )
    rest_ids = await journal.open_pendings(
        session, [rest for _, rest in rests], actor=actor, now=now, into=into
    )
    remainder_of = {index: rest_id for (index, _), rest_id in zip(rests, rest_ids, strict=True)}
    await journal.link_remainders(
        session,
        {str(settlements[index].pending_id): rest_id for index, rest_id in remainder_of.items()},
    )
    return remainder_of


async def post_settlements(
    session: AsyncSession, *, settlements: Sequence[Settling], actor: Actor, now: datetime
) -> list[SettlementPosted]:
    """Post settlements, full or partial, on their settlement dates: securities and cash
    between our safekeeping and cash accounts and the counterparty's unsettled account. Each
    pending entry named is posted (once); what a partial settlement leaves is expected under a
    new pending entry. A whole batch takes a fixed handful of statements, the balances it
    moves (posted and pending) written once, together, at the end."""
    for settling in settlements:
        _check_settling(settling, now)
    lines = [
        tuple(line for movement in s.movements for line in settlement_lines(movement))
        for s in settlements
    ]
    deltas: journal.Deltas = defaultdict(Totals)
    remainder_of = await _expect_rests(
        session, settlements, lines, actor=actor, now=now, into=deltas
    )
    entries = [
        NewEntry(
            kind=EntryKind.SETTLEMENT,
            value_date=settling.movements[0].settlement_date,
            description=f"Settlement of {settling.reference}",
            lines=lines[index],
            source_type=SETTLEMENT_SOURCE,
            source_id=settling.reference,
            pending_id=settling.pending_id,
        )
        for index, settling in enumerate(settlements)
    ]
    entry_ids = await journal.post(session, entries, actor=actor, now=now, into=deltas)
    await journal.apply_deltas(session, deltas, now=now)
    return [
        SettlementPosted(entry_id, remainder_of.get(index))
        for index, entry_id in enumerate(entry_ids)
    ]


async def post_settlement(
    session: AsyncSession,
    *,
    movement: SettlementMovement,
    actor: Actor,
    now: datetime,
    pending_id: str | None = None,
) -> SettlementPosted:
    """``post_settlements`` for one movement."""
    [posted] = await post_settlements(
        session, settlements=[Settling([movement], pending_id)], actor=actor, now=now
    )
    return posted


async def void_pending(
    session: AsyncSession, *, pending_id: str, reason: str, actor: Actor, now: datetime
) -> None:
    """The expected movement will not happen (the instruction was cancelled)."""
    pending = await journal.lock_pending(session, pending_id)
    await journal.resolve_pending(
        session, pending, event=PendingEvent.VOIDED, actor=actor, now=now, void_reason=reason
    )


# What reconciliation compares with the outside world -----------------------------------------


@dataclass(frozen=True, slots=True)
class CashMovement:
    """One movement the book shows on one of our cash accounts on a value date: what a bank
    statement line should match. ``amount`` is signed, positive for money in."""

    entry_id: str
    kind: str
    source_type: str | None
    source_id: str | None  # the instruction, adjustment, penalty... it came from
    currency: str
    amount: Decimal
    value_date: date
    counterparty: str | None  # the LEI of the counterparty it settled with, if one


async def cash_movements(
    session: AsyncSession, *, cash_account: str, value_date: date
) -> list[CashMovement]:
    """Every live movement on our cash account ``cash_account`` (its code) with this value
    date: settlements, penalties, fees, adjustments; reversed entries and their reversals left
    out (together they never happened). One query, streamed: a busy account's day is a
    hundred thousand movements or more (their counterparties read 500 entries a statement were
    a fifth of its reconciliation), and what they share (kinds, currencies, counterparties) is
    one string each."""
    prefix = accounts.counterparty("")
    words: dict[str, str] = {}  # each kind, source type and currency once
    parties: dict[str | None, str | None] = {None: None}  # partner account -> its LEI
    movements = []
    async for part in journal.live_postings_on(
        session,
        ledger_account=accounts.cash(cash_account),
        value_date=value_date,
        partner_prefix=prefix,
    ):
        for row in part:
            if row.partner not in parties:
                parties[row.partner] = row.partner.removeprefix(prefix)
            source_type = row.source_type
            movements.append(
                CashMovement(
                    entry_id=row.entry_id,
                    kind=words.setdefault(row.kind, row.kind),
                    source_type=None
                    if source_type is None
                    else words.setdefault(source_type, source_type),
                    source_id=row.source_id,
                    currency=words.setdefault(row.asset, row.asset),
                    amount=row.amount,
                    value_date=value_date,
                    counterparty=parties[row.partner],
                )
            )
    return movements


async def settled_cash(
    session: AsyncSession, *, cash_account: str, currency: str, value_date: date
) -> Decimal:
    """What the book says our cash account held in ``currency`` at the end of ``value_date``
    (settled, by value date): what a statement's closing booked balance should be."""
    views, _ = await balances.cash_balances(
        session,
        as_of=value_date,
        page=PageRequest(limit=1),
        account=cash_account,
        currency=currency,
    )
    return views[0].settled if views else ZERO


async def settled_securities(
    session: AsyncSession, *, securities_account: str, value_date: date
) -> dict[str, Decimal]:
    """Per ISIN, what our safekeeping account held at the end of ``value_date`` (settlement-
    date positions): what a custodian's holdings statement should say."""
    held: dict[str, Decimal] = {}
    page = PageRequest(limit=1000)
    while True:
        views, cursor = await balances.positions(
            session,
            basis="settlement_date",
            as_of=value_date,
            page=page,
            account=securities_account,
        )
        held |= {view.isin: view.quantity for view in views}
        if cursor is None:
            return held
        page = PageRequest(limit=1000, after=decode_cursor(cursor))


# CSDR cash penalties ---------------------------------------------------------------------------

PENALTY_SOURCE = "penalty"


@dataclass(frozen=True)
class PenaltyBooking:
    """One penalty as the journal books it: ``we_pay`` the expense and a payable to the
    counterparty, else a receivable from it and income; value-dated the penalised day."""

    penalty_id: str
    counterparty: str
    currency: str
    amount: Decimal
    we_pay: bool
    day: date
    description: str


def _penalty_entry(booking: PenaltyBooking) -> NewEntry:
    if booking.we_pay:
        lines = (
            Line(accounts.PENALTIES.code, booking.currency, booking.amount),
            Line(
                accounts.penalties_payable(booking.counterparty), booking.currency, -booking.amount
            ),
        )
    else:
        lines = (
            Line(
                accounts.penalties_receivable(booking.counterparty),
                booking.currency,
                booking.amount,
            ),
            Line(accounts.PENALTY_INCOME.code, booking.currency, -booking.amount),
        )
    return NewEntry(
        kind=EntryKind.PENALTY,
        value_date=booking.day,
        description=booking.description,
        lines=lines,
        source_type=PENALTY_SOURCE,
        source_id=booking.penalty_id,
    )


async def post_penalties(
    session: AsyncSession, bookings: Sequence[PenaltyBooking], *, actor: Actor, now: datetime
) -> list[str]:
    """One balanced entry per penalty, in order; their ids."""
    return await journal.post(
        session, [_penalty_entry(booking) for booking in bookings], actor=actor, now=now
    )


async def reverse_penalty(
    session: AsyncSession, *, entry_id: str, description: str, actor: Actor, now: datetime
) -> str:
    """The reversal of a penalty's entry (409 if reversed already); its id."""
    entry = await journal.get_entry(session, entry_id)
    reversal = await journal.reversal_of(session, entry, description=description)
    [reversal_id] = await journal.post(session, [reversal], actor=actor, now=now)
    return reversal_id


async def securities_settled_after(
    session: AsyncSession, *, instruction_ids: Sequence[str], after: date
) -> dict[str, Decimal]:
    """Per settlement instruction, the securities its live settlement entries value-dated
    after ``after`` moved (unsigned): what it had still to settle at the end of ``after``
    beyond what is left today."""
    moved: dict[str, Decimal] = defaultdict(Decimal)
    rows = await journal.moved_after(
        session,
        source_type=SETTLEMENT_SOURCE,
        source_ids=instruction_ids,
        prefix=accounts.securities(""),
        after=after,
    )
    for source_id, asset, amount in rows:
        if accounts.is_security(asset):
            moved[source_id] += abs(amount)
    return dict(moved)
