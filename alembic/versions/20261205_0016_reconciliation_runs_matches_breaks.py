"""Reconciliation runs, the matches they (or operations) make, and the breaks left: one active
match per statement line or book movement, one break per difference

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-05
"""

from collections.abc import Sequence

import sqlalchemy as sa

import app.core.types
from alembic import op

revision: str = "0016"
down_revision: str | None = "0015"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "reconciliation_breaks",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("kind", sa.String(length=24), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("key", sa.String(length=2000), nullable=False),
        sa.Column("account", sa.String(length=40), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=True),
        sa.Column("isin", sa.String(length=12), nullable=True),
        sa.Column("amount", app.core.types.ExactDecimal(), nullable=False),
        sa.Column("since", sa.Date(), nullable=False),
        sa.Column("value_date", sa.Date(), nullable=False),
        sa.Column("detail", sa.String(length=1000), nullable=False),
        sa.Column("statement_id", sa.String(length=40), nullable=True),
        sa.Column("statement_entry_ids", sa.JSON(), nullable=False),
        sa.Column("movement_ids", sa.JSON(), nullable=False),
        sa.Column("owner", sa.String(length=200), nullable=True),
        sa.Column("found_by_run", sa.String(length=40), nullable=True),
        sa.Column("resolution", sa.String(length=20), nullable=True),
        sa.Column("resolution_note", sa.String(length=1000), nullable=True),
        sa.Column("closed_by", sa.String(length=80), nullable=True),
        sa.Column("adjustment_id", sa.String(length=40), nullable=True),
        sa.Column("created_at", app.core.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", app.core.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("resolved_at", app.core.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("resolved_by", sa.String(length=64), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_reconciliation_breaks")),
        sa.UniqueConstraint("key", name=op.f("uq_reconciliation_breaks_key")),
    )
    with op.batch_alter_table("reconciliation_breaks", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_reconciliation_breaks_account_value_date"),
            ["account", "value_date"],
            unique=False,
        )
        batch_op.create_index(
            batch_op.f("ix_reconciliation_breaks_status_account_since"),
            ["status", "account", "since"],
            unique=False,
        )

    op.create_table(
        "reconciliation_matches",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("account", sa.String(length=40), nullable=False),
        sa.Column("value_date", sa.Date(), nullable=False),
        sa.Column("rule", sa.String(length=64), nullable=False),
        sa.Column("status", sa.String(length=12), nullable=False),
        sa.Column("key", sa.String(length=2000), nullable=False),
        sa.Column("statement_entry_ids", sa.JSON(), nullable=False),
        sa.Column("movement_ids", sa.JSON(), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("amount_difference", app.core.types.ExactDecimal(), nullable=False),
        sa.Column("value_date_difference", sa.Integer(), nullable=False),
        sa.Column("run_id", sa.String(length=40), nullable=True),
        sa.Column("comment", sa.String(length=1000), nullable=True),
        sa.Column("created_at", app.core.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("created_by", sa.String(length=64), nullable=False),
        sa.Column("unmatched_at", app.core.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("unmatched_by", sa.String(length=64), nullable=True),
        sa.Column("unmatch_reason", sa.String(length=1000), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_reconciliation_matches")),
    )
    with op.batch_alter_table("reconciliation_matches", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_reconciliation_matches_account_value_date_status"),
            ["account", "value_date", "status"],
            unique=False,
        )

    op.create_table(
        "reconciliation_runs",
        sa.Column("account", sa.String(length=40), nullable=False),
        sa.Column("value_date", sa.Date(), nullable=False),
        sa.Column("matched", sa.Integer(), nullable=False),
        sa.Column("breaks_opened", sa.Integer(), nullable=False),
        sa.Column("breaks_closed", sa.Integer(), nullable=False),
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("status", sa.String(length=12), nullable=False),
        sa.Column("total", sa.Integer(), nullable=False),
        sa.Column("processed", sa.Integer(), nullable=False),
        sa.Column("report", sa.JSON(), nullable=False),
        sa.Column("error", sa.String(length=500), nullable=True),
        sa.Column("created_at", app.core.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("created_by", sa.String(length=64), nullable=False),
        sa.Column("finished_at", app.core.types.UTCDateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_reconciliation_runs")),
    )
    with op.batch_alter_table("reconciliation_runs", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_reconciliation_runs_account"), ["account"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_reconciliation_runs_value_date"), ["value_date"], unique=False
        )

    op.create_table(
        "break_comments",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("break_id", sa.String(length=40), nullable=False),
        sa.Column("text", sa.String(length=2000), nullable=False),
        sa.Column("created_at", app.core.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("created_by", sa.String(length=64), nullable=False),
        sa.ForeignKeyConstraint(
            ["break_id"],
            ["reconciliation_breaks.id"],
            name=op.f("fk_break_comments_break_id_reconciliation_breaks"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_break_comments")),
    )
    with op.batch_alter_table("break_comments", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_break_comments_break_id"), ["break_id"], unique=False)

    op.create_table(
        "matched_items",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("item_kind", sa.String(length=10), nullable=False),
        sa.Column("item_id", sa.String(length=40), nullable=False),
        sa.Column("match_id", sa.String(length=40), nullable=False),
        sa.ForeignKeyConstraint(
            ["match_id"],
            ["reconciliation_matches.id"],
            name=op.f("fk_matched_items_match_id_reconciliation_matches"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_matched_items")),
        sa.UniqueConstraint(
            "item_kind", "item_id", name=op.f("uq_matched_items_item_kind_item_id")
        ),
    )
    with op.batch_alter_table("matched_items", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_matched_items_match_id"), ["match_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("matched_items", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_matched_items_match_id"))

    op.drop_table("matched_items")
    with op.batch_alter_table("break_comments", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_break_comments_break_id"))

    op.drop_table("break_comments")
    with op.batch_alter_table("reconciliation_runs", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_reconciliation_runs_value_date"))
        batch_op.drop_index(batch_op.f("ix_reconciliation_runs_account"))

    op.drop_table("reconciliation_runs")
    with op.batch_alter_table("reconciliation_matches", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_reconciliation_matches_account_value_date_status"))

    op.drop_table("reconciliation_matches")
    with op.batch_alter_table("reconciliation_breaks", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_reconciliation_breaks_status_account_since"))
        batch_op.drop_index(batch_op.f("ix_reconciliation_breaks_account_value_date"))

    op.drop_table("reconciliation_breaks")
