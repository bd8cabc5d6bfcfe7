"""Settlement the depository confirms: settlement mode of markets and the outbound queue

``markets.settlement_mode``: ``internal`` (we are the settlement agent; the settlement run
settles against our books, as every market did until now: the server default) or ``csd`` (the
depository settles; the book moves on its confirmation). ``markets.message_format``: how a ``csd``
market's depository is instructed, ``iso20022`` (the default) or ``iso15022``.

``outbound_messages``: the instructions and cancellations we send (sese.023 / sese.020, MT540-543),
each with our SEME reference (unique), its content written once, and its delivery status.

Revision ID: 0023
Revises: 0022
Create Date: 2026-12-07
"""

from collections.abc import Sequence

import sqlalchemy as sa

import app.core.types
from alembic import op

revision: str = "0023"
down_revision: str | None = "0022"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("markets", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                "settlement_mode",
                sa.String(length=8),
                server_default=sa.text("'internal'"),
                nullable=False,
            )
        )
        batch_op.add_column(
            sa.Column(
                "message_format",
                sa.String(length=8),
                server_default=sa.text("'iso20022'"),
                nullable=False,
            )
        )
    moment = app.core.types.UTCDateTime(timezone=True)
    op.create_table(
        "outbound_messages",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("instruction_id", sa.String(length=40), nullable=False),
        sa.Column("kind", sa.String(length=8), nullable=False),
        sa.Column("format", sa.String(length=20), nullable=False),
        sa.Column("reference", sa.String(length=16), nullable=False),
        sa.Column("related_reference", sa.String(length=16), nullable=True),
        sa.Column("content", sa.Text(), nullable=False),
        sa.Column("status", sa.String(length=12), nullable=False),
        sa.Column("status_reasons", sa.JSON(), nullable=False),
        sa.Column("created_at", moment, nullable=False),
        sa.Column("claimed_at", moment, nullable=True),
        sa.Column("claimed_by", sa.String(length=40), nullable=True),
        sa.Column("sent_at", moment, nullable=True),
        sa.Column("advised_at", moment, nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["instruction_id"],
            ["settlement_instructions.id"],
            name=op.f("fk_outbound_messages_instruction_id_settlement_instructions"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_outbound_messages")),
        sa.UniqueConstraint("reference", name=op.f("uq_outbound_messages_reference")),
    )
    with op.batch_alter_table("outbound_messages", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_outbound_messages_instruction_id"), ["instruction_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_outbound_messages_status_created_at_id"),
            ["status", "created_at", "id"],
            unique=False,
        )


def downgrade() -> None:
    op.drop_table("outbound_messages")
    with op.batch_alter_table("markets", schema=None) as batch_op:
        batch_op.drop_column("message_format")
        batch_op.drop_column("settlement_mode")
