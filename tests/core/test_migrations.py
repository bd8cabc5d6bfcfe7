"""Alembic is the only source of schema: a fresh database migrated to head matches the models,
is seeded, goes down to nothing and up again."""

import asyncio
import os
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import asyncpg
import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import func, select
from sqlalchemy.engine import Connection, make_url
from sqlalchemy.ext.asyncio import AsyncSession

from app.audit.chain import record_hash
from app.audit.drift import find_drift
from app.audit.models import GENESIS_HASH, AuditRecord, UnsealedRecord
from app.audit.service import Change, record_changes
from app.audit.verification import verify_chain
from app.audited import AUDITED_TABLES
from app.core.auth import SYSTEM_ACTOR
from app.core.db import create_engine, create_sessionmaker
from app.core.migrations import downgrade, head_revision, upgrade
from app.core.snapshots import row_snapshot
from app.core.types import ExactDecimal
from app.models import metadata
from app.positions.ledger_check.service import check_ledger
from app.reconciliation.rules.models import ReconciliationRule
from app.reference.buy_in_periods.models import BuyInExtensionPeriod
from app.reference.rates.models import PenaltyRate
from tests.conftest import PG_ENV, Database
from tests.support import seal

MODEL_TABLES = sorted(metadata.tables)
SEEDED_RATES = {
    "cash:EUR": ("pnr_seed_cash_eur", "0.0240", "2025-06-11"),
    "illiquid_share": ("pnr_seed_illiquid_share", "0.00005", "2022-02-01"),
    "liquid_share": ("pnr_seed_liquid_share", "0.0001", "2022-02-01"),
    "other": ("pnr_seed_other", "0.00005", "2022-02-01"),
    "other_debt": ("pnr_seed_other_debt", "0.000020", "2022-02-01"),
    "sme_debt": ("pnr_seed_sme_debt", "0.000015", "2022-02-01"),
    "sme_share": ("pnr_seed_sme_share", "0.000025", "2022-02-01"),
    "sovereign_debt": ("pnr_seed_sovereign_debt", "0.000010", "2022-02-01"),
}


async def _admin_connection() -> Any:
    url = make_url(os.environ[PG_ENV])
    return await asyncpg.connect(
        host=url.host or "127.0.0.1",
        port=url.port or 5432,
        user=url.username or "postgres",
        password=url.password,
        database="postgres",
    )


@pytest.fixture
async def fresh_url(database: Database, tmp_path: Path) -> AsyncIterator[str]:
    """An empty database of the backend under test, removed afterwards."""
    if database.backend == "sqlite":
        yield f"sqlite+aiosqlite:///{tmp_path / 'migrations.db'}"
        return
    worker = os.environ.get("PYTEST_XDIST_WORKER", "main")
    name = f"settlement_test_migr_{worker}_{uuid.uuid4().hex[:8]}"
    admin = await _admin_connection()
    try:
        await admin.execute(f'CREATE DATABASE "{name}"')
    finally:
        await admin.close()
    try:
        yield make_url(os.environ[PG_ENV]).set(database=name).render_as_string(hide_password=False)
    finally:
        admin = await _admin_connection()
        try:
            await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        finally:
            await admin.close()


def _differences(connection: Connection, target: sa.MetaData = metadata) -> list[Any]:
    context = MigrationContext.configure(
        connection, opts={"compare_type": True, "compare_server_default": True}
    )
    return list(compare_metadata(context, target))


def _table_names(connection: Connection) -> list[str]:
    return sorted(sa.inspect(connection).get_table_names())


async def _run(url: str, work: Any) -> Any:
    engine = create_engine(url)
    try:
        async with engine.connect() as connection:
            return await connection.run_sync(work)
    finally:
        await engine.dispose()


async def test_head_matches_the_models_and_is_seeded(fresh_url: str) -> None:
    await asyncio.to_thread(upgrade, fresh_url)

    assert await _run(fresh_url, _differences) == []
    assert await _run(fresh_url, _table_names) == sorted([*MODEL_TABLES, "alembic_version"])

    async def seeded(connection: Any) -> Any:
        version = await connection.execute(sa.text("SELECT version_num FROM alembic_version"))
        head = await connection.execute(sa.text("SELECT count(*) FROM audit_seals"))
        rates = metadata.tables["penalty_rates"]
        rate_rows = await connection.execute(
            sa.select(rates.c.csdr_class, rates.c.id, rates.c.rate, rates.c.effective_from)
        )
        return version.scalars().all(), head.all(), rate_rows.all()

    engine = create_engine(fresh_url)
    try:
        async with engine.connect() as connection:
            versions, head_rows, rate_rows = await seeded(connection)
    finally:
        await engine.dispose()

    assert versions == [head_revision()] == ["0034b"]

    assert [tuple(row) for row in head_rows] == [(0,)]  # the chain starts empty
    assert len(rate_rows) == 8
    assert {
        row.csdr_class: (row.id, str(row.rate), row.effective_from.isoformat()) for row in rate_rows
    } == SEEDED_RATES
    assert all(isinstance(row.rate, Decimal) for row in rate_rows)


async def test_the_comparison_is_not_vacuous(fresh_url: str) -> None:
    """A model that drifts from the migration is reported, including an ExactDecimal column."""
    await asyncio.to_thread(upgrade, fresh_url)
    drifted = sa.MetaData(naming_convention=metadata.naming_convention)
    for table in metadata.sorted_tables:
        table.to_metadata(drifted)
    prices = drifted.tables["prices"]
    prices.c.price.type = sa.Float()
    prices.append_column(sa.Column("source", sa.String(20), nullable=True))
    drifted.tables["books"].c.name.type = sa.String(100)
    sa.Table("core_test_missing", drifted, sa.Column("id", sa.Integer, primary_key=True))

    diffs = await _run(fresh_url, lambda connection: _differences(connection, drifted))
    summary = sorted(_describe(diff) for diff in diffs)
    assert summary == [
        "add_column prices.source",
        "add_table core_test_missing",
        "modify_type books.name",
        "modify_type prices.price",
    ]


def _describe(diff: Any) -> str:
    if isinstance(diff, list):  # column modifications come as a list of one tuple
        (change,) = diff
        return f"{change[0]} {change[2]}.{change[3]}"
    kind = diff[0]
    if kind == "add_table":
        return f"add_table {diff[1].name}"
    if kind == "add_column":
        return f"add_column {diff[2]}.{diff[3].name}"
    return repr(diff)


async def test_downgrade_to_base_and_upgrade_again(fresh_url: str, database: Database) -> None:
    await asyncio.to_thread(upgrade, fresh_url)
    await asyncio.to_thread(downgrade, fresh_url, "base")

    # Alembic keeps its (now empty) version table; every table of ours is gone.
    assert await _run(fresh_url, _table_names) == ["alembic_version"]

    async def leftovers(url: str) -> Any:
        engine = create_engine(url)
        try:
            async with engine.connect() as connection:
                versions = (
                    await connection.execute(sa.text("SELECT version_num FROM alembic_version"))
                ).all()
                functions: list[Any] = []
                if database.backend == "postgres":
                    functions = list(
                        await connection.execute(
                            sa.text("SELECT proname FROM pg_proc WHERE proname = 'refuse_change'")
                        )
                    )
                return list(versions), functions
        finally:
            await engine.dispose()

    assert await leftovers(fresh_url) == ([], [])

    await asyncio.to_thread(upgrade, fresh_url)
    assert await _run(fresh_url, _differences) == []
    assert await _run(fresh_url, _table_names) == sorted([*MODEL_TABLES, "alembic_version"])


async def test_upgrading_a_database_at_head_changes_nothing(fresh_url: str) -> None:
    await asyncio.to_thread(upgrade, fresh_url)
    await asyncio.to_thread(upgrade, fresh_url)

    def counts(connection: Connection) -> tuple[int, int]:
        head = connection.execute(sa.text("SELECT count(*) FROM audit_seals")).scalar_one()
        rates = connection.execute(sa.text("SELECT count(*) FROM penalty_rates")).scalar_one()
        return int(head), int(rates)

    assert await _run(fresh_url, counts) == (0, 8)


async def test_append_only_trigger_exists_only_on_postgres(
    fresh_url: str, database: Database
) -> None:
    await asyncio.to_thread(upgrade, fresh_url)

    def triggers(connection: Connection) -> list[str]:
        if connection.dialect.name == "postgresql":
            rows = connection.execute(
                sa.text(
                    "SELECT tgname FROM pg_trigger WHERE NOT tgisinternal "
                    "AND tgrelid = 'audit_records'::regclass"
                )
            )
        else:
            rows = connection.execute(
                sa.text(
                    "SELECT name FROM sqlite_master "
                    "WHERE type = 'trigger' AND tbl_name = 'audit_records'"
                )
            )
        return sorted(row[0] for row in rows)

    expected = ["audit_records_append_only"] if database.backend == "postgres" else []
    assert await _run(fresh_url, triggers) == expected


def test_every_decimal_column_of_the_models_is_exact() -> None:
    """Money never goes through a float column: every Numeric in the models is ExactDecimal."""
    loose = [
        f"{table.name}.{column.name}"
        for table in metadata.sorted_tables
        for column in table.columns
        if isinstance(column.type, (sa.Numeric, sa.Float))
        and not isinstance(column.type, ExactDecimal)
    ]
    assert loose == []


# 0012: the bitemporal book -------------------------------------------------------------------

_LATE_BOOKING = """
INSERT INTO ledger_accounts (code, kind, name, reference, created_at) VALUES
    ('cash:CASH-USD', 'cash', 'Cash account CASH-USD', 'CASH-USD', '2026-11-24 09:00:00');
INSERT INTO journal_entries (id, kind, accounting_date, value_date, description, source_type,
    source_id, reverses_id, pending_id, created_at, created_by) VALUES
    ('je_1', 'adjustment', '2026-11-24', '2026-11-24', 'On time', NULL, NULL, NULL, NULL,
     '2026-11-24 10:00:00', 'key_ops'),
    ('je_2', 'adjustment', '2026-11-26', '2026-11-24', 'Two days late', NULL, NULL, NULL, NULL,
     '2026-11-26 10:00:00', 'key_ops');
INSERT INTO postings (entry_id, ledger_account, asset, amount) VALUES
    ('je_1', 'cash:CASH-USD', 'USD', 100), ('je_1', 'opening-equity', 'USD', -100),
    ('je_2', 'cash:CASH-USD', 'USD', 40), ('je_2', 'opening-equity', 'USD', -40);
INSERT INTO ledger_balances (ledger_account, asset, posted, pending, cost, realized_pnl,
    last_date, updated_at) VALUES
    ('cash:CASH-USD', 'USD', 140, 0, 0, 0, '2026-11-26', '2026-11-26 10:00:00'),
    ('opening-equity', 'USD', -140, 0, 0, 0, '2026-11-26', '2026-11-26 10:00:00');
INSERT INTO ledger_balance_days (balance_id, as_of_date, posted, pending, cost, realized_pnl)
SELECT id, '2026-11-24', CASE WHEN asset = 'USD' AND ledger_account = 'cash:CASH-USD'
    THEN 100 ELSE -100 END, 0, 0, 0 FROM ledger_balances;
INSERT INTO ledger_balance_days (balance_id, as_of_date, posted, pending, cost, realized_pnl)
SELECT id, '2026-11-26', CASE WHEN ledger_account = 'cash:CASH-USD' THEN 140 ELSE -140 END,
    0, 0, 0 FROM ledger_balances
"""


async def test_0012_dates_the_daily_rows_by_value_date(fresh_url: str) -> None:
    """A database whose daily rows were dated by the day entries were first shown comes out
    with rows dated by value date, and a ledger check that passes."""
    await asyncio.to_thread(upgrade, fresh_url, "0011")

    def seed(connection: Connection) -> None:
        for statement in _LATE_BOOKING.split(";"):
            connection.execute(sa.text(statement))
        connection.commit()

    await _run(fresh_url, seed)
    await asyncio.to_thread(upgrade, fresh_url)

    def daily(connection: Connection) -> list[tuple[Any, ...]]:
        rows = connection.execute(
            sa.text(
                "SELECT b.ledger_account, d.as_of_date, d.posted FROM ledger_balance_days d "
                "JOIN ledger_balances b ON b.id = d.balance_id ORDER BY 1, 2"
            )
        )
        return [(account, str(day), Decimal(str(posted))) for account, day, posted in rows]

    # 100.00 on time and 40.00 two days late, both for the 24th: 140 from the 24th.
    assert await _run(fresh_url, daily) == [
        ("cash:CASH-USD", "2026-11-24", Decimal(140)),
        ("opening-equity", "2026-11-24", Decimal(-140)),
    ]
    engine = create_engine(fresh_url)
    try:
        async with engine.connect() as connection:
            session = AsyncSession(bind=connection)
            report = await check_ledger(session)
            await session.close()
    finally:
        await engine.dispose()
    assert report.ok, report.problems


# 0018: writers append, one sealer chains -----------------------------------------------------


def _old_chain(count: int) -> list[dict[str, Any]]:
    """Records as the 0017 trail held them: chain columns on each, one event per record."""
    records, previous = [], GENESIS_HASH
    for seq in range(1, count + 1):
        fields = {
            "seq": seq,
            "occurred_at": datetime(2026, 11, 25, 15, seq, tzinfo=UTC),
            "actor_key_id": "key_ops",
            "actor_role": "operations",
            "actor_name": "Desk",
            "request_id": f"req-{seq}",
            "entity_type": "trade",
            "entity_id": f"trd_{seq % 2}",
            "action": "captured" if seq < 3 else "amended",
            "before": None if seq < 3 else {"quantity": "100"},
            "after": {"quantity": str(100 * seq), "note": "é\n"},
            "prev_hash": previous,
        }
        previous = record_hash(fields)
        records.append({**fields, "hash": previous})
    return records


async def test_0018_gives_every_old_record_its_seal_and_event_type(fresh_url: str) -> None:
    await asyncio.to_thread(upgrade, fresh_url, "0017")
    old = _old_chain(4)

    def seed(connection: Connection) -> None:
        records = sa.table(
            "audit_records",
            *[sa.column(name) for name in old[0] if name not in ("before", "after")],
            sa.column("before", sa.JSON()),
            sa.column("after", sa.JSON()),
        )
        connection.execute(sa.insert(records), old)
        outbox = sa.table(
            "outbox_events",
            *[sa.column(n) for n in ("seq", "event_id", "event_type", "entity_type")],
            *[sa.column(n) for n in ("entity_id", "occurred_at")],
            sa.column("payload", sa.JSON()),
        )
        connection.execute(
            sa.insert(outbox),
            [
                {
                    "seq": r["seq"],
                    "event_id": f"evt_{r['seq']}",
                    "event_type": f"trade.{r['action']}",
                    "entity_type": "trade",
                    "entity_id": r["entity_id"],
                    "occurred_at": r["occurred_at"],
                    "payload": {"after": r["after"]},
                }
                for r in old
            ],
        )
        connection.execute(
            sa.text("UPDATE audit_chain_head SET last_seq = 4, last_hash = :h"),
            {"h": old[-1]["hash"]},
        )
        connection.commit()

    await _run(fresh_url, seed)
    await asyncio.to_thread(upgrade, fresh_url, "0018")

    engine = create_engine(fresh_url)
    sessions = create_sessionmaker(engine)
    try:
        async with sessions() as session:
            check = await verify_chain(session)
            seals = (
                await session.execute(
                    sa.text("SELECT seq, record_id, hash FROM audit_seals ORDER BY seq")
                )
            ).all()
            types = (
                (await session.execute(sa.text("SELECT event_type FROM audit_records ORDER BY id")))
                .scalars()
                .all()
            )
            await record_changes(
                session,
                [Change("trade", "trd_9", "captured", None, {"quantity": "1"})],
                actor=SYSTEM_ACTOR,
                now=datetime(2026, 11, 26, tzinfo=UTC),
            )
            await session.commit()
        await seal(sessions)
        async with sessions() as session:
            new_id = await session.scalar(sa.text("SELECT max(id) FROM audit_records"))
            after_new = await verify_chain(session)
    finally:
        await engine.dispose()
    assert (check.ok, check.checked, check.last_hash) == (True, 4, old[-1]["hash"])
    assert [tuple(row) for row in seals] == [(r["seq"], r["seq"], r["hash"]) for r in old]
    assert list(types) == ["trade.captured", "trade.captured", "trade.amended", "trade.amended"]
    assert new_id == 5  # the id sequence goes on after the old numbers
    assert (after_new.ok, after_new.checked) == (True, 5)

    # And back: every record sealed, so the old trail comes back whole, head included.
    await asyncio.to_thread(downgrade, fresh_url, "0017")

    def old_trail(connection: Connection) -> tuple[list[Any], list[Any]]:
        trail = connection.execute(
            sa.text("SELECT seq, prev_hash, hash FROM audit_records ORDER BY seq")
        ).all()
        head = connection.execute(sa.text("SELECT last_seq, last_hash FROM audit_chain_head"))
        return [tuple(row) for row in trail], [tuple(row) for row in head]

    trail, head = await _run(fresh_url, old_trail)
    assert trail[:4] == [(r["seq"], r["prev_hash"], r["hash"]) for r in old]
    assert len(trail) == 5
    assert head == [(5, trail[-1][2])]


# 0022: rows seeded by migrations get their audit record ----------------------------------------

SEEDED_RULES = [
    "amount-date-counterparty",
    "exact-reference",
    "exact-reference-cent",
    "many-to-one",
    "one-to-many",
]
# 0026b seeds the buy-in extension periods with their records, in this order.
SEEDED_PERIODS = ["default", "illiquid_share", "sme_share", "sme_debt"]
SEEDED_ROWS = 13 + len(SEEDED_PERIODS)


async def test_0022_records_every_seeded_row_as_the_service_would(fresh_url: str) -> None:
    await asyncio.to_thread(upgrade, fresh_url)
    engine = create_engine(fresh_url)
    sessions = create_sessionmaker(engine)
    try:
        async with sessions() as session:
            records = (await session.scalars(select(AuditRecord).order_by(AuditRecord.id))).all()
            queued = await session.scalar(select(func.count()).select_from(UnsealedRecord))
            rows = {
                **{("penalty_rate", r.id): r for r in await session.scalars(select(PenaltyRate))},
                **{
                    ("reconciliation_rule", r.name): r
                    for r in await session.scalars(select(ReconciliationRule))
                },
                **{
                    ("buy_in_extension_period", r.id): r
                    for r in await session.scalars(select(BuyInExtensionPeriod))
                },
            }
            snapshots = {key: row_snapshot(row) for key, row in rows.items()}
        assert await seal(sessions) == SEEDED_ROWS
        async with sessions() as session:
            drift = await find_drift(session, AUDITED_TABLES)
    finally:
        await engine.dispose()

    assert [(r.entity_type, r.entity_id) for r in records] == [
        *(("penalty_rate", rate_id) for rate_id, _, _ in sorted(SEEDED_RATES.values())),
        *(("reconciliation_rule", name) for name in SEEDED_RULES),
        *(("buy_in_extension_period", f"bix_seed_{name}") for name in SEEDED_PERIODS),
    ]
    assert queued == SEEDED_ROWS
    for record in records:
        assert (record.action, record.actor_key_id, record.actor_role, record.event_type) == (
            "seeded",
            "system",
            "admin",
            None,
        )
        assert record.before is None
        assert record.after == snapshots[(record.entity_type, record.entity_id)]
    assert {r.occurred_at for r in records if r.entity_type == "penalty_rate"} == {
        datetime(2026, 11, 25, tzinfo=UTC)
    }
    assert (drift.count, drift.items) == (0, [])


async def test_0022_goes_back_only_with_what_is_not_sealed(fresh_url: str) -> None:
    def recorded(connection: Connection) -> tuple[int, int]:
        records = connection.execute(sa.text("SELECT count(*) FROM audit_records")).scalar_one()
        queued = connection.execute(sa.text("SELECT count(*) FROM audit_unsealed")).scalar_one()
        return int(records), int(queued)

    await asyncio.to_thread(upgrade, fresh_url)
    await asyncio.to_thread(upgrade, fresh_url)  # nothing recorded twice
    assert await _run(fresh_url, recorded) == (SEEDED_ROWS, SEEDED_ROWS)
    await asyncio.to_thread(downgrade, fresh_url, "0021")
    assert await _run(fresh_url, recorded) == (0, 0)

    await asyncio.to_thread(upgrade, fresh_url)
    engine = create_engine(fresh_url)
    try:
        await seal(create_sessionmaker(engine))
    finally:
        await engine.dispose()
    await asyncio.to_thread(downgrade, fresh_url, "0021")
    assert await _run(fresh_url, recorded) == (SEEDED_ROWS, 0)  # sealed: they keep their place


_COUNTERPARTY_X = """
INSERT INTO ledger_accounts (code, kind, name, reference, created_at)
VALUES ('counterparty:X', 'counterparty', 'Unsettled with counterparty X', 'X',
        '2026-11-26 09:00:00+00:00')
"""
_BALANCE_ROW = """
INSERT INTO ledger_balances (id, ledger_account, asset, stripe, posted, pending, cost,
                             realized_pnl, last_date, updated_at)
VALUES (:id, 'counterparty:X', 'EUR', :stripe, :posted, 0, 0, 0, :last_date,
        '2026-11-27 09:00:00+00:00')
"""
_DAY_ROW = """
INSERT INTO ledger_balance_days (balance_id, as_of_date, posted, pending, cost, realized_pnl)
VALUES (:id, :day, :posted, 0, 0, 0)
"""


def _exact(statement: str) -> Any:
    return sa.text(statement).bindparams(sa.bindparam("posted", type_=ExactDecimal()))


async def test_0031h_going_back_folds_the_stripes_into_one_row(
    fresh_url: str, database: Database
) -> None:
    """Stripes exist on PostgreSQL only: there, going back adds them into stripe 0, daily rows
    included; on SQLite (one row a balance) the rebuilt table keeps its daily rows."""
    await asyncio.to_thread(upgrade, fresh_url)
    postgres = database.backend == "postgres"
    day_26, day_27 = date(2026, 11, 26), date(2026, 11, 27)
    heads: list[tuple[int, int, Decimal, date | None]] = [
        (2, 5 if postgres else 0, Decimal(15), day_27)
    ]
    days = [(2, day_26, Decimal(10)), (2, day_27, Decimal(15))]
    if postgres:
        heads += [(1, 0, Decimal(0), None), (3, 9, Decimal(7), day_27)]
        days += [(3, day_27, Decimal(7))]

    def seed(connection: Connection) -> None:
        connection.execute(sa.text(_COUNTERPARTY_X))
        for id_, stripe, posted, last_date in sorted(heads):
            values = {"id": id_, "stripe": stripe, "posted": posted, "last_date": last_date}
            connection.execute(_exact(_BALANCE_ROW), values)
        for id_, day, posted in days:
            connection.execute(_exact(_DAY_ROW), {"id": id_, "day": day, "posted": posted})
        connection.commit()

    await _run(fresh_url, seed)
    await asyncio.to_thread(downgrade, fresh_url, "0030l")

    def stored(connection: Connection) -> tuple[list[Any], list[Any]]:
        heads = connection.execute(
            sa.text("SELECT id, posted, last_date FROM ledger_balances ORDER BY id")
        )
        days = connection.execute(
            sa.text("SELECT balance_id, as_of_date, posted FROM ledger_balance_days ORDER BY 1, 2")
        )
        return (
            [(i, Decimal(str(p)), str(d)) for i, p, d in heads],
            [(i, str(d), Decimal(str(p))) for i, d, p in days],
        )

    one = 1 if postgres else 2
    assert await _run(fresh_url, stored) == (
        [(one, Decimal(22) if postgres else Decimal(15), "2026-11-27")],
        [(one, "2026-11-26", Decimal(10)), (one, "2026-11-27", Decimal(22 if postgres else 15))],
    )
