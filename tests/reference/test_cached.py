"""Reference rows cached in the process under the generation token: read once, then one
statement per load; any change of a tracked table, by the app or by anyone, is seen at once."""

from datetime import date

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from app.reference.generation import TRACKED_TABLES, current_token
from app.reference.service import load_reference
from tests.conftest import Database
from tests.factories import GOLDMAN, JPM
from tests.reference.test_values import counted_statements

_RENAMED = f"UPDATE instruments SET name = 'Renamed' WHERE isin = '{JPM}'"  # noqa: S608
_CLOSED_DAY = (
    "INSERT INTO market_closed_days (mic, day, reason, created_at) "
    "VALUES ('XNYS', '2026-11-27', 'outage', '2026-11-25 15:00:00+00:00')"
)
NAMED = {"isins": [JPM], "mics": ["XNYS"], "books": ["EQ-FLOW"], "leis": [GOLDMAN]}


async def _changed_elsewhere(db: Database, statement: str) -> None:
    async with db.engine.begin() as connection:
        await connection.execute(text(statement))


async def test_a_second_load_reads_only_the_token(session: AsyncSession, reference: None) -> None:
    first = await load_reference(session, **NAMED)
    with counted_statements(session) as statements:
        again = await load_reference(session, **NAMED)

    assert len(statements) == 1
    assert again == first


async def test_a_change_made_outside_the_app_is_seen_at_once(
    db: Database, session: AsyncSession, reference: None
) -> None:
    await load_reference(session, **NAMED)
    await session.commit()
    await _changed_elsewhere(db, _RENAMED)
    await _changed_elsewhere(db, _CLOSED_DAY)

    found = await load_reference(session, **NAMED)

    assert found.instruments[JPM].name == "Renamed"
    assert found.closed_days == {"XNYS": [date(2026, 11, 27)]}


async def test_every_tracked_table_renews_the_token(
    db: Database, session: AsyncSession, reference: None
) -> None:
    await _changed_elsewhere(db, _CLOSED_DAY)
    for table in TRACKED_TABLES:
        before = await current_token(session)
        await session.commit()
        await _changed_elsewhere(db, f"UPDATE {table} SET created_at = created_at")  # noqa: S608

        assert await current_token(session) not in {before, None}, table
        await session.commit()


async def test_every_tracked_table_has_its_triggers(session: AsyncSession) -> None:
    """A later migration that rebuilds a tracked table (SQLite's batch mode does) must create
    them again, or the caches would miss its changes."""
    if session.get_bind().dialect.name == "postgresql":
        statement = (
            "SELECT c.relname, t.tgname FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid "
            "WHERE t.tgname LIKE '%reference_generation'"
        )
        expected = {(t, f"{t}_renew_reference_generation") for t in TRACKED_TABLES}
    else:
        statement = (
            "SELECT tbl_name, name FROM sqlite_master "
            "WHERE type = 'trigger' AND name LIKE '%reference_generation'"
        )
        expected = {
            (t, f"{t}_{event}_renews_reference_generation")
            for t in TRACKED_TABLES
            for event in ("insert", "update", "delete")
        }

    found = {tuple(row) for row in (await session.execute(text(statement))).all()}

    assert found == expected


async def test_calendars_are_kept_with_the_rows_and_renewed_with_them(
    db: Database, session: AsyncSession, reference: None
) -> None:
    first = await load_reference(session, **NAMED)
    calendar = first.trading_calendar("XNYS")
    assert calendar.is_business_day(date(2026, 11, 27))
    again = await load_reference(session, **NAMED)
    assert again.trading_calendar("XNYS") is calendar  # made once under the token

    await session.commit()
    await _changed_elsewhere(db, _CLOSED_DAY)
    changed = await load_reference(session, **NAMED)

    assert changed.trading_calendar("XNYS") is not calendar
    assert not changed.trading_calendar("XNYS").is_business_day(date(2026, 11, 27))
