"""A posting's entry and ledger account are checked once per statement, not once per posting: the
two foreign keys of ``postings`` (each a trigger call and an index probe per row, about 10,000 a
1,000-trade batch and the largest part of its database time after the indexes) give way to the
statement trigger of 0032j, which already joins each statement's distinct entries and now also
refuses an entry or a ledger account that does not exist, and locks the ledger accounts used as
the foreign key did (``FOR KEY SHARE``).

The guarantee is the foreign keys', whatever client writes: no posting without its entry and its
ledger account. An entry is never deleted or changed (append-only since 0003); a ledger account
referenced by a posting cannot be deleted or renamed (a row trigger here, as the foreign key's
NO ACTION refused it), and one being used by an uncommitted posting waits for it (the lock). On
SQLite row triggers refuse a posting without its entry or ledger account.

Revision ID: 0033a
Revises: 0032r
Create Date: 2026-12-11
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0033a"
down_revision: str | None = "0032r"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_FOREIGN_KEYS = (
    ("fk_postings_entry_id_journal_entries", "entry_id", "journal_entries", "id"),
    ("fk_postings_ledger_account_ledger_accounts", "ledger_account", "ledger_accounts", "code"),
)

# Once per INSERT or COPY statement, over its rows (the transition table ``added``): each
# distinct entry must exist and have been created by this transaction (0032j: see there for the
# xmin arithmetic); each distinct ledger account must exist, and is locked FOR KEY SHARE as the
# foreign key locked it, so that no one deletes it before this transaction ends.
_REFERENCES_CHECKED = """
CREATE OR REPLACE FUNCTION postings_of_new_entries_only() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    bad RECORD;
    wanted bigint;
    locked bigint;
BEGIN
    SELECT touched.entry_id, e.id IS NULL AS missing INTO bad
      FROM (SELECT DISTINCT entry_id FROM added) AS touched
      LEFT JOIN journal_entries AS e ON e.id = touched.entry_id
     WHERE e.id IS NULL
        OR (e.xmin <> pg_current_xact_id()::xid
            AND pg_xact_status((pg_current_xact_id()::text::bigint - 2147483648
                    + (e.xmin::text::bigint - (pg_current_xact_id()::text::bigint & 4294967295)
                       + 6442450944) % 4294967296)::text::xid8)
                IS DISTINCT FROM 'in progress')
     LIMIT 1;
    IF FOUND AND bad.missing THEN
        RAISE EXCEPTION 'posting of journal entry %, which does not exist', bad.entry_id
            USING ERRCODE = 'foreign_key_violation';
    END IF;
    IF FOUND THEN
        RAISE EXCEPTION 'journal entry % was committed by an earlier transaction: '
            'it takes no more postings', bad.entry_id USING ERRCODE = 'check_violation';
    END IF;
    SELECT count(*) INTO wanted FROM (SELECT DISTINCT ledger_account FROM added) AS used;
    SELECT count(*) INTO locked FROM (
        SELECT 1 FROM ledger_accounts AS a
         WHERE a.code IN (SELECT ledger_account FROM added) FOR KEY SHARE OF a) AS found;
    IF locked <> wanted THEN
        SELECT used.ledger_account INTO bad
          FROM (SELECT DISTINCT ledger_account FROM added) AS used
          LEFT JOIN ledger_accounts AS a ON a.code = used.ledger_account
         WHERE a.code IS NULL LIMIT 1;
        RAISE EXCEPTION 'posting on ledger account %, which does not exist', bad.ledger_account
            USING ERRCODE = 'foreign_key_violation';
    END IF;
    RETURN NULL;
END;
$$
"""

# As 0032j left it.
_NEW_ENTRIES_ONLY = """
CREATE OR REPLACE FUNCTION postings_of_new_entries_only() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    late RECORD;
BEGIN
    SELECT e.id INTO late
      FROM (SELECT DISTINCT entry_id FROM added) AS touched
      JOIN journal_entries AS e ON e.id = touched.entry_id
     WHERE e.xmin <> pg_current_xact_id()::xid
       AND pg_xact_status((pg_current_xact_id()::text::bigint - 2147483648
               + (e.xmin::text::bigint - (pg_current_xact_id()::text::bigint & 4294967295)
                  + 6442450944) % 4294967296)::text::xid8)
           IS DISTINCT FROM 'in progress'
     LIMIT 1;
    IF FOUND THEN
        RAISE EXCEPTION 'journal entry % was committed by an earlier transaction: '
            'it takes no more postings', late.id USING ERRCODE = 'check_violation';
    END IF;
    RETURN NULL;
END;
$$
"""

# A ledger account a posting names is neither deleted nor renamed (the foreign key's NO ACTION).
_ACCOUNT_KEPT = """
CREATE FUNCTION ledger_account_kept() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF (TG_OP = 'DELETE' OR NEW.code IS DISTINCT FROM OLD.code)
       AND EXISTS (SELECT 1 FROM postings WHERE ledger_account = OLD.code) THEN
        RAISE EXCEPTION 'ledger account % has postings: it is neither deleted nor renamed',
            OLD.code USING ERRCODE = 'foreign_key_violation';
    END IF;
    RETURN CASE WHEN TG_OP = 'DELETE' THEN OLD ELSE NEW END;
END;
$$
"""

_SQLITE_TRIGGERS = (
    """
    CREATE TRIGGER postings_entry_exists BEFORE INSERT ON postings
    WHEN NOT EXISTS (SELECT 1 FROM journal_entries WHERE id = NEW.entry_id)
    BEGIN SELECT RAISE(ABORT, 'FOREIGN KEY constraint failed: postings.entry_id'); END
    """,
    """
    CREATE TRIGGER postings_ledger_account_exists BEFORE INSERT ON postings
    WHEN NOT EXISTS (SELECT 1 FROM ledger_accounts WHERE code = NEW.ledger_account)
    BEGIN SELECT RAISE(ABORT, 'FOREIGN KEY constraint failed: postings.ledger_account'); END
    """,
)


def upgrade() -> None:
    postgres = op.get_bind().dialect.name == "postgresql"
    with op.batch_alter_table("postings", schema=None) as batch_op:
        for name, _, _, _ in _FOREIGN_KEYS:
            batch_op.drop_constraint(name, type_="foreignkey")
    if postgres:
        op.execute(_REFERENCES_CHECKED)
        op.execute(_ACCOUNT_KEPT)
        op.execute(
            "CREATE TRIGGER ledger_accounts_kept BEFORE UPDATE OR DELETE ON ledger_accounts "
            "FOR EACH ROW EXECUTE FUNCTION ledger_account_kept()"
        )
    else:
        for trigger in _SQLITE_TRIGGERS:
            op.execute(trigger)


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER ledger_accounts_kept ON ledger_accounts")
        op.execute("DROP FUNCTION ledger_account_kept()")
        op.execute(_NEW_ENTRIES_ONLY)
    else:
        op.execute("DROP TRIGGER postings_ledger_account_exists")
        op.execute("DROP TRIGGER postings_entry_exists")
    with op.batch_alter_table("postings", schema=None) as batch_op:
        for name, column, table, key in _FOREIGN_KEYS:
            batch_op.create_foreign_key(name, table, [column], [key])
