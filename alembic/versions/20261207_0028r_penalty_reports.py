"""The depository's daily penalty reports (semt.044 or JSON), each kept with its reconciliation
against our penalties: the body and its sha256, the counts and every difference.

Revision ID: 0028r
Revises: 0027p
Create Date: 2026-12-07
"""

from collections.abc import Sequence

import sqlalchemy as sa

import app.core.types
from alembic import op

revision: str = "0028r"
down_revision: str | None = "0027p"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "penalty_reports",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("sender", sa.String(length=64), nullable=False),
        sa.Column("message_id", sa.String(length=35), nullable=False),
        sa.Column("report_id", sa.String(length=35), nullable=False),
        sa.Column("report_date", sa.Date(), nullable=True),
        sa.Column("source", sa.String(length=20), nullable=False),
        sa.Column("content", sa.Text(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("days", sa.JSON(), nullable=False),
        sa.Column("lines", sa.Integer(), nullable=False),
        sa.Column("matched", sa.Integer(), nullable=False),
        sa.Column("differing", sa.Integer(), nullable=False),
        sa.Column("differences", sa.JSON(), nullable=False),
        sa.Column("received_at", app.core.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("received_by", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_penalty_reports")),
        sa.UniqueConstraint(
            "sender", "message_id", name=op.f("uq_penalty_reports_sender_message_id")
        ),
    )
    op.create_index(
        op.f("ix_penalty_reports_report_date_id"),
        "penalty_reports",
        ["report_date", "id"],
        unique=False,
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_penalty_reports_report_date_id"), table_name="penalty_reports")
    op.drop_table("penalty_reports")
