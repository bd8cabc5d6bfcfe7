"""CSDR buy-in extension periods as effective-dated reference data, seeded with their audit record

One row per class that has its own period, and ``default`` for the rest: 4 business days after
the intended settlement date by default, 7 for illiquid shares, 15 for SME growth market shares
and debt (CSDR Art. 7(3)-(4); see app.reference.buy_in_periods.periods). In force from the
settlement discipline regime's start, 1 February 2022. Changes later come through
/buy-in-extension-periods, not code. Each seeded row gets its ``seeded`` audit record by the
system, queued for the sealer, as 0022 gave the earlier seeds.

Revision ID: 0026b
Revises: 0024o
Create Date: 2026-12-07
"""

from collections.abc import Sequence
from datetime import UTC, date, datetime

import sqlalchemy as sa

import app.core.types
from alembic import op
from app.core.snapshots import jsonable

revision: str = "0026b"
down_revision: str | None = "0024o"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TABLE = "buy_in_extension_periods"
ENTITY = "buy_in_extension_period"
ACTION = "seeded"
SYSTEM = {"actor_key_id": "system", "actor_role": "admin", "actor_name": "system"}
PERIODS = {"default": 4, "illiquid_share": 7, "sme_share": 15, "sme_debt": 15}
EFFECTIVE_FROM = date(2022, 2, 1)
SEEDED_AT = datetime(2026, 12, 7, tzinfo=UTC)


def _periods() -> sa.TableClause:
    return sa.table(
        TABLE,
        sa.column("id", sa.String()),
        sa.column("csdr_class", sa.String()),
        sa.column("business_days", sa.Integer()),
        sa.column("effective_from", sa.Date()),
        sa.column("created_at", app.core.types.UTCDateTime(timezone=True)),
    )


def _records() -> sa.TableClause:
    return sa.table(
        "audit_records",
        sa.column("id", sa.BigInteger()),
        sa.column("occurred_at", app.core.types.UTCDateTime(timezone=True)),
        sa.column("actor_key_id", sa.String()),
        sa.column("actor_role", sa.String()),
        sa.column("actor_name", sa.String()),
        sa.column("request_id", sa.String()),
        sa.column("entity_type", sa.String()),
        sa.column("entity_id", sa.String()),
        sa.column("action", sa.String()),
        sa.column("before", sa.JSON()),
        sa.column("after", sa.JSON()),
        sa.column("event_type", sa.String()),
    )


def _unsealed() -> sa.TableClause:
    return sa.table(
        "audit_unsealed",
        sa.column("record_id", sa.BigInteger()),
        sa.column("queued_at", app.core.types.UTCDateTime(timezone=True)),
    )


def upgrade() -> None:
    op.create_table(
        TABLE,
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("csdr_class", sa.String(length=20), nullable=False),
        sa.Column("business_days", sa.Integer(), nullable=False),
        sa.Column("effective_from", sa.Date(), nullable=False),
        sa.Column("created_at", app.core.types.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_buy_in_extension_periods")),
        sa.UniqueConstraint(
            "csdr_class",
            "effective_from",
            name=op.f("uq_buy_in_extension_periods_csdr_class_effective_from"),
        ),
    )
    bind = op.get_bind()
    records, queued = _records(), _unsealed()
    for csdr_class, business_days in PERIODS.items():
        row = {
            "id": f"bix_seed_{csdr_class}",
            "csdr_class": csdr_class,
            "business_days": business_days,
            "effective_from": EFFECTIVE_FROM,
            "created_at": SEEDED_AT,
        }
        bind.execute(sa.insert(_periods()).values(**row))
        record_id = bind.execute(
            sa.insert(records)
            .values(
                occurred_at=SEEDED_AT,
                **SYSTEM,
                request_id=None,
                entity_type=ENTITY,
                entity_id=row["id"],
                action=ACTION,
                before=None,
                after={name: jsonable(value) for name, value in row.items()},
                event_type=None,
            )
            .returning(records.c.id)
        ).scalar_one()
        bind.execute(sa.insert(queued).values(record_id=record_id, queued_at=datetime.now(UTC)))


def downgrade() -> None:
    """Take back the seeds' records the sealer has not sealed yet (a sealed one keeps its place
    in the chain), then the table."""
    bind = op.get_bind()
    records, queued = _records(), _unsealed()
    ours = (
        sa.select(records.c.id)
        .join(queued, queued.c.record_id == records.c.id)
        .where(records.c.entity_type == ENTITY, records.c.action == ACTION)
    )
    ids = list(bind.execute(ours).scalars())
    if ids:
        postgres = bind.dialect.name == "postgresql"
        bind.execute(sa.delete(queued).where(queued.c.record_id.in_(ids)))
        if postgres:
            op.execute("ALTER TABLE audit_records DISABLE TRIGGER audit_records_append_only")
        bind.execute(sa.delete(records).where(records.c.id.in_(ids)))
        if postgres:
            op.execute("ALTER TABLE audit_records ENABLE TRIGGER audit_records_append_only")
    op.drop_table(TABLE)
