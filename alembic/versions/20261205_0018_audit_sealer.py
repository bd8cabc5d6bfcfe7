"""Writers append, one sealer chains: audit records lose their chain columns to a seal table

Writers used to lock one chain-head row from their first audit record to COMMIT, so every
write in the system queued on it. Now a record is appended with an id from a sequence and
queued in ``audit_unsealed``; the sealer gives it its ``seq`` and hash in ``audit_seals``
(append-only, like the records). The outbox is the trail itself: ``event_type`` on a record
makes it an event, so a change is encoded once.

Existing records keep their place: each gets a seal with its old ``seq``, ``prev_hash`` and
``hash`` (the hash's canonical form is unchanged), and its id is its old ``seq``.

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-05
"""

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa

import app.core.types
from alembic import op

revision: str = "0018"
down_revision: str | None = "0017"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ROW_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
GENESIS_HASH = "0" * 64


def _is_postgres() -> bool:
    return op.get_bind().dialect.name == "postgresql"


def upgrade() -> None:
    postgres = _is_postgres()
    op.add_column("audit_records", sa.Column("event_type", sa.String(length=80), nullable=True))
    if postgres:
        op.execute("ALTER TABLE audit_records DISABLE TRIGGER audit_records_append_only")
    op.execute(
        "UPDATE audit_records SET event_type = "
        "(SELECT event_type FROM outbox_events WHERE outbox_events.seq = audit_records.seq)"
    )
    if postgres:
        op.execute("ALTER TABLE audit_records ENABLE TRIGGER audit_records_append_only")

    op.create_table(
        "audit_seals",
        sa.Column("seq", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("record_id", ROW_ID, nullable=False),
        sa.Column("prev_hash", sa.String(length=64), nullable=False),
        sa.Column("hash", sa.String(length=64), nullable=False),
        sa.Column("sealed_at", app.core.types.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("seq", name=op.f("pk_audit_seals")),
        sa.UniqueConstraint("record_id", name=op.f("uq_audit_seals_record_id")),
    )
    op.execute(
        "INSERT INTO audit_seals (seq, record_id, prev_hash, hash, sealed_at) "
        "SELECT seq, seq, prev_hash, hash, occurred_at FROM audit_records"
    )

    with op.batch_alter_table("audit_records", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_audit_records_entity_type_entity_id_seq"))
        batch_op.alter_column(
            "seq",
            new_column_name="id",
            existing_type=sa.BigInteger(),
            type_=ROW_ID,
            existing_nullable=False,
        )
        batch_op.drop_column("prev_hash")
        batch_op.drop_column("hash")
    with op.batch_alter_table("audit_records", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_audit_records_entity_type_entity_id_id"),
            ["entity_type", "entity_id", "id"],
            unique=False,
        )
    if postgres:
        op.execute("CREATE SEQUENCE audit_records_id_seq OWNED BY audit_records.id")
        op.execute(
            "ALTER TABLE audit_records ALTER COLUMN id SET DEFAULT nextval('audit_records_id_seq')"
        )
        op.execute(
            "SELECT setval('audit_records_id_seq', COALESCE(max(id), 0) + 1, false) "
            "FROM audit_records"
        )

    with op.batch_alter_table("audit_seals", schema=None) as batch_op:
        batch_op.create_foreign_key(
            batch_op.f("fk_audit_seals_record_id_audit_records"),
            "audit_records",
            ["record_id"],
            ["id"],
        )
    op.create_table(
        "audit_unsealed",
        sa.Column("record_id", ROW_ID, autoincrement=False, nullable=False),
        sa.Column("queued_at", app.core.types.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["record_id"],
            ["audit_records.id"],
            name=op.f("fk_audit_unsealed_record_id_audit_records"),
        ),
        sa.PrimaryKeyConstraint("record_id", name=op.f("pk_audit_unsealed")),
    )

    with op.batch_alter_table("outbox_events", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_outbox_events_entity_type_entity_id"))
    op.drop_table("outbox_events")
    op.drop_table("audit_chain_head")
    if postgres:
        op.execute(
            "CREATE TRIGGER audit_seals_append_only BEFORE UPDATE OR DELETE ON audit_seals "
            "FOR EACH ROW EXECUTE FUNCTION refuse_change()"
        )


# Downgrade: back to one chain-head row, chain columns on the records and an outbox table. Every
# record must be sealed first (the old schema has no place for an unsealed one).

_OLD_RECORD_COLUMNS = (
    "occurred_at",
    "actor_key_id",
    "actor_role",
    "actor_name",
    "request_id",
    "entity_type",
    "entity_id",
    "action",
    "before",
    "after",
)


def _typed() -> list[sa.ColumnClause[Any]]:
    types: dict[str, Any] = {
        "occurred_at": app.core.types.UTCDateTime(timezone=True),
        "before": sa.JSON(),
        "after": sa.JSON(),
    }
    return [sa.column(name, types.get(name)) for name in _OLD_RECORD_COLUMNS]


def _sealed_rows() -> list[dict[str, Any]]:
    bind = op.get_bind()
    unsealed = bind.execute(sa.text("SELECT count(*) FROM audit_unsealed")).scalar_one()
    if unsealed:
        raise RuntimeError(
            f"{unsealed} audit records are not sealed yet: run the sealer before downgrading."
        )
    records = sa.table("audit_records", sa.column("id"), sa.column("event_type"), *_typed())
    seals = sa.table(
        "audit_seals",
        sa.column("seq"),
        sa.column("record_id"),
        sa.column("prev_hash"),
        sa.column("hash"),
    )
    statement = (
        sa.select(records, seals.c.seq, seals.c.prev_hash, seals.c.hash)
        .join(seals, seals.c.record_id == records.c.id)
        .order_by(seals.c.seq)
    )
    return [dict(row) for row in bind.execute(statement).mappings()]


def _create_old_tables() -> None:
    op.create_table(
        "audit_chain_head",
        sa.Column("id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("last_seq", sa.BigInteger(), nullable=False),
        sa.Column("last_hash", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_chain_head")),
    )
    op.create_table(
        "audit_records",
        sa.Column("seq", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("occurred_at", app.core.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("actor_key_id", sa.String(length=64), nullable=False),
        sa.Column("actor_role", sa.String(length=20), nullable=False),
        sa.Column("actor_name", sa.String(length=200), nullable=False),
        sa.Column("request_id", sa.String(length=128), nullable=True),
        sa.Column("entity_type", sa.String(length=40), nullable=False),
        sa.Column("entity_id", sa.String(length=64), nullable=False),
        sa.Column("action", sa.String(length=60), nullable=False),
        sa.Column("before", sa.JSON(), nullable=True),
        sa.Column("after", sa.JSON(), nullable=True),
        sa.Column("prev_hash", sa.String(length=64), nullable=False),
        sa.Column("hash", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("seq", name=op.f("pk_audit_records")),
    )
    with op.batch_alter_table("audit_records", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_audit_records_actor_key_id"), ["actor_key_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_audit_records_entity_type_entity_id_seq"),
            ["entity_type", "entity_id", "seq"],
            unique=False,
        )
        batch_op.create_index(
            batch_op.f("ix_audit_records_occurred_at"), ["occurred_at"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_audit_records_request_id"), ["request_id"], unique=False
        )
    op.create_table(
        "outbox_events",
        sa.Column("seq", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("event_id", sa.String(length=40), nullable=False),
        sa.Column("event_type", sa.String(length=80), nullable=False),
        sa.Column("entity_type", sa.String(length=40), nullable=False),
        sa.Column("entity_id", sa.String(length=64), nullable=False),
        sa.Column("occurred_at", app.core.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("payload", sa.JSON(), nullable=False),
        sa.Column("published_at", app.core.types.UTCDateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("seq", name=op.f("pk_outbox_events")),
        sa.UniqueConstraint("event_id", name=op.f("uq_outbox_events_event_id")),
    )
    with op.batch_alter_table("outbox_events", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_outbox_events_entity_type_entity_id"),
            ["entity_type", "entity_id"],
            unique=False,
        )


def _fill_old_tables(rows: list[dict[str, Any]]) -> None:
    old_records = sa.table(
        "audit_records", sa.column("seq"), *_typed(), sa.column("prev_hash"), sa.column("hash")
    )
    outbox = sa.table(
        "outbox_events",
        sa.column("seq"),
        sa.column("event_id"),
        sa.column("event_type"),
        sa.column("entity_type"),
        sa.column("entity_id"),
        sa.column("occurred_at", app.core.types.UTCDateTime(timezone=True)),
        sa.column("payload", sa.JSON()),
    )
    if rows:
        op.bulk_insert(
            old_records,
            [
                {name: row[name] for name in (*_OLD_RECORD_COLUMNS, "seq", "prev_hash", "hash")}
                for row in rows
            ],
        )
        op.bulk_insert(
            outbox,
            [
                {
                    "seq": row["seq"],
                    "event_id": f"evt_{row['seq']:026d}",
                    "event_type": row["event_type"] or f"{row['entity_type']}.{row['action']}",
                    "entity_type": row["entity_type"],
                    "entity_id": row["entity_id"],
                    "occurred_at": row["occurred_at"],
                    "payload": (
                        {"before": row["before"], "after": row["after"]}
                        if row["before"] is not None
                        else {"after": row["after"]}
                    ),
                }
                for row in rows
            ],
        )
    last_seq, last_hash = (rows[-1]["seq"], rows[-1]["hash"]) if rows else (0, GENESIS_HASH)
    op.execute(
        sa.text(
            "INSERT INTO audit_chain_head (id, last_seq, last_hash) VALUES (1, :s, :h)"
        ).bindparams(s=last_seq, h=last_hash)
    )


def downgrade() -> None:
    postgres = _is_postgres()
    rows = _sealed_rows()
    if postgres:
        op.execute("DROP TRIGGER IF EXISTS audit_seals_append_only ON audit_seals")
        op.execute("DROP TRIGGER IF EXISTS audit_records_append_only ON audit_records")
    op.drop_table("audit_unsealed")
    op.drop_table("audit_seals")
    with op.batch_alter_table("audit_records", schema=None) as batch_op:
        for index in ("actor_key_id", "entity_type_entity_id_id", "occurred_at", "request_id"):
            batch_op.drop_index(batch_op.f(f"ix_audit_records_{index}"))
    op.drop_table("audit_records")
    _create_old_tables()
    _fill_old_tables(rows)
    if postgres:
        op.execute(
            "CREATE TRIGGER audit_records_append_only BEFORE UPDATE OR DELETE ON audit_records "
            "FOR EACH ROW EXECUTE FUNCTION refuse_change()"
        )
