"""Partial settlement as data: T2S partial indicators, thresholds and windows

``markets.partial_settlement`` (NPAR, PART, PARQ, PARC): the indicator an instruction on the
market gets by default; existing markets get ``NPAR`` (what instructions were made with until
now: ``partial_allowed`` false). ``markets.partial_cash_thresholds`` (PARC, per currency) and
``markets.partial_settlement_windows`` (local times): none yet, so no threshold and any time.
``counterparties.partial_settlement``: null, the market's. ``instruments.partial_quantity_threshold``
(PARQ): null, one settlement unit.

``settlement_instructions.partial_indicator``: ``PART`` where partial settlement was allowed,
else ``NPAR``; ``partial_allowed`` stays, kept equal to indicator != NPAR.

Revision ID: 0023p
Revises: 0023
Create Date: 2026-12-07
"""

from collections.abc import Sequence

import sqlalchemy as sa

import app.core.types
from alembic import op

revision: str = "0023p"
down_revision: str | None = "0023"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("markets", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                "partial_settlement", sa.String(length=4), server_default="NPAR", nullable=False
            )
        )
        batch_op.add_column(sa.Column("partial_cash_thresholds", sa.JSON(), nullable=True))
        batch_op.add_column(sa.Column("partial_settlement_windows", sa.JSON(), nullable=True))
    markets = sa.table(
        "markets",
        sa.column("partial_cash_thresholds", sa.JSON()),
        sa.column("partial_settlement_windows", sa.JSON()),
    )
    op.execute(sa.update(markets).values(partial_cash_thresholds={}, partial_settlement_windows=[]))
    with op.batch_alter_table("markets", schema=None) as batch_op:
        batch_op.alter_column("partial_cash_thresholds", existing_type=sa.JSON(), nullable=False)
        batch_op.alter_column("partial_settlement_windows", existing_type=sa.JSON(), nullable=False)
    with op.batch_alter_table("counterparties", schema=None) as batch_op:
        batch_op.add_column(sa.Column("partial_settlement", sa.String(length=4), nullable=True))
    with op.batch_alter_table("instruments", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("partial_quantity_threshold", app.core.types.ExactDecimal(), nullable=True)
        )
    _add_instruction_indicator()


def _add_instruction_indicator() -> None:
    with op.batch_alter_table("settlement_instructions", schema=None) as batch_op:
        batch_op.add_column(sa.Column("partial_indicator", sa.String(length=4), nullable=True))
    instructions = sa.table(
        "settlement_instructions",
        sa.column("partial_allowed", sa.Boolean()),
        sa.column("partial_indicator", sa.String()),
    )
    op.execute(
        sa.update(instructions).values(
            partial_indicator=sa.case((instructions.c.partial_allowed, "PART"), else_="NPAR")
        )
    )
    with op.batch_alter_table("settlement_instructions", schema=None) as batch_op:
        batch_op.alter_column(
            "partial_indicator", existing_type=sa.String(length=4), nullable=False
        )


def downgrade() -> None:
    with op.batch_alter_table("settlement_instructions", schema=None) as batch_op:
        batch_op.drop_column("partial_indicator")
    with op.batch_alter_table("instruments", schema=None) as batch_op:
        batch_op.drop_column("partial_quantity_threshold")
    with op.batch_alter_table("counterparties", schema=None) as batch_op:
        batch_op.drop_column("partial_settlement")
    with op.batch_alter_table("markets", schema=None) as batch_op:
        batch_op.drop_column("partial_settlement_windows")
        batch_op.drop_column("partial_cash_thresholds")
        batch_op.drop_column("partial_settlement")
