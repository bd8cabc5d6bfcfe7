"""CSDR cash penalties: penalty runs (one per business day, on the run framework) and penalties

One penalty per instruction, business day and kind (settlement_fail, late_matching_fail) among
the active ones, so that a run is idempotent per date; a correction reverses a penalty (status
reversed, with its reversing journal entry), never edits it.

Revision ID: 0027p
Revises: 0027e
Create Date: 2026-12-07
"""

from collections.abc import Sequence

import sqlalchemy as sa

import app.core.types
from alembic import op

revision: str = "0027p"
down_revision: str | None = "0027e"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_ACTIVE = sa.text("status = 'active'")


def _runs() -> None:
    op.create_table(
        "penalty_runs",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("settlement_date", sa.Date(), nullable=False),
        sa.Column("booked", sa.Integer(), nullable=False),
        sa.Column("reversed", sa.Integer(), nullable=False),
        sa.Column("exceptions", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=12), nullable=False),
        sa.Column("total", sa.Integer(), nullable=False),
        sa.Column("processed", sa.Integer(), nullable=False),
        sa.Column("report", sa.JSON(), nullable=False),
        sa.Column("error", sa.String(length=500), nullable=True),
        sa.Column("created_at", app.core.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("created_by", sa.String(length=64), nullable=False),
        sa.Column("finished_at", app.core.types.UTCDateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_penalty_runs")),
    )
    with op.batch_alter_table("penalty_runs", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_penalty_runs_settlement_date"), ["settlement_date"], unique=False
        )


def upgrade() -> None:
    _runs()
    op.create_table(
        "penalties",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("instruction_id", sa.String(length=40), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("payer", sa.String(length=12), nullable=False),
        sa.Column("counterparty_lei", sa.String(length=20), nullable=False),
        sa.Column("isin", sa.String(length=12), nullable=False),
        sa.Column("reason", sa.String(length=20), nullable=False),
        sa.Column("fail_reason", sa.String(length=35), nullable=True),
        sa.Column("quantity", app.core.types.ExactDecimal(), nullable=False),
        sa.Column("reference_price", app.core.types.ExactDecimal(), nullable=True),
        sa.Column("basis", app.core.types.ExactDecimal(), nullable=False),
        sa.Column("rate", app.core.types.ExactDecimal(), nullable=False),
        sa.Column("rate_divisor", sa.Integer(), nullable=False),
        sa.Column("amount", app.core.types.ExactDecimal(), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("run_id", sa.String(length=40), nullable=True),
        sa.Column("journal_entry_id", sa.String(length=40), nullable=False),
        sa.Column("reversal_entry_id", sa.String(length=40), nullable=True),
        sa.Column("reversal_reason", sa.String(length=200), nullable=True),
        sa.Column("reversed_at", app.core.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("created_at", app.core.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["counterparty_lei"],
            ["counterparties.lei"],
            name=op.f("fk_penalties_counterparty_lei_counterparties"),
        ),
        sa.ForeignKeyConstraint(
            ["instruction_id"],
            ["settlement_instructions.id"],
            name=op.f("fk_penalties_instruction_id_settlement_instructions"),
        ),
        sa.ForeignKeyConstraint(
            ["run_id"], ["penalty_runs.id"], name=op.f("fk_penalties_run_id_penalty_runs")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_penalties")),
    )
    with op.batch_alter_table("penalties", schema=None) as batch_op:
        batch_op.create_index(
            "uq_penalties_active",
            ["instruction_id", "day", "kind"],
            unique=True,
            postgresql_where=_ACTIVE,
            sqlite_where=_ACTIVE,
        )
        batch_op.create_index(batch_op.f("ix_penalties_day_id"), ["day", "id"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_penalties_counterparty_lei_day"),
            ["counterparty_lei", "day"],
            unique=False,
        )


def downgrade() -> None:
    with op.batch_alter_table("penalties", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_penalties_counterparty_lei_day"))
        batch_op.drop_index(batch_op.f("ix_penalties_day_id"))
        batch_op.drop_index("uq_penalties_active")
    op.drop_table("penalties")
    with op.batch_alter_table("penalty_runs", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_penalty_runs_settlement_date"))
    op.drop_table("penalty_runs")
