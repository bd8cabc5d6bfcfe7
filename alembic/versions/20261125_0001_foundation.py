"""Foundation: reference data, trades, API keys, idempotency, audit chain and outbox.

Revision ID: 0001
Revises:
Create Date: 2026-11-25 09:16:14.858827
"""

from collections.abc import Sequence
from datetime import UTC, date, datetime
from decimal import Decimal

import sqlalchemy as sa

import app.core.types
from alembic import op

GENESIS_HASH = "0" * 64

# CSDR settlement discipline (Commission Delegated Regulation (EU) 2017/389 as amended): daily
# rates per business day of fail. Changes later come through /penalty-rates, not code.
SECURITIES_PENALTY_RATES = {
    "liquid_share": "0.0001",
    "illiquid_share": "0.00005",
    "sme_share": "0.000025",
    "sovereign_debt": "0.000010",
    "other_debt": "0.000020",
    "sme_debt": "0.000015",
    "other": "0.00005",
}
# Lack of cash: the ECB's marginal lending facility rate (annual), from its 11 June 2025 level.
CASH_PENALTY_RATES = {"cash:EUR": ("0.0240", "2025-06-11")}

# On PostgreSQL the database itself refuses to rewrite history.
APPEND_ONLY_TABLES = ("audit_records",)


revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "accounts",
        sa.Column("code", sa.String(length=40), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("kind", sa.String(length=12), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=True),
        sa.Column("servicer_bic", sa.String(length=11), nullable=False),
        sa.Column("iban", sa.String(length=34), nullable=True),
        sa.Column("account_number", sa.String(length=40), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("created_at", app.core.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", app.core.types.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("code", name=op.f("pk_accounts")),
    )
    op.create_table(
        "api_keys",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("role", sa.String(length=20), nullable=False),
        sa.Column("key_hash", sa.String(length=64), nullable=False),
        sa.Column("key_prefix", sa.String(length=16), nullable=False),
        sa.Column("created_at", app.core.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("created_by", sa.String(length=64), nullable=False),
        sa.Column("revoked_at", app.core.types.UTCDateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_api_keys")),
        sa.UniqueConstraint("key_hash", name=op.f("uq_api_keys_key_hash")),
    )
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

    op.create_table(
        "books",
        sa.Column("code", sa.String(length=40), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("created_at", app.core.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", app.core.types.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("code", name=op.f("pk_books")),
    )
    op.create_table(
        "counterparties",
        sa.Column("lei", sa.String(length=20), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("bic", sa.String(length=11), nullable=True),
        sa.Column("netting", sa.String(length=10), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("created_at", app.core.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", app.core.types.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("lei", name=op.f("pk_counterparties")),
    )
    op.create_table(
        "idempotency_keys",
        sa.Column("principal", sa.String(length=64), nullable=False),
        sa.Column("key", sa.String(length=255), nullable=False),
        sa.Column("fingerprint", sa.String(length=64), nullable=False),
        sa.Column("status_code", sa.Integer(), nullable=False),
        sa.Column("response_body", sa.JSON(), nullable=False),
        sa.Column("created_at", app.core.types.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("principal", "key", name=op.f("pk_idempotency_keys")),
    )
    with op.batch_alter_table("idempotency_keys", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_idempotency_keys_created_at"), ["created_at"], unique=False
        )

    op.create_table(
        "markets",
        sa.Column("mic", sa.String(length=4), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("country", sa.String(length=2), nullable=False),
        sa.Column("timezone", sa.String(length=64), nullable=False),
        sa.Column("calendar", sa.String(length=16), nullable=False),
        sa.Column("settlement_calendars", sa.JSON(), nullable=False),
        sa.Column("settlement_cycle_days", sa.JSON(), nullable=False),
        sa.Column("ccp", sa.String(length=11), nullable=True),
        sa.Column("affirmation_cutoff", sa.String(length=5), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("created_at", app.core.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", app.core.types.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("mic", name=op.f("pk_markets")),
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

    op.create_table(
        "penalty_rates",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("csdr_class", sa.String(length=20), nullable=False),
        sa.Column("rate", app.core.types.ExactDecimal(), nullable=False),
        sa.Column("effective_from", sa.Date(), nullable=False),
        sa.Column("created_at", app.core.types.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_penalty_rates")),
        sa.UniqueConstraint(
            "csdr_class", "effective_from", name=op.f("uq_penalty_rates_csdr_class_effective_from")
        ),
    )
    op.create_table(
        "instruments",
        sa.Column("isin", sa.String(length=12), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("type", sa.String(length=10), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("mic", sa.String(length=4), nullable=False),
        sa.Column("csdr_class", sa.String(length=20), nullable=False),
        sa.Column("settlement_unit", app.core.types.ExactDecimal(), nullable=False),
        sa.Column("settlement_cycle_days", sa.JSON(), nullable=True),
        sa.Column("price_basis", sa.String(length=10), nullable=False),
        sa.Column("coupon_rate", app.core.types.ExactDecimal(), nullable=True),
        sa.Column("coupon_frequency", sa.Integer(), nullable=True),
        sa.Column("day_count", sa.String(length=16), nullable=True),
        sa.Column("issue_date", sa.Date(), nullable=True),
        sa.Column("maturity_date", sa.Date(), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("created_at", app.core.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", app.core.types.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["mic"], ["markets.mic"], name=op.f("fk_instruments_mic_markets")),
        sa.PrimaryKeyConstraint("isin", name=op.f("pk_instruments")),
    )
    with op.batch_alter_table("instruments", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_instruments_mic"), ["mic"], unique=False)

    op.create_table(
        "market_closed_days",
        sa.Column("mic", sa.String(length=4), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("reason", sa.String(length=200), nullable=False),
        sa.Column("created_at", app.core.types.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["mic"], ["markets.mic"], name=op.f("fk_market_closed_days_mic_markets")
        ),
        sa.PrimaryKeyConstraint("mic", "day", name=op.f("pk_market_closed_days")),
    )
    op.create_table(
        "ssis",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("counterparty_lei", sa.String(length=20), nullable=False),
        sa.Column("mic", sa.String(length=4), nullable=True),
        sa.Column("currency", sa.String(length=3), nullable=True),
        sa.Column("place_of_settlement", sa.String(length=11), nullable=False),
        sa.Column("agent_bic", sa.String(length=11), nullable=False),
        sa.Column("account", sa.String(length=40), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("created_at", app.core.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", app.core.types.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["counterparty_lei"],
            ["counterparties.lei"],
            name=op.f("fk_ssis_counterparty_lei_counterparties"),
        ),
        sa.ForeignKeyConstraint(["mic"], ["markets.mic"], name=op.f("fk_ssis_mic_markets")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ssis")),
    )
    with op.batch_alter_table("ssis", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_ssis_counterparty_lei"), ["counterparty_lei"], unique=False
        )

    op.create_table(
        "prices",
        sa.Column("isin", sa.String(length=12), nullable=False),
        sa.Column("date", sa.Date(), nullable=False),
        sa.Column("price", app.core.types.ExactDecimal(), nullable=False),
        sa.Column("created_at", app.core.types.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["isin"], ["instruments.isin"], name=op.f("fk_prices_isin_instruments")
        ),
        sa.PrimaryKeyConstraint("isin", "date", name=op.f("pk_prices")),
    )
    op.create_table(
        "trades",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("external_id", sa.String(length=64), nullable=False),
        sa.Column("book", sa.String(length=40), nullable=False),
        sa.Column("counterparty_lei", sa.String(length=20), nullable=False),
        sa.Column("isin", sa.String(length=12), nullable=False),
        sa.Column("side", sa.String(length=4), nullable=False),
        sa.Column("quantity", app.core.types.ExactDecimal(), nullable=False),
        sa.Column("price", app.core.types.ExactDecimal(), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("trade_date", sa.Date(), nullable=False),
        sa.Column("trade_time", app.core.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("venue", sa.String(length=4), nullable=False),
        sa.Column("settlement_date", sa.Date(), nullable=False),
        sa.Column("commission", app.core.types.ExactDecimal(), nullable=False),
        sa.Column("fees", app.core.types.ExactDecimal(), nullable=False),
        sa.Column("accrued_interest", app.core.types.ExactDecimal(), nullable=True),
        sa.Column("gross_amount", app.core.types.ExactDecimal(), nullable=False),
        sa.Column("net_amount", app.core.types.ExactDecimal(), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("created_at", app.core.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", app.core.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("created_by", sa.String(length=64), nullable=False),
        sa.Column("cancel_reason", sa.String(length=500), nullable=True),
        sa.ForeignKeyConstraint(["book"], ["books.code"], name=op.f("fk_trades_book_books")),
        sa.ForeignKeyConstraint(
            ["counterparty_lei"],
            ["counterparties.lei"],
            name=op.f("fk_trades_counterparty_lei_counterparties"),
        ),
        sa.ForeignKeyConstraint(
            ["isin"], ["instruments.isin"], name=op.f("fk_trades_isin_instruments")
        ),
        sa.ForeignKeyConstraint(["venue"], ["markets.mic"], name=op.f("fk_trades_venue_markets")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_trades")),
        sa.UniqueConstraint("book", "external_id", name=op.f("uq_trades_book_external_id")),
    )
    with op.batch_alter_table("trades", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_trades_counterparty_lei"), ["counterparty_lei"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_trades_isin"), ["isin"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_trades_settlement_date"), ["settlement_date"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_trades_status_settlement_date"),
            ["status", "settlement_date"],
            unique=False,
        )
        batch_op.create_index(batch_op.f("ix_trades_trade_date"), ["trade_date"], unique=False)

    _seed(op.get_bind())
    if op.get_bind().dialect.name == "postgresql":
        _append_only_triggers()


def _seed(bind: sa.engine.Connection) -> None:
    head = sa.table(
        "audit_chain_head",
        sa.column("id", sa.Integer),
        sa.column("last_seq", sa.BigInteger),
        sa.column("last_hash", sa.String),
    )
    op.bulk_insert(head, [{"id": 1, "last_seq": 0, "last_hash": GENESIS_HASH}])
    rates = sa.table(
        "penalty_rates",
        sa.column("id", sa.String),
        sa.column("csdr_class", sa.String),
        sa.column("rate", app.core.types.ExactDecimal()),
        sa.column("effective_from", sa.Date),
        sa.column("created_at", app.core.types.UTCDateTime()),
    )
    seeded_at = datetime(2026, 11, 25, tzinfo=UTC)
    rows = [
        {
            "id": f"pnr_seed_{csdr_class}",
            "csdr_class": csdr_class,
            "rate": Decimal(rate),
            "effective_from": date(2022, 2, 1),
            "created_at": seeded_at,
        }
        for csdr_class, rate in SECURITIES_PENALTY_RATES.items()
    ] + [
        {
            "id": f"pnr_seed_{key.replace(':', '_').lower()}",
            "csdr_class": key,
            "rate": Decimal(rate),
            "effective_from": date.fromisoformat(start),
            "created_at": seeded_at,
        }
        for key, (rate, start) in CASH_PENALTY_RATES.items()
    ]
    op.bulk_insert(rates, rows)


def _append_only_triggers() -> None:
    op.execute(
        """
        CREATE FUNCTION refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            RAISE EXCEPTION '% on % is not allowed: the table is append-only', TG_OP, TG_TABLE_NAME
                USING ERRCODE = 'insufficient_privilege';
        END;
        $$
        """
    )
    for table in APPEND_ONLY_TABLES:
        op.execute(
            f"CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table} "
            "FOR EACH ROW EXECUTE FUNCTION refuse_change()"
        )


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        for table in APPEND_ONLY_TABLES:
            op.execute(f"DROP TRIGGER IF EXISTS {table}_append_only ON {table}")
        op.execute("DROP FUNCTION IF EXISTS refuse_change()")
    with op.batch_alter_table("trades", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_trades_trade_date"))
        batch_op.drop_index(batch_op.f("ix_trades_status_settlement_date"))
        batch_op.drop_index(batch_op.f("ix_trades_settlement_date"))
        batch_op.drop_index(batch_op.f("ix_trades_isin"))
        batch_op.drop_index(batch_op.f("ix_trades_counterparty_lei"))

    op.drop_table("trades")
    op.drop_table("prices")
    with op.batch_alter_table("ssis", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_ssis_counterparty_lei"))

    op.drop_table("ssis")
    op.drop_table("market_closed_days")
    with op.batch_alter_table("instruments", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_instruments_mic"))

    op.drop_table("instruments")
    op.drop_table("penalty_rates")
    with op.batch_alter_table("outbox_events", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_outbox_events_entity_type_entity_id"))

    op.drop_table("outbox_events")
    op.drop_table("markets")
    with op.batch_alter_table("idempotency_keys", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_idempotency_keys_created_at"))

    op.drop_table("idempotency_keys")
    op.drop_table("counterparties")
    op.drop_table("books")
    with op.batch_alter_table("audit_records", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_audit_records_occurred_at"))
        batch_op.drop_index(batch_op.f("ix_audit_records_entity_type_entity_id_seq"))
        batch_op.drop_index(batch_op.f("ix_audit_records_actor_key_id"))

    op.drop_table("audit_records")
    op.drop_table("audit_chain_head")
    op.drop_table("api_keys")
    op.drop_table("accounts")
