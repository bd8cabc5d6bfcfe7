"""Index seals by the time they were sealed: verify and export find a window's stretch at once

``GET /audit/verify`` and ``GET /audit/export`` take ``from``/``to`` as the time records were
sealed; one sealer seals in ``seq`` order, so the first seal of a window is the first row of
this index from ``from`` on (and the last, the last one before ``to``).

Revision ID: 0021
Revises: 0020
Create Date: 2026-12-06
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0021"
down_revision: str | None = "0020"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("audit_seals", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_audit_seals_sealed_at_seq"), ["sealed_at", "seq"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("audit_seals", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_audit_seals_sealed_at_seq"))
