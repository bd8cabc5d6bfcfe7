"""Clearing and instructions: clearing runs, obligations and their trades, settlement
instructions; the markets a securities account serves; a trade's obligation and counterparty of
record.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-25 12:09:41.925719
"""

from collections.abc import Sequence

import sqlalchemy as sa

import app.core.types
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "clearing_runs",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("settlement_date", sa.Date(), nullable=False),
        sa.Column("status", sa.String(length=12), nullable=False),
        sa.Column("total", sa.Integer(), nullable=False),
        sa.Column("processed", sa.Integer(), nullable=False),
        sa.Column("obligations", sa.Integer(), nullable=False),
        sa.Column("instructions", sa.Integer(), nullable=False),
        sa.Column("report", sa.JSON(), nullable=False),
        sa.Column("error", sa.String(length=500), nullable=True),
        sa.Column("created_at", app.core.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("created_by", sa.String(length=64), nullable=False),
        sa.Column("finished_at", app.core.types.UTCDateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_clearing_runs")),
    )
    with op.batch_alter_table("clearing_runs", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_clearing_runs_settlement_date"), ["settlement_date"], unique=False
        )

    op.create_table(
        "obligations",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("run_id", sa.String(length=40), nullable=False),
        sa.Column("netting_key", sa.String(length=300), nullable=False),
        sa.Column("netting_set", sa.String(length=10), nullable=False),
        sa.Column("counterparty_lei", sa.String(length=20), nullable=False),
        sa.Column("securities_account", sa.String(length=40), nullable=False),
        sa.Column("cash_account", sa.String(length=40), nullable=False),
        sa.Column("isin", sa.String(length=12), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("settlement_date", sa.Date(), nullable=False),
        sa.Column("net_quantity", app.core.types.ExactDecimal(), nullable=False),
        sa.Column("net_amount", app.core.types.ExactDecimal(), nullable=False),
        sa.Column("gross_quantity", app.core.types.ExactDecimal(), nullable=False),
        sa.Column("gross_amount", app.core.types.ExactDecimal(), nullable=False),
        sa.Column("trade_count", sa.Integer(), nullable=False),
        sa.Column("direction", sa.String(length=10), nullable=False),
        sa.Column("created_at", app.core.types.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["cash_account"], ["accounts.code"], name=op.f("fk_obligations_cash_account_accounts")
        ),
        sa.ForeignKeyConstraint(
            ["counterparty_lei"],
            ["counterparties.lei"],
            name=op.f("fk_obligations_counterparty_lei_counterparties"),
        ),
        sa.ForeignKeyConstraint(
            ["isin"], ["instruments.isin"], name=op.f("fk_obligations_isin_instruments")
        ),
        sa.ForeignKeyConstraint(
            ["run_id"], ["clearing_runs.id"], name=op.f("fk_obligations_run_id_clearing_runs")
        ),
        sa.ForeignKeyConstraint(
            ["securities_account"],
            ["accounts.code"],
            name=op.f("fk_obligations_securities_account_accounts"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_obligations")),
        sa.UniqueConstraint(
            "run_id", "netting_key", name=op.f("uq_obligations_run_id_netting_key")
        ),
    )
    with op.batch_alter_table("obligations", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_obligations_run_id"), ["run_id"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_obligations_settlement_date_counterparty_lei"),
            ["settlement_date", "counterparty_lei"],
            unique=False,
        )

    op.create_table(
        "obligation_trades",
        sa.Column("trade_id", sa.String(length=40), nullable=False),
        sa.Column("obligation_id", sa.String(length=40), nullable=False),
        sa.Column("original_counterparty_lei", sa.String(length=20), nullable=False),
        sa.Column("novated", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(
            ["obligation_id"],
            ["obligations.id"],
            name=op.f("fk_obligation_trades_obligation_id_obligations"),
        ),
        sa.ForeignKeyConstraint(
            ["trade_id"], ["trades.id"], name=op.f("fk_obligation_trades_trade_id_trades")
        ),
        sa.PrimaryKeyConstraint("trade_id", name=op.f("pk_obligation_trades")),
    )
    with op.batch_alter_table("obligation_trades", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_obligation_trades_obligation_id"), ["obligation_id"], unique=False
        )

    op.create_table(
        "settlement_instructions",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("obligation_id", sa.String(length=40), nullable=False),
        sa.Column("delivery_type", sa.String(length=4), nullable=False),
        sa.Column("isin", sa.String(length=12), nullable=False),
        sa.Column("quantity", app.core.types.ExactDecimal(), nullable=False),
        sa.Column("amount", app.core.types.ExactDecimal(), nullable=False),
        sa.Column("credit_debit", sa.String(length=4), nullable=True),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("securities_account", sa.String(length=40), nullable=False),
        sa.Column("cash_account", sa.String(length=40), nullable=False),
        sa.Column("counterparty_lei", sa.String(length=20), nullable=False),
        sa.Column("ccp", sa.Boolean(), nullable=False),
        sa.Column("counterparty_ssi", sa.JSON(), nullable=True),
        sa.Column("intended_settlement_date", sa.Date(), nullable=False),
        sa.Column("priority", sa.Integer(), nullable=False),
        sa.Column("partial_allowed", sa.Boolean(), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("repair_reasons", sa.JSON(), nullable=False),
        sa.Column("settled_quantity", app.core.types.ExactDecimal(), nullable=False),
        sa.Column("settled_amount", app.core.types.ExactDecimal(), nullable=False),
        sa.Column("fail_reason", sa.String(length=4), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("created_at", app.core.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", app.core.types.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["cash_account"],
            ["accounts.code"],
            name=op.f("fk_settlement_instructions_cash_account_accounts"),
        ),
        sa.ForeignKeyConstraint(
            ["counterparty_lei"],
            ["counterparties.lei"],
            name=op.f("fk_settlement_instructions_counterparty_lei_counterparties"),
        ),
        sa.ForeignKeyConstraint(
            ["isin"], ["instruments.isin"], name=op.f("fk_settlement_instructions_isin_instruments")
        ),
        sa.ForeignKeyConstraint(
            ["obligation_id"],
            ["obligations.id"],
            name=op.f("fk_settlement_instructions_obligation_id_obligations"),
        ),
        sa.ForeignKeyConstraint(
            ["securities_account"],
            ["accounts.code"],
            name=op.f("fk_settlement_instructions_securities_account_accounts"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_settlement_instructions")),
        sa.UniqueConstraint("obligation_id", name=op.f("uq_settlement_instructions_obligation_id")),
    )
    with op.batch_alter_table("settlement_instructions", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_settlement_instructions_counterparty_lei_status"),
            ["counterparty_lei", "status"],
            unique=False,
        )
        batch_op.create_index(
            batch_op.f("ix_settlement_instructions_status_intended_settlement_date"),
            ["status", "intended_settlement_date"],
            unique=False,
        )

    with op.batch_alter_table("accounts", schema=None) as batch_op:
        batch_op.add_column(sa.Column("markets", sa.JSON(), nullable=True))
    op.execute("UPDATE accounts SET markets = '[]'")
    with op.batch_alter_table("accounts", schema=None) as batch_op:
        batch_op.alter_column("markets", existing_type=sa.JSON(), nullable=False)

    with op.batch_alter_table("trades", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("counterparty_of_record", sa.String(length=20), nullable=True)
        )
        batch_op.add_column(sa.Column("obligation_id", sa.String(length=40), nullable=True))
        batch_op.create_index(
            batch_op.f("ix_trades_obligation_id"), ["obligation_id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("trades", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_trades_obligation_id"))
        batch_op.drop_column("obligation_id")
        batch_op.drop_column("counterparty_of_record")

    with op.batch_alter_table("accounts", schema=None) as batch_op:
        batch_op.drop_column("markets")

    with op.batch_alter_table("settlement_instructions", schema=None) as batch_op:
        batch_op.drop_index(
            batch_op.f("ix_settlement_instructions_status_intended_settlement_date")
        )
        batch_op.drop_index(batch_op.f("ix_settlement_instructions_counterparty_lei_status"))

    op.drop_table("settlement_instructions")
    with op.batch_alter_table("obligation_trades", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_obligation_trades_obligation_id"))

    op.drop_table("obligation_trades")
    with op.batch_alter_table("obligations", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_obligations_settlement_date_counterparty_lei"))
        batch_op.drop_index(batch_op.f("ix_obligations_run_id"))

    op.drop_table("obligations")
    with op.batch_alter_table("clearing_runs", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_clearing_runs_settlement_date"))

    op.drop_table("clearing_runs")
