"""Locked-in markets and accrued interest on confirmations

``markets.locked_in``: the venue hands its trades to its CCP, which confirms them, so they are
confirmed at capture instead of waiting for the counterparty. Existing markets stay bilateral
(the server default, false).

``confirmations.accrued_interest``: the accrued interest the counterparty states (bonds), compared
with ours (ISO reason ACRU). Existing confirmations stated none: null, not compared.

Revision ID: 0020
Revises: 0019
Create Date: 2026-12-06
"""

from collections.abc import Sequence

import sqlalchemy as sa

import app.core.types
from alembic import op

revision: str = "0020"
down_revision: str | None = "0019"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("markets", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("locked_in", sa.Boolean(), server_default=sa.false(), nullable=False)
        )
    with op.batch_alter_table("confirmations", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("accrued_interest", app.core.types.ExactDecimal(), nullable=True)
        )


def downgrade() -> None:
    with op.batch_alter_table("confirmations", schema=None) as batch_op:
        batch_op.drop_column("accrued_interest")
    with op.batch_alter_table("markets", schema=None) as batch_op:
        batch_op.drop_column("locked_in")
