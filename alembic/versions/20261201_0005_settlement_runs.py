"""Settlement runs; an instruction's hold, last run and settlement day; markets that settle
bilateral instructions internally.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-01 22:18:35.040366
"""

from collections.abc import Sequence

import sqlalchemy as sa

import app.core.types
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "settlement_runs",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("settlement_date", sa.Date(), nullable=False),
        sa.Column("status", sa.String(length=12), nullable=False),
        sa.Column("total", sa.Integer(), nullable=False),
        sa.Column("processed", sa.Integer(), nullable=False),
        sa.Column("settled", sa.Integer(), nullable=False),
        sa.Column("partially_settled", sa.Integer(), nullable=False),
        sa.Column("failed", sa.Integer(), nullable=False),
        sa.Column("report", sa.JSON(), nullable=False),
        sa.Column("error", sa.String(length=500), nullable=True),
        sa.Column("created_at", app.core.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("created_by", sa.String(length=64), nullable=False),
        sa.Column("finished_at", app.core.types.UTCDateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_settlement_runs")),
    )
    with op.batch_alter_table("settlement_runs", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_settlement_runs_settlement_date"), ["settlement_date"], unique=False
        )

    with op.batch_alter_table("markets", schema=None) as batch_op:
        batch_op.add_column(sa.Column("internal_settlement", sa.Boolean(), nullable=True))
    op.execute(sa.text("UPDATE markets SET internal_settlement = :no").bindparams(no=False))
    with op.batch_alter_table("markets", schema=None) as batch_op:
        batch_op.alter_column("internal_settlement", existing_type=sa.Boolean(), nullable=False)

    with op.batch_alter_table("settlement_instructions", schema=None) as batch_op:
        batch_op.add_column(sa.Column("held_from", sa.String(length=20), nullable=True))
        batch_op.add_column(sa.Column("last_run_id", sa.String(length=40), nullable=True))
        batch_op.add_column(sa.Column("settled_on", sa.Date(), nullable=True))
        batch_op.create_index(
            batch_op.f("ix_settlement_instructions_status_priority_created_at_id"),
            ["status", "priority", "created_at", "id"],
            unique=False,
        )


def downgrade() -> None:
    with op.batch_alter_table("settlement_instructions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_settlement_instructions_status_priority_created_at_id"))
        batch_op.drop_column("settled_on")
        batch_op.drop_column("last_run_id")
        batch_op.drop_column("held_from")

    with op.batch_alter_table("markets", schema=None) as batch_op:
        batch_op.drop_column("internal_settlement")

    with op.batch_alter_table("settlement_runs", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_settlement_runs_settlement_date"))

    op.drop_table("settlement_runs")
