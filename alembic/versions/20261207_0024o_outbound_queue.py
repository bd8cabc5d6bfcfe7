"""The outbound queue is append-only in what it says: on PostgreSQL a trigger refuses to change
a message's content, reference, related reference, instruction, kind or format, and to delete a
message; only its delivery status (status, claim, sent, advised, reasons, version) moves.
SQLite has no such trigger: the service never writes those columns after the insert (tested).

Revision ID: 0024o
Revises: 0025i
Create Date: 2026-12-07
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0024o"
down_revision: str | None = "0025i"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

WRITTEN_ONCE = ("content", "reference", "related_reference", "instruction_id", "kind", "format")


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    changed = " OR ".join(f"NEW.{column} IS DISTINCT FROM OLD.{column}" for column in WRITTEN_ONCE)
    op.execute(
        f"""
        CREATE FUNCTION outbound_message_written_once() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            IF TG_OP = 'DELETE' THEN
                RAISE EXCEPTION 'DELETE on outbound_messages is not allowed: messages are kept'
                    USING ERRCODE = 'insufficient_privilege';
            END IF;
            IF {changed} THEN
                RAISE EXCEPTION 'UPDATE of what an outbound message says is not allowed: '
                    'only its delivery status moves' USING ERRCODE = 'insufficient_privilege';
            END IF;
            RETURN NEW;
        END;
        $$
        """
    )
    op.execute(
        "CREATE TRIGGER outbound_messages_written_once BEFORE UPDATE OR DELETE "
        "ON outbound_messages FOR EACH ROW EXECUTE FUNCTION outbound_message_written_once()"
    )


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute("DROP TRIGGER IF EXISTS outbound_messages_written_once ON outbound_messages")
    op.execute("DROP FUNCTION IF EXISTS outbound_message_written_once()")
