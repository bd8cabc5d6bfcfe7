"""Position keeping as the other stages use it: trade-date bookings, settlements and pending
movements, and the positions and balances read from the running balances."""

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import func, select, tuple_
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.auth import Actor
from app.core.errors import Conflict, ValidationFailed
from app.core.pagination import PageRequest, fetch_page, fetch_row_page
from app.positions import accounts, balances, journal
from app.positions.accounts import LedgerKind
from app.positions.balances import BalanceRow
from app.positions.costing import ZERO, Holding, average_cost, trade_effect
from app.positions.entries import (
    EntryKind,
    Line,
    NewEntry,
    Novation,
    SettlementMovement,
    TradeEconomics,
    novation_lines,
    settlement_lines,
    trade_lines,
)
from app.positions.models import JournalEntry, LedgerAccount, LedgerBalance, Posting
from app.positions.states import PendingEvent
from app.reference.instruments.schemas import PriceBasis
from app.reference.instruments.service import instruments_by_isin

TRADE_SOURCE = "trade"
SETTLEMENT_SOURCE = "settlement"
_PERCENT = Decimal("0.01")


# Trade-date booking ----------------------------------------------------------------------------


def _holding(totals: balances.Totals) -> Holding:
    # A book's securities balance is a credit for a long position: the quantity is its negative.
    return Holding(-totals.posted, totals.cost, totals.realized_pnl)


def _with_cost(lines: Sequence[Line], key: tuple[str, str], effect: Holding) -> tuple[Line, ...]:
    return tuple(
        replace(line, cost=effect.cost, realized_pnl=effect.realized_pnl)
        if (line.ledger_account, line.asset) == key
        else line
        for line in lines
    )


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
    )


async def _priced(
    session: AsyncSession,
    trades: Sequence[TradeEconomics],
    reversals: Sequence[NewEntry],
    *,
    now: datetime,
) -> list[NewEntry]:
    """Trade entries with each position's cost and realised P&L, computed under the position's
    lock from its balance, after the reversals that go before them."""
    planned = [(trade, trade_lines(trade)) for trade in trades]
    keys = {
        (line.ledger_account, line.asset)
        for lines in [*(lines for _, lines in planned), *(r.lines for r in reversals)]
        for line in lines
    }
    heads = await balances.lock(session, keys, now=now)
    holdings = {key: _holding(head.totals) for key, head in heads.items()}
    for reversal in reversals:
        for line in reversal.lines:
            if line.cost is not None or line.realized_pnl is not None:
                key = (line.ledger_account, line.asset)
                holdings[key] = holdings[key] + Holding(
                    -line.amount, line.cost or ZERO, line.realized_pnl or ZERO
                )
    entries = []
    for trade, lines in planned:
        key = _position_key(trade)
        effect = trade_effect(
            holdings[key],
            quantity=trade.signed_quantity,
            principal=trade.gross_amount,
            currency=trade.currency,
        )
        holdings[key] = holdings[key] + effect
        entries.append(_trade_entry(trade, _with_cost(lines, key, effect)))
    return entries


async def book_trades(
    session: AsyncSession, trades: Sequence[TradeEconomics], *, actor: Actor, now: datetime
) -> None:
    """Post new trades on their trade date: the book's position against the counterparty."""
    if trades:
        await journal.post(
            session, await _priced(session, trades, [], now=now), actor=actor, now=now
        )


async def _live_trade_entry(session: AsyncSession, trade_id: str) -> JournalEntry | None:
    reversed_ids = select(JournalEntry.reverses_id).where(
        JournalEntry.source_type == TRADE_SOURCE,
        JournalEntry.source_id == trade_id,
        JournalEntry.reverses_id.is_not(None),
    )
    statement = select(JournalEntry).where(
        JournalEntry.source_type == TRADE_SOURCE,
        JournalEntry.source_id == trade_id,
        JournalEntry.kind == EntryKind.TRADE.value,
        JournalEntry.id.not_in(reversed_ids),
    )
    return (await session.scalars(statement)).one_or_none()


def _economics(lines: Sequence[Line]) -> list[tuple[str, str, Decimal]]:
    return sorted((line.ledger_account, line.asset, line.amount) for line in lines)


async def rebook_trade(
    session: AsyncSession, trade: TradeEconomics, *, actor: Actor, now: datetime
) -> None:
    """After an amendment: reverse the trade's entry and post the amended one, unless the
    amendment changed nothing the journal shows."""
    live = await _live_trade_entry(session, trade.trade_id)
    reversals: list[NewEntry] = []
    if live is not None:
        posted = await journal.entry_lines(session, live.id)
        if live.value_date == trade.trade_date and _economics(posted) == _economics(
            trade_lines(trade)
        ):
            return
        reversals.append(
            await journal.reversal_of(
                session, live, description=f"Amendment of trade {trade.trade_id}"
            )
        )
    entries = await _priced(session, [trade], reversals, now=now)
    await journal.post(session, [*reversals, *entries], actor=actor, now=now)
    keys = {_position_key(trade)} | {
        (line.ledger_account, line.asset)
        for reversal in reversals
        for line in reversal.lines
        if line.cost is not None
    }
    await _restate(session, keys, trade_id=trade.trade_id, actor=actor, now=now)


async def unbook_trade(
    session: AsyncSession, *, trade_id: str, reason: str, actor: Actor, now: datetime
) -> None:
    """After a cancellation: reverse the trade's entry."""
    live = await _live_trade_entry(session, trade_id)
    if live is not None:
        reversal = await journal.reversal_of(
            session, live, description=f"Cancellation of trade {trade_id}: {reason}"
        )
        await journal.post(session, [reversal], actor=actor, now=now)
        keys = {
            (line.ledger_account, line.asset) for line in reversal.lines if line.cost is not None
        }
        await _restate(session, keys, trade_id=trade_id, actor=actor, now=now)


async def _replayed(session: AsyncSession, key: tuple[str, str]) -> Holding:
    """The position as its live trades and adjustments make it, replayed in journal order: what
    cost and realised P&L should be once an earlier trade is amended or cancelled."""
    account, isin = key
    touching = select(Posting.entry_id).where(
        Posting.ledger_account == account, Posting.asset == isin
    )
    reversed_ids = select(JournalEntry.reverses_id).where(JournalEntry.reverses_id.is_not(None))
    statement = (
        select(JournalEntry.id, JournalEntry.kind, Posting.asset, Posting.amount, Posting.cost)
        .join(Posting, Posting.entry_id == JournalEntry.id)
        .where(
            Posting.ledger_account == account,
            JournalEntry.id.in_(touching),
            JournalEntry.kind.in_([EntryKind.TRADE.value, EntryKind.ADJUSTMENT.value]),
            JournalEntry.id.not_in(reversed_ids),
        )
        .order_by(JournalEntry.accounting_date, JournalEntry.id, Posting.id)
    )
    by_entry: dict[str, list[Any]] = {}
    for row in (await session.execute(statement)).all():
        by_entry.setdefault(row.id, []).append(row)
    holding = Holding()
    for rows in by_entry.values():
        [position] = [row for row in rows if row.asset == isin]
        if position.kind == EntryKind.TRADE.value:
            [principal] = [row for row in rows if not accounts.is_security(row.asset)]
            holding = holding + trade_effect(
                holding,
                quantity=-position.amount,
                principal=abs(principal.amount),
                currency=principal.asset,
            )
        else:
            holding = holding + Holding(-position.amount, position.cost or ZERO, ZERO)
    return holding


async def _restate(
    session: AsyncSession,
    keys: set[tuple[str, str]],
    *,
    trade_id: str,
    actor: Actor,
    now: datetime,
) -> None:
    """After an earlier trade changed, later sells were costed against it: post the difference
    between the position's cost and P&L and what its live trades make them, from today."""
    heads = await balances.lock(session, keys, now=now)
    lines = []
    for key in sorted(keys):
        should_be = await _replayed(session, key)
        stands = _holding(heads[key].totals)
        if should_be.quantity != stands.quantity:
            raise RuntimeError(f"{key}: the journal and its balance disagree on the quantity")
        cost, pnl = should_be.cost - stands.cost, should_be.realized_pnl - stands.realized_pnl
        if cost or pnl:
            lines.append(Line(key[0], key[1], ZERO, cost, pnl))
    if lines:
        entry = NewEntry(
            kind=EntryKind.RESTATEMENT,
            value_date=now.astimezone(UTC).date(),
            description=f"Cost and realised P&L restated after trade {trade_id} changed",
            lines=tuple(lines),
            source_type=TRADE_SOURCE,
            source_id=trade_id,
        )
        await journal.post(session, [entry], actor=actor, now=now)


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


# Settlement ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class SettlementLeg:
    """Where one instruction settles: our accounts, its counterparty of record, its assets."""

    securities_account: str
    cash_account: str
    counterparty: str
    isin: str
    currency: str


async def lock_for_settlement(
    session: AsyncSession, *, legs: Sequence[SettlementLeg], now: datetime
) -> dict[tuple[str, str], Decimal]:
    """Lock, in key order and until the transaction ends, every balance the legs' settlements
    post to, so no other writer spends the same securities or cash meanwhile; answers what our
    safekeeping and cash accounts hold, per (account code, asset)."""
    ours: dict[tuple[str, str], tuple[str, str]] = {}
    keys: set[tuple[str, str]] = set()
    for leg in legs:
        party = accounts.counterparty(leg.counterparty)
        ours[accounts.securities(leg.securities_account), leg.isin] = (
            leg.securities_account,
            leg.isin,
        )
        ours[accounts.cash(leg.cash_account), leg.currency] = (leg.cash_account, leg.currency)
        keys |= {(party, leg.isin), (party, leg.currency)}
    heads = await balances.lock(session, sorted(keys | ours.keys()), now=now)
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
    found = dict.fromkeys(ours.values(), ZERO)
    keys = list(ours)
    for start in range(0, len(keys), 500):
        rows = await session.execute(
            select(LedgerBalance.ledger_account, LedgerBalance.asset, LedgerBalance.posted).where(
                tuple_(LedgerBalance.ledger_account, LedgerBalance.asset).in_(
                    keys[start : start + 500]
                )
            )
        )
        for account, asset, posted in rows.all():
            found[ours[account, asset]] = posted
    return found


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


async def post_settlements(
    session: AsyncSession, *, settlements: Sequence[Settling], actor: Actor, now: datetime
) -> list[SettlementPosted]:
    """Post settlements, full or partial, on their settlement dates: securities and cash
    between our safekeeping and cash accounts and the counterparty's unsettled account. Each
    pending entry named is posted (once); what a partial settlement leaves is expected under a
    new pending entry. A whole batch takes a fixed handful of statements."""
    for settling in settlements:
        _check_settling(settling, now)
    named = [s.pending_id for s in settlements if s.pending_id is not None]
    if len(named) != len(set(named)):
        raise Conflict("A pending entry can be posted only once.")
    lines = [
        tuple(line for movement in s.movements for line in settlement_lines(movement))
        for s in settlements
    ]
    pendings = await journal.lock_pendings(session, named)
    expected = await journal.resolve_pendings(
        session, list(pendings.values()), event=PendingEvent.POSTED, actor=actor, now=now
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
                    ),
                )
            )
    rest_ids = await journal.open_pendings(
        session, [rest for _, rest in rests], actor=actor, now=now
    )
    remainder_of = {index: rest_id for (index, _), rest_id in zip(rests, rest_ids, strict=True)}
    await journal.link_remainders(
        session,
        {str(settlements[index].pending_id): rest_id for index, rest_id in remainder_of.items()},
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
    entry_ids = await journal.post(session, entries, actor=actor, now=now)
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


# Positions and balances ------------------------------------------------------------------------


@dataclass(frozen=True)
class PositionView:
    basis: str
    ledger_account: str
    book: str | None
    account: str | None
    isin: str
    quantity: Decimal
    pending: Decimal | None
    currency: str | None
    average_cost: Decimal | None
    cost: Decimal | None
    realized_pnl: Decimal | None
    as_of: date


async def _balance_page(
    session: AsyncSession,
    *,
    kind: LedgerKind,
    as_of: date,
    reference: str | None,
    asset: str | None,
    securities: bool,
    page: PageRequest,
) -> tuple[list[BalanceRow], str | None]:
    statement = balances.as_of_statement(as_of).join(
        LedgerAccount, LedgerAccount.code == LedgerBalance.ledger_account
    )
    statement = statement.where(LedgerAccount.kind == kind.value)
    statement = statement.where(func.length(LedgerBalance.asset) == (12 if securities else 3))
    if reference is not None:
        statement = statement.where(LedgerAccount.reference == reference)
    if asset is not None:
        statement = statement.where(LedgerBalance.asset == asset)
    rows, cursor = await fetch_row_page(session, statement, LedgerBalance.id, page)
    return [balances.balance_row(row) for row in rows], cursor


async def positions(
    session: AsyncSession,
    *,
    basis: str,
    as_of: date,
    page: PageRequest,
    book: str | None = None,
    account: str | None = None,
    isin: str | None = None,
) -> tuple[list[PositionView], str | None]:
    """Positions as of the end of ``as_of``: per book on the trade-date basis (with average cost
    and realised P&L), per safekeeping account on the settlement-date basis."""
    trade_date = basis == "trade_date"
    rows, cursor = await _balance_page(
        session,
        kind=LedgerKind.BOOK if trade_date else LedgerKind.SECURITIES,
        as_of=as_of,
        reference=book if trade_date else account,
        asset=isin,
        securities=True,
        page=page,
    )
    instruments = await instruments_by_isin(session, isins=(row.asset for row in rows))
    views = []
    for row in rows:
        instrument = instruments.get(row.asset)
        reference = row.ledger_account.partition(":")[2]
        if trade_date:
            holding = _holding(row.totals)
            factor = (
                _PERCENT
                if instrument is not None and instrument.price_basis == PriceBasis.PERCENT
                else Decimal(1)
            )
            views.append(
                PositionView(
                    basis=basis,
                    ledger_account=row.ledger_account,
                    book=reference,
                    account=None,
                    isin=row.asset,
                    quantity=holding.quantity,
                    pending=None,
                    currency=instrument.currency if instrument else None,
                    average_cost=average_cost(holding, price_factor=factor),
                    cost=holding.cost,
                    realized_pnl=holding.realized_pnl,
                    as_of=as_of,
                )
            )
        else:
            views.append(
                PositionView(
                    basis=basis,
                    ledger_account=row.ledger_account,
                    book=None,
                    account=reference,
                    isin=row.asset,
                    quantity=row.totals.posted,
                    pending=row.totals.pending,
                    currency=instrument.currency if instrument else None,
                    average_cost=None,
                    cost=None,
                    realized_pnl=None,
                    as_of=as_of,
                )
            )
    return views, cursor


@dataclass(frozen=True)
class CashBalanceView:
    ledger_account: str
    account: str
    currency: str
    settled: Decimal
    pending: Decimal
    projected: Decimal
    as_of: date


async def cash_balances(
    session: AsyncSession,
    *,
    as_of: date,
    page: PageRequest,
    account: str | None = None,
    currency: str | None = None,
) -> tuple[list[CashBalanceView], str | None]:
    """Settled cash per cash account and currency at the end of ``as_of``, and projected: settled
    plus every expected movement still open that day."""
    rows, cursor = await _balance_page(
        session,
        kind=LedgerKind.CASH,
        as_of=as_of,
        reference=account,
        asset=currency,
        securities=False,
        page=page,
    )
    return [
        CashBalanceView(
            ledger_account=row.ledger_account,
            account=row.ledger_account.partition(":")[2],
            currency=row.asset,
            settled=row.totals.posted,
            pending=row.totals.pending,
            projected=row.totals.posted + row.totals.pending,
            as_of=as_of,
        )
        for row in rows
    ], cursor


# The journal -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class EntryView:
    entry: JournalEntry
    postings: list[Posting]


async def _with_postings(session: AsyncSession, entries: Sequence[JournalEntry]) -> list[EntryView]:
    by_entry: dict[str, list[Posting]] = defaultdict(list)
    if entries:
        postings = await session.scalars(
            select(Posting)
            .where(Posting.entry_id.in_([entry.id for entry in entries]))
            .order_by(Posting.id)
        )
        for posting in postings.all():
            by_entry[posting.entry_id].append(posting)
    return [EntryView(entry, by_entry[entry.id]) for entry in entries]


async def journal_entries(
    session: AsyncSession,
    *,
    page: PageRequest,
    ledger_account: str | None = None,
    asset: str | None = None,
    kind: EntryKind | None = None,
    source_id: str | None = None,
    from_date: date | None = None,
    to_date: date | None = None,
) -> tuple[list[EntryView], str | None]:
    statement = select(JournalEntry)
    if ledger_account is not None or asset is not None:
        touching = select(Posting.entry_id)
        if ledger_account is not None:
            touching = touching.where(Posting.ledger_account == ledger_account)
        if asset is not None:
            touching = touching.where(Posting.asset == asset)
        statement = statement.where(JournalEntry.id.in_(touching))
    if kind is not None:
        statement = statement.where(JournalEntry.kind == kind.value)
    if source_id is not None:
        statement = statement.where(JournalEntry.source_id == source_id)
    if from_date is not None:
        statement = statement.where(JournalEntry.accounting_date >= from_date)
    if to_date is not None:
        statement = statement.where(JournalEntry.accounting_date <= to_date)
    entries, cursor = await fetch_page(session, statement, JournalEntry.id, page)
    return await _with_postings(session, entries), cursor


async def journal_entry(session: AsyncSession, *, entry_id: str) -> EntryView:
    entry = await journal.get_entry(session, entry_id)
    [view] = await _with_postings(session, [entry])
    return view


async def reversed_by(session: AsyncSession, entry_ids: Sequence[str]) -> dict[str, str]:
    """For each of these entries that was reversed, the reversing entry's id."""
    if not entry_ids:
        return {}
    rows = await session.execute(
        select(JournalEntry.reverses_id, JournalEntry.id).where(
            JournalEntry.reverses_id.in_(list(entry_ids))
        )
    )
    return {original: reversal for original, reversal in rows.all() if original}


async def ledger_accounts(
    session: AsyncSession, *, page: PageRequest, kind: LedgerKind | None = None
) -> tuple[Sequence[LedgerAccount], str | None]:
    statement = select(LedgerAccount)
    if kind is not None:
        statement = statement.where(LedgerAccount.kind == kind.value)
    return await fetch_page(session, statement, LedgerAccount.code, page)
