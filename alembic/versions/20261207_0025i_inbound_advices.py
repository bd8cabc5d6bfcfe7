"""Inbound advices: senders, every status block in a status history, holds by the CSD, exceptions

``status_advices.sender``: the sender's BIC (or the API key id of a JSON advice without one);
message ids are unique per sender only, so ``(sender, message_id)`` replaces the unique
``message_id``. Existing rows take their ``received_by`` as sender (their message ids were unique
on their own, so they stay unique). ``reference`` is the reference the advice named;
``instruction_id`` becomes nullable (an exception about an unknown reference has none);
``exception``, ``resolved_at``, ``resolved_by``, ``resolution`` keep what operations see and do.

``settlement_instructions``: ``fail_reason`` widens to 35 characters (proprietary codes);
``held_by`` (operations, us, counterparty, csd) and ``hold_reason``; instructions on hold now
were held by hand: ``operations``.

``instruction_status_events``: every status block and reason of every advice, each
confirmation, hold and release.

Revision ID: 0025i
Revises: 0023
Create Date: 2026-12-07
"""

from collections.abc import Sequence

import sqlalchemy as sa

import app.core.types
from alembic import op

revision: str = "0025i"
down_revision: str | None = "0023p"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("status_advices", schema=None) as batch_op:
        batch_op.add_column(sa.Column("sender", sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column("reference", sa.String(length=40), nullable=True))
        batch_op.add_column(sa.Column("exception", sa.String(length=1000), nullable=True))
        batch_op.add_column(
            sa.Column("resolved_at", app.core.types.UTCDateTime(timezone=True), nullable=True)
        )
        batch_op.add_column(sa.Column("resolved_by", sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column("resolution", sa.String(length=500), nullable=True))
    op.execute("UPDATE status_advices SET sender = received_by")
    with op.batch_alter_table("status_advices", schema=None) as batch_op:
        batch_op.alter_column("sender", existing_type=sa.String(length=64), nullable=False)
        batch_op.alter_column("instruction_id", existing_type=sa.String(length=40), nullable=True)
        batch_op.drop_constraint("uq_status_advices_message_id", type_="unique")
        batch_op.create_unique_constraint(
            batch_op.f("uq_status_advices_sender_message_id"), ["sender", "message_id"]
        )
        batch_op.create_index(
            batch_op.f("ix_status_advices_status_id"), ["status", "id"], unique=False
        )
    with op.batch_alter_table("settlement_instructions", schema=None) as batch_op:
        batch_op.alter_column(
            "fail_reason",
            existing_type=sa.String(length=4),
            type_=sa.String(length=35),
            existing_nullable=True,
        )
        batch_op.add_column(sa.Column("held_by", sa.String(length=12), nullable=True))
        batch_op.add_column(sa.Column("hold_reason", sa.String(length=35), nullable=True))
    op.execute("UPDATE settlement_instructions SET held_by = 'operations' WHERE status = 'on_hold'")
    op.create_table(
        "instruction_status_events",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("instruction_id", sa.String(length=40), nullable=False),
        sa.Column("advice_id", sa.String(length=40), nullable=True),
        sa.Column("block", sa.String(length=12), nullable=False),
        sa.Column("status", sa.String(length=24), nullable=False),
        sa.Column("reasons", sa.JSON(), nullable=False),
        sa.Column("sender", sa.String(length=64), nullable=False),
        sa.Column("received_at", app.core.types.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["advice_id"],
            ["status_advices.id"],
            name=op.f("fk_instruction_status_events_advice_id_status_advices"),
        ),
        sa.ForeignKeyConstraint(
            ["instruction_id"],
            ["settlement_instructions.id"],
            name=op.f("fk_instruction_status_events_instruction_id_settlement_instructions"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_instruction_status_events")),
    )
    with op.batch_alter_table("instruction_status_events", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_instruction_status_events_instruction_id_id"),
            ["instruction_id", "id"],
            unique=False,
        )


def downgrade() -> None:
    op.drop_table("instruction_status_events")
    with op.batch_alter_table("settlement_instructions", schema=None) as batch_op:
        batch_op.drop_column("hold_reason")
        batch_op.drop_column("held_by")
        batch_op.alter_column(
            "fail_reason",
            existing_type=sa.String(length=35),
            type_=sa.String(length=4),
            existing_nullable=True,
        )
    # Exceptions about unknown references have no instruction: they cannot go back.
    op.execute("DELETE FROM status_advices WHERE instruction_id IS NULL")
    with op.batch_alter_table("status_advices", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_status_advices_status_id"))
        batch_op.drop_constraint("uq_status_advices_sender_message_id", type_="unique")
        batch_op.create_unique_constraint(
            batch_op.f("uq_status_advices_message_id"), ["message_id"]
        )
        batch_op.alter_column("instruction_id", existing_type=sa.String(length=40), nullable=False)
        batch_op.drop_column("resolution")
        batch_op.drop_column("resolved_by")
        batch_op.drop_column("resolved_at")
        batch_op.drop_column("exception")
        batch_op.drop_column("reference")
        batch_op.drop_column("sender")
