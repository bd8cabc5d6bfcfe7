"""The sealer's queue names existing audit records, checked once per statement, not once per row:
the foreign key of ``audit_unsealed`` (a trigger call, an index probe and a row lock written per
record, about two thirds of the queue's COPY for a 1,000-trade batch, and waited on before the
positions are locked) gives way to a statement trigger joining the statement's rows with the
trail, as 0033a did for the postings.

The guarantee is the foreign key's, whatever client writes: no queued record that does not exist.
An audit record is never deleted or changed (append-only since 0018), so no lock is needed to
keep it (the foreign key's ``FOR KEY SHARE`` guarded a deletion the trail refuses anyway). On
SQLite a row trigger refuses a queued record that does not exist.

Revision ID: 0034b
Revises: 0033a
Create Date: 2026-12-12
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0034b"
down_revision: str | None = "0033a"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_FOREIGN_KEY = "fk_audit_unsealed_record_id_audit_records"

# Once per INSERT, UPDATE or COPY statement, over its rows (the transition table ``queued``).
_RECORDS_EXIST = """
CREATE FUNCTION audit_unsealed_records_exist() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    missing RECORD;
BEGIN
    SELECT queued.record_id INTO missing
      FROM queued LEFT JOIN audit_records AS r ON r.id = queued.record_id
     WHERE r.id IS NULL
     LIMIT 1;
    IF FOUND THEN
        RAISE EXCEPTION 'audit record % is queued for sealing but does not exist',
            missing.record_id USING ERRCODE = 'foreign_key_violation';
    END IF;
    RETURN NULL;
END;
$$
"""

# A trigger with a transition table takes one event: one for inserts, one for updates.
_TRIGGERS = {
    "audit_unsealed_inserted_exist": (
        "CREATE TRIGGER audit_unsealed_inserted_exist AFTER INSERT ON audit_unsealed "
        "REFERENCING NEW TABLE AS queued "
        "FOR EACH STATEMENT EXECUTE FUNCTION audit_unsealed_records_exist()"
    ),
    "audit_unsealed_updated_exist": (
        "CREATE TRIGGER audit_unsealed_updated_exist AFTER UPDATE ON audit_unsealed "
        "REFERENCING NEW TABLE AS queued "
        "FOR EACH STATEMENT EXECUTE FUNCTION audit_unsealed_records_exist()"
    ),
}

_SQLITE_TRIGGERS = {
    "audit_unsealed_inserted_exists": """
    CREATE TRIGGER audit_unsealed_inserted_exists BEFORE INSERT ON audit_unsealed
    WHEN NOT EXISTS (SELECT 1 FROM audit_records WHERE id = NEW.record_id)
    BEGIN SELECT RAISE(ABORT, 'FOREIGN KEY constraint failed: audit_unsealed.record_id'); END
    """,
    "audit_unsealed_updated_exists": """
    CREATE TRIGGER audit_unsealed_updated_exists BEFORE UPDATE OF record_id ON audit_unsealed
    WHEN NOT EXISTS (SELECT 1 FROM audit_records WHERE id = NEW.record_id)
    BEGIN SELECT RAISE(ABORT, 'FOREIGN KEY constraint failed: audit_unsealed.record_id'); END
    """,
}


def upgrade() -> None:
    with op.batch_alter_table("audit_unsealed", schema=None) as batch_op:
        batch_op.drop_constraint(_FOREIGN_KEY, type_="foreignkey")
    if op.get_bind().dialect.name == "postgresql":
        op.execute(_RECORDS_EXIST)
        for trigger in _TRIGGERS.values():
            op.execute(trigger)
    else:
        for trigger in _SQLITE_TRIGGERS.values():
            op.execute(trigger)


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        for name in _TRIGGERS:
            op.execute(f"DROP TRIGGER {name} ON audit_unsealed")
        op.execute("DROP FUNCTION audit_unsealed_records_exist()")
    else:
        for name in _SQLITE_TRIGGERS:
            op.execute(f"DROP TRIGGER {name}")
    with op.batch_alter_table("audit_unsealed", schema=None) as batch_op:
        batch_op.create_foreign_key(_FOREIGN_KEY, "audit_records", ["record_id"], ["id"])
