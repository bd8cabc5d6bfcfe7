"""Status advices: the CSD's sese.024 status advices and sese.025 confirmations as received.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-01 22:33:13.178189
"""

from collections.abc import Sequence

import sqlalchemy as sa

import app.core.types
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "status_advices",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("message_id", sa.String(length=35), nullable=False),
        sa.Column("instruction_id", sa.String(length=40), nullable=False),
        sa.Column("message_type", sa.String(length=8), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("reasons", sa.JSON(), nullable=False),
        sa.Column("settled_quantity", app.core.types.ExactDecimal(), nullable=True),
        sa.Column("settled_amount", app.core.types.ExactDecimal(), nullable=True),
        sa.Column("settlement_date", sa.Date(), nullable=True),
        sa.Column("source", sa.String(length=20), nullable=False),
        sa.Column("payload", sa.JSON(), nullable=False),
        sa.Column("fingerprint", sa.String(length=64), nullable=False),
        sa.Column("outcome", sa.JSON(), nullable=False),
        sa.Column("received_at", app.core.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("received_by", sa.String(length=64), nullable=False),
        sa.ForeignKeyConstraint(
            ["instruction_id"],
            ["settlement_instructions.id"],
            name=op.f("fk_status_advices_instruction_id_settlement_instructions"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_status_advices")),
        sa.UniqueConstraint("message_id", name=op.f("uq_status_advices_message_id")),
    )
    with op.batch_alter_table("status_advices", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_status_advices_instruction_id_id"),
            ["instruction_id", "id"],
            unique=False,
        )
        batch_op.create_index(
            batch_op.f("ix_status_advices_message_type_id"), ["message_type", "id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("status_advices", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_status_advices_message_type_id"))
        batch_op.drop_index(batch_op.f("ix_status_advices_instruction_id_id"))

    op.drop_table("status_advices")
