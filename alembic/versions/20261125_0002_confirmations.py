"""Confirmation matching: confirmations, matching tolerances, affirmation-overdue flag.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-25 10:12:55.762810
"""

from collections.abc import Sequence

import sqlalchemy as sa

import app.core.types
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "matching_tolerances",
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("price_abs", app.core.types.ExactDecimal(), nullable=False),
        sa.Column("net_amount_abs", app.core.types.ExactDecimal(), nullable=True),
        sa.Column("net_amount_bps", app.core.types.ExactDecimal(), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("created_at", app.core.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", app.core.types.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("currency", name=op.f("pk_matching_tolerances")),
    )
    op.create_table(
        "confirmations",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("confirmation_id", sa.String(length=64), nullable=False),
        sa.Column("counterparty_lei", sa.String(length=20), nullable=False),
        sa.Column("trade_reference", sa.String(length=64), nullable=True),
        sa.Column("isin", sa.String(length=12), nullable=False),
        sa.Column("side", sa.String(length=4), nullable=False),
        sa.Column("quantity", app.core.types.ExactDecimal(), nullable=False),
        sa.Column("price", app.core.types.ExactDecimal(), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("trade_date", sa.Date(), nullable=False),
        sa.Column("settlement_date", sa.Date(), nullable=False),
        sa.Column("net_amount", app.core.types.ExactDecimal(), nullable=False),
        sa.Column("status", sa.String(length=12), nullable=False),
        sa.Column("trade_id", sa.String(length=40), nullable=True),
        sa.Column("reasons", sa.JSON(), nullable=False),
        sa.Column("candidates", sa.JSON(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("received_at", app.core.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", app.core.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("received_by", sa.String(length=64), nullable=False),
        sa.Column("force_match_proposed_by", sa.String(length=64), nullable=True),
        sa.Column("force_match_reason", sa.String(length=500), nullable=True),
        sa.Column(
            "force_match_proposed_at", app.core.types.UTCDateTime(timezone=True), nullable=True
        ),
        sa.Column("force_match_trade_id", sa.String(length=40), nullable=True),
        sa.Column("force_match_approved_by", sa.String(length=64), nullable=True),
        sa.ForeignKeyConstraint(
            ["counterparty_lei"],
            ["counterparties.lei"],
            name=op.f("fk_confirmations_counterparty_lei_counterparties"),
        ),
        sa.ForeignKeyConstraint(
            ["trade_id"], ["trades.id"], name=op.f("fk_confirmations_trade_id_trades")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_confirmations")),
        sa.UniqueConstraint(
            "counterparty_lei",
            "confirmation_id",
            name=op.f("uq_confirmations_counterparty_lei_confirmation_id"),
        ),
    )
    with op.batch_alter_table("confirmations", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_confirmations_counterparty_lei_status"),
            ["counterparty_lei", "status"],
            unique=False,
        )
        batch_op.create_index(
            batch_op.f("ix_confirmations_status_received_at"),
            ["status", "received_at"],
            unique=False,
        )
        batch_op.create_index(batch_op.f("ix_confirmations_trade_id"), ["trade_id"], unique=False)

    with op.batch_alter_table("trades", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                "affirmation_overdue_at", app.core.types.UTCDateTime(timezone=True), nullable=True
            )
        )
        batch_op.drop_index(batch_op.f("ix_trades_counterparty_lei"))
        batch_op.create_index(
            batch_op.f("ix_trades_counterparty_lei_isin_trade_date"),
            ["counterparty_lei", "isin", "trade_date"],
            unique=False,
        )


def downgrade() -> None:
    with op.batch_alter_table("trades", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_trades_counterparty_lei_isin_trade_date"))
        batch_op.create_index(
            batch_op.f("ix_trades_counterparty_lei"), ["counterparty_lei"], unique=False
        )
        batch_op.drop_column("affirmation_overdue_at")

    with op.batch_alter_table("confirmations", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_confirmations_trade_id"))
        batch_op.drop_index(batch_op.f("ix_confirmations_status_received_at"))
        batch_op.drop_index(batch_op.f("ix_confirmations_counterparty_lei_status"))

    op.drop_table("confirmations")
    op.drop_table("matching_tolerances")
