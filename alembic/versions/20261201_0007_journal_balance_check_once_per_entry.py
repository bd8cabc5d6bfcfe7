"""The journal's balance check runs once per entry: on PostgreSQL the deferred trigger on
postings sums an entry only from its last posting (found through a new (entry_id, id) index),
instead of from every posting, which made an entry of n postings cost n sums at commit.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-01 23:14:09.057876
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Deferred, so it runs at commit with all of the transaction's postings in place: only the
# entry's last posting sums it (a posting added to an old entry later is then the last one).
_ONCE_PER_ENTRY = """
CREATE OR REPLACE FUNCTION journal_entry_balanced() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    off RECORD;
BEGIN
    IF EXISTS (SELECT 1 FROM postings WHERE entry_id = NEW.entry_id AND id > NEW.id) THEN
        RETURN NULL;
    END IF;
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

# As migration 0003 made it.
_EVERY_POSTING = """
CREATE OR REPLACE FUNCTION journal_entry_balanced() RETURNS trigger LANGUAGE plpgsql AS $$
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


def upgrade() -> None:
    with op.batch_alter_table("postings", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_postings_entry_id"))
        batch_op.create_index(batch_op.f("ix_postings_entry_id_id"), ["entry_id", "id"])
    if op.get_bind().dialect.name == "postgresql":
        op.execute(_ONCE_PER_ENTRY)


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(_EVERY_POSTING)
    with op.batch_alter_table("postings", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_postings_entry_id_id"))
        batch_op.create_index(batch_op.f("ix_postings_entry_id"), ["entry_id"])
