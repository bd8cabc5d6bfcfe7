"""A batch run's lease: the worker working through it and its last heartbeat, on every run
table, so a run whose worker died (killed mid-run) can be told from one still working and be
taken over by a resume.

Revision ID: 0030l
Revises: 0028r
Create Date: 2026-12-08
"""

from collections.abc import Sequence

import sqlalchemy as sa

import app.core.types
from alembic import op

revision: str = "0030l"
down_revision: str | None = "0028r"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

RUN_TABLES = (
    "affirmation_deadline_runs",
    "clearing_runs",
    "settlement_runs",
    "reconciliation_runs",
    "penalty_runs",
    "eod_runs",
)


def upgrade() -> None:
    # Runs left running from before have no heartbeat: stalled, a resume takes them over.
    for table in RUN_TABLES:
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.add_column(sa.Column("worker", sa.String(length=64), nullable=True))
            batch_op.add_column(
                sa.Column("heartbeat_at", app.core.types.UTCDateTime(timezone=True), nullable=True)
            )


def downgrade() -> None:
    for table in reversed(RUN_TABLES):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_column("heartbeat_at")
            batch_op.drop_column("worker")
