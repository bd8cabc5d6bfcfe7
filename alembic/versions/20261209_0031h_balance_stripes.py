"""Striped balances: a balance every trade moves (a counterparty's, commission, fees, a book's
cash) may be held in several rows, summed on read, so concurrent writers each take a row of their
own instead of queueing on one. Existing balances become stripe 0.

Revision ID: 0031h
Revises: 0030l
Create Date: 2026-12-09
"""

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

import sqlalchemy as sa

from alembic import op

revision: str = "0031h"
down_revision: str | None = "0030l"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


@contextmanager
def _balances_rebuilt() -> Iterator[Any]:
    """The balances table altered. SQLite rebuilds it (copy, drop, rename): its daily rows,
    which point at it, are set aside meanwhile (a drop under them would orphan them for good in
    SQLite's eyes) and put back after, the ids being copied unchanged."""
    sqlite = op.get_bind().dialect.name == "sqlite"
    if sqlite:
        op.execute("CREATE TEMP TABLE balance_days_aside AS SELECT * FROM ledger_balance_days")
        op.execute("DELETE FROM ledger_balance_days")
    with op.batch_alter_table("ledger_balances", schema=None) as batch_op:
        yield batch_op
    if sqlite:
        op.execute("INSERT INTO ledger_balance_days SELECT * FROM balance_days_aside")
        op.execute("DROP TABLE balance_days_aside")


def upgrade() -> None:
    with _balances_rebuilt() as batch_op:
        batch_op.add_column(sa.Column("stripe", sa.Integer(), server_default="0", nullable=False))
        batch_op.drop_constraint("uq_ledger_balances_ledger_account_asset", type_="unique")
        batch_op.create_unique_constraint(
            batch_op.f("uq_ledger_balances_ledger_account_asset_stripe"),
            ["ledger_account", "asset", "stripe"],
        )


def downgrade() -> None:
    _fold_stripes()
    with _balances_rebuilt() as batch_op:
        batch_op.drop_constraint("uq_ledger_balances_ledger_account_asset_stripe", type_="unique")
        batch_op.create_unique_constraint(
            batch_op.f("uq_ledger_balances_ledger_account_asset"), ["ledger_account", "asset"]
        )
        batch_op.drop_column("stripe")


def _fold_stripes() -> None:
    """Back to one row per balance: stripes exist only on PostgreSQL (numeric sums in SQL are
    exact there), folded into stripe 0, daily rows included, before the other stripes go."""
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute(
        """
        WITH keyed AS (
            SELECT b.ledger_account, b.asset, d.as_of_date
            FROM ledger_balance_days d JOIN ledger_balances b ON b.id = d.balance_id
            GROUP BY 1, 2, 3
        ), summed AS (
            SELECT k.ledger_account, k.asset, k.as_of_date,
                   sum(d.posted) AS posted, sum(d.pending) AS pending,
                   sum(d.cost) AS cost, sum(d.realized_pnl) AS realized_pnl
            FROM keyed k
            JOIN ledger_balances s ON s.ledger_account = k.ledger_account AND s.asset = k.asset
            JOIN LATERAL (
                SELECT * FROM ledger_balance_days x
                WHERE x.balance_id = s.id AND x.as_of_date <= k.as_of_date
                ORDER BY x.as_of_date DESC LIMIT 1
            ) d ON true
            GROUP BY 1, 2, 3
        )
        INSERT INTO ledger_balance_days (balance_id, as_of_date, posted, pending, cost,
                                         realized_pnl)
        SELECT z.id, s.as_of_date, s.posted, s.pending, s.cost, s.realized_pnl
        FROM summed s
        JOIN ledger_balances z
          ON z.ledger_account = s.ledger_account AND z.asset = s.asset AND z.stripe = 0
        ON CONFLICT (balance_id, as_of_date) DO UPDATE SET
            posted = excluded.posted, pending = excluded.pending,
            cost = excluded.cost, realized_pnl = excluded.realized_pnl
        """
    )
    op.execute(
        """
        UPDATE ledger_balances z SET
            posted = s.posted, pending = s.pending, cost = s.cost,
            realized_pnl = s.realized_pnl, last_date = s.last_date
        FROM (
            SELECT ledger_account, asset, sum(posted) AS posted, sum(pending) AS pending,
                   sum(cost) AS cost, sum(realized_pnl) AS realized_pnl,
                   max(last_date) AS last_date
            FROM ledger_balances GROUP BY 1, 2
        ) s
        WHERE z.ledger_account = s.ledger_account AND z.asset = s.asset AND z.stripe = 0
        """
    )
    op.execute(
        "DELETE FROM ledger_balance_days WHERE balance_id IN "
        "(SELECT id FROM ledger_balances WHERE stripe <> 0)"
    )
    op.execute("DELETE FROM ledger_balances WHERE stripe <> 0")
