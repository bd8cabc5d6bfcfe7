"""Bank statements: the files as received, each statement with its balances and integrity,
its entries (with the account and day a reconciliation reads them by), and the named CSV
column mappings.

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-05
"""

from collections.abc import Sequence

import sqlalchemy as sa

import app.core.types
from alembic import op

revision: str = "0013"
down_revision: str | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "statement_files",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("content", sa.LargeBinary(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("format", sa.String(length=8), nullable=False),
        sa.Column("content_type", sa.String(length=255), nullable=True),
        sa.Column("mapping", sa.String(length=64), nullable=True),
        sa.Column("mapping_version", sa.Integer(), nullable=True),
        sa.Column("statements", sa.Integer(), nullable=False),
        sa.Column("received_at", app.core.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("received_by", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_statement_files")),
    )
    with op.batch_alter_table("statement_files", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_statement_files_sha256"), ["sha256"], unique=False)

    op.create_table(
        "statement_mappings",
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("description", sa.String(length=200), nullable=True),
        sa.Column("columns", sa.JSON(), nullable=False),
        sa.Column("delimiter", sa.String(length=1), nullable=False),
        sa.Column("decimal_separator", sa.String(length=1), nullable=False),
        sa.Column("thousands_separator", sa.String(length=1), nullable=False),
        sa.Column("date_format", sa.String(length=40), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=True),
        sa.Column("encoding", sa.String(length=40), nullable=False),
        sa.Column("credit_values", sa.JSON(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("created_at", app.core.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", app.core.types.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_statement_mappings")),
    )
    op.create_table(
        "bank_statements",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("file_id", sa.String(length=40), nullable=False),
        sa.Column("account", sa.String(length=40), nullable=False),
        sa.Column("account_identifier", sa.String(length=140), nullable=False),
        sa.Column("kind", sa.String(length=12), nullable=False),
        sa.Column("format", sa.String(length=8), nullable=False),
        sa.Column("statement_id", sa.String(length=140), nullable=False),
        sa.Column("electronic_sequence", sa.BigInteger(), nullable=True),
        sa.Column("legal_sequence", sa.BigInteger(), nullable=True),
        sa.Column("page", sa.Integer(), nullable=True),
        sa.Column("sequence", sa.BigInteger(), nullable=True),
        sa.Column("sequence_key", sa.String(length=70), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("opening_booked_amount", app.core.types.ExactDecimal(), nullable=True),
        sa.Column("opening_booked_date", sa.Date(), nullable=True),
        sa.Column("closing_booked_amount", app.core.types.ExactDecimal(), nullable=True),
        sa.Column("closing_booked_date", sa.Date(), nullable=True),
        sa.Column("opening_available_amount", app.core.types.ExactDecimal(), nullable=True),
        sa.Column("opening_available_date", sa.Date(), nullable=True),
        sa.Column("closing_available_amount", app.core.types.ExactDecimal(), nullable=True),
        sa.Column("closing_available_date", sa.Date(), nullable=True),
        sa.Column("statement_date", sa.Date(), nullable=True),
        sa.Column("created_at", app.core.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("entry_count", sa.Integer(), nullable=False),
        sa.Column("content_hash", sa.String(length=64), nullable=False),
        sa.Column("integrity", sa.String(length=6), nullable=False),
        sa.Column("integrity_breaks", sa.JSON(), nullable=False),
        sa.Column("received_at", app.core.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("received_by", sa.String(length=64), nullable=False),
        sa.ForeignKeyConstraint(
            ["account"], ["accounts.code"], name=op.f("fk_bank_statements_account_accounts")
        ),
        sa.ForeignKeyConstraint(
            ["file_id"],
            ["statement_files.id"],
            name=op.f("fk_bank_statements_file_id_statement_files"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_bank_statements")),
        sa.UniqueConstraint(
            "account",
            "kind",
            "statement_id",
            "sequence_key",
            name=op.f("uq_bank_statements_account_kind_statement_id_sequence_key"),
        ),
    )
    with op.batch_alter_table("bank_statements", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_bank_statements_account_kind_sequence"),
            ["account", "kind", "sequence"],
            unique=False,
        )
        batch_op.create_index(
            batch_op.f("ix_bank_statements_account_kind_statement_date"),
            ["account", "kind", "statement_date"],
            unique=False,
        )
        batch_op.create_index(batch_op.f("ix_bank_statements_file_id"), ["file_id"], unique=False)

    op.create_table(
        "statement_entries",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("bank_statement_id", sa.String(length=40), nullable=False),
        sa.Column("line", sa.Integer(), nullable=False),
        sa.Column("account", sa.String(length=40), nullable=False),
        sa.Column("entry_date", sa.Date(), nullable=True),
        sa.Column("amount", app.core.types.ExactDecimal(), nullable=False),
        sa.Column("credit_debit", sa.String(length=4), nullable=False),
        sa.Column("booking_date", sa.Date(), nullable=True),
        sa.Column("value_date", sa.Date(), nullable=True),
        sa.Column("status", sa.String(length=12), nullable=False),
        sa.Column("bank_transaction_code", sa.Text(), nullable=True),
        sa.Column("end_to_end_id", sa.Text(), nullable=True),
        sa.Column("account_servicer_reference", sa.Text(), nullable=True),
        sa.Column("instruction_id", sa.Text(), nullable=True),
        sa.Column("uetr", sa.Text(), nullable=True),
        sa.Column("references", sa.JSON(), nullable=False),
        sa.Column("remittance_information", sa.Text(), nullable=True),
        sa.Column("counterparty_name", sa.Text(), nullable=True),
        sa.Column("counterparty_account", sa.Text(), nullable=True),
        sa.Column("reversal", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(
            ["bank_statement_id"],
            ["bank_statements.id"],
            name=op.f("fk_statement_entries_bank_statement_id_bank_statements"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_statement_entries")),
        sa.UniqueConstraint(
            "bank_statement_id", "line", name=op.f("uq_statement_entries_bank_statement_id_line")
        ),
    )
    with op.batch_alter_table("statement_entries", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_statement_entries_account_entry_date"),
            ["account", "entry_date"],
            unique=False,
        )


def downgrade() -> None:
    with op.batch_alter_table("statement_entries", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_statement_entries_account_entry_date"))

    op.drop_table("statement_entries")
    with op.batch_alter_table("bank_statements", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_bank_statements_file_id"))
        batch_op.drop_index(batch_op.f("ix_bank_statements_account_kind_statement_date"))
        batch_op.drop_index(batch_op.f("ix_bank_statements_account_kind_sequence"))

    op.drop_table("bank_statements")
    op.drop_table("statement_mappings")
    with op.batch_alter_table("statement_files", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_statement_files_sha256"))

    op.drop_table("statement_files")
