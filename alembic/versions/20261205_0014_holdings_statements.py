"""Holdings statements: custodians' statements of holdings (semt.002, MT535, CSV, JSON) as
received: the file, each statement (per safekeeping account, statement id, date and page), its
lines per ISIN.

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-05
"""

from collections.abc import Sequence

import sqlalchemy as sa

import app.core.types
from alembic import op

revision: str = "0014"
down_revision: str | None = "0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "holdings_files",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("format", sa.String(length=10), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("content", sa.LargeBinary(), nullable=False),
        sa.Column("received_at", app.core.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("received_by", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_holdings_files")),
    )
    with op.batch_alter_table("holdings_files", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_holdings_files_sha256"), ["sha256"], unique=False)

    op.create_table(
        "holdings_statements",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("file_id", sa.String(length=40), nullable=False),
        sa.Column("account", sa.String(length=40), nullable=False),
        sa.Column("safekeeping_account", sa.String(length=40), nullable=False),
        sa.Column("statement_id", sa.String(length=35), nullable=False),
        sa.Column("statement_date", sa.Date(), nullable=False),
        sa.Column("basis", sa.String(length=12), nullable=True),
        sa.Column("page", sa.Integer(), nullable=False),
        sa.Column("last_page", sa.Boolean(), nullable=False),
        sa.Column("line_count", sa.Integer(), nullable=False),
        sa.Column("content_hash", sa.String(length=64), nullable=False),
        sa.Column("received_at", app.core.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("received_by", sa.String(length=64), nullable=False),
        sa.ForeignKeyConstraint(
            ["account"], ["accounts.code"], name=op.f("fk_holdings_statements_account_accounts")
        ),
        sa.ForeignKeyConstraint(
            ["file_id"],
            ["holdings_files.id"],
            name=op.f("fk_holdings_statements_file_id_holdings_files"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_holdings_statements")),
        sa.UniqueConstraint(
            "account",
            "statement_id",
            "statement_date",
            "page",
            name=op.f("uq_holdings_statements_account_statement_id_statement_date_page"),
        ),
    )
    with op.batch_alter_table("holdings_statements", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_holdings_statements_account_statement_date_id"),
            ["account", "statement_date", "id"],
            unique=False,
        )
        batch_op.create_index(
            batch_op.f("ix_holdings_statements_statement_date_id"),
            ["statement_date", "id"],
            unique=False,
        )

    op.create_table(
        "holdings_lines",
        sa.Column("holdings_statement_id", sa.String(length=40), nullable=False),
        sa.Column("line_number", sa.Integer(), nullable=False),
        sa.Column("isin", sa.String(length=12), nullable=False),
        sa.Column("quantity", app.core.types.ExactDecimal(), nullable=False),
        sa.Column("quantity_type", sa.String(length=4), nullable=False),
        sa.Column("available", app.core.types.ExactDecimal(), nullable=True),
        sa.ForeignKeyConstraint(
            ["holdings_statement_id"],
            ["holdings_statements.id"],
            name=op.f("fk_holdings_lines_holdings_statement_id_holdings_statements"),
        ),
        sa.PrimaryKeyConstraint(
            "holdings_statement_id", "line_number", name=op.f("pk_holdings_lines")
        ),
    )


def downgrade() -> None:
    op.drop_table("holdings_lines")
    with op.batch_alter_table("holdings_statements", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_holdings_statements_statement_date_id"))
        batch_op.drop_index(batch_op.f("ix_holdings_statements_account_statement_date_id"))

    op.drop_table("holdings_statements")
    with op.batch_alter_table("holdings_files", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_holdings_files_sha256"))

    op.drop_table("holdings_files")
