"""Netted-out obligations: settlement's own list of the obligations that move nothing and
settle their trades on their date without an instruction

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-05
"""

from collections.abc import Sequence

import sqlalchemy as sa

import app.core.types
from alembic import op

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "netted_out_obligations",
        sa.Column("obligation_id", sa.String(length=40), nullable=False),
        sa.Column("settlement_date", sa.Date(), nullable=False),
        sa.Column("last_run_id", sa.String(length=40), nullable=True),
        sa.Column("settled_at", app.core.types.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["obligation_id"],
            ["obligations.id"],
            name="fk_netted_out_obligations_obligation_id_obligations",
        ),
        sa.PrimaryKeyConstraint("obligation_id", name="pk_netted_out_obligations"),
    )
    op.create_index(
        "ix_netted_out_obligations_settled_at_settlement_date",
        "netted_out_obligations",
        ["settled_at", "settlement_date"],
    )
    # Obligations cleared before this table existed whose trades still wait for their date.
    op.execute(
        """
        INSERT INTO netted_out_obligations (obligation_id, settlement_date)
        SELECT o.id, o.settlement_date FROM obligations o
        WHERE o.direction = 'none'
          AND NOT EXISTS (SELECT 1 FROM settlement_instructions i WHERE i.obligation_id = o.id)
          AND EXISTS (
            SELECT 1 FROM trades t
            WHERE t.obligation_id = o.id AND t.status IN ('cleared', 'instructed')
          )
        """
    )


def downgrade() -> None:
    op.drop_index(
        "ix_netted_out_obligations_settled_at_settlement_date",
        table_name="netted_out_obligations",
    )
    op.drop_table("netted_out_obligations")
