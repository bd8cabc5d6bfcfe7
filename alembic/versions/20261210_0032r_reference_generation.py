"""The reference data's generation token: one row, renewed by a trigger on every change of the
reference tables a process caches (instruments, markets, their closed days, books,
counterparties), so that a reader checks one row instead of reading the tables again.

Revision ID: 0032r
Revises: 0032j
Create Date: 2026-12-10
"""

from collections.abc import Sequence

import sqlalchemy as sa

from alembic import op

revision: str = "0032r"
down_revision: str | None = "0032j"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# As app.reference.generation.models.TRACKED_TABLES on the day of this migration.
TRACKED_TABLES = ("instruments", "markets", "market_closed_days", "books", "counterparties")
_SQLITE_EVENTS = ("insert", "update", "delete")
_RANDOM_POSTGRESQL = "md5(random()::text || clock_timestamp()::text)"
_RANDOM_SQLITE = "lower(hex(randomblob(16)))"


def upgrade() -> None:
    op.create_table(
        "reference_generation",
        sa.Column("id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("token", sa.String(length=40), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_reference_generation")),
    )
    postgres = op.get_bind().dialect.name == "postgresql"
    if postgres:
        _postgresql_triggers()
    else:
        _sqlite_triggers()
    # Inserted once, here; the triggers only update it (an insert by a trigger could collide
    # with a restore of the table). Random from the start, as every token after it.
    token = _RANDOM_POSTGRESQL if postgres else _RANDOM_SQLITE
    op.execute(f"INSERT INTO reference_generation (id, token) VALUES (1, {token})")  # noqa: S608


def _postgresql_triggers() -> None:
    # Once per statement (a bulk load renews it once), TRUNCATE included.
    op.execute(
        "CREATE FUNCTION renew_reference_generation() RETURNS trigger LANGUAGE plpgsql AS $$ "  # noqa: S608
        f"BEGIN UPDATE reference_generation SET token = {_RANDOM_POSTGRESQL}; RETURN NULL; END $$"
    )
    for table in TRACKED_TABLES:
        op.execute(
            f"CREATE TRIGGER {table}_renew_reference_generation "
            f"AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON {table} "
            "FOR EACH STATEMENT EXECUTE FUNCTION renew_reference_generation()"
        )


def _sqlite_triggers() -> None:
    # SQLite's triggers are per row only; it has no TRUNCATE.
    for table in TRACKED_TABLES:
        for event in _SQLITE_EVENTS:
            op.execute(
                f"CREATE TRIGGER {table}_{event}_renews_reference_generation "  # noqa: S608
                f"AFTER {event.upper()} ON {table} BEGIN UPDATE reference_generation "
                f"SET token = {_RANDOM_SQLITE}; END"
            )


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        for table in TRACKED_TABLES:
            op.execute(f"DROP TRIGGER IF EXISTS {table}_renew_reference_generation ON {table}")
        op.execute("DROP FUNCTION IF EXISTS renew_reference_generation()")
    else:
        for table in TRACKED_TABLES:
            for event in _SQLITE_EVENTS:
                op.execute(f"DROP TRIGGER IF EXISTS {table}_{event}_renews_reference_generation")
    op.drop_table("reference_generation")
