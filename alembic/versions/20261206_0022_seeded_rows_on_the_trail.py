"""Rows seeded by migrations get their audit record: the trail knows every audited row

Penalty rates (0001) and reconciliation rules (0015) were seeded without an audit record, so
``GET /audit/verify`` would report them as unaudited, and a direct change to one could not be
told from the seed. Each such row without any record gets one now: action ``seeded``, by the
system, at the row's ``created_at``, its after-image as the service writes one (every column,
JSON-safe), queued for the sealer. No ``event_type``: the feed's subscribers missed nothing.

Revision ID: 0022
Revises: 0021
Create Date: 2026-12-06
"""

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa

import app.core.types
from alembic import op
from app.core.snapshots import jsonable

revision: str = "0022"
down_revision: str | None = "0021"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ACTION = "seeded"
SYSTEM = {"actor_key_id": "system", "actor_role": "admin", "actor_name": "system"}


def _seeded_tables() -> dict[str, tuple[sa.TableClause, str]]:
    """Each seeded table as it stands at this revision, typed as the models read it."""
    decimal, moment = app.core.types.ExactDecimal(), app.core.types.UTCDateTime(timezone=True)
    rates = sa.table(
        "penalty_rates",
        sa.column("id", sa.String()),
        sa.column("csdr_class", sa.String()),
        sa.column("rate", decimal),
        sa.column("effective_from", sa.Date()),
        sa.column("created_at", moment),
    )
    rules = sa.table(
        "reconciliation_rules",
        sa.column("name", sa.String()),
        sa.column("description", sa.String()),
        sa.column("priority", sa.Integer()),
        sa.column("kind", sa.String()),
        sa.column("enabled", sa.Boolean()),
        sa.column("amount_tolerance", sa.JSON()),
        sa.column("default_amount_tolerance", decimal),
        sa.column("value_date_days", sa.Integer()),
        sa.column("counterparty_must_agree", sa.Boolean()),
        sa.column("max_group_size", sa.Integer()),
        sa.column("max_candidates", sa.Integer()),
        sa.column("search_budget", sa.Integer()),
        sa.column("version", sa.Integer()),
        sa.column("created_at", moment),
        sa.column("updated_at", moment),
    )
    return {"penalty_rate": (rates, "id"), "reconciliation_rule": (rules, "name")}


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
    bind = op.get_bind()
    records, queued = _records(), _unsealed()
    now = datetime.now(UTC)
    for entity_type, (table, key) in _seeded_tables().items():
        recorded = _recorded(bind, records, entity_type)
        rows = bind.execute(sa.select(table).order_by(table.c[key])).mappings().all()
        for row in rows:
            if row[key] in recorded:
                continue
            record_id = bind.execute(
                sa.insert(records)
                .values(
                    occurred_at=row["created_at"],
                    **SYSTEM,
                    request_id=None,
                    entity_type=entity_type,
                    entity_id=row[key],
                    action=ACTION,
                    before=None,
                    after={name: jsonable(value) for name, value in row.items()},
                    event_type=None,
                )
                .returning(records.c.id)
            ).scalar_one()
            bind.execute(sa.insert(queued).values(record_id=record_id, queued_at=now))


def _recorded(bind: Any, records: sa.TableClause, entity_type: str) -> set[str]:
    statement = sa.select(records.c.entity_id).where(records.c.entity_type == entity_type)
    return set(bind.execute(statement.distinct()).scalars())


def downgrade() -> None:
    """Take back the records this revision wrote that the sealer has not sealed yet; a sealed
    one keeps its place in the chain."""
    bind = op.get_bind()
    records, queued = _records(), _unsealed()
    ours = (
        sa.select(records.c.id)
        .join(queued, queued.c.record_id == records.c.id)
        .where(
            records.c.action == ACTION,
            records.c.actor_key_id == SYSTEM["actor_key_id"],
            records.c.entity_type.in_(list(_seeded_tables())),
        )
    )
    ids = list(bind.execute(ours).scalars())
    if not ids:
        return
    postgres = bind.dialect.name == "postgresql"
    bind.execute(sa.delete(queued).where(queued.c.record_id.in_(ids)))
    if postgres:
        op.execute("ALTER TABLE audit_records DISABLE TRIGGER audit_records_append_only")
    bind.execute(sa.delete(records).where(records.c.id.in_(ids)))
    if postgres:
        op.execute("ALTER TABLE audit_records ENABLE TRIGGER audit_records_append_only")
