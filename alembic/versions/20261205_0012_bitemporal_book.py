"""The bitemporal book: balances dated by effective date (trade date, value date) whenever the
entry was booked; a trade's execution time on its entry, the order of cost and realised P&L

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-05
"""

from collections import defaultdict
from collections.abc import Sequence
from datetime import date, datetime
from decimal import Decimal
from typing import Any

import sqlalchemy as sa

import app.core.types
from alembic import op

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_AMOUNT = app.core.types.ExactDecimal()
_TIME = app.core.types.UTCDateTime(timezone=True)
_TOTALS = ("posted", "pending", "cost", "realized_pnl")

_entries = sa.table(
    "journal_entries",
    sa.column("id", sa.String),
    sa.column("kind", sa.String),
    sa.column("value_date", sa.Date),
    sa.column("effective_at", _TIME),
)
_postings = sa.table(
    "postings",
    sa.column("entry_id", sa.String),
    sa.column("ledger_account", sa.String),
    sa.column("asset", sa.String),
    sa.column("amount", _AMOUNT),
    sa.column("cost", _AMOUNT),
    sa.column("realized_pnl", _AMOUNT),
)
_pendings = sa.table(
    "pending_entries",
    sa.column("id", sa.String),
    sa.column("status", sa.String),
    sa.column("opened_on", sa.Date),
    sa.column("resolved_on", sa.Date),
)
_pending_postings = sa.table(
    "pending_postings",
    sa.column("pending_id", sa.String),
    sa.column("ledger_account", sa.String),
    sa.column("asset", sa.String),
    sa.column("amount", _AMOUNT),
)
_balances = sa.table(
    "ledger_balances",
    sa.column("id", sa.Integer),
    sa.column("ledger_account", sa.String),
    sa.column("asset", sa.String),
    sa.column("last_date", sa.Date),
    sa.column("last_trade_at", _TIME),
)
_days = sa.table(
    "ledger_balance_days",
    sa.column("balance_id", sa.Integer),
    sa.column("as_of_date", sa.Date),
    *(sa.column(name, _AMOUNT) for name in _TOTALS),
)

Changes = dict[tuple[str, str], dict[date, list[Decimal]]]


def _add(changes: Changes, key: tuple[str, str], day: date, delta: Sequence[Decimal]) -> None:
    totals = changes[key].setdefault(day, [Decimal(0)] * 4)
    for index, value in enumerate(delta):
        totals[index] += value


def _changes(bind: Any) -> tuple[Changes, dict[tuple[str, str], datetime]]:
    """Every balance's change per effective date, from the postings and pending postings; and
    per balance the latest execution time of a trade posted to it."""
    changes: Changes = defaultdict(dict)
    last_trade_at: dict[tuple[str, str], datetime] = {}
    postings = sa.select(
        _postings.c.ledger_account,
        _postings.c.asset,
        _postings.c.amount,
        _postings.c.cost,
        _postings.c.realized_pnl,
        _entries.c.kind,
        _entries.c.value_date,
        _entries.c.effective_at,
    ).join(_entries, _entries.c.id == _postings.c.entry_id)
    zero = Decimal(0)
    for row in bind.execute(postings):
        key = (row.ledger_account, row.asset)
        _add(
            changes,
            key,
            row.value_date,
            (row.amount, zero, row.cost or zero, row.realized_pnl or zero),
        )
        if row.kind == "trade" and row.effective_at is not None:
            last_trade_at[key] = max(row.effective_at, last_trade_at.get(key, row.effective_at))
    pendings = sa.select(
        _pending_postings.c.ledger_account,
        _pending_postings.c.asset,
        _pending_postings.c.amount,
        _pendings.c.status,
        _pendings.c.opened_on,
        _pendings.c.resolved_on,
    ).join(_pendings, _pendings.c.id == _pending_postings.c.pending_id)
    for row in bind.execute(pendings):
        key = (row.ledger_account, row.asset)
        _add(changes, key, row.opened_on, (zero, row.amount, zero, zero))
        if row.status != "open" and row.resolved_on is not None:
            _add(changes, key, row.resolved_on, (zero, -row.amount, zero, zero))
    return changes, last_trade_at


def _rebuild_daily_rows(bind: Any) -> None:
    """Daily rows were keyed by the day an entry was first shown; they become keyed by its
    effective date. Decimals are added in Python: SQLite stores them as text."""
    changes, last_trade_at = _changes(bind)
    bind.execute(sa.delete(_days))
    for balance in bind.execute(sa.select(_balances)).all():
        key = (balance.ledger_account, balance.asset)
        running = [Decimal(0)] * 4
        rows = []
        for day in sorted(changes.get(key, {})):
            running = [a + b for a, b in zip(running, changes[key][day], strict=True)]
            rows.append(
                {
                    "balance_id": balance.id,
                    "as_of_date": day,
                    **dict(zip(_TOTALS, running, strict=True)),
                }
            )
        if rows:
            bind.execute(sa.insert(_days), rows)
        bind.execute(
            sa.update(_balances)
            .where(_balances.c.id == balance.id)
            .values(
                last_date=rows[-1]["as_of_date"] if rows else None,
                last_trade_at=last_trade_at.get(key),
            )
        )


def upgrade() -> None:
    op.add_column("journal_entries", sa.Column("effective_at", _TIME, nullable=True))
    op.create_index("ix_journal_entries_created_at", "journal_entries", ["created_at"])
    op.create_index("ix_journal_entries_value_date", "journal_entries", ["value_date"])
    op.add_column("ledger_balances", sa.Column("last_trade_at", _TIME, nullable=True))
    op.create_index("ix_pending_entries_created_at", "pending_entries", ["created_at"])
    op.create_index("ix_pending_entries_resolved_at", "pending_entries", ["resolved_at"])
    # A trade's entries (and their reversals) take effect at its execution time: the one time
    # the append-only journal is written to, a new column filled in once.
    postgres = op.get_bind().dialect.name == "postgresql"
    if postgres:
        op.execute("ALTER TABLE journal_entries DISABLE TRIGGER journal_entries_append_only")
    op.execute(
        """
        UPDATE journal_entries SET effective_at = (
            SELECT t.trade_time FROM trades t WHERE t.id = journal_entries.source_id
        )
        WHERE source_type = 'trade' AND kind IN ('trade', 'reversal')
        """
    )
    if postgres:
        op.execute("ALTER TABLE journal_entries ENABLE TRIGGER journal_entries_append_only")
    # A posted settlement stops being expected on its value date, not on the day it was booked.
    op.execute(
        """
        UPDATE pending_entries SET resolved_on = (
            SELECT CASE WHEN e.value_date > pending_entries.opened_on
                        THEN e.value_date ELSE pending_entries.opened_on END
            FROM journal_entries e WHERE e.pending_id = pending_entries.id
        )
        WHERE status = 'posted'
          AND EXISTS (SELECT 1 FROM journal_entries e WHERE e.pending_id = pending_entries.id)
        """
    )
    _rebuild_daily_rows(op.get_bind())


def downgrade() -> None:
    op.drop_index("ix_pending_entries_resolved_at", table_name="pending_entries")
    op.drop_index("ix_pending_entries_created_at", table_name="pending_entries")
    op.drop_column("ledger_balances", "last_trade_at")
    op.drop_index("ix_journal_entries_value_date", table_name="journal_entries")
    op.drop_index("ix_journal_entries_created_at", table_name="journal_entries")
    op.drop_column("journal_entries", "effective_at")
