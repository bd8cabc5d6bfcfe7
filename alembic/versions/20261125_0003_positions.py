"""Position keeping: ledger accounts, the journal, pending entries, running balances, adjustments.

On PostgreSQL the database guards the journal itself: UPDATE and DELETE on journal entries and
postings are refused, and a deferred constraint trigger refuses, at commit, an entry whose
postings do not sum to zero per asset (or that has no postings).

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-25 11:37:22.044211
"""

from collections.abc import Sequence
from datetime import UTC, datetime

import sqlalchemy as sa

import app.core.types
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


APPEND_ONLY_TABLES = ("journal_entries", "postings", "pending_postings")

# The fixed ledger accounts; books, safekeeping and cash accounts and counterparties get theirs
# on first use.
FIXED_ACCOUNTS = [
    ("commission", "commission", "Commission paid"),
    ("fees", "fees", "Fees and taxes paid"),
    ("accrued-interest", "accrued_interest", "Accrued interest bought and sold"),
    ("penalties", "penalties", "Settlement penalties"),
    ("write-offs", "write_off", "Write-offs"),
    ("suspense", "suspense", "Suspense: unexplained items"),
    ("opening-equity", "equity", "Opening balance equity"),
]


def upgrade() -> None:
    op.create_table(
        "ledger_accounts",
        sa.Column("code", sa.String(length=64), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("reference", sa.String(length=40), nullable=True),
        sa.Column("created_at", app.core.types.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("code", name=op.f("pk_ledger_accounts")),
    )
    with op.batch_alter_table("ledger_accounts", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_ledger_accounts_kind"), ["kind"], unique=False)

    op.create_table(
        "pending_entries",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("expected_date", sa.Date(), nullable=False),
        sa.Column("description", sa.String(length=500), nullable=False),
        sa.Column("source_type", sa.String(length=20), nullable=True),
        sa.Column("source_id", sa.String(length=40), nullable=True),
        sa.Column("opened_on", sa.Date(), nullable=False),
        sa.Column("resolved_on", sa.Date(), nullable=True),
        sa.Column("created_at", app.core.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("created_by", sa.String(length=64), nullable=False),
        sa.Column("resolved_at", app.core.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("resolved_by", sa.String(length=64), nullable=True),
        sa.Column("void_reason", sa.String(length=500), nullable=True),
        sa.Column("remainder_id", sa.String(length=40), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_pending_entries")),
    )
    with op.batch_alter_table("pending_entries", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_pending_entries_source_id"), ["source_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_pending_entries_status_expected_date"),
            ["status", "expected_date"],
            unique=False,
        )

    op.create_table(
        "journal_entries",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("accounting_date", sa.Date(), nullable=False),
        sa.Column("value_date", sa.Date(), nullable=False),
        sa.Column("description", sa.String(length=500), nullable=False),
        sa.Column("source_type", sa.String(length=20), nullable=True),
        sa.Column("source_id", sa.String(length=40), nullable=True),
        sa.Column("reverses_id", sa.String(length=40), nullable=True),
        sa.Column("pending_id", sa.String(length=40), nullable=True),
        sa.Column("created_at", app.core.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("created_by", sa.String(length=64), nullable=False),
        sa.ForeignKeyConstraint(
            ["pending_id"],
            ["pending_entries.id"],
            name=op.f("fk_journal_entries_pending_id_pending_entries"),
        ),
        sa.ForeignKeyConstraint(
            ["reverses_id"],
            ["journal_entries.id"],
            name=op.f("fk_journal_entries_reverses_id_journal_entries"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_journal_entries")),
        sa.UniqueConstraint("pending_id", name=op.f("uq_journal_entries_pending_id")),
        sa.UniqueConstraint("reverses_id", name=op.f("uq_journal_entries_reverses_id")),
    )
    with op.batch_alter_table("journal_entries", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_journal_entries_accounting_date_id"),
            ["accounting_date", "id"],
            unique=False,
        )
        batch_op.create_index(
            batch_op.f("ix_journal_entries_source_id"), ["source_id"], unique=False
        )

    op.create_table(
        "ledger_balances",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("ledger_account", sa.String(length=64), nullable=False),
        sa.Column("asset", sa.String(length=12), nullable=False),
        sa.Column("posted", app.core.types.ExactDecimal(), nullable=False),
        sa.Column("pending", app.core.types.ExactDecimal(), nullable=False),
        sa.Column("cost", app.core.types.ExactDecimal(), nullable=False),
        sa.Column("realized_pnl", app.core.types.ExactDecimal(), nullable=False),
        sa.Column("last_date", sa.Date(), nullable=True),
        sa.Column("updated_at", app.core.types.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["ledger_account"],
            ["ledger_accounts.code"],
            name=op.f("fk_ledger_balances_ledger_account_ledger_accounts"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ledger_balances")),
        sa.UniqueConstraint(
            "ledger_account", "asset", name=op.f("uq_ledger_balances_ledger_account_asset")
        ),
    )
    with op.batch_alter_table("ledger_balances", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_ledger_balances_asset"), ["asset"], unique=False)

    op.create_table(
        "pending_postings",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("pending_id", sa.String(length=40), nullable=False),
        sa.Column("ledger_account", sa.String(length=64), nullable=False),
        sa.Column("asset", sa.String(length=12), nullable=False),
        sa.Column("amount", app.core.types.ExactDecimal(), nullable=False),
        sa.ForeignKeyConstraint(
            ["ledger_account"],
            ["ledger_accounts.code"],
            name=op.f("fk_pending_postings_ledger_account_ledger_accounts"),
        ),
        sa.ForeignKeyConstraint(
            ["pending_id"],
            ["pending_entries.id"],
            name=op.f("fk_pending_postings_pending_id_pending_entries"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_pending_postings")),
    )
    with op.batch_alter_table("pending_postings", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_pending_postings_pending_id"), ["pending_id"], unique=False
        )

    op.create_table(
        "adjustments",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("kind", sa.String(length=12), nullable=False),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("reason", sa.String(length=500), nullable=False),
        sa.Column("value_date", sa.Date(), nullable=False),
        sa.Column("lines", sa.JSON(), nullable=False),
        sa.Column("postings", sa.JSON(), nullable=False),
        sa.Column("proposed_by", sa.String(length=64), nullable=False),
        sa.Column("proposed_by_name", sa.String(length=200), nullable=False),
        sa.Column("proposed_at", app.core.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("decided_by", sa.String(length=64), nullable=True),
        sa.Column("decided_by_name", sa.String(length=200), nullable=True),
        sa.Column("decided_at", app.core.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("rejection_reason", sa.String(length=500), nullable=True),
        sa.Column("entry_id", sa.String(length=40), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["entry_id"],
            ["journal_entries.id"],
            name=op.f("fk_adjustments_entry_id_journal_entries"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_adjustments")),
    )
    with op.batch_alter_table("adjustments", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_adjustments_status_proposed_at"), ["status", "proposed_at"], unique=False
        )

    op.create_table(
        "ledger_balance_days",
        sa.Column("balance_id", sa.Integer(), nullable=False),
        sa.Column("as_of_date", sa.Date(), nullable=False),
        sa.Column("posted", app.core.types.ExactDecimal(), nullable=False),
        sa.Column("pending", app.core.types.ExactDecimal(), nullable=False),
        sa.Column("cost", app.core.types.ExactDecimal(), nullable=False),
        sa.Column("realized_pnl", app.core.types.ExactDecimal(), nullable=False),
        sa.ForeignKeyConstraint(
            ["balance_id"],
            ["ledger_balances.id"],
            name=op.f("fk_ledger_balance_days_balance_id_ledger_balances"),
        ),
        sa.PrimaryKeyConstraint("balance_id", "as_of_date", name=op.f("pk_ledger_balance_days")),
    )
    op.create_table(
        "postings",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("entry_id", sa.String(length=40), nullable=False),
        sa.Column("ledger_account", sa.String(length=64), nullable=False),
        sa.Column("asset", sa.String(length=12), nullable=False),
        sa.Column("amount", app.core.types.ExactDecimal(), nullable=False),
        sa.Column("cost", app.core.types.ExactDecimal(), nullable=True),
        sa.Column("realized_pnl", app.core.types.ExactDecimal(), nullable=True),
        sa.ForeignKeyConstraint(
            ["entry_id"], ["journal_entries.id"], name=op.f("fk_postings_entry_id_journal_entries")
        ),
        sa.ForeignKeyConstraint(
            ["ledger_account"],
            ["ledger_accounts.code"],
            name=op.f("fk_postings_ledger_account_ledger_accounts"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_postings")),
    )
    with op.batch_alter_table("postings", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_postings_entry_id"), ["entry_id"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_postings_ledger_account_asset"),
            ["ledger_account", "asset"],
            unique=False,
        )

    ledger_accounts = sa.table(
        "ledger_accounts",
        sa.column("code", sa.String),
        sa.column("kind", sa.String),
        sa.column("name", sa.String),
        sa.column("reference", sa.String),
        sa.column("created_at", app.core.types.UTCDateTime()),
    )
    created = datetime(2026, 11, 25, tzinfo=UTC)
    op.bulk_insert(
        ledger_accounts,
        [
            {"code": code, "kind": kind, "name": name, "reference": None, "created_at": created}
            for code, kind, name in FIXED_ACCOUNTS
        ],
    )
    if op.get_bind().dialect.name == "postgresql":
        _journal_guards()


def _journal_guards() -> None:
    for table in APPEND_ONLY_TABLES:
        op.execute(
            f"CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table} "
            "FOR EACH ROW EXECUTE FUNCTION refuse_change()"
        )
    op.execute(
        """
        CREATE FUNCTION journal_entry_balanced() RETURNS trigger LANGUAGE plpgsql AS $$
        DECLARE
            off RECORD;
        BEGIN
            SELECT asset, SUM(amount) AS total INTO off FROM postings
             WHERE entry_id = NEW.entry_id GROUP BY asset HAVING SUM(amount) <> 0 LIMIT 1;
            IF FOUND THEN
                RAISE EXCEPTION 'journal entry % does not sum to zero in % (off by %)',
                    NEW.entry_id, off.asset, off.total USING ERRCODE = 'check_violation';
            END IF;
            RETURN NULL;
        END;
        $$
        """
    )
    op.execute(
        "CREATE CONSTRAINT TRIGGER postings_balanced AFTER INSERT ON postings "
        "DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION journal_entry_balanced()"
    )
    op.execute(
        """
        CREATE FUNCTION journal_entry_has_postings() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            IF NOT EXISTS (SELECT 1 FROM postings WHERE entry_id = NEW.id) THEN
                RAISE EXCEPTION 'journal entry % has no postings', NEW.id
                    USING ERRCODE = 'check_violation';
            END IF;
            RETURN NULL;
        END;
        $$
        """
    )
    op.execute(
        "CREATE CONSTRAINT TRIGGER journal_entries_have_postings AFTER INSERT ON journal_entries "
        "DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION journal_entry_has_postings()"
    )


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER IF EXISTS journal_entries_have_postings ON journal_entries")
        op.execute("DROP TRIGGER IF EXISTS postings_balanced ON postings")
        op.execute("DROP FUNCTION IF EXISTS journal_entry_has_postings()")
        op.execute("DROP FUNCTION IF EXISTS journal_entry_balanced()")
        for table in APPEND_ONLY_TABLES:
            op.execute(f"DROP TRIGGER IF EXISTS {table}_append_only ON {table}")
    with op.batch_alter_table("postings", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_postings_ledger_account_asset"))
        batch_op.drop_index(batch_op.f("ix_postings_entry_id"))

    op.drop_table("postings")
    op.drop_table("ledger_balance_days")
    with op.batch_alter_table("adjustments", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_adjustments_status_proposed_at"))

    op.drop_table("adjustments")
    with op.batch_alter_table("pending_postings", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_pending_postings_pending_id"))

    op.drop_table("pending_postings")
    with op.batch_alter_table("ledger_balances", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_ledger_balances_asset"))

    op.drop_table("ledger_balances")
    with op.batch_alter_table("journal_entries", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_journal_entries_source_id"))
        batch_op.drop_index(batch_op.f("ix_journal_entries_accounting_date_id"))

    op.drop_table("journal_entries")
    with op.batch_alter_table("pending_entries", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_pending_entries_status_expected_date"))
        batch_op.drop_index(batch_op.f("ix_pending_entries_source_id"))

    op.drop_table("pending_entries")
    with op.batch_alter_table("ledger_accounts", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_ledger_accounts_kind"))

    op.drop_table("ledger_accounts")
