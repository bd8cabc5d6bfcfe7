"""Running balances: the totals of every (ledger account, asset), and a row per accounting date
on which they changed, kept in step with the postings under the lock of the balance row (or of
the stripe) they change; and the positions and cash balances read from them as of any day."""

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from functools import lru_cache
from typing import Any

from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session, SessionTransaction

from app.core.errors import FieldProblem, ValidationFailed
from app.core.pagination import PageRequest
from app.positions.balances import repository
from app.positions.balances.repository import BalanceRow
from app.positions.balances.repository import Head as Head  # what lock answers, per balance
from app.positions.balances.totals import ZERO, Key, Totals, book_holding
from app.positions.costing import average_cost
from app.positions.ledger_accounts import service as ledger_accounts
from app.positions.ledger_accounts.codes import LedgerKind, is_security, parse
from app.reference.instruments.schemas import PriceBasis
from app.reference.instruments.service import instruments_by_isin

_LOCKED = "ledger_balances_locked"
_CLAIMED = "ledger_balances_claimed"
# Balances whose whole must be seen by a writer: what our safekeeping and cash accounts hold
# (a settlement spends it), and a book's position in a security (a trade is costed against it).
_WHOLE = frozenset({LedgerKind.SECURITIES, LedgerKind.CASH})
_PERCENT = Decimal("0.01")


@event.listens_for(Session, "after_transaction_end")
def _forget_locks(session: Session, transaction: SessionTransaction) -> None:
    if transaction.parent is None:
        session.info.pop(_LOCKED, None)
        session.info.pop(_CLAIMED, None)


async def lock(
    session: AsyncSession, keys: Iterable[Key], *, now: datetime, spread: Iterable[Key] = ()
) -> dict[Key, Head]:
    """Lock (creating where missing) the stripe-0 rows of ``keys`` until the transaction ends.

    Missing rows are created first, in key order, before any row is locked; then every row is
    locked in key order. A writer thus waits on another's new row only before it holds a lock,
    and on another's lock only once every row it wants exists: never in a circle. (Creating a
    row after locking others let two writers wait on each other: one on the other's
    uncommitted new row, the other in the first's queue of row locks.) A row locked once in a
    transaction is not locked again: this transaction's view of it is kept.

    ``spread``: balances the transaction goes on to change (``apply``) whose stripes it may
    claim now, in the same statement (PostgreSQL): one round trip fewer. Claiming never waits,
    so it changes nothing of the locking order."""
    locked: dict[Key, Head] = session.info.setdefault(_LOCKED, {})
    wanted = sorted(set(keys) - locked.keys())
    claiming = _claimable(session, set(spread) - set(wanted))
    # Mostly every row exists already: then one statement looks and locks.
    heads: dict[Key, Head] | None = None
    if wanted and claiming and len(wanted) <= repository.LOCK_AT_MOST:
        heads, free = await repository.lock_heads_and_claim_stripes(session, wanted, claiming)
        session.info.setdefault(_CLAIMED, {}).update(free)
    elif wanted:
        heads = await repository.lock_heads_when_all_exist(session, wanted)
    if heads is not None:
        locked.update(heads)
    elif wanted:
        existing = await repository.existing_keys(session, wanted)
        missing = [key for key in wanted if key not in existing]
        if missing:
            await ledger_accounts.ensure_ledger_accounts(
                session, (account for account, _ in missing), now=now
            )
            await repository.insert_empty(session, missing, now=now)
        locked.update(await repository.lock_heads(session, wanted))
    return {key: locked[key] for key in keys}


def _claimable(session: AsyncSession, keys: Iterable[Key]) -> list[Key]:
    """Those of ``keys`` that ``apply`` would change on a stripe it claims and that this
    transaction neither holds nor has locked (PostgreSQL; none elsewhere), sorted."""
    if session.get_bind().dialect.name != "postgresql":
        return []
    held = (*session.info.get(_LOCKED, {}), *session.info.get(_CLAIMED, {}))
    return sorted(key for key in set(keys).difference(held) if _stripable(key))


def held_accounts(session: AsyncSession) -> set[str]:
    """The ledger accounts of the balance rows this transaction holds (locked or claimed):
    each exists, the rows' foreign key says so."""
    held = (*session.info.get(_LOCKED, {}), *session.info.get(_CLAIMED, {}))
    return {account for account, _ in held}


@lru_cache(maxsize=8192)  # pure: a capture group asks it of every line, of a few accounts
def _stripable(key: Key) -> bool:
    account, asset = key
    parsed = parse(account)
    if parsed is None or parsed.kind in _WHOLE:
        return False
    return not (parsed.kind == LedgerKind.BOOK and is_security(asset))


async def _claim(session: AsyncSession, keys: Sequence[Key], *, now: datetime) -> dict[Key, Head]:
    """A stripe of each of ``keys`` for this transaction: one it already holds, else the lowest
    no other transaction holds, else a new one. Never waits on another writer's stripe."""
    claimed: dict[Key, Head] = session.info.setdefault(_CLAIMED, {})
    wanted = sorted(set(keys) - claimed.keys())
    if wanted:
        free = await repository.claim_stripes(session, wanted)
        claimed.update(free)
        busy = [key for key in wanted if key not in free]
        if busy:
            claimed.update(await _open(session, busy, now=now))
    return {key: claimed[key] for key in keys}


async def _open(session: AsyncSession, keys: Sequence[Key], *, now: datetime) -> dict[Key, Head]:
    """New stripes: stripe 0 of each balance that has no row yet (its ledger account created if
    need be), another stripe of the others."""
    existing = await repository.existing_keys(session, keys)
    new = [key for key in keys if key not in existing]
    opened: dict[Key, Head] = {}
    if new:
        await ledger_accounts.ensure_ledger_accounts(
            session, (account for account, _ in new), now=now
        )
        opened = await repository.open_first_stripes(session, new, now=now)
    more = [key for key in keys if key not in opened]  # another writer opened it meanwhile
    return opened | (await repository.open_stripes(session, more, now=now) if more else {})


async def _heads(session: AsyncSession, keys: Sequence[Key], *, now: datetime) -> dict[Key, Head]:
    """The row each of ``keys`` is changed on in this transaction: the stripe-0 row where the
    transaction locked it (or the balance must be seen whole), else, on PostgreSQL, a stripe of
    its own."""
    locked: dict[Key, Head] = session.info.get(_LOCKED, {})
    striped = session.get_bind().dialect.name == "postgresql"
    spread = [key for key in keys if key not in locked and striped and _stripable(key)]
    heads = await _claim(session, spread, now=now) if spread else {}
    whole = [key for key in keys if key not in heads]
    return heads | (await lock(session, whole, now=now) if whole else {})


async def apply(
    session: AsyncSession, deltas: Mapping[tuple[str, str, date], Totals], *, now: datetime
) -> None:
    """Add ``deltas`` (per ledger account, asset and accounting date) to the running balances."""
    if not deltas:
        return
    by_key: dict[Key, list[tuple[date, Totals]]] = defaultdict(list)
    for (account, asset, day), delta in deltas.items():
        by_key[(account, asset)].append((day, delta))
    heads = await _heads(session, list(by_key), now=now)
    striped = session.get_bind().dialect.name == "postgresql"
    day_rows: dict[tuple[int, date], dict[str, Any]] = {}
    backdated: list[tuple[int, date, Totals]] = []
    for key, changes in by_key.items():
        head = heads[key]
        for day, delta in sorted(changes, key=lambda change: change[0]):
            if head.last_date is not None and day < head.last_date:
                backdated.append((head.id, day, delta))
            else:
                head.last_date = day
            head.totals = head.totals + delta
            if day == head.last_date:
                day_rows[(head.id, day)] = {
                    "balance_id": head.id,
                    "as_of_date": day,
                    **head.totals.as_columns(),
                }
    if striped:
        # Written with the others below (one statement); a day both move takes its latest.
        moved = await repository.backdated_days(session, backdated)
        day_rows = {(row["balance_id"], row["as_of_date"]): row for row in moved} | day_rows
    else:
        await repository.backdate(session, backdated)
    # No daily row when every change was dated before its balance's latest day.
    await repository.update_heads_and_days(
        session, [heads[key] for key in by_key], list(day_rows.values()), now=now
    )


async def posted(session: AsyncSession, keys: Sequence[Key]) -> dict[Key, Decimal]:
    """What is posted on each of these balances now (zero where there is none), without
    locking: for answers that change nothing."""
    found = await repository.posted_of(session, keys)
    return {key: found.get(key, ZERO) for key in keys}


# Positions and cash balances -------------------------------------------------------------------


def _counted_pending(row: Any, *, known_at: datetime | None, as_of: date) -> Decimal:
    """What one pending posting adds to a projected balance at the end of ``as_of``, as the book
    stood at ``known_at`` (None: now). The caller has kept only those opened by ``as_of``."""
    if known_at is not None and row.created_at > known_at:
        return ZERO
    resolved = row.resolved_at is not None and (known_at is None or row.resolved_at <= known_at)
    return ZERO if resolved and row.resolved_on <= as_of else row.amount


def _canonical_zeros(totals: Totals) -> Totals:
    """A total that comes back to zero reads as the zero it was (0, not 0.00)."""
    return Totals(*(value if value else ZERO for value in totals.as_columns().values()))


async def _as_known_at(
    session: AsyncSession, rows: Sequence[BalanceRow], *, known_at: datetime, as_of: date
) -> list[BalanceRow]:
    """``rows`` (as of the end of ``as_of``, as the book stands now) as the book stood at
    ``known_at``: less what was booked since, with the pending entries opened or resolved since
    counted as they were then. Balances that stood at zero are left out, so the answer does not
    depend on which balances were opened later."""
    keys = [(row.ledger_account, row.asset) for row in rows]
    unknown = await repository.booked_after(session, keys, known_at=known_at, as_of=as_of)
    pending: dict[Key, Decimal] = defaultdict(Decimal)
    for row in await repository.pending_changed_after(
        session, keys, known_at=known_at, as_of=as_of
    ):
        then = _counted_pending(row, known_at=known_at, as_of=as_of)
        pending[(row.ledger_account, row.asset)] += then - _counted_pending(
            row, known_at=None, as_of=as_of
        )
    known = []
    for row in rows:
        key = (row.ledger_account, row.asset)
        totals = _canonical_zeros(
            row.totals - unknown.get(key, Totals()) + Totals(pending=pending[key])
        )
        if totals != Totals():
            known.append(BalanceRow(row.balance_id, row.ledger_account, row.asset, totals))
    return known


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
    known_at: datetime | None


def _check_filters(*, trade_date: bool, book: str | None, account: str | None) -> None:
    if trade_date and account is not None:
        raise ValidationFailed(
            "Filter the trade-date basis by book.",
            errors=[FieldProblem("account", "applies to the settlement-date basis")],
        )
    if not trade_date and book is not None:
        raise ValidationFailed(
            "Filter the settlement-date basis by account.",
            errors=[FieldProblem("book", "applies to the trade-date basis")],
        )


def _trade_date_view(
    row: BalanceRow,
    *,
    currency: str | None,
    in_percent: bool,
    as_of: date,
    known_at: datetime | None,
) -> PositionView:
    holding = book_holding(row.totals)
    return PositionView(
        basis="trade_date",
        ledger_account=row.ledger_account,
        book=row.ledger_account.partition(":")[2],
        account=None,
        isin=row.asset,
        quantity=holding.quantity,
        pending=None,
        currency=currency,
        average_cost=average_cost(holding, price_factor=_PERCENT if in_percent else Decimal(1)),
        cost=holding.cost,
        realized_pnl=holding.realized_pnl,
        as_of=as_of,
        known_at=known_at,
    )


def _settlement_date_view(
    row: BalanceRow, *, currency: str | None, as_of: date, known_at: datetime | None
) -> PositionView:
    return PositionView(
        basis="settlement_date",
        ledger_account=row.ledger_account,
        book=None,
        account=row.ledger_account.partition(":")[2],
        isin=row.asset,
        quantity=row.totals.posted,
        pending=row.totals.pending,
        currency=currency,
        average_cost=None,
        cost=None,
        realized_pnl=None,
        as_of=as_of,
        known_at=known_at,
    )


async def positions(
    session: AsyncSession,
    *,
    basis: str,
    as_of: date,
    page: PageRequest,
    book: str | None = None,
    account: str | None = None,
    isin: str | None = None,
    known_at: datetime | None = None,
) -> tuple[list[PositionView], str | None]:
    """Positions as of the end of ``as_of`` (by trade date, or by settlement date, whenever
    booked), as the book stood at ``known_at`` if given: per book on the trade-date basis (with
    average cost and realised P&L), per safekeeping account on the settlement-date basis
    (filtered by book, or by account, on its own basis only)."""
    trade_date = basis == "trade_date"
    _check_filters(trade_date=trade_date, book=book, account=account)
    rows, cursor = await repository.page_as_of(
        session,
        kind=(LedgerKind.BOOK if trade_date else LedgerKind.SECURITIES).value,
        as_of=as_of,
        reference=book if trade_date else account,
        asset=isin,
        securities=True,
        page=page,
    )
    if known_at is not None:
        rows = await _as_known_at(session, rows, known_at=known_at, as_of=as_of)
    instruments = await instruments_by_isin(session, isins=(row.asset for row in rows))
    views = []
    for row in rows:
        instrument = instruments.get(row.asset)
        currency = instrument.currency if instrument else None
        if trade_date:
            in_percent = instrument is not None and instrument.price_basis == PriceBasis.PERCENT
            views.append(
                _trade_date_view(
                    row, currency=currency, in_percent=in_percent, as_of=as_of, known_at=known_at
                )
            )
        else:
            views.append(
                _settlement_date_view(row, currency=currency, as_of=as_of, known_at=known_at)
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
    known_at: datetime | None


async def cash_balances(
    session: AsyncSession,
    *,
    as_of: date,
    page: PageRequest,
    account: str | None = None,
    currency: str | None = None,
    known_at: datetime | None = None,
) -> tuple[list[CashBalanceView], str | None]:
    """Settled cash per cash account and currency at the end of ``as_of`` (by value date,
    whenever booked), and projected: settled plus every expected movement still open that day;
    as the book stood at ``known_at`` if given."""
    rows, cursor = await repository.page_as_of(
        session,
        kind=LedgerKind.CASH.value,
        as_of=as_of,
        reference=account,
        asset=currency,
        securities=False,
        page=page,
    )
    if known_at is not None:
        rows = await _as_known_at(session, rows, known_at=known_at, as_of=as_of)
    return [
        CashBalanceView(
            ledger_account=row.ledger_account,
            account=row.ledger_account.partition(":")[2],
            currency=row.asset,
            settled=row.totals.posted,
            pending=row.totals.pending,
            projected=row.totals.posted + row.totals.pending,
            as_of=as_of,
            known_at=known_at,
        )
        for row in rows
    ], cursor


# Folding stripes -------------------------------------------------------------------------------


def whole_days(stripes: Sequence[Mapping[date, Totals]]) -> dict[date, Totals]:
    """A balance's daily totals from its stripes' daily rows: on each date any stripe has a
    row, the sum of every stripe's latest row by then (what an as-of read adds up)."""
    days = sorted({day for rows in stripes for day in rows})
    whole: dict[date, Totals] = {}
    for rows in stripes:
        latest: Totals | None = None
        for day in days:
            latest = rows.get(day, latest)
            if latest is not None:
                whole[day] = latest if day not in whole else whole[day] + latest
    return whole


async def fold_stripes(session: AsyncSession, *, now: datetime, limit: int = 500) -> int:
    """Fold spare stripes into their balance's stripe 0, daily rows included, so reads go back
    to one row a balance once the writers that opened them are gone. Takes only rows no other
    transaction holds and never waits: a stripe in use is folded another time. Returns how
    many stripes were folded."""
    spare = await repository.lock_spare_stripes(session, limit=limit)
    if not spare:
        return 0
    by_key: dict[Key, list[Any]] = defaultdict(list)
    for row in spare:
        by_key[(row.ledger_account, row.asset)].append(row)
    heads = await repository.lock_free_heads(session, sorted(by_key))
    folded = [row for key in heads for row in by_key[key]]
    if not folded:
        return 0
    days = await repository.days_of(
        session, [head.id for head in heads.values()] + [row.id for row in folded]
    )
    day_rows = []
    for key, head in heads.items():
        stripes = by_key[key]
        for row in stripes:
            head.totals = head.totals + Totals(row.posted, row.pending, row.cost, row.realized_pnl)
        head.last_date = max(
            (day for day in [head.last_date, *(row.last_date for row in stripes)] if day),
            default=None,
        )
        whole = whole_days([days[head.id], *(days[row.id] for row in stripes)])
        day_rows += [
            {"balance_id": head.id, "as_of_date": day, **totals.as_columns()}
            for day, totals in whole.items()
        ]
    await repository.delete_stripes(session, [row.id for row in folded])
    await repository.update_heads(session, heads.values(), now=now)
    if day_rows:
        await repository.upsert_days(session, day_rows)
    return len(folded)
