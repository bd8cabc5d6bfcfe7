"""Running balances: the totals of every (ledger account, asset), and a row per accounting date
on which they changed, kept in step with the postings under the balance row's lock."""

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import String, Table, and_, bindparam, event, func, select, tuple_, update
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session, SessionTransaction, aliased

from app.core.db import dialect_insert
from app.positions import chart
from app.positions.models import LedgerBalance, LedgerBalanceDay

ZERO = Decimal(0)
_LOCKED = "ledger_balances_locked"
_LOCK_CHUNK = 500

Key = tuple[str, str]  # (ledger account, asset)


@dataclass(frozen=True)
class Totals:
    posted: Decimal = ZERO
    pending: Decimal = ZERO
    cost: Decimal = ZERO
    realized_pnl: Decimal = ZERO

    def __add__(self, other: "Totals") -> "Totals":
        return Totals(
            self.posted + other.posted,
            self.pending + other.pending,
            self.cost + other.cost,
            self.realized_pnl + other.realized_pnl,
        )

    def as_columns(self) -> dict[str, Decimal]:
        return {
            "posted": self.posted,
            "pending": self.pending,
            "cost": self.cost,
            "realized_pnl": self.realized_pnl,
        }


@dataclass
class Head:
    """A locked balance row, as this transaction sees and changes it."""

    id: int
    totals: Totals
    last_date: date | None


@event.listens_for(Session, "after_transaction_end")
def _forget_locks(session: Session, transaction: SessionTransaction) -> None:
    if transaction.parent is None:
        session.info.pop(_LOCKED, None)


def _totals(row: Any) -> Totals:
    return Totals(row.posted, row.pending, row.cost, row.realized_pnl)


async def lock(session: AsyncSession, keys: Iterable[Key], *, now: datetime) -> dict[Key, Head]:
    """Lock (creating where missing) the balance rows of ``keys`` until the transaction ends.

    Rows are locked in key order, so two writers never wait on each other in a circle."""
    locked: dict[Key, Head] = session.info.setdefault(_LOCKED, {})
    wanted = sorted(set(keys) - locked.keys())
    if wanted:
        found = await _select_for_update(session, wanted)
        missing = [key for key in wanted if key not in found]
        if missing:
            await chart.ensure_ledger_accounts(
                session, (account for account, _ in missing), now=now
            )
            empty = Totals().as_columns()
            rows = [
                {
                    "ledger_account": account,
                    "asset": asset,
                    **empty,
                    "last_date": None,
                    "updated_at": now,
                }
                for account, asset in missing
            ]
            statement = dialect_insert(session, LedgerBalance).on_conflict_do_nothing(
                index_elements=["ledger_account", "asset"]
            )
            await session.execute(statement, rows)
            found.update(await _select_for_update(session, missing))
        locked.update(found)
    return {key: locked[key] for key in keys}


_COLUMNS = (
    LedgerBalance.id,
    LedgerBalance.ledger_account,
    LedgerBalance.asset,
    LedgerBalance.posted,
    LedgerBalance.pending,
    LedgerBalance.cost,
    LedgerBalance.realized_pnl,
    LedgerBalance.last_date,
)


def _keyed(session: AsyncSession, keys: Sequence[Key]) -> Any:
    """The balance rows of ``keys``. On PostgreSQL a join to the unnested key arrays: one
    statement prepared once, whatever the number of keys (a row-value IN list is a new
    statement, with two parameters per key, for every count)."""
    if session.get_bind().dialect.name != "postgresql":
        return select(*_COLUMNS).where(
            tuple_(LedgerBalance.ledger_account, LedgerBalance.asset).in_(keys)
        )
    wanted = (
        func.unnest(
            bindparam("accounts", [account for account, _ in keys], type_=ARRAY(String)),
            bindparam("assets", [asset for _, asset in keys], type_=ARRAY(String)),
        )
        .table_valued("account", "asset")
        .render_derived(name="wanted")
    )
    return select(*_COLUMNS).join(
        wanted,
        and_(
            LedgerBalance.ledger_account == wanted.c.account,
            LedgerBalance.asset == wanted.c.asset,
        ),
    )


async def _select_for_update(session: AsyncSession, keys: Sequence[Key]) -> dict[Key, Head]:
    found: dict[Key, Head] = {}
    for start in range(0, len(keys), _LOCK_CHUNK):
        statement = (
            _keyed(session, keys[start : start + _LOCK_CHUNK])
            .order_by(LedgerBalance.ledger_account, LedgerBalance.asset)
            .with_for_update(of=LedgerBalance)
        )
        for row in (await session.execute(statement)).all():
            found[(row.ledger_account, row.asset)] = Head(row.id, _totals(row), row.last_date)
    return found


async def apply(
    session: AsyncSession, deltas: Mapping[tuple[str, str, date], Totals], *, now: datetime
) -> None:
    """Add ``deltas`` (per ledger account, asset and accounting date) to the running balances."""
    if not deltas:
        return
    by_key: dict[Key, list[tuple[date, Totals]]] = defaultdict(list)
    for (account, asset, day), delta in deltas.items():
        by_key[(account, asset)].append((day, delta))
    heads = await lock(session, by_key, now=now)
    day_rows: dict[tuple[int, date], dict[str, Any]] = {}
    for key, changes in by_key.items():
        head = heads[key]
        for day, delta in sorted(changes, key=lambda change: change[0]):
            if head.last_date is not None and day < head.last_date:
                await _backdate(session, head.id, day, delta)
            else:
                head.last_date = day
            head.totals = head.totals + delta
            if day == head.last_date:
                day_rows[(head.id, day)] = {
                    "balance_id": head.id,
                    "as_of_date": day,
                    **head.totals.as_columns(),
                }
    table = LedgerBalance.__table__
    assert isinstance(table, Table)
    await session.execute(
        update(table)
        .where(table.c.id == bindparam("b_id"))
        .values(
            posted=bindparam("b_posted"),
            pending=bindparam("b_pending"),
            cost=bindparam("b_cost"),
            realized_pnl=bindparam("b_realized_pnl"),
            last_date=bindparam("b_last_date"),
            updated_at=bindparam("b_updated_at"),
        ),
        [
            {
                "b_id": head.id,
                **{f"b_{name}": value for name, value in head.totals.as_columns().items()},
                "b_last_date": head.last_date,
                "b_updated_at": now,
            }
            for head in (heads[key] for key in by_key)
        ],
    )
    upsert = dialect_insert(session, LedgerBalanceDay)
    upsert = upsert.on_conflict_do_update(
        index_elements=["balance_id", "as_of_date"],
        set_={name: upsert.excluded[name] for name in Totals().as_columns()},
    )
    if day_rows:  # none when every change was dated before its balance's latest day
        await session.execute(upsert, list(day_rows.values()))


async def _backdate(session: AsyncSession, balance_id: int, day: date, delta: Totals) -> None:
    """A change dated before the balance's latest daily row: that day's row and every later one
    move. Rare (a trade dated ahead of today at its venue, then one for today); done row by row
    in Python because decimals are never added in SQL on SQLite."""
    later = (
        await session.scalars(
            select(LedgerBalanceDay)
            .where(LedgerBalanceDay.balance_id == balance_id, LedgerBalanceDay.as_of_date >= day)
            .order_by(LedgerBalanceDay.as_of_date)
        )
    ).all()
    if not later or later[0].as_of_date != day:
        previous = await session.scalar(
            select(LedgerBalanceDay)
            .where(LedgerBalanceDay.balance_id == balance_id, LedgerBalanceDay.as_of_date < day)
            .order_by(LedgerBalanceDay.as_of_date.desc())
            .limit(1)
        )
        start = _totals(previous) if previous is not None else Totals()
        session.add(
            LedgerBalanceDay(balance_id=balance_id, as_of_date=day, **(start + delta).as_columns())
        )
    for row in later:
        moved = _totals(row) + delta
        row.posted, row.pending = moved.posted, moved.pending
        row.cost, row.realized_pnl = moved.cost, moved.realized_pnl
    await session.flush()


@dataclass(frozen=True)
class BalanceRow:
    balance_id: int
    ledger_account: str
    asset: str
    totals: Totals


def as_of_statement(as_of: date) -> Any:
    """Each balance's daily row at ``as_of``: the latest on or before it (one index probe per
    balance). Balances with no row by then are left out."""
    day = aliased(LedgerBalanceDay)
    latest = (
        select(func.max(day.as_of_date))
        .where(day.balance_id == LedgerBalance.id, day.as_of_date <= as_of)
        .correlate(LedgerBalance)
        .scalar_subquery()
    )
    return select(
        LedgerBalance.id,
        LedgerBalance.ledger_account,
        LedgerBalance.asset,
        LedgerBalanceDay.posted,
        LedgerBalanceDay.pending,
        LedgerBalanceDay.cost,
        LedgerBalanceDay.realized_pnl,
    ).join(
        LedgerBalanceDay,
        and_(
            LedgerBalanceDay.balance_id == LedgerBalance.id, LedgerBalanceDay.as_of_date == latest
        ),
    )


def balance_row(row: Any) -> BalanceRow:
    return BalanceRow(row.id, row.ledger_account, row.asset, _totals(row))
