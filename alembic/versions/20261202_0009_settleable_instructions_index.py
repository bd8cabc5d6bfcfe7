"""Settleable instructions index: what settlement runs walk, in their order

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-02
"""

from collections.abc import Sequence

import sqlalchemy as sa

from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_SETTLEABLE = sa.text("status IN ('matched', 'partially_settled')")


def upgrade() -> None:
    op.create_index(
        "ix_settlement_instructions_settleable",
        "settlement_instructions",
        ["priority", "created_at", "id"],
        postgresql_where=_SETTLEABLE,
        sqlite_where=_SETTLEABLE,
    )


def downgrade() -> None:
    op.drop_index("ix_settlement_instructions_settleable", table_name="settlement_instructions")
