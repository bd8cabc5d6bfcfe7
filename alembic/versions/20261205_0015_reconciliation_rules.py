"""Reconciliation rules: the matching rules as data, seeded with the defaults

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-05
"""

from collections.abc import Sequence
from datetime import UTC, datetime
from decimal import Decimal

import sqlalchemy as sa

import app.core.types
from alembic import op

revision: str = "0015"
down_revision: str | None = "0014"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# A cent either way in the currencies whose payments carry cents and whose banks round them;
# other currencies match exactly until operations give them a tolerance through the API.
CENT = {"EUR": "0.01", "GBP": "0.01", "USD": "0.01"}
# Groups of up to 5 (a CCP's net payment for a day's settlements rarely nets more), among at
# most 30 candidates, 100,000 search nodes each: well under a second of search per item.
GROUP = {"max_group_size": 5, "max_candidates": 30, "search_budget": 100_000}

SEEDED_RULES = [
    {
        "name": "exact-reference",
        "description": "A reference both sides carry, the same amount, the same value date.",
        "priority": 10,
        "kind": "exact_reference",
        "amount_tolerance": {},
        "value_date_days": 0,
        "counterparty_must_agree": False,
    },
    {
        "name": "exact-reference-cent",
        "description": "A reference both sides carry, a cent apart (EUR, GBP, USD), the same "
        "value date.",
        "priority": 20,
        "kind": "exact_reference",
        "amount_tolerance": CENT,
        "value_date_days": 0,
        "counterparty_must_agree": False,
    },
    {
        "name": "amount-date-counterparty",
        "description": "No shared reference: the one line and the one movement of the same "
        "counterparty within a cent and a day of each other, and of nothing else.",
        "priority": 30,
        "kind": "amount_date_counterparty",
        "amount_tolerance": CENT,
        "value_date_days": 1,
        "counterparty_must_agree": True,
    },
    {
        "name": "one-to-many",
        "description": "One statement line for the sum of up to 5 book movements of its "
        "counterparty on its value date (a net payment for several settlements).",
        "priority": 40,
        "kind": "one_to_many",
        "amount_tolerance": CENT,
        "value_date_days": 0,
        "counterparty_must_agree": True,
    },
    {
        "name": "many-to-one",
        "description": "Up to 5 statement lines of one counterparty on one value date for one "
        "book movement (a payment the bank split).",
        "priority": 50,
        "kind": "many_to_one",
        "amount_tolerance": CENT,
        "value_date_days": 0,
        "counterparty_must_agree": True,
    },
]


def upgrade() -> None:
    rules = op.create_table(
        "reconciliation_rules",
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("description", sa.String(length=500), nullable=False),
        sa.Column("priority", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("enabled", sa.Boolean(), nullable=False),
        sa.Column("amount_tolerance", sa.JSON(), nullable=False),
        sa.Column("default_amount_tolerance", app.core.types.ExactDecimal(), nullable=False),
        sa.Column("value_date_days", sa.Integer(), nullable=False),
        sa.Column("counterparty_must_agree", sa.Boolean(), nullable=False),
        sa.Column("max_group_size", sa.Integer(), nullable=False),
        sa.Column("max_candidates", sa.Integer(), nullable=False),
        sa.Column("search_budget", sa.Integer(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("created_at", app.core.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", app.core.types.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_reconciliation_rules")),
    )
    seeded_at = datetime(2026, 12, 5, tzinfo=UTC)
    op.bulk_insert(
        rules,
        [
            {
                **rule,
                **GROUP,
                "enabled": True,
                "default_amount_tolerance": Decimal(0),
                "version": 1,
                "created_at": seeded_at,
                "updated_at": seeded_at,
            }
            for rule in SEEDED_RULES
        ],
    )


def downgrade() -> None:
    op.drop_table("reconciliation_rules")
