"""A settlement instruction's pending journal entry: what is left of it to settle shows as due
in projected balances.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-01 23:16:46.069433
"""

from collections.abc import Sequence

import sqlalchemy as sa

from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("settlement_instructions", schema=None) as batch_op:
        batch_op.add_column(sa.Column("pending_id", sa.String(length=40), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("settlement_instructions", schema=None) as batch_op:
        batch_op.drop_column("pending_id")
